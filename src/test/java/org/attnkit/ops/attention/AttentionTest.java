package org.attnkit.ops.attention;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.attnkit.autograd.GradCheck;
import org.attnkit.tensor.DType;
import org.attnkit.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

class AttentionTest {
    // ------------------------------------------------------------------ naive reference

    /**
     * Independent formulation: slice each head out as explicit matrices, build the full Tq x Tk score
     * matrix with -inf at masked entries, softmax each row (an all -inf row gives zeros), multiply by V.
     */
    static double[][][] naive(Tensor q, Tensor k, Tensor v, int heads, boolean causal, Tensor mask) {
        int bs = q.dim(0), tq = q.dim(1), tk = k.dim(1), d = q.dim(2), dv = v.dim(2);
        int dh = d / heads, dvh = dv / heads;
        double[][][] y = new double[bs][tq][dv];
        for (int b = 0; b < bs; b++) {
            for (int h = 0; h < heads; h++) {
                double[][] qh = new double[tq][dh];
                double[][] kh = new double[tk][dh];
                double[][] vh = new double[tk][dvh];
                for (int i = 0; i < tq; i++) {
                    for (int c = 0; c < dh; c++) {
                        qh[i][c] = q.get(b, i, h * dh + c);
                    }
                }
                for (int j = 0; j < tk; j++) {
                    for (int c = 0; c < dh; c++) {
                        kh[j][c] = k.get(b, j, h * dh + c);
                    }
                    for (int c = 0; c < dvh; c++) {
                        vh[j][c] = v.get(b, j, h * dvh + c);
                    }
                }
                double[][] s = new double[tq][tk];
                for (int i = 0; i < tq; i++) {
                    for (int j = 0; j < tk; j++) {
                        boolean future = causal && (j - (tk - tq)) > i;
                        boolean padded = mask != null && mask.get(b, j) != 0;
                        if (future || padded) {
                            s[i][j] = Double.NEGATIVE_INFINITY;
                            continue;
                        }
                        for (int c = 0; c < dh; c++) {
                            s[i][j] += qh[i][c] * kh[j][c];
                        }
                        s[i][j] /= Math.sqrt(dh);
                    }
                }
                for (int i = 0; i < tq; i++) {
                    double max = Double.NEGATIVE_INFINITY;
                    for (double x : s[i]) {
                        max = Math.max(max, x);
                    }
                    if (max == Double.NEGATIVE_INFINITY) {
                        continue;
                    }
                    double z = 0;
                    double[] e = new double[tk];
                    for (int j = 0; j < tk; j++) {
                        e[j] = Math.exp(s[i][j] - max);
                        z += e[j];
                    }
                    for (int j = 0; j < tk; j++) {
                        for (int c = 0; c < dvh; c++) {
                            y[b][i][h * dvh + c] += e[j] / z * vh[j][c];
                        }
                    }
                }
            }
        }
        return y;
    }

