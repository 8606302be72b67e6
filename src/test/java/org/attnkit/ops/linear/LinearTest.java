package org.attnkit.ops.linear;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.stream.Stream;
import org.attnkit.autograd.GradCheck;
import org.attnkit.tensor.DType;
import org.attnkit.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class LinearTest {
    static Tensor randn64(long seed, int... shape) {
        return Tensor.randn(seed, shape).to(DType.F64);
    }

    /** y = x W^T + b with x viewed as [rows, in], by coordinate access. */
    static double[] naive(Tensor x, Tensor w, Tensor b) {
        int in = w.dim(1);
        int out = w.dim(0);
        int rows = x.numel() / in;
        Tensor x2 = x.reshape(rows, in);
        double[] y = new double[rows * out];
        for (int r = 0; r < rows; r++) {
            for (int o = 0; o < out; o++) {
                double s = b == null ? 0 : b.get(o);
                for (int i = 0; i < in; i++) {
                    s += x2.get(r, i) * w.get(o, i);
                }
                y[r * out + o] = s;
            }
        }
        return y;
    }

    static Stream<Arguments> cases() {
        return Stream.of(
                Arguments.of(new int[] {4}, 3, true),
                Arguments.of(new int[] {2, 4}, 3, false),
                Arguments.of(new int[] {2, 3, 4}, 5, true),
                Arguments.of(new int[] {2, 1, 3, 1}, 2, true),
                Arguments.of(new int[] {3, 2}, 1, false));
    }

    @ParameterizedTest
    @MethodSource("cases")
    void forwardMatchesNaiveLoops(int[] xShape, int out, boolean withBias) {
        Tensor x = randn64(1, xShape);
        Tensor w = randn64(2, out, xShape[xShape.length - 1]);
        Tensor b = withBias ? randn64(3, out) : null;
        Tensor y = Linear.apply(x, w, b);
        int[] want = xShape.clone();
        want[want.length - 1] = out;
        assertArrayEquals(want, y.shape().toArray());
        assertArrayEquals(naive(x, w, b), y.toDoubleArray(), 1e-12);
    }

    @Test
    void handComputedCase() {
        Tensor x = Tensor.of(new double[] {1, 2}, 1, 2);
        Tensor w = Tensor.of(new double[] {1, 0, 0, 1, 1, 1}, 3, 2);
        Tensor b = Tensor.of(new double[] {10, 20, 30}, 3);
        assertArrayEquals(new double[] {11, 22, 33}, Linear.apply(x, w, b).toDoubleArray(), 0);
    }

    @ParameterizedTest
    @MethodSource("cases")
    void gradientsMatchFiniteDifferences(int[] xShape, int out, boolean withBias) {
        GradCheck.assertGradients(in -> Linear.apply(in[0], in[1], in[2]),
                randn64(4, xShape).requiresGrad(true),
                randn64(5, out, xShape[xShape.length - 1]).requiresGrad(true),
                withBias ? randn64(6, out).requiresGrad(true) : null);
    }

    @Test
    void gradientOfEachInputAlone() {
        Tensor x = randn64(7, 2, 3);
        Tensor w = randn64(8, 4, 3);
        Tensor b = randn64(9, 4);
        GradCheck.assertGradients(in -> Linear.apply(in[0], in[1], in[2]), x.copy().requiresGrad(true), w, b);
        GradCheck.assertGradients(in -> Linear.apply(in[0], in[1], in[2]), x, w.copy().requiresGrad(true), b);
        GradCheck.assertGradients(in -> Linear.apply(in[0], in[1], in[2]), x, w, b.copy().requiresGrad(true));
    }

    @Test
    void backwardComputesOnlyRequestedGradients() {
        Tensor x = randn64(10, 2, 3);
        Tensor w = randn64(11, 4, 3);
        Tensor[] g = Linear.KERNELS.select(x).backward(x, w, randn64(12, 2, 4), new boolean[] {false, false, true});
        assertNull(g[0]);
        assertNull(g[1]);
        assertArrayEquals(new int[] {4}, g[2].shape().toArray());
    }

    @Test
    void float32MatchesFloat64() {
        Tensor x = Tensor.randn(13, 3, 5, 24);
        Tensor w = Tensor.randn(14, 7, 24);
        Tensor b = Tensor.randn(15, 7);
        double[] want = Linear.apply(x.to(DType.F64), w.to(DType.F64), b.to(DType.F64)).toDoubleArray();
        Tensor y = Linear.apply(x, w, b);
        assertEquals(DType.F32, y.dtype());
        float[] got = y.toArray();
        for (int i = 0; i < want.length; i++) {
            // A sum of 25 terms of size ~1 can cancel to near 0: relative bound plus a small absolute one.
            assertEquals(want[i], got[i], 1e-5 * Math.abs(want[i]) + 1e-6);
        }
    }

    @Test
    void emptyFeatureDimensionsGiveBiasAndZeroGradients() {
        // in = 0: every output is its bias.
        Tensor y = Linear.apply(Tensor.zeros(DType.F64, 2, 0), Tensor.zeros(DType.F64, 3, 0),
                Tensor.of(new double[] {1, 2, 3}, 3));
        assertArrayEquals(new double[] {1, 2, 3, 1, 2, 3}, y.toDoubleArray(), 0);
        // out = 0: no outputs, and x's gradient is all zeros.
        Tensor x = randn64(16, 2, 3).requiresGrad(true);
        Tensor y0 = Linear.apply(x, Tensor.zeros(DType.F64, 0, 3), null);
        assertArrayEquals(new int[] {2, 0}, y0.shape().toArray());
        y0.backward(Tensor.zeros(DType.F64, 2, 0));
        assertArrayEquals(new double[6], x.grad().toDoubleArray(), 0);
    }

    private static String rejects(Executable e) {
        return assertThrows(IllegalArgumentException.class, e).getMessage();
    }

    @Test
    void rejectsNullXAndWeight() {
        assertTrue(rejects(() -> Linear.apply(null, Tensor.zeros(2, 2), null)).contains("linear: x must not be null"));
        assertTrue(rejects(() -> Linear.apply(Tensor.zeros(2), null, null)).contains("linear: weight must not be null"));
    }

    @Test
    void rejectsInnerSizeMismatchNamingBothSizes() {
        String m = rejects(() -> Linear.apply(Tensor.zeros(2, 5), Tensor.zeros(3, 4), null));
        assertTrue(m.contains("in = 5") && m.contains("in = 4"), m);
        assertTrue(m.contains("[2, 5]") && m.contains("[3, 4]"), m);
    }

    @Test
    void rejectsBiasOfTheWrongSize() {
        String m = rejects(() -> Linear.apply(Tensor.zeros(2, 4), Tensor.zeros(3, 4), Tensor.zeros(4)));
        assertTrue(m.contains("linear: bias must have shape [out] = [3], got [4]"), m);
        String m2 = rejects(() -> Linear.apply(Tensor.zeros(2, 4), Tensor.zeros(3, 4), Tensor.zeros(1, 3)));
        assertTrue(m2.contains("bias") && m2.contains("[1, 3]"), m2);
    }

    @Test
    void rejectsWeightOfTheWrongRank() {
        String m = rejects(() -> Linear.apply(Tensor.zeros(2, 4), Tensor.zeros(4), null));
        assertTrue(m.contains("linear: weight must have rank 2 [out, in], got rank 1 with shape [4]"), m);
    }

    @Test
    void rejectsScalarX() {
        String m = rejects(() -> Linear.apply(Tensor.scalar(1f), Tensor.zeros(1, 1), null));
        assertTrue(m.contains("linear: x must have rank >= 1") && m.contains("got rank 0"), m);
    }

    @Test
    void rejectsMixedDtypes() {
        String m = rejects(() -> Linear.apply(Tensor.zeros(2, 4), Tensor.zeros(DType.F64, 3, 4), null));
        assertTrue(m.contains("linear: weight is F64 but x is F32"), m);
        String m2 = rejects(() -> Linear.apply(Tensor.zeros(2, 4), Tensor.zeros(3, 4), Tensor.zeros(DType.F64, 3)));
        assertTrue(m2.contains("linear: bias is F64 but x is F32"), m2);
    }
}
