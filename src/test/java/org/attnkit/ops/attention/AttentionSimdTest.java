package org.attnkit.ops.attention;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
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

/** The flash-style SIMD backend against the double reference, forward and every gradient. */
class AttentionSimdTest {
    // Forward: y is a convex combination of v rows; the float32 error comes from the scores (dh products,
    // |s| ~ 1 after the 1/sqrt(dh) scale, so ~dh * 2^-24), the vector exp (~1 ulp) and the sum of up to
    // Tk weighted values, i.e. ~1e-6 relative to max |v|.
    private static final double FWD_ATOL = 2e-5;
    private static final double FWD_RTOL = 1e-4;
    // Backward: each gradient sums up to Tk (or Tq) float32 products of O(1) terms in float, plus the
    // cancellation in dP - rowsum(dO * O): a few 1e-6 relative to the largest gradient for T = 300.
    private static final double BWD_ATOL = 1e-4;
    private static final double BWD_RTOL = 1e-3;

    static Stream<Arguments> shapes() {
        List<Arguments> cases = new ArrayList<>();
        // B, Tq, Tk, H, dh, dvh, causal, padding probability, one fully padded sequence
        cases.add(Arguments.of(2, 5, 5, 2, 1, 1, false, 0.0, false));      // head dim 1
        cases.add(Arguments.of(2, 9, 13, 3, 7, 5, false, 0.3, false));     // head dim 7, Tq != Tk, padding
        cases.add(Arguments.of(1, 20, 20, 1, 16, 16, true, 0.0, false));   // head dim 16, H = 1, causal
        cases.add(Arguments.of(2, 17, 40, 2, 33, 9, true, 0.2, false));    // head dim 33, Tq < Tk causal
        cases.add(Arguments.of(1, 70, 70, 2, 64, 64, true, 0.1, false));   // head dim 64, two blocks
        cases.add(Arguments.of(2, 300, 300, 2, 16, 8, true, 0.0, false));  // long T: several key blocks
        cases.add(Arguments.of(1, 300, 300, 1, 33, 17, false, 0.2, false)); // long T, padding
        cases.add(Arguments.of(1, 130, 300, 2, 7, 7, true, 0.1, false));   // long Tk, Tq < Tk causal
        cases.add(Arguments.of(2, 9, 4, 2, 8, 8, true, 0.0, false));       // Tq > Tk causal: masked rows
        cases.add(Arguments.of(2, 6, 7, 2, 4, 3, false, 0.2, true));       // one sequence fully padded
        cases.add(Arguments.of(2, 80, 100, 2, 5, 6, true, 0.3, true));     // fully padded, causal, blocks
        cases.add(Arguments.of(3, 1, 1, 1, 16, 16, false, 0.0, false));    // T = 1
        cases.add(Arguments.of(2, 1, 9, 4, 7, 3, true, 0.0, false));       // Tq = 1 (decoding), causal
        cases.add(Arguments.of(1, 7, 1, 1, 33, 1, true, 0.0, false));      // Tk = 1, causal, dvh 1
        SplittableRandom r = new SplittableRandom(11);
        int[] headDims = {1, 7, 16, 33, 64};
        for (int i = 0; i < 10; i++) {
            int tq = 1 + r.nextInt(140);
            int tk = r.nextBoolean() ? tq : 1 + r.nextInt(140);
            cases.add(Arguments.of(1 + r.nextInt(2), tq, tk, 1 + r.nextInt(3), headDims[i % headDims.length],
                    1 + r.nextInt(40), r.nextBoolean(), r.nextBoolean() ? 0.0 : 0.25, i % 4 == 3));
        }
        return cases.stream();
    }

    @ParameterizedTest(name = "B={0} Tq={1} Tk={2} H={3} dh={4} dvh={5} causal={6} pad={7} fullPad={8}")
    @MethodSource("shapes")
    void simdMatchesReference(int b, int tq, int tk, int heads, int dh, int dvh, boolean causal, double pad,
            boolean fullyPadded) {
        Case c = new Case(b, tq, tk, heads, dh, dvh, pad, fullyPadded);
        Tensor[] ref = run(Backend.REF, c.q, c.k, c.v, heads, causal, c.mask, c.dy);
        Tensor[] simd = run(Backend.SIMD, c.q, c.k, c.v, heads, causal, c.mask, c.dy);
        Compare.close("y", ref[0], simd[0], FWD_ATOL, FWD_RTOL);
        Compare.close("dq", ref[1], simd[1], BWD_ATOL, BWD_RTOL);
        Compare.close("dk", ref[2], simd[2], BWD_ATOL, BWD_RTOL);
        Compare.close("dv", ref[3], simd[3], BWD_ATOL, BWD_RTOL);
    }

