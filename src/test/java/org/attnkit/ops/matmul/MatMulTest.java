package org.attnkit.ops.matmul;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.attnkit.autograd.GradCheck;
import org.attnkit.tensor.DType;
import org.attnkit.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class MatMulTest {
    static Tensor randn64(long seed, int... shape) {
        return Tensor.randn(seed, shape).to(DType.F64);
    }

    /** c = a b by coordinate access, with the batch dims flattened through reshape. */
    static double[] naive(Tensor a, Tensor b) {
        int m = a.dim(-2);
        int k = a.dim(-1);
        int n = b.dim(-1);
        int batch = a.numel() / (m * k);
        Tensor a3 = a.reshape(batch, m, k);
        Tensor b3 = b.reshape(batch, k, n);
        double[] c = new double[batch * m * n];
        for (int p = 0; p < batch; p++) {
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    for (int q = 0; q < k; q++) {
                        c[(p * m + i) * n + j] += a3.get(p, i, q) * b3.get(p, q, j);
                    }
                }
            }
        }
        return c;
    }

    @Test
    void handComputedCase() {
        Tensor a = Tensor.of(new double[] {1, 2, 3, 4, 5, 6}, 2, 3);
        Tensor b = Tensor.of(new double[] {7, 8, 9, 10, 11, 12}, 3, 2);
        Tensor c = MatMul.apply(a, b);
        assertArrayEquals(new int[] {2, 2}, c.shape().toArray());
        assertArrayEquals(new double[] {58, 64, 139, 154}, c.toDoubleArray(), 0);
    }

    static Stream<Arguments> shapes() {
        return Stream.of(
                Arguments.of(new int[] {3, 4}, new int[] {4, 5}),
                Arguments.of(new int[] {1, 7}, new int[] {7, 1}),
                Arguments.of(new int[] {5, 1}, new int[] {1, 3}),
                Arguments.of(new int[] {2, 3, 4}, new int[] {2, 4, 2}),
                Arguments.of(new int[] {2, 3, 1, 4}, new int[] {2, 3, 4, 5}));
    }

    @ParameterizedTest
    @MethodSource("shapes")
    void forwardMatchesNaiveLoops(int[] sa, int[] sb) {
        Tensor a = randn64(1, sa);
        Tensor b = randn64(2, sb);
        Tensor c = MatMul.apply(a, b);
        int[] want = sa.clone();
        want[want.length - 1] = sb[sb.length - 1];
        assertArrayEquals(want, c.shape().toArray());
        assertArrayEquals(naive(a, b), c.toDoubleArray(), 1e-12);
    }

    @ParameterizedTest
    @MethodSource("shapes")
    void gradientsMatchFiniteDifferences(int[] sa, int[] sb) {
        GradCheck.assertGradients(in -> MatMul.apply(in[0], in[1]),
                randn64(3, sa).requiresGrad(true), randn64(4, sb).requiresGrad(true));
    }

    @Test
    void gradientOfEachOperandAlone() {
        GradCheck.assertGradients(in -> MatMul.apply(in[0], in[1]),
                randn64(5, 2, 3, 4).requiresGrad(true), randn64(6, 2, 4, 3));
        GradCheck.assertGradients(in -> MatMul.apply(in[0], in[1]),
                randn64(7, 2, 3, 4), randn64(8, 2, 4, 3).requiresGrad(true));
    }

    @Test
    void backwardComputesOnlyRequestedGradients() {
        Tensor a = randn64(9, 2, 3);
        Tensor b = randn64(10, 3, 4);
        Tensor[] g = MatMul.KERNELS.select(a, b).backward(a, b, randn64(11, 2, 4), new boolean[] {false, true});
        assertNull(g[0]);
        assertArrayEquals(new int[] {3, 4}, g[1].shape().toArray());
    }

    @Test
    void float32MatchesFloat64() {
        SplittableRandom r = new SplittableRandom(12);
        for (int trial = 0; trial < 10; trial++) {
            int m = 1 + r.nextInt(9);
            int k = 1 + r.nextInt(40);
            int n = 1 + r.nextInt(9);
            Tensor a = Tensor.randn(100 + trial, 3, m, k);
            Tensor b = Tensor.randn(200 + trial, 3, k, n);
            double[] want = MatMul.apply(a.to(DType.F64), b.to(DType.F64)).toDoubleArray();
            Tensor c = MatMul.apply(a, b);
            assertEquals(DType.F32, c.dtype());
            float[] got = c.toArray();
            for (int i = 0; i < want.length; i++) {
                // Sums of k products can cancel: bound the error by the magnitude of the terms too.
                assertEquals(want[i], got[i], 1e-5 * Math.abs(want[i]) + 1e-6 * Math.sqrt(k));
            }
        }
    }

    private static String rejects(Executable e) {
        return assertThrows(IllegalArgumentException.class, e).getMessage();
    }

    @Test
    void rejectsNullOperands() {
        assertTrue(rejects(() -> MatMul.apply(null, Tensor.zeros(2, 2))).contains("matmul: a must not be null"));
        assertTrue(rejects(() -> MatMul.apply(Tensor.zeros(2, 2), null)).contains("matmul: b must not be null"));
    }

    @Test
    void rejectsInnerDimensionMismatchNamingBothSizes() {
        String m = rejects(() -> MatMul.apply(Tensor.zeros(2, 3), Tensor.zeros(4, 5)));
        assertTrue(m.contains("a has K = 3") && m.contains("b has K = 4"), m);
        assertTrue(m.contains("[2, 3]") && m.contains("[4, 5]"), m);
    }

    @Test
    void rejectsRankBelowTwo() {
        String m = rejects(() -> MatMul.apply(Tensor.zeros(3), Tensor.zeros(3, 2)));
        assertTrue(m.contains("matmul: a must have rank >= 2") && m.contains("got rank 1 with shape [3]"), m);
        String m2 = rejects(() -> MatMul.apply(Tensor.zeros(2, 3), Tensor.zeros(3)));
        assertTrue(m2.contains("matmul: b must have rank >= 2") && m2.contains("got rank 1"), m2);
    }

    @Test
    void rejectsUnequalBatchDimsNamingBothShapes() {
        String m = rejects(() -> MatMul.apply(Tensor.zeros(2, 3, 4), Tensor.zeros(3, 4, 5)));
        assertTrue(m.contains("batch dims of a [2]") && m.contains("b [3]"), m);
        String m2 = rejects(() -> MatMul.apply(Tensor.zeros(2, 3, 4), Tensor.zeros(4, 5)));
        assertTrue(m2.contains("[2, 3, 4]") && m2.contains("[4, 5]") && m2.contains("not broadcast"), m2);
    }

    @Test
    void rejectsMixedDtypes() {
        String m = rejects(() -> MatMul.apply(Tensor.zeros(DType.F32, 2, 2), Tensor.zeros(DType.F64, 2, 2)));
        assertTrue(m.contains("matmul: b is F64 but a is F32"), m);
    }
}
