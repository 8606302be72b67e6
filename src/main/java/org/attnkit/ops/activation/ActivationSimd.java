package org.attnkit.ops.activation;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.attnkit.backend.CpuPool;
import org.attnkit.backend.VectorMath;

/**
 * Vector API helpers shared by the SIMD activations (float32). Elementwise work is split into fixed
 * chunks of {@value #CHUNK} elements, a partition of the shape alone, so every element is computed by
 * the same code whatever the thread count. The last partial vector of a chunk goes through a padded
 * scratch vector ({@link #tail}, {@link #storeTail}), so tails run the same formula as the body (no
 * second scalar formula to drift).
 */
final class ActivationSimd {
    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    static final int L = S.length();
    static final int CHUNK = 1 << 14;

    private static final float INV_SQRT2 = 0.70710678f;
    private static final float INV_SQRT_2PI = 0.39894228f;

    private ActivationSimd() {
    }

    /** A range [from, to) of elements, one chunk of the fixed partition. */
    interface Range {
        void run(int from, int to);
    }

    /**
     * Runs body over the fixed chunks of n elements. Each kernel writes its own vector loop inside
     * body: passing vectors through a shared functional interface instead would leave the call
     * unresolved once several kernels use it, and the JIT would then box every vector.
     */
    static void chunks(int n, Range body) {
        CpuPool.parallelFor((n + CHUNK - 1) / CHUNK, task -> body.run(task * CHUNK, Math.min(n, (task + 1) * CHUNK)));
    }

    /** Elements [i, to) of a (fewer than L) as a vector, padded with zeros. */
    static FloatVector tail(float[] a, int i, int to) {
        float[] pad = new float[L];
        System.arraycopy(a, i, pad, 0, to - i);
        return FloatVector.fromArray(S, pad, 0);
    }

    /** Stores the first to - i lanes of v at out[i..to). */
    static void storeTail(FloatVector v, float[] out, int i, int to) {
        float[] pad = new float[L];
        v.intoArray(pad, 0);
        System.arraycopy(pad, 0, out, i, to - i);
    }

    /** 1 / (1 + exp(-x)), with exp taken of -|x| only so it cannot overflow. */
    static FloatVector sigmoid(FloatVector x) {
        FloatVector e = VectorMath.exp(x.abs().neg());
        FloatVector r = FloatVector.broadcast(S, 1f).div(e.add(1f));
        // x >= 0: 1/(1+e); x < 0: e/(1+e), with e = exp(-|x|) in both.
        return r.blend(e.mul(r), x.lt(0f));
    }

    /**
     * erfc(z) for any z, from the Chebyshev fit of Numerical Recipes' erfcc: for z >= 0,
     * erfc(z) = t exp(-z^2 + P(t)) with t = 1/(1 + z/2), whose fractional error is below 1.2e-7 for
     * every z (relative, so the far tails keep their accuracy), and erfc(-z) = 2 - erfc(z).
     * Evaluated in float, the exponent -z^2 + P(t) carries a few float ulps of its magnitude, so the
     * result is within about 1e-6 relative for |z| up to ~4, and the error grows like z^2 * 2^-24 in the
     * far tail, where erfc itself is below 1e-7.
     */
    static FloatVector erfc(FloatVector z) {
        FloatVector az = z.abs();
        FloatVector t = az.fma(0.5f, 1f);
        t = FloatVector.broadcast(S, 1f).div(t);
        FloatVector p = t.fma(0.17087277f, -0.82215223f);
        p = p.fma(t, FloatVector.broadcast(S, 1.48851587f));
        p = p.fma(t, FloatVector.broadcast(S, -1.13520398f));
        p = p.fma(t, FloatVector.broadcast(S, 0.27886807f));
        p = p.fma(t, FloatVector.broadcast(S, -0.18628806f));
        p = p.fma(t, FloatVector.broadcast(S, 0.09678418f));
        p = p.fma(t, FloatVector.broadcast(S, 0.37409196f));
        p = p.fma(t, FloatVector.broadcast(S, 1.00002368f));
        p = p.fma(t, FloatVector.broadcast(S, -1.26551223f));
        FloatVector r = t.mul(VectorMath.exp(az.mul(az).neg().add(p)));
        return r.blend(FloatVector.broadcast(S, 2f).sub(r), z.lt(0f));
    }

    /** The standard normal CDF Phi(x) = erfc(-x / sqrt 2) / 2. */
    static FloatVector normalCdf(FloatVector x) {
        return erfc(x.mul(-INV_SQRT2)).mul(0.5f);
    }

    /** The standard normal density phi(x) = exp(-x^2/2) / sqrt(2 pi). */
    static FloatVector normalPdf(FloatVector x) {
        return VectorMath.exp(x.mul(x).mul(-0.5f)).mul(INV_SQRT_2PI);
    }
}