    @ParameterizedTest(name = "B={0} Tq={1} Tk={2} H={3} dh={4} dvh={5} causal={6} pad={7} fullPad={8}")
    @MethodSource("shapes")
    void backwardFromTheSavedForwardHasTheBitsOfTheRecomputingOne(int b, int tq, int tk, int heads, int dh, int dvh,
            boolean causal, double pad, boolean fullyPadded) {
        Case c = new Case(b, tq, tk, heads, dh, dvh, pad, fullyPadded);
        AttentionSimdKernels kern = new AttentionSimdKernels();
        AttentionKernels.Forward fwd = kern.forwardSaving(c.q, c.k, c.v, heads, causal, c.mask);
        assertArrayEquals(kern.forward(c.q, c.k, c.v, heads, causal, c.mask).toArray(), fwd.y().toArray(), "y");
        assertTrue(fwd.saved() != null, "the SIMD forward keeps its log-sum-exp");
        boolean[] all = {true, true, true};
        Tensor[] recomputed = kern.backward(c.q, c.k, c.v, heads, causal, c.mask, c.dy, all);
        Tensor[] reused = kern.backward(fwd, c.q, c.k, c.v, heads, causal, c.mask, c.dy, all);
        String[] names = {"dq", "dk", "dv"};
        for (int i = 0; i < 3; i++) {
            assertArrayEquals(recomputed[i].toArray(), reused[i].toArray(), names[i]);
        }
    }

    @ParameterizedTest(name = "B={0} Tq={1} Tk={2} H={3} dh={4} dvh={5} causal={6} pad={7} fullPad={8}")
    @MethodSource("shapes")
    void fusedAndTwoPassBackwardsHaveTheSameBits(int b, int tq, int tk, int heads, int dh, int dvh, boolean causal,
            double pad, boolean fullyPadded) {
        Case c = new Case(b, tq, tk, heads, dh, dvh, pad, fullyPadded);
        AttentionSimd.Packed p = AttentionSimd.pack(c.q.toArray(), c.k.toArray(), c.v.toArray(),
                c.mask == null ? null : c.mask.toArray(), c.dy.toArray(), b, heads, tq, tk, heads * dh, heads * dvh,
                causal);
        boolean[][] needSets = {{true, true, true}, {true, false, false}, {false, true, false}, {false, false, true},
            {false, true, true}};
        for (boolean[] n : needSets) {
            float[][] twoPass = AttentionSimd.backward(p, n[0], n[1], n[2], null, null, false);
            float[][] fused = AttentionSimd.backward(p, n[0], n[1], n[2], null, null, true);
            for (int i = 0; i < 3; i++) {
                String what = "gradient " + i + " with needs " + java.util.Arrays.toString(n);
                if (n[i]) {
                    assertArrayEquals(twoPass[i], fused[i], what);
                } else {
                    assertNull(fused[i], what);
                }
            }
        }
    }

    /** The seeded inputs of one shape of {@link #shapes}: q, k, v, the output gradient and the key mask. */
    private static final class Case {
        final Tensor q;
        final Tensor k;
        final Tensor v;
        final Tensor dy;
        final Tensor mask;

        Case(int b, int tq, int tk, int heads, int dh, int dvh, double pad, boolean fullyPadded) {
            long seed = 1000L * tq + 31L * tk + dh;
            q = Tensor.randn(seed, b, tq, heads * dh);
            k = Tensor.randn(seed + 1, b, tk, heads * dh);
            v = Tensor.randn(seed + 2, b, tk, heads * dvh);
            dy = Tensor.randn(seed + 3, b, tq, heads * dvh);
            mask = mask(seed + 4, b, tk, pad, fullyPadded);
        }
    }

    /** Padding with probability pad; with fullyPadded the last sequence has every key padded. */
    private static Tensor mask(long seed, int b, int tk, double pad, boolean fullyPadded) {
        if (pad == 0 && !fullyPadded) {
            return null;
        }
        SplittableRandom r = new SplittableRandom(seed);
        float[] m = new float[b * tk];
        for (int i = 0; i < m.length; i++) {
            m[i] = r.nextDouble() < pad ? 1f : 0f;
        }
        if (fullyPadded) {
            java.util.Arrays.fill(m, (b - 1) * tk, b * tk, 1f);
        }
        return Tensor.wrap(m, b, tk);
    }

