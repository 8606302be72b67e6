package org.attnkit.ops.mae;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.attnkit.autograd.GradCheck;
import org.attnkit.tensor.DType;
import org.attnkit.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

class MaeGateTest {
    static Tensor randn(long seed, int... shape) {
        return Tensor.randn(seed, shape).to(DType.F64);
    }

    /** The gate of one mean vector, straight from the formula with Tensor.get and nested loops. */
    static double[] gateOf(double[] xbar, Tensor w1, Tensor b1, Tensor w2, Tensor b2) {
        int g = w1.dim(0), e = w2.dim(0);
        double[] hid = new double[g];
        for (int j = 0; j < g; j++) {
            double a = b1 == null ? 0 : b1.get(j);
            for (int c = 0; c < xbar.length; c++) {
                a += w1.get(j, c) * Math.tanh(xbar[c]);
            }
            hid[j] = Math.tanh(a);
        }
        double[] z = new double[e];
        double norm = 0;
        for (int i = 0; i < e; i++) {
            z[i] = b2 == null ? 0 : b2.get(i);
            for (int j = 0; j < g; j++) {
                z[i] += w2.get(i, j) * hid[j];
            }
        }
        for (int i = 0; i < e; i++) {
            z[i] = Math.exp(z[i]); // small logits: no max shift needed here
            norm += z[i];
        }
        for (int i = 0; i < e; i++) {
            z[i] /= norm;
        }
        return z;
    }

    /** Mean of x[b, 0..last, :]. */
    static double[] mean(Tensor x, int b, int last) {
        double[] m = new double[x.dim(2)];
        for (int t = 0; t <= last; t++) {
            for (int c = 0; c < m.length; c++) {
                m[c] += x.get(b, t, c) / (last + 1);
            }
        }
        return m;
    }

    @Test
    void forwardMatchesTheFormulaOnRandomShapes() {
        SplittableRandom r = new SplittableRandom(3);
        for (int trial = 0; trial < 20; trial++) {
            int b = 1 + r.nextInt(3), t = 1 + r.nextInt(6), d = 1 + r.nextInt(7), g = 1 + r.nextInt(5);
            int e = 1 + r.nextInt(6);
            boolean causal = r.nextBoolean();
            Tensor x = randn(10 + trial, b, t, d);
            Tensor w1 = randn(20 + trial, g, d);
            Tensor b1 = r.nextBoolean() ? randn(30 + trial, g) : null;
            Tensor w2 = randn(40 + trial, e, g);
            Tensor b2 = r.nextBoolean() ? randn(50 + trial, e) : null;
            Tensor gate = MaeGate.apply(x, w1, b1, w2, b2, causal);
            if (causal) {
                assertArrayEquals(new int[] {b, t, e}, gate.shape().toArray());
            } else {
                assertArrayEquals(new int[] {b, e}, gate.shape().toArray());
            }
            for (int bi = 0; bi < b; bi++) {
                for (int ti = 0; ti < (causal ? t : 1); ti++) {
                    double[] expected = gateOf(mean(x, bi, causal ? ti : t - 1), w1, b1, w2, b2);
                    for (int ei = 0; ei < e; ei++) {
                        double actual = causal ? gate.get(bi, ti, ei) : gate.get(bi, ei);
                        assertEquals(expected[ei], actual, 1e-13, "trial " + trial);
                    }
                }
            }
        }
    }

    @Test
    void float32ForwardMatchesTheFormula() {
        Tensor x = Tensor.randn(1, 2, 5, 8);
        Tensor w1 = Tensor.randn(2, 4, 8);
        Tensor b1 = Tensor.randn(3, 4);
        Tensor w2 = Tensor.randn(4, 3, 4);
        Tensor b2 = Tensor.randn(5, 3);
        Tensor gate = MaeGate.apply(x, w1, b1, w2, b2, false);
        assertEquals(DType.F32, gate.dtype());
        for (int b = 0; b < 2; b++) {
            double[] expected = gateOf(mean(x, b, 4), w1, b1, w2, b2);
            for (int e = 0; e < 3; e++) {
                assertEquals(expected[e], gate.get(b, e), 1e-6);
            }
        }
    }

