package org.attnkit.ops.mae;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.attnkit.autograd.GradCheck;
import org.attnkit.tensor.DType;
import org.attnkit.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

class HeadMixtureTest {
    static Tensor randn(long seed, int... shape) {
        return Tensor.randn(seed, shape).to(DType.F64);
    }

    /** Softmax over the last dimension of random logits: a valid gate of the given shape. */
    static Tensor randomGate(long seed, int... shape) {
        double[] z = Tensor.randn(seed, shape).toDoubleArray();
        int e = shape[shape.length - 1];
        for (int row = 0; row < z.length / e; row++) {
            double s = 0;
            for (int i = 0; i < e; i++) {
                z[row * e + i] = Math.exp(z[row * e + i]);
                s += z[row * e + i];
            }
            for (int i = 0; i < e; i++) {
                z[row * e + i] /= s;
            }
        }
        return Tensor.wrap(z, shape);
    }

    /** Asserts y[b,t,h*R+c] = alpha(b,t,h) * o[b,t,h*R+c]. */
    interface Alpha {
        double of(int b, int t, int h);
    }

    static void assertScaled(Tensor y, Tensor o, int heads, Alpha alpha, double tol) {
        int r = o.dim(2) / heads;
        for (int b = 0; b < o.dim(0); b++) {
            for (int t = 0; t < o.dim(1); t++) {
                for (int h = 0; h < heads; h++) {
                    for (int c = 0; c < r; c++) {
                        double expected = alpha.of(b, t, h) * o.get(b, t, h * r + c);
                        assertEquals(expected, y.get(b, t, h * r + c), tol, "b " + b + " t " + t + " h " + h);
                    }
                }
            }
        }
    }

    @Test
    void uniformGateWithDropOneExpertsIsPlainMultiHeadAttention() {
        for (int heads : new int[] {2, 3, 8}) {
            Tensor o = randn(heads, 2, 5, heads * 2);
            double[] u = new double[2 * heads];
            java.util.Arrays.fill(u, 1.0 / heads);
            Tensor y = HeadMixture.apply(o, Tensor.wrap(u, 2, heads), Membership.dropOne(heads).to(DType.F64));
            assertScaled(y, o, heads, (b, t, h) -> 1.0, 1e-14);
        }
        // float32, per-token uniform gate
        Tensor o = Tensor.randn(5, 2, 3, 8);
        Tensor y = HeadMixture.apply(o, Tensor.full(0.25f, 2, 3, 4), Membership.dropOne(4));
        assertEquals(DType.F32, y.dtype());
        assertScaled(y, o, 4, (b, t, h) -> 1.0, 1e-6);
    }

    @Test
    void dropOneGivesOneMinusGateScaled() {
        int heads = 4;
        Tensor o = randn(11, 3, 4, 12);
        Tensor gate = randomGate(12, 3, heads);
        Tensor y = HeadMixture.apply(o, gate, Membership.dropOne(heads).to(DType.F64));
        assertScaled(y, o, heads, (b, t, h) -> heads / (heads - 1.0) * (1 - gate.get(b, h)), 1e-14);
    }

    @Test
    void dropOneWithPerTokenGate() {
        int heads = 3;
        Tensor o = randn(21, 2, 5, 9);
        Tensor gate = randomGate(22, 2, 5, heads);
        Tensor y = HeadMixture.apply(o, gate, Membership.dropOne(heads).to(DType.F64));
        assertScaled(y, o, heads, (b, t, h) -> heads / (heads - 1.0) * (1 - gate.get(b, t, h)), 1e-14);
    }

    @Test
    void keepTwoOfFourWeighsEachHeadByTheExpertsThatHoldIt() {
        // Experts in itertools.combinations order; alpha_h = (4/2) * sum of the gates of the pairs holding h.
        int[][] pairs = {{0, 1}, {0, 2}, {0, 3}, {1, 2}, {1, 3}, {2, 3}};
        Tensor o = randn(31, 2, 3, 8);
        Tensor gate = randomGate(32, 2, 6);
        Tensor y = HeadMixture.apply(o, gate, Membership.keepSubsets(4, 2).to(DType.F64));
        assertScaled(y, o, 4, (b, t, h) -> {
            double s = 0;
            for (int e = 0; e < pairs.length; e++) {
                if (pairs[e][0] == h || pairs[e][1] == h) {
                    s += gate.get(b, e);
                }
            }
            return 2 * s;
        }, 1e-14);
        // A uniform gate over the six pairs is again plain attention: each head is in half the pairs.
        double[] u = new double[12];
        java.util.Arrays.fill(u, 1.0 / 6);
        assertScaled(HeadMixture.apply(o, Tensor.wrap(u, 2, 6), Membership.keepSubsets(4, 2).to(DType.F64)), o, 4,
                (b, t, h) -> 1.0, 1e-14);
    }

