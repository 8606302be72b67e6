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
        return Tensor.wrap(scaled(o, gate, membership, headsPerExpert), o.shape().toArray());
    }

    @Override
    public Tensor[] backward(Tensor o, Tensor gate, Tensor membership, int headsPerExpert, Tensor dy,
            boolean[] needs) {
        boolean needO = needs[0];
        boolean needGate = needs[1];
        int b = o.dim(0);
        int t = o.dim(1);
        int d = o.dim(2);
        int e = membership.dim(0);
        int h = membership.dim(1);
        int r = d / h;
        boolean perToken = gate.rank() == 3;
        int gateRows = perToken ? t : 1;
        float[] ov = o.data();
        float[] g = dy.data();
        float[] alpha = needO ? alpha(gate, membership, headsPerExpert, b * gateRows, h) : null; // [rows][H]
        float[] dO = needO ? CpuScope.outputArray(g.length) : null; // every element written
        double[] dAlpha = needGate ? new double[b * gateRows * h] : null; // [B, T or 1, H]
        // One pass over dy for both gradients: do = alpha dy, and the per-channel sums of dy * o behind
        // dalpha (dy is read once where two passes read it twice; the pass is memory-bound).
        CpuPool.parallelFor(b, bi -> {
            int bound = S.loopBound(d);
            float[] channel = needO ? new float[d] : null; // alpha of the current gate row, one per channel
            float[] acc = needGate ? new float[d] : null;  // sum over the gate row's tokens of dy * o
            for (int ti = 0; ti < t; ti++) {
                if (needO && (ti == 0 || perToken)) {
                    fillChannels(channel, alpha, (bi * gateRows + (perToken ? ti : 0)) * h, h, r);
                }
                int row = (bi * t + ti) * d;
                int c = 0;
                for (; c < bound; c += L) {
                    FloatVector gv = FloatVector.fromArray(S, g, row + c);
                    if (needO) {
                        gv.mul(FloatVector.fromArray(S, channel, c)).intoArray(dO, row + c);
                    }
                    if (needGate) {
                        FloatVector prod = gv.mul(FloatVector.fromArray(S, ov, row + c));
                        (perToken ? prod : prod.add(FloatVector.fromArray(S, acc, c))).intoArray(acc, c);
                    }
                }
                for (; c < d; c++) {
                    if (needO) {
                        dO[row + c] = g[row + c] * channel[c];
                    }
                    if (needGate) {
                        acc[c] = (perToken ? 0f : acc[c]) + g[row + c] * ov[row + c];
                    }
                }
                if (needGate && (perToken || ti == t - 1)) {
                    int out = (bi * gateRows + (perToken ? ti : 0)) * h;
                    for (int hi = 0; hi < h; hi++) {
                        double sum = 0;
                        for (int ci = hi * r; ci < (hi + 1) * r; ci++) {
                            sum += acc[ci];
                        }
                        dAlpha[out + hi] = sum;
                    }
                }
            }
        });
        Tensor dGate = null;
        if (needGate) {
            float[] mv = membership.data();
            double scale = (double) h / headsPerExpert;
            double[] dg = new double[b * gateRows * e];
            for (int row = 0; row < b * gateRows; row++) {
                for (int ei = 0; ei < e; ei++) {
                    double sum = 0;
                    for (int hi = 0; hi < h; hi++) {
                        sum += mv[ei * h + hi] * dAlpha[row * h + hi];
                    }
                    dg[row * e + ei] = scale * sum;
                }
            }
            dGate = Tensor.fromDoubles(dg, gate.dtype(), gate.shape().toArray());
        }
        return new Tensor[] {needO ? Tensor.wrap(dO, o.shape().toArray()) : null, dGate};
    }

    /** channel[hi*r + c] = alpha[from + hi] for every head hi and its r channels. */
    private static void fillChannels(float[] channel, float[] alpha, int from, int h, int r) {
        for (int hi = 0; hi < h; hi++) {
            java.util.Arrays.fill(channel, hi * r, (hi + 1) * r, alpha[from + hi]);
        }
    }

    /** y = alpha * o per head, with alpha from the gate. */
    private static float[] scaled(Tensor o, Tensor gate, Tensor membership, int headsPerExpert) {
        float[] src = o.data();
        int b = o.dim(0);
        int t = o.dim(1);
        int d = o.dim(2);
        int h = membership.dim(1);
        int r = d / h;
        boolean perToken = gate.rank() == 3;
        int gateRows = perToken ? t : 1;
        float[] alpha = alpha(gate, membership, headsPerExpert, b * gateRows, h); // [rows][H]
        float[] y = CpuScope.outputArray(src.length); // every element written
        CpuPool.parallelFor(b, bi -> {
            int bound = S.loopBound(d);
            float[] channel = new float[d]; // alpha of the current gate row, one per channel
            for (int ti = 0; ti < t; ti++) {
                if (ti == 0 || perToken) {
                    fillChannels(channel, alpha, (bi * gateRows + (perToken ? ti : 0)) * h, h, r);
                }
                int row = (bi * t + ti) * d;
                int c = 0;
                for (; c < bound; c += L) {
                    FloatVector.fromArray(S, src, row + c).mul(FloatVector.fromArray(S, channel, c))
                            .intoArray(y, row + c);
                }
                for (; c < d; c++) {
                    y[row + c] = src[row + c] * channel[c];
                }
            }
        });
        return y;
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