    private static Tensor[] run(Backend backend, Tensor q0, Tensor k0, Tensor v0, int heads, boolean causal,
            Tensor mask, Tensor dy) {
        return Compare.on(backend, () -> {
            Tensor q = q0.copy().requiresGrad(true);
            Tensor k = k0.copy().requiresGrad(true);
            Tensor v = v0.copy().requiresGrad(true);
            Tensor y = Attention.apply(q, k, v, heads, causal, mask);
            y.backward(dy);
            return new Tensor[] {y, q.grad(), k.grad(), v.grad()};
        });
    }

    @Test
    void paddedKeysInWholeVectorBlocksNeverLeak() {
        // 40 keys: whole blocks of 16 and 8 lanes and a tail go through the packing's gather; padded keys 3, 17
        // and 38 hold NaN and inf in k and v.
        int tk = 40;
        float[] kv = Tensor.randn(5, 1, tk, 8).toArray();
        float[] vv = Tensor.randn(6, 1, tk, 8).toArray();
        float[] m = new float[tk];
        for (int j : new int[] {3, 17, 38}) {
            m[j] = 1;
            for (int c = 0; c < 8; c++) {
                kv[j * 8 + c] = Float.NaN;
                vv[j * 8 + c] = Float.POSITIVE_INFINITY;
            }
        }
        Tensor q = Tensor.randn(7, 1, 5, 8);
        Tensor k = Tensor.wrap(kv, 1, tk, 8);
        Tensor v = Tensor.wrap(vv, 1, tk, 8);
        Tensor mask = Tensor.wrap(m, 1, tk);
        Tensor dy = Tensor.randn(8, 1, 5, 8);
        Tensor[] simd = run(Backend.SIMD, q, k, v, 2, false, mask, dy);
        for (Tensor g : simd) {
            for (float x : g.toArray()) {
                assertTrue(Float.isFinite(x), "outputs and gradients must stay finite");
            }
        }
        Tensor[] ref = run(Backend.REF, q, k, v, 2, false, mask, dy);
        Compare.close("y", ref[0], simd[0], FWD_ATOL, FWD_RTOL);
        Compare.close("dq", ref[1], simd[1], BWD_ATOL, BWD_RTOL);
    }

    @Test
    void fullyMaskedRowsGiveExactZerosAndPaddedKeyValuesNeverLeak() {
        // Tq = 6 > Tk = 4 causal: queries 0 and 1 see no key. Batch 1 pads key 2, whose k and v hold NaN.
        Tensor q = Tensor.randn(1, 2, 6, 8);
        float[] kv = Tensor.randn(2, 2, 4, 8).toArray();
        float[] vv = Tensor.randn(3, 2, 4, 6).toArray();
        for (int c = 0; c < 8; c++) {
            kv[(4 + 2) * 8 + c] = Float.NaN;
        }
        for (int c = 0; c < 6; c++) {
            vv[(4 + 2) * 6 + c] = Float.POSITIVE_INFINITY;
        }
        Tensor mask = Tensor.wrap(new float[] {0, 0, 0, 0, 0, 0, 1, 0}, 2, 4);
        Tensor k = Tensor.wrap(kv, 2, 4, 8);
        Tensor v = Tensor.wrap(vv, 2, 4, 6);
        Tensor dy = Tensor.randn(4, 2, 6, 6);
        Tensor[] simd = run(Backend.SIMD, q, k, v, 2, true, mask, dy);
        for (int b = 0; b < 2; b++) {
            for (int i = 0; i < 2; i++) {
                for (int c = 0; c < 6; c++) {
                    assertEquals(0f, simd[0].get(b, i, c));
                }
                for (int c = 0; c < 8; c++) {
                    assertEquals(0f, simd[1].get(b, i, c));
                }
            }
        }
        for (float x : simd[0].toArray()) {
            assertTrue(Float.isFinite(x), "y must stay finite");
        }
        for (int c = 0; c < 8; c++) {
            assertEquals(0f, simd[2].get(1, 2, c), "padded key gets no dk");
        }
        Tensor[] ref = run(Backend.REF, q, k, v, 2, true, mask, dy);
        Compare.close("y", ref[0], simd[0], FWD_ATOL, FWD_RTOL);
        Compare.close("dq", ref[1], simd[1], BWD_ATOL, BWD_RTOL);
    }