    @Test
    void oneHotGateKeepsOnlyTheChosenExpertsHeads() {
        // The F-step of block coordinate descent: expert 2 (drops head 2) with the rest scaled 4/3.
        Tensor o = randn(41, 1, 2, 8);
        Tensor oneHot = Tensor.wrap(new double[] {0, 0, 1, 0}, 1, 4);
        Tensor y = HeadMixture.apply(o, oneHot, Membership.dropOne(4).to(DType.F64));
        assertScaled(y, o, 4, (b, t, h) -> h == 2 ? 0 : 4.0 / 3, 1e-14);
    }

    // ------------------------------------------------------------------ gradients

    @Test
    void gradientsPerSequenceGate() {
        GradCheck.assertGradients(in -> HeadMixture.apply(in[0], in[1], in[2]),
                Tensor.randn(51, 2, 3, 8).requiresGrad(true), Tensor.randn(52, 2, 4).requiresGrad(true),
                Membership.dropOne(4));
    }

    @Test
    void gradientsPerTokenGate() {
        GradCheck.assertGradients(in -> HeadMixture.apply(in[0], in[1], in[2]),
                Tensor.randn(53, 2, 3, 6).requiresGrad(true), Tensor.randn(54, 2, 3, 3).requiresGrad(true),
                Membership.dropOne(3));
    }

    @Test
    void gradientsKeepTwoOfFour() {
        for (boolean perToken : new boolean[] {false, true}) {
            Tensor gate = perToken ? Tensor.randn(56, 2, 3, 6) : Tensor.randn(56, 2, 6);
            GradCheck.assertGradients(in -> HeadMixture.apply(in[0], in[1], in[2]),
                    Tensor.randn(55, 2, 3, 4).requiresGrad(true), gate.requiresGrad(true), Membership.keepSubsets(4, 2));
        }
    }

    @Test
    void gradientsOfEachInputAlone() {
        for (int which = 0; which < 2; which++) {
            Tensor[] in = {Tensor.randn(57, 2, 3, 8), Tensor.randn(58, 2, 3, 4), Membership.dropOne(4)};
            in[which].requiresGrad(true);
            GradCheck.assertGradients(t -> HeadMixture.apply(t[0], t[1], t[2]), in);
        }
    }

    @Test
    void gradientsThroughTheGateIntoItsParameters() {
        // The whole gate path of MAE: per-head outputs and the gate's input and weights, both modes.
        for (boolean causal : new boolean[] {false, true}) {
            GradCheck.assertGradients(
                    in -> HeadMixture.apply(in[0], MaeGate.apply(in[1], in[2], in[3], in[4], in[5], causal), in[6]),
                    Tensor.randn(61, 2, 4, 6).requiresGrad(true), Tensor.randn(62, 2, 4, 5).requiresGrad(true),
                    Tensor.randn(63, 3, 5).requiresGrad(true), Tensor.randn(64, 3).requiresGrad(true),
                    Tensor.randn(65, 3, 3).requiresGrad(true), Tensor.randn(66, 3).requiresGrad(true),
                    Membership.dropOne(3));
        }
    }

    // ------------------------------------------------------------------ bad input

