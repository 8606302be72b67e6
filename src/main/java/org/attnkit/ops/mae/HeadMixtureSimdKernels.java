package org.attnkit.ops.mae;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.attnkit.backend.CpuPool;
import org.attnkit.tensor.CpuScope;
import org.attnkit.tensor.Tensor;

/**
 * The SIMD backend of {@link HeadMixture} (float32). The tiny alpha = (H/m) gate M products are scalar
 * in double; the per-element work is vectorized over the whole feature dim D: each gate row's alpha
 * is expanded to one factor per channel ({@code a[h*R + c] = alpha_h}) in a D-float buffer, so any
 * head width R (even R < the vector length) runs the same full-width loop, for y = a * o,
 * do = a * dy and the products dy * o behind dalpha. Work is split per sequence b (exclusive
 * outputs, no cross-task sums), so the bits do not
 * depend on the thread count.
 */
final class HeadMixtureSimdKernels implements HeadMixtureKernels {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();

    @Override
    public Tensor forward(Tensor o, Tensor gate, Tensor membership, int headsPerExpert) {
        Dims s = new Dims(o, gate, membership);
        float[] y = CpuScope.outputArray(o.numel()); // every element written
        pass(s, o.data(), alpha(gate, membership, headsPerExpert, s.gateRows(), s.h), y, null, null);
        return Tensor.wrap(y, o.shape().toArray());
    }

    @Override
    public Tensor[] backward(Tensor o, Tensor gate, Tensor membership, int headsPerExpert, Tensor dy,
            boolean[] needs) {
        Dims s = new Dims(o, gate, membership);
        boolean needO = needs[0];
        boolean needGate = needs[1];
        float[] dO = needO ? CpuScope.outputArray(o.numel()) : null; // every element written
        double[] dAlpha = needGate ? new double[s.gateRows() * s.h] : null; // [B, T or 1, H]
        // One pass over dy for both gradients (dy read once; the pass is memory-bound).
        pass(s, dy.data(), needO ? alpha(gate, membership, headsPerExpert, s.gateRows(), s.h) : null, dO,
                needGate ? o.data() : null, dAlpha);
        Tensor dGate = null;
        if (needGate) {
            float[] mv = membership.data();
            int e = membership.dim(0);
            double scale = (double) s.h / headsPerExpert;
            double[] dg = new double[s.gateRows() * e];
            for (int row = 0; row < s.gateRows(); row++) {
                for (int ei = 0; ei < e; ei++) {
                    double sum = 0;
                    for (int hi = 0; hi < s.h; hi++) {
                        sum += mv[ei * s.h + hi] * dAlpha[row * s.h + hi];
                    }
                    dg[row * e + ei] = scale * sum;
                }
            }
            dGate = Tensor.fromDoubles(dg, gate.dtype(), gate.shape().toArray());
        }
        return new Tensor[] {needO ? Tensor.wrap(dO, o.shape().toArray()) : null, dGate};
    }

    /** Sizes of one call: o[b, t, d] with h heads of r channels, and one gate per sequence or per token. */
    private static final class Dims {
        final int b;
        final int t;
        final int d;
        final int h;
        final int r;
        final boolean perToken;

        Dims(Tensor o, Tensor gate, Tensor membership) {
            b = o.dim(0);
            t = o.dim(1);
            d = o.dim(2);
            h = membership.dim(1);
            r = d / h;
            perToken = gate.rank() == 3;
        }

        /** Gate rows in all: b or b * t. */
        int gateRows() {
            return perToken ? b * t : b;
        }
    }

    /**
     * One pass over src [b, t, d] per sequence: out = alpha * src per head when {@code alpha} is non-null
     * (y from o, or do from dy), and when {@code o} is non-null the sums of src * o over each gate row's
     * tokens and each head's channels into {@code dAlpha} [gate rows, h] (dalpha from dy).
     */
    private static void pass(Dims s, float[] src, float[] alpha, float[] out, float[] o, double[] dAlpha) {
        int gatesPerSequence = s.perToken ? s.t : 1;
        CpuPool.parallelFor(s.b, bi -> {
            int d = s.d;
            int bound = S.loopBound(d);
            float[] channel = alpha != null ? new float[d] : null; // alpha of the current gate row, per channel
            float[] acc = o != null ? new float[d] : null;          // sum over the gate row's tokens of src * o
            for (int ti = 0; ti < s.t; ti++) {
                int gateRow = bi * gatesPerSequence + (s.perToken ? ti : 0);
                if (alpha != null && (ti == 0 || s.perToken)) {
                    for (int hi = 0; hi < s.h; hi++) {
                        java.util.Arrays.fill(channel, hi * s.r, (hi + 1) * s.r, alpha[gateRow * s.h + hi]);
                    }
                }
                int row = (bi * s.t + ti) * d;
                int c = 0;
                for (; c < bound; c += L) {
                    FloatVector v = FloatVector.fromArray(S, src, row + c);
                    if (alpha != null) {
                        v.mul(FloatVector.fromArray(S, channel, c)).intoArray(out, row + c);
                    }
                    if (o != null) {
                        FloatVector prod = v.mul(FloatVector.fromArray(S, o, row + c));
                        (s.perToken ? prod : prod.add(FloatVector.fromArray(S, acc, c))).intoArray(acc, c);
                    }
                }
                for (; c < d; c++) {
                    if (alpha != null) {
                        out[row + c] = src[row + c] * channel[c];
                    }
                    if (o != null) {
                        acc[c] = (s.perToken ? 0f : acc[c]) + src[row + c] * o[row + c];
                    }
                }
                if (o != null && (s.perToken || ti == s.t - 1)) {
                    for (int hi = 0; hi < s.h; hi++) {
                        double sum = 0;
                        for (int ci = hi * s.r; ci < (hi + 1) * s.r; ci++) {
                            sum += acc[ci];
                        }
                        dAlpha[gateRow * s.h + hi] = sum;
                    }
                }
            }
        });
    }

    /** alpha[row][h] = (H/m) sum_e gate[row][e] M[e][h], computed in double, rounded once to float. */
    private static float[] alpha(Tensor gate, Tensor membership, int headsPerExpert, int rows, int h) {
        float[] gv = gate.data();
        float[] mv = membership.data();
        int e = membership.dim(0);
        double scale = (double) h / headsPerExpert;
        float[] alpha = new float[rows * h];
        for (int row = 0; row < rows; row++) {
            for (int hi = 0; hi < h; hi++) {
                double acc = 0;
                for (int ei = 0; ei < e; ei++) {
                    acc += (double) gv[row * e + ei] * mv[ei * h + hi];
                }
                alpha[row * h + hi] = (float) (scale * acc);
            }
        }
        return alpha;
    }
}
