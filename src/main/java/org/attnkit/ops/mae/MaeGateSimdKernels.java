package org.attnkit.ops.mae;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.attnkit.backend.CpuPool;
import org.attnkit.backend.VectorMath;
import org.attnkit.tensor.CpuScope;
import org.attnkit.tensor.Tensor;

/**
 * The SIMD backend of {@link MaeGate} (float32). A "row" is one gate (one per sequence, or one per
 * token when causal). Vectorized over the feature dim D: the (prefix) mean over time, tanh(xbar),
 * the first layer's dot products w1[j] . u, and in backward the outer products dw1 += da u^T and
 * du = w1^T da and the suffix sums of dx; over the hidden dim G: the second layer and dw2. The
 * E-way softmax is scalar (in double, E is tiny).
 *
 * <p>Work is split into row blocks whose size depends on the number of rows only; backward keeps the
 * weight and bias partial sums per block and adds them in block order (in double), so the bits do not
 * depend on the thread count.
 */
final class MaeGateSimdKernels implements MaeGateKernels {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();
    /** At most this many row blocks, of at least MIN_ROWS rows: bounds the backward partials' memory. */
    private static final int MAX_TASKS = 16;
    private static final int MIN_ROWS = 32;

    @Override
    public Tensor forward(Tensor x, Tensor w1, Tensor b1, Tensor w2, Tensor b2, boolean causal) {
        Sizes s = new Sizes(x, w1, w2, causal);
        float[] w1v = w1.data();
        float[] w2v = w2.data();
        float[] b1v = b1 == null ? null : b1.data();
        float[] b2v = b2 == null ? null : b2.data();
        float[] xbar = means(x.data(), s);
        float[] gate = new float[s.rows * s.e];
        CpuPool.parallelFor(s.tasks, task -> {
            float[] u = new float[s.d];
            float[] hid = new float[s.g];
            double[] z = new double[s.e];
            for (int r = task * s.rowsPerTask; r < Math.min(s.rows, (task + 1) * s.rowsPerTask); r++) {
                hidden(s, xbar, w1v, b1v, r, u, hid);
                double max = Double.NEGATIVE_INFINITY;
                for (int e = 0; e < s.e; e++) {
                    z[e] = (b2v == null ? 0f : b2v[e]) + dot(w2v, e * s.g, hid, 0, s.g);
                    max = Math.max(max, z[e]);
                }
                double sum = 0;
                for (int e = 0; e < s.e; e++) {
                    z[e] = Math.exp(z[e] - max);
                    sum += z[e];
                }
                for (int e = 0; e < s.e; e++) {
                    gate[r * s.e + e] = (float) (z[e] / sum);
                }
            }
        });
        return causal ? Tensor.wrap(gate, s.b, s.t, s.e) : Tensor.wrap(gate, s.b, s.e);
    }