    static void assertRejected(Executable call, String... fragments) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        assertTrue(e.getMessage().startsWith("head mixture: "), e.getMessage());
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), "message '" + e.getMessage() + "' lacks '" + f + "'");
        }
    }

    private final Tensor o = Tensor.randn(1, 2, 3, 8);
    private final Tensor gate = Tensor.full(0.25f, 2, 4);
    private final Tensor drop4 = Membership.dropOne(4);

    @Test
    void rejectsNullArguments() {
        assertRejected(() -> HeadMixture.apply(null, gate, drop4), "o must not be null");
        assertRejected(() -> HeadMixture.apply(o, null, drop4), "gate must not be null");
        assertRejected(() -> HeadMixture.apply(o, gate, null), "membership must not be null");
    }

    @Test
    void rejectsOutputsOfWrongRank() {
        assertRejected(() -> HeadMixture.apply(Tensor.randn(1, 6, 8), gate, drop4), "o must have rank 3",
                "got rank 2");
    }

    @Test
    void rejectsMembershipOfWrongRank() {
        assertRejected(() -> HeadMixture.apply(o, gate, Tensor.ones(16)), "membership must have rank 2",
                "got rank 1");
    }

    @Test
    void rejectsGateOfWrongRank() {
        assertRejected(() -> HeadMixture.apply(o, Tensor.full(0.25f, 8), drop4), "gate must have rank 2 [B,E] or 3",
                "got rank 1");
        assertRejected(() -> HeadMixture.apply(o, Tensor.full(0.25f, 2, 3, 1, 4), drop4), "got rank 4");
    }

    @Test
    void rejectsGateWithWrongBatch() {
        assertRejected(() -> HeadMixture.apply(o, Tensor.full(0.25f, 3, 4), drop4), "gate dimension 0", "must be 2",
                "got 3");
    }

    @Test
    void rejectsPerTokenGateWithWrongLength() {
        assertRejected(() -> HeadMixture.apply(o, Tensor.full(0.25f, 2, 5, 4), drop4), "gate dimension 1",
                "must be 3", "got 5");
    }

    @Test
    void rejectsGateWithWrongNumberOfExperts() {
        assertRejected(() -> HeadMixture.apply(o, Tensor.full(0.2f, 2, 5), drop4), "gate dimension 1", "must be 4",
                "experts", "got 5");
        assertRejected(() -> HeadMixture.apply(o, Tensor.full(0.2f, 2, 3, 5), drop4), "gate dimension 2",
                "must be 4", "got 5");
    }

    @Test
    void rejectsHeadsNotDividingTheFeatureSize() {
        assertRejected(() -> HeadMixture.apply(o, Tensor.full(1 / 3f, 2, 3), Membership.dropOne(3)),
                "heads H = membership dimension 1 (3) must divide o dimension 2 (D) (8)");
    }

    @Test
    void rejectsEmptyMembership() {
        assertRejected(() -> HeadMixture.apply(o, Tensor.zeros(2, 0), Tensor.zeros(0, 4)),
                "membership dimension 0 (experts E) must be >= 1", "got 0");
        assertRejected(() -> HeadMixture.apply(o, gate, Tensor.zeros(4, 0)),
                "membership dimension 1 (heads H) must be >= 1", "got 0");
    }

    @Test
    void rejectsMembershipEntriesOtherThanZeroOrOne() {
        float[] m = Membership.dropOne(4).toArray();
        m[2 * 4 + 1] = 0.5f;
        assertRejected(() -> HeadMixture.apply(o, gate, Tensor.wrap(m, 4, 4)), "membership[2,1] must be 0 or 1",
                "got 0.5");
        m[2 * 4 + 1] = Float.NaN;
        assertRejected(() -> HeadMixture.apply(o, gate, Tensor.wrap(m, 4, 4)), "membership[2,1]", "got NaN");
    }

    @Test
    void rejectsExpertWithoutHeads() {
        float[] m = Membership.dropOne(4).toArray();
        java.util.Arrays.fill(m, 0, 4, 0f); // row 0 empty
        assertRejected(() -> HeadMixture.apply(o, gate, Tensor.wrap(m, 4, 4)), "membership row 0 has 0 heads");
    }

    @Test
    void rejectsExpertsWithDifferentHeadCounts() {
        float[] m = Membership.dropOne(4).toArray();
        m[3 * 4 + 3] = 1f; // row 3 keeps all four heads
        assertRejected(() -> HeadMixture.apply(o, gate, Tensor.wrap(m, 4, 4)),
                "membership row 3 has 4 heads but row 0 has 3");
    }

    @Test
    void rejectsMembershipThatRequiresGrad() {
        assertRejected(() -> HeadMixture.apply(o, gate, Membership.dropOne(4).requiresGrad(true)),
                "membership must not require grad");
    }

    @Test
    void rejectsMixedDtypes() {
        assertRejected(() -> HeadMixture.apply(o, gate.to(DType.F64), drop4), "gate is F64", "o is F32");
        assertRejected(() -> HeadMixture.apply(o, gate, drop4.to(DType.F64)), "membership is F64", "o is F32");
    }
}