    @Test
    void causalGateAtTEqualsTheSequenceGateOfThePrefix() {
        Tensor x = randn(61, 2, 6, 5);
        Tensor w1 = randn(62, 3, 5);
        Tensor b1 = randn(63, 3);
        Tensor w2 = randn(64, 4, 3);
        Tensor b2 = randn(65, 4);
        Tensor causal = MaeGate.apply(x, w1, b1, w2, b2, true);
        for (int t = 0; t < 6; t++) {
            Tensor prefix = MaeGate.apply(x.slice(1, 0, t + 1), w1, b1, w2, b2, false);
            for (int b = 0; b < 2; b++) {
                for (int e = 0; e < 4; e++) {
                    assertEquals(prefix.get(b, e), causal.get(b, t, e), 1e-14);
                }
            }
        }
        // The last token's gate sees the whole sequence.
        Tensor whole = MaeGate.apply(x, w1, b1, w2, b2, false);
        assertEquals(whole.get(1, 2), causal.get(1, 5, 2), 1e-14);
    }

    @Test
    void causalGateAtTDoesNotDependOnLaterTokens() {
        Tensor x = randn(71, 2, 7, 4);
        Tensor w1 = randn(72, 5, 4);
        Tensor w2 = randn(73, 3, 5);
        Tensor before = MaeGate.apply(x, w1, null, w2, null, true);
        int t = 3;
        double[] changed = x.toDoubleArray();
        for (int i = (0 * 7 + t + 1) * 4; i < 7 * 4; i++) {
            changed[i] += 10; // batch 0, tokens t+1..6
        }
        for (int i = (7 + t + 1) * 4; i < 2 * 7 * 4; i++) {
            changed[i] -= 3;  // batch 1, tokens t+1..6
        }
        Tensor after = MaeGate.apply(Tensor.wrap(changed, 2, 7, 4), w1, null, w2, null, true);
        for (int b = 0; b < 2; b++) {
            for (int ti = 0; ti <= t; ti++) {
                for (int e = 0; e < 3; e++) {
                    assertEquals(before.get(b, ti, e), after.get(b, ti, e), 0.0);
                }
            }
            assertTrue(Math.abs(before.get(b, t + 1, 0) - after.get(b, t + 1, 0)) > 1e-6,
                    "token t+1 does see its own change");
        }
    }

    @Test
    void zeroSecondLayerGivesTheUniformGate() {
        for (boolean causal : new boolean[] {false, true}) {
            Tensor gate = MaeGate.apply(randn(81, 2, 4, 6), randn(82, 3, 6), randn(83, 3),
                    Tensor.zeros(DType.F64, 5, 3), Tensor.zeros(DType.F64, 5), causal);
            for (double v : gate.toDoubleArray()) {
                assertEquals(0.2, v, 1e-15);
            }
        }
    }

    @Test
    void gateRowsSumToOne() {
        Tensor gate = MaeGate.apply(Tensor.randn(91, 3, 5, 4), Tensor.randn(92, 6, 4), null,
                Tensor.randn(93, 7, 6).to(DType.F32), Tensor.randn(94, 7), true);
        double[] g = gate.toDoubleArray();
        for (int row = 0; row < 15; row++) {
            double s = 0;
            for (int e = 0; e < 7; e++) {
                assertTrue(g[row * 7 + e] > 0);
                s += g[row * 7 + e];
            }
            assertEquals(1.0, s, 1e-6);
        }
    }

    // ------------------------------------------------------------------ gradients

    @Test
    void gradientsOfEveryInputPerSequence() {
        GradCheck.assertGradients(in -> MaeGate.apply(in[0], in[1], in[2], in[3], in[4], false),
                Tensor.randn(101, 2, 4, 5).requiresGrad(true), Tensor.randn(102, 3, 5).requiresGrad(true),
                Tensor.randn(103, 3).requiresGrad(true), Tensor.randn(104, 4, 3).requiresGrad(true),
                Tensor.randn(105, 4).requiresGrad(true));
    }

    @Test
    void gradientsOfEveryInputPerToken() {
        GradCheck.assertGradients(in -> MaeGate.apply(in[0], in[1], in[2], in[3], in[4], true),
                Tensor.randn(111, 2, 5, 3).requiresGrad(true), Tensor.randn(112, 4, 3).requiresGrad(true),
                Tensor.randn(113, 4).requiresGrad(true), Tensor.randn(114, 3, 4).requiresGrad(true),
                Tensor.randn(115, 3).requiresGrad(true));
    }

    @Test
    void gradientsWithoutBiases() {
        for (boolean causal : new boolean[] {false, true}) {
            GradCheck.assertGradients(in -> MaeGate.apply(in[0], in[1], null, in[2], null, causal),
                    Tensor.randn(121, 2, 3, 4).requiresGrad(true), Tensor.randn(122, 2, 4).requiresGrad(true),
                    Tensor.randn(123, 5, 2).requiresGrad(true));
        }
    }

