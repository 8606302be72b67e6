package org.attnkit.autograd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.attnkit.ops.activation.Tanh;
import org.attnkit.tensor.Tensor;
import org.junit.jupiter.api.Test;

class AutogradTest {
    /** y = 2x recorded by hand, so the test depends on nothing but the engine. */
    private static Tensor twice(Tensor x, List<String> calls) {
        float[] v = x.toArray();
        for (int i = 0; i < v.length; i++) {
            v[i] *= 2;
        }
        return Autograd.record("twice", Tensor.wrap(v, x.shape().toArray()), (g, needs) -> {
            calls.add("twice");
            float[] d = g.toArray();
            for (int i = 0; i < d.length; i++) {
                d[i] *= 2;
            }
            return new Tensor[] {Tensor.wrap(d, g.shape().toArray())};
        }, x);
    }

    @Test
    void gradientsAccumulateOverPathsAndCalls() {
        List<String> calls = new ArrayList<>();
        Tensor x = Tensor.of(new float[] {1, 2}, 2).requiresGrad(true);
        Tensor a = twice(x, calls);
        // Diamond: both branches read a; d(concat(2a, 2a)) / dx = 2 * 2 + 2 * 2 = 8.
        Tensor y = Tensor.concat(0, twice(a, calls), twice(a, calls));
        y.backward(Tensor.ones(4));
        assertArrayEquals(new float[] {8, 8}, x.grad().toArray());
        assertEquals(3, calls.size(), "each node runs backward once");
        y.backward(Tensor.ones(4));
        assertArrayEquals(new float[] {16, 16}, x.grad().toArray(), "a second backward accumulates");
        x.zeroGrad();
        assertNull(x.grad());
    }

    @Test
    void onlyNeededGradientsAreComputed() {
        Tensor x = Tensor.of(new float[] {1}, 1).requiresGrad(true);
        Tensor c = Tensor.of(new float[] {5}, 1);
        boolean[][] seen = new boolean[1][];
        Tensor y = Autograd.record("probe", Tensor.of(new float[] {3}, 1), (g, needs) -> {
            seen[0] = needs.clone();
            return new Tensor[] {null, g, null};
        }, c, x, null);
        y.backward(Tensor.ones(1));
        assertArrayEquals(new boolean[] {false, true, false}, seen[0]);
        assertNull(c.grad());
        assertArrayEquals(new float[] {1}, x.grad().toArray());
    }

    @Test
    void noGradModeRecordsNothing() {
        Tensor x = Tensor.randn(1, 3).requiresGrad(true);
        Tensor y;
        try (GradMode.Scope s = GradMode.noGrad()) {
            y = Tanh.apply(x);
            assertFalse(GradMode.isEnabled());
        }
        assertTrue(GradMode.isEnabled());
        assertFalse(y.requiresGrad());
        assertTrue(y.isLeaf());
    }

    @Test
    void deepChainsDoNotOverflowTheStack() {
        List<String> calls = new ArrayList<>();
        Tensor x = Tensor.of(new float[] {1}, 1).requiresGrad(true);
        Tensor y = x;
        for (int i = 0; i < 50_000; i++) {
            y = y.reshape(1, 1).reshape(1);
        }
        y = twice(y, calls);
        y.backward(Tensor.ones(1));
        assertArrayEquals(new float[] {2}, x.grad().toArray());
    }

    @Test
    void misuseIsReported() {
        Tensor x = Tensor.randn(1, 3);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> Tanh.apply(x).backward(Tensor.ones(3)));
        assertTrue(e.getMessage().contains("does not require grad"), e.getMessage());
        Tensor p = Tensor.randn(1, 3).requiresGrad(true);
        Tensor y = Tanh.apply(p);
        assertThrows(IllegalStateException.class, y::backward, "backward() needs one element");
        IllegalArgumentException a = assertThrows(IllegalArgumentException.class, () -> y.backward(Tensor.ones(4)));
        assertTrue(a.getMessage().contains("[4]") && a.getMessage().contains("[3]"), a.getMessage());
        assertThrows(IllegalStateException.class, () -> y.requiresGrad(false));
    }

    @Test
    void gradCheckCatchesAWrongGradient() {
        // A rule that returns half the true gradient must fail the check.
        Tensor x = Tensor.randn(4, 5).requiresGrad(true);
        GradCheck.Report r = GradCheck.check(in -> {
            Tensor v = in[0];
            double[] d = v.toDoubleArray();
            for (int i = 0; i < d.length; i++) {
                d[i] = d[i] * d[i];
            }
            return Autograd.record("square_wrong", Tensor.wrap(d, v.shape().toArray()), (g, needs) -> {
                double[] gv = g.toDoubleArray();
                double[] xv = v.toDoubleArray();
                for (int i = 0; i < gv.length; i++) {
                    gv[i] *= xv[i]; // true rule is 2 * x * g
                }
                return new Tensor[] {Tensor.wrap(gv, g.shape().toArray())};
            }, v);
        }, x);
        assertFalse(r.passed(), r.toString());
        assertEquals(5, r.checkedElements());
    }
}
