package org.attnkit.ops.arith;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.ArrayList;
import java.util.List;
import java.util.function.BinaryOperator;
import java.util.stream.Stream;
import org.attnkit.backend.Backend;
import org.attnkit.tensor.DType;
import org.attnkit.tensor.Device;
import org.attnkit.tensor.Tensor;
import org.attnkit.testing.Compare;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The SIMD elementwise binary operators against the double reference, forward and backward. */
class ArithSimdTest {
    // Forward: float32 +, -, *, / round the exact result once, as does the double reference rounded to
    // float (double has more than 2 * 24 + 2 bits), so forward must match bit for bit.
    // Backward: the gradient of a broadcast operand is a float sum of up to a few thousand terms
    // (blocks of 128 rows added in double; |err| ~ 128 * 2^-24 * the terms' magnitude), and Div's
    // db rounds three times in float where the reference rounds twice in double.
    private static final double BWD_ATOL = 2e-5;
    private static final double BWD_RTOL = 1e-5;

    static Stream<Arguments> cases() {
        List<int[][]> shapes = new ArrayList<>();
        for (int n : new int[] {1, 3, 15, 16, 17, 33, 100}) {
            shapes.add(new int[][] {{n}, {n}});                 // equal shapes
            shapes.add(new int[][] {{5, n}, {n}});              // bias along leading dims
            shapes.add(new int[][] {{n}, {4, n}});              // a broadcast
            shapes.add(new int[][] {{n, 1}, {n, 7}});           // one value per row
        }
        shapes.add(new int[][] {{300, 70}, {70}});              // several reduction blocks
        shapes.add(new int[][] {{3, 20000}, {3, 1}});           // long rows, parallel chunks
        shapes.add(new int[][] {{5, 1}, {1, 19}});              // outer product
        shapes.add(new int[][] {{2, 1, 17}, {3, 1}});           // both broadcast, ranks differ
        shapes.add(new int[][] {{2, 3, 17}, {2, 1, 17}});       // middle dim
        shapes.add(new int[][] {{4, 1, 3, 1}, {1, 5, 1, 33}});  // alternating
        shapes.add(new int[][] {{}, {4, 17}});                  // rank-0 a
        shapes.add(new int[][] {{4, 17}, {}});                  // rank-0 b
        shapes.add(new int[][] {{1, 1}, {1}});                  // all ones
        shapes.add(new int[][] {{2, 0, 3}, {3}});               // empty
        List<Arguments> out = new ArrayList<>();
        for (String op : new String[] {"add", "sub", "mul", "div"}) {
            for (int[][] s : shapes) {
                out.add(Arguments.of(op, s[0], s[1]));
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0} {1} {2}")
    @MethodSource("cases")
    void simdMatchesReference(String op, int[] aShape, int[] bShape) {
        long seed = 31L * java.util.Arrays.hashCode(aShape) + java.util.Arrays.hashCode(bShape);
        Tensor a = Tensor.randn(seed, aShape);
        Tensor b = awayFromZero(Tensor.randn(seed + 1, bShape));
        Tensor dc = Tensor.randn(seed + 2, Broadcast.shape(op, a, b));
        BinaryOperator<Tensor> f = op(op);
        Tensor[] ref = run(Backend.REF, f, a, b, dc, true, true);
        Tensor[] simd = run(Backend.SIMD, f, a, b, dc, true, true);
        Compare.close("c", ref[0], simd[0], 0, 0);
        Compare.close("da", ref[1], simd[1], BWD_ATOL, BWD_RTOL);
        Compare.close("db", ref[2], simd[2], BWD_ATOL, BWD_RTOL);
    }

    @Test
    void onlyTheRequestedGradientIsComputed() {
        Tensor a = Tensor.randn(1, 6, 5);
        Tensor b = Tensor.randn(2, 5);
        Tensor dc = Tensor.randn(3, 6, 5);
        for (String op : new String[] {"add", "sub", "mul", "div"}) {
            Tensor[] onlyB = run(Backend.SIMD, op(op), a, b, dc, false, true);
            assertNull(onlyB[1]);
            Tensor[] ref = run(Backend.REF, op(op), a, b, dc, false, true);
            Compare.close(op + " db", ref[2], onlyB[2], BWD_ATOL, BWD_RTOL);
            Tensor[] onlyA = run(Backend.SIMD, op(op), a, b, dc, true, false);
            assertNull(onlyA[2]);
        }
    }

    @Test
    void addGradientIsACopyNotTheUpstreamGradient() {
        // Add's da equals dc: the kernel must hand back its own array, not alias the caller's dc.
        Tensor a = Tensor.randn(1, 4, 8);
        Tensor b = Tensor.randn(2, 4, 8);
        float[] before = Tensor.randn(3, 4, 8).toArray();
        Tensor dc = Tensor.of(before, 4, 8);
        Tensor[] g = Compare.on(Backend.SIMD, () -> new BinarySimdKernels(BinarySimd.SUB).backward(a, b, dc,
                new boolean[] {true, true}));
        g[0].data()[0] += 1;
        g[1].data()[1] += 1;
        assertEquals(before[0], dc.data()[0]);
        assertEquals(before[1], dc.data()[1]);
    }

    @Test
    void simdIsTheDefaultForFloat32() {
        for (var k : List.of(Add.KERNELS, Sub.KERNELS, Mul.KERNELS, Div.KERNELS)) {
            assertEquals(Backend.SIMD, k.choose(Device.CPU, DType.F32));
            assertEquals(Backend.REF, k.choose(Device.CPU, DType.F64));
        }
    }

    private static BinaryOperator<Tensor> op(String name) {
        return switch (name) {
            case "add" -> Add::apply;
            case "sub" -> Sub::apply;
            case "mul" -> Mul::apply;
            default -> Div::apply;
        };
    }

    /** Divisors kept at |b| >= 0.5, where the division and its gradient are well conditioned. */
    private static Tensor awayFromZero(Tensor t) {
        float[] v = t.toArray();
        for (int i = 0; i < v.length; i++) {
            v[i] = Math.copySign(0.5f + Math.abs(v[i]), v[i]);
        }
        return Tensor.of(v, t.shape().toArray());
    }

    private static Tensor[] run(Backend backend, BinaryOperator<Tensor> f, Tensor a0, Tensor b0, Tensor dc,
                                boolean gradA, boolean gradB) {
        return Compare.on(backend, () -> {
            Tensor a = a0.copy().requiresGrad(gradA);
            Tensor b = b0.copy().requiresGrad(gradB);
            Tensor c = f.apply(a, b);
            c.backward(dc);
            return new Tensor[] {c, a.grad(), b.grad()};
        });
    }
}