    @Test
    void gradientsOfEachInputAlone() {
        for (boolean causal : new boolean[] {false, true}) {
            for (int which = 0; which < 5; which++) {
                Tensor[] in = {Tensor.randn(131, 2, 3, 4), Tensor.randn(132, 3, 4), Tensor.randn(133, 3),
                    Tensor.randn(134, 2, 3), Tensor.randn(135, 2)};
                in[which].requiresGrad(true);
                GradCheck.assertGradients(t -> MaeGate.apply(t[0], t[1], t[2], t[3], t[4], causal), in);
            }
        }
    }

    // ------------------------------------------------------------------ bad input

    static void assertRejected(Executable call, String... fragments) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        assertTrue(e.getMessage().startsWith("mae gate: "), e.getMessage());
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), "message '" + e.getMessage() + "' lacks '" + f + "'");
        }
    }

    private final Tensor x = Tensor.randn(1, 2, 3, 4);
    private final Tensor w1 = Tensor.randn(2, 5, 4);
    private final Tensor b1 = Tensor.randn(3, 5);
    private final Tensor w2 = Tensor.randn(4, 6, 5);
    private final Tensor b2 = Tensor.randn(5, 6);

    @Test
    void rejectsNullInputOrWeights() {
        assertRejected(() -> MaeGate.apply(null, w1, b1, w2, b2, false), "x must not be null");
        assertRejected(() -> MaeGate.apply(x, null, b1, w2, b2, false), "w1 must not be null");
        assertRejected(() -> MaeGate.apply(x, w1, b1, null, b2, false), "w2 must not be null");
    }

    @Test
    void rejectsInputOfWrongRank() {
        assertRejected(() -> MaeGate.apply(Tensor.randn(1, 3, 4), w1, b1, w2, b2, false), "x must have rank 3",
                "got rank 2");
    }

    @Test
    void rejectsFirstLayerOfWrongRank() {
        assertRejected(() -> MaeGate.apply(x, Tensor.randn(2, 20), b1, w2, b2, false), "w1 must have rank 2",
                "got rank 1");
    }

    @Test
    void rejectsSecondLayerOfWrongRank() {
        assertRejected(() -> MaeGate.apply(x, w1, b1, Tensor.randn(4, 1, 6, 5), b2, false), "w2 must have rank 2",
                "got rank 3");
    }

    @Test
    void rejectsEmptySequence() {
        assertRejected(() -> MaeGate.apply(Tensor.zeros(2, 0, 4), w1, b1, w2, b2, true),
                "x dimension 1 (T) must be >= 1", "got 0");
    }

    @Test
    void rejectsFirstLayerNotMatchingTheFeatureSize() {
        assertRejected(() -> MaeGate.apply(x, Tensor.randn(2, 5, 3), b1, w2, b2, false), "w1 dimension 1",
                "must be 4", "got 3");
    }

    @Test
    void rejectsSecondLayerNotMatchingTheHiddenSize() {
        assertRejected(() -> MaeGate.apply(x, w1, b1, Tensor.randn(4, 6, 7), b2, false), "w2 dimension 1",
                "must be 5", "got 7");
    }

    @Test
    void rejectsZeroExperts() {
        assertRejected(() -> MaeGate.apply(x, w1, b1, Tensor.zeros(0, 5), null, false),
                "w2 dimension 0 (experts E) must be >= 1", "got 0");
    }

    @Test
    void rejectsFirstBiasOfWrongShape() {
        assertRejected(() -> MaeGate.apply(x, w1, Tensor.randn(3, 6), w2, b2, false), "b1 must have shape",
                "[5]", "got [6]");
    }

    @Test
    void rejectsSecondBiasOfWrongShape() {
        assertRejected(() -> MaeGate.apply(x, w1, b1, w2, Tensor.randn(5, 1, 6), false), "b2 must have shape",
                "[6]", "got [1, 6]");
    }

    @Test
    void rejectsMixedDtypes() {
        assertRejected(() -> MaeGate.apply(x, w1, b1.to(DType.F64), w2, b2, false), "b1 is F64", "x is F32");
        assertRejected(() -> MaeGate.apply(x, w1, b1, w2.to(DType.F64), b2, true), "w2 is F64", "x is F32");
    }
}