    static Tensor randomMask(long seed, int b, int tk, double pPad) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] m = new float[b * tk];
        for (int i = 0; i < m.length; i++) {
            m[i] = r.nextDouble() < pPad ? (r.nextBoolean() ? 1f : -3f) : 0f; // any nonzero pads
        }
        return Tensor.wrap(m, b, tk);
    }

    static void assertMatchesNaive(Tensor q, Tensor k, Tensor v, int heads, boolean causal, Tensor mask,
            double tol) {
        Tensor y = Attention.apply(q, k, v, heads, causal, mask);
        assertEquals(q.dim(0), y.dim(0));
        assertEquals(q.dim(1), y.dim(1));
        assertEquals(v.dim(2), y.dim(2));
        double[][][] ref = naive(q, k, v, heads, causal, mask);
        for (int b = 0; b < y.dim(0); b++) {
            for (int i = 0; i < y.dim(1); i++) {
                for (int c = 0; c < y.dim(2); c++) {
                    double r = ref[b][i][c];
                    double a = y.get(b, i, c);
                    assertTrue(Math.abs(a - r) <= tol * (1 + Math.abs(r)),
                            "y[" + b + "," + i + "," + c + "] = " + a + " expected " + r + " (causal " + causal
                                    + ", heads " + heads + ", mask " + (mask != null) + ")");
                }
            }
        }
    }

    static Tensor f64(Tensor t) {
        return t == null ? null : t.to(DType.F64);
    }

    // ------------------------------------------------------------------ forward

    @Test
    void forwardMatchesNaiveOnRandomShapesInDouble() {
        SplittableRandom r = new SplittableRandom(7);
        for (int trial = 0; trial < 40; trial++) {
            int heads = 1 + r.nextInt(4);
            int dh = 1 + r.nextInt(4);
            int dvh = 1 + r.nextInt(3);
            int b = 1 + r.nextInt(3);
            int tq = 1 + r.nextInt(7);
            int tk = r.nextBoolean() ? tq : 1 + r.nextInt(9);
            boolean causal = r.nextBoolean();
            Tensor mask = r.nextBoolean() ? f64(randomMask(trial, b, tk, 0.3)) : null;
            Tensor q = f64(Tensor.randn(100 + trial, b, tq, heads * dh));
            Tensor k = f64(Tensor.randn(200 + trial, b, tk, heads * dh));
            Tensor v = f64(Tensor.randn(300 + trial, b, tk, heads * dvh));
            assertMatchesNaive(q, k, v, heads, causal, mask, 1e-12);
        }
    }

    @Test
    void forwardInFloat32MatchesNaive() {
        Tensor q = Tensor.randn(1, 2, 9, 12);
        Tensor k = Tensor.randn(2, 2, 9, 12);
        Tensor v = Tensor.randn(3, 2, 9, 6);
        Tensor y = Attention.apply(q, k, v, 3, true, randomMask(4, 2, 9, 0.3));
        assertEquals(DType.F32, y.dtype());
        assertMatchesNaive(q, k, v, 3, true, randomMask(4, 2, 9, 0.3), 1e-5);
    }

    @Test
    void causalWithFewerQueriesAlignsQueriesToTheLastKeys() {
        // Tq = 2, Tk = 5: query 0 sees keys 0..3, query 1 sees keys 0..4.
        Tensor q = f64(Tensor.randn(11, 1, 2, 4));
        Tensor k = f64(Tensor.randn(12, 1, 5, 4));
        Tensor v = f64(Tensor.randn(13, 1, 5, 4));
        assertMatchesNaive(q, k, v, 2, true, null, 1e-12);
        // The last query sees every key, so it equals non-causal attention.
        Tensor causal = Attention.apply(q, k, v, 2, true, null);
        Tensor full = Attention.apply(q, k, v, 2, false, null);
        for (int c = 0; c < 4; c++) {
            assertEquals(full.get(0, 1, c), causal.get(0, 1, c), 1e-12);
        }
        // Query 0 ignores key 4: changing key/value 4 leaves it unchanged.
        double[] k2 = k.toDoubleArray();
        double[] v2 = v.toDoubleArray();
        for (int c = 0; c < 4; c++) {
            k2[4 * 4 + c] += 5;
            v2[4 * 4 + c] -= 7;
        }
        Tensor changed = Attention.apply(q, Tensor.wrap(k2, 1, 5, 4), Tensor.wrap(v2, 1, 5, 4), 2, true, null);
        for (int c = 0; c < 4; c++) {
            assertEquals(causal.get(0, 0, c), changed.get(0, 0, c), 0.0);
        }
    }

    @Test
    void causalWithMoreQueriesThanKeysGivesZerosForTheFirstQueries() {
        // Tq = 5, Tk = 3: offset -2, so queries 0 and 1 see no key; query 2 sees key 0 only.
        Tensor q = f64(Tensor.randn(21, 2, 5, 6));
        Tensor k = f64(Tensor.randn(22, 2, 3, 6));
        Tensor v = f64(Tensor.randn(23, 2, 3, 3));
        assertMatchesNaive(q, k, v, 3, true, null, 1e-12);
        Tensor y = Attention.apply(q, k, v, 3, true, null);
        for (int b = 0; b < 2; b++) {
            for (int c = 0; c < 3; c++) {
                assertEquals(0.0, y.get(b, 0, c));
                assertEquals(0.0, y.get(b, 1, c));
                assertEquals(v.get(b, 0, c), y.get(b, 2, c), 1e-12);
            }
        }
    }

    @Test
    void singleHeadAndOneColumnPerHead() {
        assertMatchesNaive(f64(Tensor.randn(31, 2, 4, 5)), f64(Tensor.randn(32, 2, 6, 5)),
                f64(Tensor.randn(33, 2, 6, 3)), 1, false, f64(randomMask(34, 2, 6, 0.3)), 1e-12);
        // dh = 1: D = H = 4, scale 1
        assertMatchesNaive(f64(Tensor.randn(35, 2, 5, 4)), f64(Tensor.randn(36, 2, 5, 4)),
                f64(Tensor.randn(37, 2, 5, 4)), 4, true, null, 1e-12);
    }

    @Test
    void keyPaddingIgnoresPaddedKeysWhateverTheirValues() {
        Tensor q = f64(Tensor.randn(41, 1, 3, 4));
        double[] kv = Tensor.randn(42, 1, 4, 4).to(DType.F64).toDoubleArray();
        double[] vv = Tensor.randn(43, 1, 4, 2).to(DType.F64).toDoubleArray();
        Tensor mask = Tensor.wrap(new double[] {0, 0, 0, 1}, 1, 4);
        Tensor y3 = Attention.apply(q, Tensor.wrap(java.util.Arrays.copyOf(kv, 12), 1, 3, 4),
                Tensor.wrap(java.util.Arrays.copyOf(vv, 6), 1, 3, 2), 2, false, null);
        Tensor y4 = Attention.apply(q, Tensor.wrap(kv, 1, 4, 4), Tensor.wrap(vv, 1, 4, 2), 2, false, mask);
        for (int i = 0; i < 3; i++) {
            for (int c = 0; c < 2; c++) {
                assertEquals(y3.get(0, i, c), y4.get(0, i, c), 1e-14);
            }
        }
    }

    @Test
    void fullyMaskedRowGivesZerosAndZeroGradients() {
        Tensor q = f64(Tensor.randn(51, 2, 3, 4)).requiresGrad(true);
        Tensor k = f64(Tensor.randn(52, 2, 3, 4)).requiresGrad(true);
        Tensor v = f64(Tensor.randn(53, 2, 3, 4)).requiresGrad(true);
        Tensor mask = Tensor.wrap(new double[] {0, 1, 0, 1, 1, 1}, 2, 3); // batch 1 fully padded
        Tensor y = Attention.apply(q, k, v, 2, false, mask);
        y.backward(f64(Tensor.randn(54, 2, 3, 4)));
        for (int i = 0; i < 3; i++) {
            for (int c = 0; c < 4; c++) {
                assertEquals(0.0, y.get(1, i, c));
                assertEquals(0.0, q.grad().get(1, i, c));
                assertEquals(0.0, k.grad().get(1, i, c));
                assertEquals(0.0, v.grad().get(1, i, c));
                assertTrue(Double.isFinite(y.get(0, i, c)));
                // padded key 1 of batch 0 gets no gradient either
                assertEquals(0.0, k.grad().get(0, 1, c));
                assertEquals(0.0, v.grad().get(0, 1, c));
            }
        }
        assertTrue(Math.abs(q.grad().get(0, 0, 0)) > 0);
    }

    @Test
    void backwardComputesOnlyTheRequestedGradients() {
        Tensor q = Tensor.randn(61, 1, 3, 4);
        Tensor k = Tensor.randn(62, 1, 3, 4);
        Tensor v = Tensor.randn(63, 1, 3, 4);
        Tensor[] g = Attention.KERNELS.select(q).backward(q, k, v, 2, true, null, Tensor.randn(64, 1, 3, 4),
                new boolean[] {false, false, true});
        assertNull(g[0]);
        assertNull(g[1]);
        assertEquals(12, g[2].numel());
    }

    // ------------------------------------------------------------------ gradients

    @Test
    void gradientsPlain() {
        GradCheck.assertGradients(in -> Attention.apply(in[0], in[1], in[2], 2, false, null),
                Tensor.randn(71, 2, 3, 4).requiresGrad(true), Tensor.randn(72, 2, 5, 4).requiresGrad(true),
                Tensor.randn(73, 2, 5, 6).requiresGrad(true));
    }

    @Test
    void gradientsCausal() {
        GradCheck.assertGradients(in -> Attention.apply(in[0], in[1], in[2], 2, true, null),
                Tensor.randn(74, 2, 4, 4).requiresGrad(true), Tensor.randn(75, 2, 4, 4).requiresGrad(true),
                Tensor.randn(76, 2, 4, 2).requiresGrad(true));
    }

    @Test
    void gradientsWithKeyPadding() {
        Tensor mask = Tensor.wrap(new float[] {0, 0, 1, 0, 1, 0, 0, 0, 0, 0}, 2, 5);
        GradCheck.assertGradients(in -> Attention.apply(in[0], in[1], in[2], 1, false, in[3]),
                Tensor.randn(77, 2, 3, 3).requiresGrad(true), Tensor.randn(78, 2, 5, 3).requiresGrad(true),
                Tensor.randn(79, 2, 5, 2).requiresGrad(true), mask);
    }

    @Test
    void gradientsCausalWithPaddingAndUnequalLengthsAndAFullyMaskedRow() {
        // Tq = 3 > Tk = 2 with causal: query 0 has no key; batch 1 pads key 0, so query 1 has none either.
        Tensor mask = Tensor.wrap(new float[] {0, 0, 1, 0}, 2, 2);
        GradCheck.assertGradients(in -> Attention.apply(in[0], in[1], in[2], 4, true, in[3]),
                Tensor.randn(80, 2, 3, 4).requiresGrad(true), Tensor.randn(81, 2, 2, 4).requiresGrad(true),
                Tensor.randn(82, 2, 2, 4).requiresGrad(true), mask);
        GradCheck.assertGradients(in -> Attention.apply(in[0], in[1], in[2], 2, true, in[3]),
                Tensor.randn(83, 2, 2, 4).requiresGrad(true), Tensor.randn(84, 2, 5, 4).requiresGrad(true),
                Tensor.randn(85, 2, 5, 2).requiresGrad(true), randomMask(86, 2, 5, 0.3));
    }

    @Test
    void gradientsForEachInputAlone() {
        for (int which = 0; which < 3; which++) {
            Tensor[] in = {Tensor.randn(87, 1, 3, 4), Tensor.randn(88, 1, 4, 4), Tensor.randn(89, 1, 4, 2)};
            in[which].requiresGrad(true);
            GradCheck.assertGradients(t -> Attention.apply(t[0], t[1], t[2], 2, true, null), in);
        }
    }

    // ------------------------------------------------------------------ bad input

    static void assertRejected(Executable call, String... fragments) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), "message '" + e.getMessage() + "' lacks '" + f + "'");
        }
        assertTrue(e.getMessage().startsWith("attention: "), e.getMessage());
    }

    private final Tensor q = Tensor.randn(1, 2, 3, 4);
    private final Tensor k = Tensor.randn(2, 2, 5, 4);
    private final Tensor v = Tensor.randn(3, 2, 5, 6);

    @Test
    void rejectsNullQuery() {
        assertRejected(() -> Attention.apply(null, k, v, 2, false, null), "q must not be null");
    }

    @Test
    void rejectsNullKeyAndValue() {
        assertRejected(() -> Attention.apply(q, null, v, 2, false, null), "k must not be null");
        assertRejected(() -> Attention.apply(q, k, null, 2, false, null), "v must not be null");
    }

    @Test
    void rejectsQueryOfWrongRank() {
        assertRejected(() -> Attention.apply(Tensor.randn(1, 3, 4), k, v, 2, false, null), "q must have rank 3",
                "got rank 2");
    }

    @Test
    void rejectsKeyOfWrongRank() {
        assertRejected(() -> Attention.apply(q, Tensor.randn(1, 2, 5, 4, 1), v, 2, false, null),
                "k must have rank 3", "got rank 4");
    }

    @Test
    void rejectsValueOfWrongRank() {
        assertRejected(() -> Attention.apply(q, k, Tensor.randn(1, 10, 6), 2, false, null), "v must have rank 3",
                "got rank 2");
    }

    @Test
    void rejectsBatchMismatchOfKeys() {
        assertRejected(() -> Attention.apply(q, Tensor.randn(2, 3, 5, 4), v, 2, false, null), "k dimension 0",
                "must be 2", "got 3");
    }

    @Test
    void rejectsBatchMismatchOfValues() {
        assertRejected(() -> Attention.apply(q, k, Tensor.randn(3, 1, 5, 6), 2, false, null), "v dimension 0",
                "must be 2", "got 1");
    }

    @Test
    void rejectsKeyFeatureSizeDifferentFromQuery() {
        assertRejected(() -> Attention.apply(q, Tensor.randn(2, 2, 5, 6), v, 2, false, null), "k dimension 2",
                "must be 4", "got 6");
    }

    @Test
    void rejectsValueLengthDifferentFromKeys() {
        assertRejected(() -> Attention.apply(q, k, Tensor.randn(3, 2, 4, 6), 2, false, null), "v dimension 1",
                "must be 5", "got 4");
    }

    @Test
    void rejectsNonPositiveHeads() {
        assertRejected(() -> Attention.apply(q, k, v, 0, false, null), "heads must be >= 1", "got 0");
        assertRejected(() -> Attention.apply(q, k, v, -2, false, null), "heads must be >= 1", "got -2");
    }

    @Test
    void rejectsHeadsNotDividingFeatureSize() {
        assertRejected(() -> Attention.apply(q, k, v, 3, false, null), "heads (3) must divide", "(D) (4)");
    }

    @Test
    void rejectsHeadsNotDividingValueSize() {
        Tensor v5 = Tensor.randn(3, 2, 5, 5);
        assertRejected(() -> Attention.apply(q, k, v5, 2, false, null), "heads (2) must divide", "(Dv) (5)");
    }

    @Test
    void rejectsEmptyFeatureSize() {
        assertRejected(() -> Attention.apply(Tensor.zeros(2, 3, 0), Tensor.zeros(2, 5, 0), v, 2, false, null),
                "q dimension 2 (D) must be >= 1", "got 0");
    }

    @Test
    void rejectsMaskOfWrongShape() {
        assertRejected(() -> Attention.apply(q, k, v, 2, false, Tensor.zeros(2, 3)), "keyPaddingMask",
                "[2, 5]", "got [2, 3]");
        assertRejected(() -> Attention.apply(q, k, v, 2, false, Tensor.zeros(2, 1, 5)), "keyPaddingMask",
                "[2, 5]", "got [2, 1, 5]");
    }

    @Test
    void rejectsMaskThatRequiresGrad() {
        assertRejected(() -> Attention.apply(q, k, v, 2, false, Tensor.zeros(2, 5).requiresGrad(true)),
                "keyPaddingMask must not require grad");
    }

    @Test
    void rejectsDtypeMismatch() {
        assertRejected(() -> Attention.apply(q, k.to(DType.F64), v, 2, false, null), "k is F64", "q is F32");
        assertRejected(() -> Attention.apply(q, k, v, 2, false, Tensor.zeros(DType.F64, 2, 5)),
                "keyPaddingMask is F64", "q is F32");
    }
}
