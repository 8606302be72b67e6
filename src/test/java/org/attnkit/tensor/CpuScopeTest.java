package org.attnkit.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import org.attnkit.backend.Backend;
import org.attnkit.backend.Backends;
import org.attnkit.ops.activation.Gelu;
import org.attnkit.ops.activation.Relu;
import org.attnkit.ops.activation.Sigmoid;
import org.attnkit.ops.activation.Tanh;
import org.attnkit.ops.arith.Add;
import org.attnkit.ops.arith.Mul;
import org.attnkit.ops.dropout.Dropout;
import org.attnkit.ops.glu.Glu;
import org.attnkit.ops.layernorm.LayerNorm;
import org.attnkit.ops.lightconv.LightConv;
import org.attnkit.ops.mae.HeadMixture;
import org.attnkit.ops.mae.MaeGate;
import org.attnkit.ops.linear.Linear;
import org.attnkit.ops.mae.Membership;
import org.attnkit.ops.matmul.MatMul;
import org.attnkit.ops.softmax.Softmax;
import org.attnkit.random.DropConnect;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class CpuScopeTest {
    @BeforeEach
    @AfterEach
    void emptyThePool() { // other tests (training steps, the bench) leave arrays in the pool
        CpuScope.emptyPool();
    }

    @Test
    void outsideAScopeOutputArraysAreNewZerosAndNothingIsRecycled() {
        float[] a = CpuScope.outputArray(1000);
        Tensor t = Tensor.wrap(a, 10, 100);
        float[] b = CpuScope.outputArray(1000);
        assertNotSame(a, b);
        assertArrayEquals(new float[1000], b);
        assertEquals(0.0, t.get(3, 7));
        assertEquals(0, CpuScope.pooledBytes());
    }

    @Test
    void theNextScopeReusesAnArrayAndTheTensorsOverItAreReleased() {
        float[] a;
        Tensor t;
        Tensor view;
        try (CpuScope scope = CpuScope.open()) {
            a = CpuScope.outputArray(1000);
            t = Tensor.wrap(a, 10, 100);
            view = t.reshape(100, 10);
            assertEquals(1, scope.owned());
            assertEquals(0.0, view.get(99, 9));
        }
        assertEquals(4000, CpuScope.pooledBytes());
        IllegalStateException e = assertThrows(IllegalStateException.class, t::data);
        assertTrue(e.getMessage().contains("CpuScope"), e.getMessage());
        assertThrows(IllegalStateException.class, () -> view.get(0, 0));
        assertThrows(IllegalStateException.class, t::toArray);
        try (CpuScope scope = CpuScope.open()) {
            assertSame(a, CpuScope.outputArray(1000));
            assertNotSame(a, CpuScope.outputArray(1000), "one array is lent to one tensor at a time");
        }
    }

    @Test
    void keptTensorsSurviveTheirScopeAndTheirArraysAreNotRecycled() {
        float[] a;
        Tensor t;
        try (CpuScope scope = CpuScope.open()) {
            a = CpuScope.outputArray(64);
            a[5] = 3f;
            t = scope.keep(Tensor.wrap(a, 64));
            assertEquals(0, scope.owned());
        }
        assertEquals(3.0, t.get(5));
        assertEquals(0, CpuScope.pooledBytes());
        try (CpuScope scope = CpuScope.open()) {
            assertNotSame(a, CpuScope.outputArray(64));
        }
        assertEquals(3.0, t.get(5), "a kept array is never handed out again");
    }

    @Test
    void aKeptArrayMovesToTheEnclosingScope() {
        Tensor t;
        try (CpuScope outer = CpuScope.open()) {
            try (CpuScope inner = CpuScope.open()) {
                float[] a = CpuScope.outputArray(8);
                a[1] = 2f;
                t = inner.keep(Tensor.wrap(a, 8));
                Tensor dropped = Tensor.wrap(CpuScope.outputArray(8), 8);
                assertEquals(2, inner.owned() + 1);
                inner.close();
                assertThrows(IllegalStateException.class, dropped::data);
            }
            assertEquals(2.0, t.get(1));
            assertEquals(1, outer.owned());
        }
        assertThrows(IllegalStateException.class, t::data);
    }

    @Test
    void arraysThatTheScopeDidNotLendAreNeverReleased() {
        Tensor wrapped;
        Tensor zeros;
        try (CpuScope scope = CpuScope.open()) {
            wrapped = Tensor.wrap(new float[16], 4, 4);
            zeros = Tensor.zeros(4, 4);
            assertEquals(0, scope.owned());
        }
        assertEquals(0.0, wrapped.get(3, 3));
        assertEquals(0.0, zeros.get(3, 3));
        assertEquals(0, CpuScope.pooledBytes());
    }

    /**
     * Every operator that takes an output from the pool must write all of it: run each, forward and
     * backward, on the SIMD backend outside a scope (fresh zeroed arrays), then inside a scope whose pool
     * holds NaN-filled arrays of every size the call takes, and compare bit for bit.
     */
    @Test
    void operatorsOverwriteEveryElementOfARecycledArray() {
        Tensor x = Tensor.randn(1, 2, 21, 24);
        Tensor x2 = Tensor.randn(2, 2, 21, 48);
        Tensor gamma = Tensor.randn(3, 24);
        Tensor beta = Tensor.randn(4, 24);
        Tensor w = Tensor.randn(5, 3, 7);
        Tensor bias = Tensor.randn(6, 24);
        Tensor dy = Tensor.randn(7, 2, 21, 24);
        Tensor w1 = Tensor.randn(8, 5, 24);
        Tensor w2 = Tensor.randn(9, 3, 5);
        Tensor membership = Membership.dropOne(3);
        Tensor square = Tensor.randn(10, 24, 24);
        List<Supplier<List<float[]>>> calls = List.of(
                () -> fwdBwd(() -> Softmax.apply(x, 2), dy, x),
                () -> fwdBwd(() -> LayerNorm.apply(x, gamma, beta), dy, x),
                () -> fwdBwd(() -> Glu.apply(x2, 2), dy, x2),
                () -> fwdBwd(() -> LightConv.apply(x, w, bias, LightConv.Options.centered(7)), dy, x, w, bias),
                () -> fwdBwd(() -> LightConv.apply(x, w, null, LightConv.Options.causal(7)
                        .withDropConnect(new DropConnect(0.3, 11, 0, DropConnect.Scope.HEAD_KERNEL))), dy, x, w),
                () -> fwdBwd(() -> HeadMixture.apply(x, MaeGate.apply(x, w1, null, w2, null, false), membership),
                        dy, x, w1),
                () -> fwdBwd(() -> Tanh.apply(x), dy, x),
                () -> fwdBwd(() -> Relu.apply(x), dy, x),
                () -> fwdBwd(() -> Sigmoid.apply(x), dy, x),
                () -> fwdBwd(() -> Gelu.apply(x), dy, x),
                () -> fwdBwd(() -> Mul.apply(Add.apply(x, bias), x), dy, x, bias),
                () -> fwdBwd(() -> Dropout.apply(x, 0.3, 5, 0), dy, x),
                () -> fwdBwd(() -> Linear.apply(x, square, bias), dy, x, square, bias),
                () -> fwdBwd(() -> MatMul.apply(x.reshape(42, 24), square), dy.reshape(42, 24), x, square));
        try (Backends.Scope simd = Backends.force(Backend.SIMD)) {
            for (Supplier<List<float[]>> call : calls) {
                List<float[]> fresh = call.get();
                poison(fresh);
                try (CpuScope scope = CpuScope.open()) {
                    List<float[]> recycled = call.get();
                    for (int i = 0; i < fresh.size(); i++) {
                        assertArrayEquals(fresh.get(i), recycled.get(i), "output " + i);
                    }
                }
            }
        }
    }

    /** The output and the inputs' gradients of one forward + backward, copied. */
    private static List<float[]> fwdBwd(Supplier<Tensor> forward, Tensor dy, Tensor... inputs) {
        for (Tensor t : inputs) {
            t.zeroGrad();
            t.requiresGrad(true);
        }
        Tensor y = forward.get();
        List<float[]> out = new ArrayList<>();
        out.add(y.toArray());
        y.backward(dy);
        for (Tensor t : inputs) {
            out.add(t.grad().toArray());
            t.requiresGrad(false);
            t.zeroGrad();
        }
        return out;
    }

    /** Fills the pool with NaN arrays, a few of each size in {@code like}. */
    private static void poison(List<float[]> like) {
        try (CpuScope scope = CpuScope.open()) {
            for (float[] a : like) {
                for (int copy = 0; copy < 3; copy++) {
                    java.util.Arrays.fill(CpuScope.outputArray(a.length), Float.NaN);
                }
            }
        }
    }
}