    @Test
    void emptyKeysOrQueriesMatchTheReference() {
        // Tk = 0: every row is fully masked; Tq = 0: an empty output. Both must not divide by a zero block.
        int[][] lengths = {{3, 0}, {0, 5}, {0, 0}};
        for (int[] tqTk : lengths) {
            Tensor q = Tensor.randn(1, 2, tqTk[0], 8);
            Tensor k = Tensor.randn(2, 2, tqTk[1], 8);
            Tensor v = Tensor.randn(3, 2, tqTk[1], 4);
            Tensor dy = Tensor.randn(4, 2, tqTk[0], 4);
            for (boolean causal : new boolean[] {false, true}) {
                Tensor[] ref = run(Backend.REF, q, k, v, 2, causal, null, dy);
                Tensor[] simd = run(Backend.SIMD, q, k, v, 2, causal, null, dy);
                String[] names = {"y", "dq", "dk", "dv"};
                for (int i = 0; i < 4; i++) {
                    Compare.close(names[i] + " Tq=" + tqTk[0] + " Tk=" + tqTk[1], ref[i], simd[i], 0, 0);
                }
            }
        }
    }

    @Test
    void backwardComputesOnlyTheRequestedGradients() {
        Tensor q = Tensor.randn(61, 1, 70, 8);
        Tensor k = Tensor.randn(62, 1, 90, 8);
        Tensor v = Tensor.randn(63, 1, 90, 4);
        Tensor dy = Tensor.randn(64, 1, 70, 4);
        AttentionKernels simd = Attention.KERNELS.select(Device.CPU, DType.F32);
        AttentionKernels ref = new AttentionRef();
        Tensor[] all = ref.backward(q, k, v, 2, true, null, dy, new boolean[] {true, true, true});
        for (int which = 0; which < 3; which++) {
            boolean[] needs = new boolean[3];
            needs[which] = true;
            Tensor[] g = simd.backward(q, k, v, 2, true, null, dy, needs);
            for (int i = 0; i < 3; i++) {
                if (i == which) {
                    Compare.close("gradient " + i, all[i], g[i], BWD_ATOL, BWD_RTOL);
                } else {
                    assertNull(g[i]);
                }
            }
        }
    }

    @Test
    void vectorExpIsAccurateAndGivesZeroForMinusInfinity() {
        int n = AttentionSimd.S.length();
        float[] in = new float[n];
        float[] out = new float[n];
        SplittableRandom r = new SplittableRandom(3);
        for (int trial = 0; trial < 2000; trial++) {
            for (int i = 0; i < n; i++) {
                in[i] = (float) (r.nextDouble() * 100 - 90); // [-90, 10]: underflow region included
            }
            in[0] = trial == 0 ? Float.NEGATIVE_INFINITY : in[0];
            in[n - 1] = trial == 1 ? 0f : in[n - 1];
            org.attnkit.backend.VectorMath.exp(jdk.incubator.vector.FloatVector.fromArray(AttentionSimd.S, in, 0)).intoArray(out, 0);
            for (int i = 0; i < n; i++) {
                double expected = in[i] < -87.3f ? 0 : Math.exp(in[i]);
                // Cephes expf is within 2 ulp; 4 float ulps leaves room for the 2^n scaling.
                assertEquals(expected, out[i], 4 * Math.ulp((float) expected) + 1e-45, "exp(" + in[i] + ")");
            }
        }
        assertEquals(0f, exp1(Float.NEGATIVE_INFINITY));
        assertEquals(1f, exp1(0f));
    }

    private static float exp1(float x) {
        float[] a = new float[AttentionSimd.S.length()];
        java.util.Arrays.fill(a, x);
        return org.attnkit.backend.VectorMath.exp(jdk.incubator.vector.FloatVector.fromArray(AttentionSimd.S, a, 0)).lane(0);
    }

    @Test
    void simdIsTheDefaultForFloat32AndRefForFloat64() {
        assertEquals(Backend.SIMD, Attention.KERNELS.choose(Device.CPU, DType.F32));
        assertEquals(Backend.REF, Attention.KERNELS.choose(Device.CPU, DType.F64));
    }

    @Test
    void repeatedRunsGiveTheSameBits() {
        Tensor q = Tensor.randn(1, 2, 200, 32);
        Tensor k = Tensor.randn(2, 2, 200, 32);
        Tensor v = Tensor.randn(3, 2, 200, 32);
        Tensor dy = Tensor.randn(4, 2, 200, 32);
        Tensor[] first = run(Backend.SIMD, q, k, v, 2, true, null, dy);
        for (int rep = 0; rep < 2; rep++) {
            Tensor[] again = run(Backend.SIMD, q, k, v, 2, true, null, dy);
            for (int i = 0; i < 4; i++) {
                assertArrayEquals(first[i].toArray(), again[i].toArray());
            }
        }
    }
}
