package org.attnkit.backend;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * Vector math that gives the same bits in every execution mode, for the SIMD kernels.
 *
 * <p>{@code lanewise(EXP)}, {@code lanewise(TANH)} and {@code reduceLanes(ADD)} are not used for
 * results that must be reproducible: the first two may run as a vendor intrinsic once compiled and
 * as scalar Math calls before, and the lane order of the third is unspecified, so their bits could
 * change between a cold and a warm call. These are built from plain lanewise arithmetic instead, and
 * each vector function has a scalar twin that performs the same operations in the same order, for
 * the tails of a loop.
 */
public final class VectorMath {
    /** The species every SIMD kernel uses. */
    public static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    /**
     * Whether the CPU has 16 vector registers rather than 32: x86 without AVX-512 (AVX2, whose preferred
     * species is 256 bits wide). The register tiles of the kernels are sized for 32 (AVX-512, and the 128-bit
     * NEON of aarch64); where a tile needs more than 16, C2 spills accumulators to the stack and the loop-carried
     * store-reload chains cost more than the tile saves: GEMM 4096x512x512 at 74 GFLOP/s with 6 x 2-vector
     * tiles against 131-161 with 4 x 2 on a 2-core AVX2 Zen 3 (FMA peak 204). {@code -Dattnkit.vectorRegisters=16}
     * or {@code 32} overrides the guess (the tests run both tile sets on whatever machine they run on).
     */
    public static final boolean SIXTEEN_REGISTERS = Integer.getInteger("attnkit.vectorRegisters",
            S.vectorBitSize() < 512 && System.getProperty("os.arch", "").matches("amd64|x86_64|x86|i386") ? 16 : 32)
            == 16;

    private static final float LOG2E = 1.44269504088896341f;
    private static final float LN2_HI = 0.693359375f;
    private static final float LN2_LO = -2.12194440e-4f;
    /** 1.5 * 2^23: adding it rounds to an integer held in the low mantissa bits. */
    private static final float ROUND = 12582912f;
    private static final int ROUND_BITS = 0x4B400000;
    private static final float EXP_MIN = -87.3f; // below: exp underflows, returned as exactly 0 (so -inf gives 0)
    private static final float EXP_MAX = 88.3f;
    // Cephes expf minimax polynomial on [-ln2/2, ln2/2].
    private static final float E5 = 1.9875691500e-4f;
    private static final float E4 = 1.3981999507e-3f;
    private static final float E3 = 8.3334519073e-3f;
    private static final float E2 = 4.1665795894e-2f;
    private static final float E1 = 1.6666665459e-1f;
    private static final float E0 = 5.0000001201e-1f;

    /** Shuffles of the butterfly lane sum: lane i meets lane i ^ (L/2), then i ^ (L/4), ... */
    private static final VectorShuffle<Float>[] HALVES = halves();

    private VectorMath() {
    }

    /**
     * exp of every lane within ~2 ulp: x = n ln2 + r, exp(r) by a polynomial, 2^n built in the exponent
     * bits; exactly 0 below -87.3, clamped above 88.3.
     */
    public static FloatVector exp(FloatVector x) {
        VectorMask<Float> under = x.compare(VectorOperators.LT, EXP_MIN);
        FloatVector xc = x.max(EXP_MIN).min(EXP_MAX);
        FloatVector t = xc.fma(FloatVector.broadcast(S, LOG2E), FloatVector.broadcast(S, ROUND));
        FloatVector n = t.sub(ROUND);
        FloatVector r = n.fma(FloatVector.broadcast(S, -LN2_HI), xc);
        r = n.fma(FloatVector.broadcast(S, -LN2_LO), r);
        FloatVector p = r.fma(FloatVector.broadcast(S, E5), FloatVector.broadcast(S, E4));
        p = p.fma(r, FloatVector.broadcast(S, E3));
        p = p.fma(r, FloatVector.broadcast(S, E2));
        p = p.fma(r, FloatVector.broadcast(S, E1));
        p = p.fma(r, FloatVector.broadcast(S, E0));
        p = p.fma(r.mul(r), r).add(1f);
        FloatVector pow2n = t.reinterpretAsInts().sub(ROUND_BITS - 127).lanewise(VectorOperators.LSHL, 23)
                .reinterpretAsFloats();
        return p.mul(pow2n).blend(0f, under);
    }

