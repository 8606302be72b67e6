package org.attnkit.ops.activation;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.attnkit.backend.CpuPool;

/**
 * Vector API helpers shared by the SIMD activations (float32). Elementwise work is split into fixed
 * chunks of {@value #CHUNK} elements, a partition of the shape alone, so every element is computed by
 * the same code whatever the thread count. The last partial vector of a chunk goes through a padded
 * scratch vector, so tails run the same formula as the body (no second scalar formula to drift).
 */
final class ActivationSimd {
    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    static final int L = S.length();
    static final int CHUNK = 1 << 14;

    private static final float INV_SQRT2 = 0.70710678f;
    private static final float INV_SQRT_2PI = 0.39894228f;

    private ActivationSimd() {
    }

    /** f applied to one vector of x. */
    interface Unary {
        FloatVector apply(FloatVector x);
    }

    /** f applied to one vector of (s, g), where s is the saved tensor and g the incoming gradient. */
    interface Binary {
        FloatVector apply(FloatVector s, FloatVector g);
    }

    static float[] map(float[] x, Unary f) {
        int n = x.length;
        float[] y = new float[n];
        CpuPool.parallelFor((n + CHUNK - 1) / CHUNK, task -> {
            int from = task * CHUNK;
            int to = Math.min(n, from + CHUNK);
            int i = from;
            for (int end = from + S.loopBound(to - from); i < end; i += L) {
                f.apply(FloatVector.fromArray(S, x, i)).intoArray(y, i);
            }
            if (i < to) {
                float[] pad = new float[L];
                System.arraycopy(x, i, pad, 0, to - i);
                float[] out = new float[L];
                f.apply(FloatVector.fromArray(S, pad, 0)).intoArray(out, 0);
                System.arraycopy(out, 0, y, i, to - i);
            }
        });
        return y;
    }

    static float[] map(float[] s, float[] g, Binary f) {
        int n = s.length;
        float[] y = new float[n];
        CpuPool.parallelFor((n + CHUNK - 1) / CHUNK, task -> {
            int from = task * CHUNK;
            int to = Math.min(n, from + CHUNK);
            int i = from;
            for (int end = from + S.loopBound(to - from); i < end; i += L) {
                f.apply(FloatVector.fromArray(S, s, i), FloatVector.fromArray(S, g, i)).intoArray(y, i);
            }
            if (i < to) {
                float[] ps = new float[L];
                float[] pg = new float[L];
                System.arraycopy(s, i, ps, 0, to - i);
                System.arraycopy(g, i, pg, 0, to - i);
                float[] out = new float[L];
                f.apply(FloatVector.fromArray(S, ps, 0), FloatVector.fromArray(S, pg, 0)).intoArray(out, 0);
                System.arraycopy(out, 0, y, i, to - i);
            }
        });
        return y;
    }

    /** 1 / (1 + exp(-x)), with exp taken of -|x| only so it cannot overflow. */
    static FloatVector sigmoid(FloatVector x) {
        FloatVector e = x.abs().neg().lanewise(VectorOperators.EXP);
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
        FloatVector r = t.mul(az.mul(az).neg().add(p).lanewise(VectorOperators.EXP));
        return r.blend(FloatVector.broadcast(S, 2f).sub(r), z.lt(0f));
    }

    /** The standard normal CDF Phi(x) = erfc(-x / sqrt 2) / 2. */
    static FloatVector normalCdf(FloatVector x) {
        return erfc(x.mul(-INV_SQRT2)).mul(0.5f);
    }

    /** The standard normal density phi(x) = exp(-x^2/2) / sqrt(2 pi). */
    static FloatVector normalPdf(FloatVector x) {
        return x.mul(x).mul(-0.5f).lanewise(VectorOperators.EXP).mul(INV_SQRT_2PI);
    }
}