    @Override
    public Tensor[] backward(Tensor x, Tensor w1, Tensor b1, Tensor w2, Tensor b2, boolean causal, Tensor g,
            Tensor dg, boolean[] needs) {
        Sizes s = new Sizes(x, w1, w2, causal);
        boolean needX = needs[0];
        boolean needW1 = needs[1];
        boolean needB1 = needs[2];
        boolean needW2 = needs[3];
        boolean needB2 = needs[4];
        boolean needHidden = needX || needW1 || needB1;
        float[] w1v = w1.data();
        float[] w2v = w2.data();
        float[] b1v = b1 == null ? null : b1.data();
        float[] gv = g.data();
        float[] dgv = dg.data();
        float[] xbar = means(x.data(), s);
        float[] dxbar = needX ? new float[s.rows * s.d] : null;
        // Per-task partial sums: [task][G*D], [task][G], [task][E*G], [task][E].
        float[][] pw1 = new float[s.tasks][];
        float[][] pb1 = new float[s.tasks][];
        float[][] pw2 = new float[s.tasks][];
        float[][] pb2 = new float[s.tasks][];
        CpuPool.parallelFor(s.tasks, task -> {
            float[] u = new float[s.d];
            float[] hid = new float[s.g];
            float[] dz = new float[s.e];
            float[] da = new float[s.g];
            float[] du = new float[s.d];
            float[] dw1 = needW1 ? new float[s.g * s.d] : null;
            float[] db1 = needB1 ? new float[s.g] : null;
            float[] dw2 = needW2 ? new float[s.e * s.g] : null;
            float[] db2 = needB2 ? new float[s.e] : null;
            for (int r = task * s.rowsPerTask; r < Math.min(s.rows, (task + 1) * s.rowsPerTask); r++) {
                hidden(s, xbar, w1v, b1v, r, u, hid);
                double dot = 0; // <g, dg>
                for (int e = 0; e < s.e; e++) {
                    dot += (double) gv[r * s.e + e] * dgv[r * s.e + e];
                }
                for (int e = 0; e < s.e; e++) {
                    dz[e] = (float) (gv[r * s.e + e] * (dgv[r * s.e + e] - dot));
                    if (needB2) {
                        db2[e] += dz[e];
                    }
                    if (needW2) {
                        axpy(dz[e], hid, 0, dw2, e * s.g, s.g);
                    }
                }
                if (!needHidden) {
                    continue;
                }
                java.util.Arrays.fill(da, 0f);
                for (int e = 0; e < s.e; e++) {
                    axpy(dz[e], w2v, e * s.g, da, 0, s.g); // da = w2^T dz, then times tanh'
                }
                for (int j = 0; j < s.g; j++) {
                    da[j] *= 1 - hid[j] * hid[j];
                    if (needB1) {
                        db1[j] += da[j];
                    }
                    if (needW1) {
                        axpy(da[j], u, 0, dw1, j * s.d, s.d);
                    }
                }
                if (needX) {
                    java.util.Arrays.fill(du, 0f);
                    for (int j = 0; j < s.g; j++) {
                        axpy(da[j], w1v, j * s.d, du, 0, s.d);
                    }
                    int off = r * s.d;
                    int c = 0;
                    for (int bound = S.loopBound(s.d); c < bound; c += L) {
                        FloatVector uv = FloatVector.fromArray(S, u, c);
                        FloatVector one = FloatVector.broadcast(S, 1f);
                        FloatVector.fromArray(S, du, c).mul(one.sub(uv.mul(uv))).intoArray(dxbar, off + c);
                    }
                    for (; c < s.d; c++) {
                        dxbar[off + c] = du[c] * (1 - u[c] * u[c]);
                    }
                }
            }
            pw1[task] = dw1;
            pb1[task] = db1;
            pw2[task] = dw2;
            pb2[task] = db2;
        });
        return new Tensor[] {
            needX ? Tensor.wrap(meansBackward(dxbar, s), s.b, s.t, s.d) : null,
            needW1 ? reduce(pw1, w1) : null,
            needB1 ? reduce(pb1, b1) : null,
            needW2 ? reduce(pw2, w2) : null,
            needB2 ? reduce(pb2, b2) : null,
        };
    }

    /** Sum of the per-task partials, in task order, in double. */
    private static Tensor reduce(float[][] parts, Tensor like) {
        double[] sum = new double[like.numel()];
        for (float[] part : parts) {
            for (int i = 0; i < sum.length; i++) {
                sum[i] += part[i];
            }
        }
        return Tensor.fromDoubles(sum, like.dtype(), like.shape().toArray());
    }

    /** u = tanh(xbar[r]) and hid = tanh(w1 u + b1) for row r (VectorMath: the same bits cold or warm). */
    private static void hidden(Sizes s, float[] xbar, float[] w1v, float[] b1v, int r, float[] u, float[] hid) {
        int off = r * s.d;
        int c = 0;
        for (int bound = S.loopBound(s.d); c < bound; c += L) {
            VectorMath.tanh(FloatVector.fromArray(S, xbar, off + c)).intoArray(u, c);
        }
        for (; c < s.d; c++) {
            u[c] = VectorMath.tanh(xbar[off + c]);
        }
        for (int j = 0; j < s.g; j++) {
            hid[j] = (b1v == null ? 0f : b1v[j]) + dot(w1v, j * s.d, u, 0, s.d);
        }
        c = 0;
        for (int bound = S.loopBound(s.g); c < bound; c += L) {
            VectorMath.tanh(FloatVector.fromArray(S, hid, c)).intoArray(hid, c);
        }
        for (; c < s.g; c++) {
            hid[c] = VectorMath.tanh(hid[c]);
        }
    }

    /** a[aOff..aOff+n) . b[bOff..bOff+n). */
    private static float dot(float[] a, int aOff, float[] b, int bOff, int n) {
        FloatVector acc = FloatVector.zero(S);
        int i = 0;
        for (int bound = S.loopBound(n); i < bound; i += L) {
            acc = FloatVector.fromArray(S, a, aOff + i).fma(FloatVector.fromArray(S, b, bOff + i), acc);
        }
        // Lanes summed in lane order: reduceLanes(ADD) leaves the order open, so its bits may vary.
        float[] lanes = new float[L];
        acc.intoArray(lanes, 0);
        float sum = 0f;
        for (float x : lanes) {
            sum += x;
        }
        for (; i < n; i++) {
            sum += a[aOff + i] * b[bOff + i];
        }
        return sum;
    }