    /** The scalar twin of {@link #exp(FloatVector)}: the same operations in the same order. */
    public static float exp(float x) {
        if (x < EXP_MIN) {
            return 0f;
        }
        float xc = Math.min(x, EXP_MAX);
        float t = Math.fma(xc, LOG2E, ROUND);
        float n = t - ROUND;
        float r = Math.fma(n, -LN2_HI, xc);
        r = Math.fma(n, -LN2_LO, r);
        float p = Math.fma(r, E5, E4);
        p = Math.fma(p, r, E3);
        p = Math.fma(p, r, E2);
        p = Math.fma(p, r, E1);
        p = Math.fma(p, r, E0);
        p = Math.fma(p, r * r, r) + 1f;
        return p * Float.intBitsToFloat((Float.floatToRawIntBits(t) - (ROUND_BITS - 127)) << 23);
    }

    // Cephes tanhf: an odd polynomial below |x| = 0.625, where (1 - e) / (1 + e) would lose relative
    // accuracy to cancellation, and sign(x) (1 - e) / (1 + e) with e = exp(-2|x|) above.
    private static final float TANH_SMALL = 0.625f;
    private static final float T4 = -5.70498872745e-3f;
    private static final float T3 = 2.06390887954e-2f;
    private static final float T2 = -5.37397155531e-2f;
    private static final float T1 = 1.33314422036e-1f;
    private static final float T0 = -3.33332819422e-1f;

    /** tanh of every lane, within a few ulp (relative, also near 0). */
    public static FloatVector tanh(FloatVector x) {
        FloatVector ax = x.abs();
        FloatVector e = exp(ax.mul(-2f));
        FloatVector big = FloatVector.broadcast(S, 1f).sub(e).div(e.add(1f));
        big = big.blend(big.neg(), x.compare(VectorOperators.LT, 0f));
        FloatVector z = x.mul(x);
        FloatVector p = z.fma(FloatVector.broadcast(S, T4), FloatVector.broadcast(S, T3));
        p = p.fma(z, FloatVector.broadcast(S, T2));
        p = p.fma(z, FloatVector.broadcast(S, T1));
        p = p.fma(z, FloatVector.broadcast(S, T0));
        FloatVector small = p.mul(z).fma(x, x);
        return big.blend(small, ax.compare(VectorOperators.LT, TANH_SMALL));
    }

    /** The scalar twin of {@link #tanh(FloatVector)}. */
    public static float tanh(float x) {
        float ax = Math.abs(x);
        if (ax < TANH_SMALL) {
            float z = x * x;
            float p = Math.fma(z, T4, T3);
            p = Math.fma(p, z, T2);
            p = Math.fma(p, z, T1);
            p = Math.fma(p, z, T0);
            return Math.fma(p * z, x, x);
        }
        float e = exp(ax * -2f);
        float t = (1f - e) / (e + 1f);
        return x < 0f ? -t : t;
    }

    /** max of x[from .. from+n), -inf for n = 0 (the order of a max does not matter). */
    public static float max(float[] x, int from, int n) {
        int j = 0;
        float max = Float.NEGATIVE_INFINITY;
        int vend = S.loopBound(n);
        if (vend > 0) {
            FloatVector m = FloatVector.broadcast(S, Float.NEGATIVE_INFINITY);
            for (; j < vend; j += S.length()) {
                m = m.max(FloatVector.fromArray(S, x, from + j));
            }
            max = m.reduceLanes(VectorOperators.MAX);
        }
        for (; j < n; j++) {
            max = Math.max(max, x[from + j]);
        }
        return max;
    }

    /** sum_j exp(x[from + j] - shift) for j < n, accumulated in float vectors, then lanes, then the tail. */
    public static float sumExp(float[] x, int from, int n, float shift) {
        int vend = S.loopBound(n);
        FloatVector sum = FloatVector.zero(S);
        int j = 0;
        for (; j < vend; j += S.length()) {
            sum = sum.add(exp(FloatVector.fromArray(S, x, from + j).sub(shift)));
        }
        float s = sumLanes(sum);
        for (; j < n; j++) {
            s += exp(x[from + j] - shift);
        }
        return s;
    }

    /** The sum of the lanes in a fixed butterfly order. */
    public static float sumLanes(FloatVector v) {
        for (VectorShuffle<Float> h : HALVES) {
            v = v.add(v.rearrange(h));
        }
        return v.lane(0);
    }

    @SuppressWarnings("unchecked")
    private static VectorShuffle<Float>[] halves() {
        int steps = Integer.numberOfTrailingZeros(S.length());
        VectorShuffle<Float>[] h = new VectorShuffle[steps];
        for (int s = 0; s < steps; s++) {
            int d = S.length() >> (s + 1);
            h[s] = VectorShuffle.fromOp(S, i -> i ^ d);
        }
        return h;
    }
}