    /** y[yOff..yOff+n) += f * x[xOff..xOff+n). */
    private static void axpy(float f, float[] x, int xOff, float[] y, int yOff, int n) {
        FloatVector fv = FloatVector.broadcast(S, f);
        int i = 0;
        for (int bound = S.loopBound(n); i < bound; i += L) {
            FloatVector.fromArray(S, x, xOff + i).fma(fv, FloatVector.fromArray(S, y, yOff + i)).intoArray(y, yOff + i);
        }
        for (; i < n; i++) {
            y[yOff + i] += f * x[xOff + i];
        }
    }

    /** The mean over t per sequence [B,D], or the running prefix mean per token [B*T,D] when causal. */
    private static float[] means(float[] x, Sizes s) {
        float[] out = new float[s.rows * s.d];
        CpuPool.parallelFor(s.b, b -> {
            float[] sum = new float[s.d];
            int bound = S.loopBound(s.d);
            for (int t = 0; t < s.t; t++) {
                int row = (b * s.t + t) * s.d;
                float inv = 1f / (t + 1);
                int c = 0;
                for (; c < bound; c += L) {
                    FloatVector acc = FloatVector.fromArray(S, sum, c).add(FloatVector.fromArray(S, x, row + c));
                    acc.intoArray(sum, c);
                    if (s.causal) {
                        acc.mul(inv).intoArray(out, row + c);
                    }
                }
                for (; c < s.d; c++) {
                    sum[c] += x[row + c];
                    if (s.causal) {
                        out[row + c] = sum[c] * inv;
                    }
                }
            }
            if (!s.causal) {
                float inv = 1f / s.t;
                for (int c = 0; c < s.d; c++) {
                    out[b * s.d + c] = sum[c] * inv;
                }
            }
        });
        return out;
    }

    /** dx[B,T,D] from dxbar: each token gets 1/count of the gradient of every mean it took part in. */
    private static float[] meansBackward(float[] dxbar, Sizes s) {
        float[] dx = CpuScope.outputArray(s.b * s.t * s.d); // every element written
        CpuPool.parallelFor(s.b, b -> {
            int bound = S.loopBound(s.d);
            if (!s.causal) {
                // Every token gets the same row dxbar[b] / T: scale it once, then copy it T times.
                float[] row = new float[s.d];
                FloatVector inv = FloatVector.broadcast(S, 1f / s.t);
                int c = 0;
                for (; c < bound; c += L) {
                    FloatVector.fromArray(S, dxbar, b * s.d + c).mul(inv).intoArray(row, c);
                }
                for (; c < s.d; c++) {
                    row[c] = dxbar[b * s.d + c] * (1f / s.t);
                }
                for (int t = 0; t < s.t; t++) {
                    System.arraycopy(row, 0, dx, (b * s.t + t) * s.d, s.d);
                }
                return;
            }
            // Token t is in the prefix means of t..T-1: a suffix sum, walked backwards.
            float[] acc = new float[s.d];
            for (int t = s.t - 1; t >= 0; t--) {
                int row = (b * s.t + t) * s.d;
                float inv = 1f / (t + 1);
                int c = 0;
                for (; c < bound; c += L) {
                    FloatVector a = FloatVector.fromArray(S, dxbar, row + c).fma(FloatVector.broadcast(S, inv),
                            FloatVector.fromArray(S, acc, c));
                    a.intoArray(acc, c);
                    a.intoArray(dx, row + c);
                }
                for (; c < s.d; c++) {
                    acc[c] += dxbar[row + c] * inv;
                    dx[row + c] = acc[c];
                }
            }
        });
        return dx;
    }

    /** Sizes of one call and its fixed partition into row blocks. */
    private static final class Sizes {
        final int b;
        final int t;
        final int d;
        final int g;
        final int e;
        final boolean causal;
        final int rows;
        final int rowsPerTask;
        final int tasks;

        Sizes(Tensor x, Tensor w1, Tensor w2, boolean causal) {
            b = x.dim(0);
            t = x.dim(1);
            d = x.dim(2);
            g = w1.dim(0);
            e = w2.dim(0);
            this.causal = causal;
            rows = causal ? b * t : b;
            rowsPerTask = Math.max(MIN_ROWS, (rows + MAX_TASKS - 1) / MAX_TASKS);
            tasks = (rows + rowsPerTask - 1) / rowsPerTask;
        }
    }
}
