package org.attnkit.ops.attention;

import java.util.Arrays;
import org.attnkit.tensor.Tensor;

/**
 * Scalar reference of {@link Attention}, in double. Public so that the fused MAE op
 * ({@code org.attnkit.ops.mae.GatedAttention}) is defined as this composed with the head mixture.
 */
public final class AttentionRef implements AttentionKernels {
    @Override
    public Tensor forward(Tensor q, Tensor k, Tensor v, int heads, boolean causal, Tensor keyPaddingMask) {
        Dims d = new Dims(q, k, v, heads);
        double[] qv = q.toDoubleArray();
        double[] kv = k.toDoubleArray();
        double[] vv = v.toDoubleArray();
        double[] mask = keyPaddingMask == null ? null : keyPaddingMask.toDoubleArray();
        double[] y = new double[d.b * d.tq * d.dv]; // [B,Tq,Dv]
        double[] p = new double[d.tk];              // one row of probabilities
        for (int b = 0; b < d.b; b++) {
            for (int h = 0; h < heads; h++) {
                for (int i = 0; i < d.tq; i++) {
                    if (!probabilities(d, qv, kv, mask, causal, b, h, i, p)) {
                        continue; // fully masked row: output stays zero
                    }
                    int yRow = (b * d.tq + i) * d.dv + h * d.dvh;
                    for (int j = 0; j < d.tk; j++) {
                        if (p[j] == 0) {
                            continue;
                        }
                        int vRow = (b * d.tk + j) * d.dv + h * d.dvh;
                        for (int c = 0; c < d.dvh; c++) {
                            y[yRow + c] += p[j] * vv[vRow + c];
                        }
                    }
                }
            }
        }
        return Tensor.fromDoubles(y, q.dtype(), d.b, d.tq, d.dv);
    }

    @Override
    public Tensor[] backward(Tensor q, Tensor k, Tensor v, int heads, boolean causal, Tensor keyPaddingMask,
            Tensor dy, boolean[] needs) {
        Dims d = new Dims(q, k, v, heads);
        double[] qv = q.toDoubleArray();
        double[] kv = k.toDoubleArray();
        double[] vv = v.toDoubleArray();
        double[] g = dy.toDoubleArray();
        double[] mask = keyPaddingMask == null ? null : keyPaddingMask.toDoubleArray();
        boolean needQ = needs[0];
        boolean needK = needs[1];
        boolean needV = needs[2];
        boolean needScores = needQ || needK;
        double[] dq = needQ ? new double[qv.length] : null; // [B,Tq,D]
        double[] dk = needK ? new double[kv.length] : null; // [B,Tk,D]
        double[] dv = needV ? new double[vv.length] : null; // [B,Tk,Dv]
        double[] p = new double[d.tk];
        double[] dp = new double[d.tk];
        for (int b = 0; b < d.b; b++) {
            for (int h = 0; h < heads; h++) {
                for (int i = 0; i < d.tq; i++) {
                    if (!probabilities(d, qv, kv, mask, causal, b, h, i, p)) {
                        continue; // fully masked row: no gradient flows through it
                    }
                    int yRow = (b * d.tq + i) * d.dv + h * d.dvh;
                    double rowDot = 0; // sum_j p[j] dp[j]
                    for (int j = 0; j < d.tk; j++) {
                        if (p[j] == 0) {
                            continue;
                        }
                        int vRow = (b * d.tk + j) * d.dv + h * d.dvh;
                        double s = 0;
                        for (int c = 0; c < d.dvh; c++) {
                            s += g[yRow + c] * vv[vRow + c];
                            if (needV) {
                                dv[vRow + c] += p[j] * g[yRow + c];
                            }
                        }
                        dp[j] = s;
                        rowDot += p[j] * s;
                    }
                    if (!needScores) {
                        continue;
                    }
                    int qRow = (b * d.tq + i) * d.d + h * d.dh;
                    for (int j = 0; j < d.tk; j++) {
                        if (p[j] == 0) {
                            continue;
                        }
                        double ds = p[j] * (dp[j] - rowDot) * d.scale;
                        int kRow = (b * d.tk + j) * d.d + h * d.dh;
                        for (int c = 0; c < d.dh; c++) {
                            if (needQ) {
                                dq[qRow + c] += ds * kv[kRow + c];
                            }
                            if (needK) {
                                dk[kRow + c] += ds * qv[qRow + c];
                            }
                        }
                    }
                }
            }
        }
        return new Tensor[] {
            needQ ? Tensor.fromDoubles(dq, q.dtype(), q.shape().toArray()) : null,
            needK ? Tensor.fromDoubles(dk, k.dtype(), k.shape().toArray()) : null,
            needV ? Tensor.fromDoubles(dv, v.dtype(), v.shape().toArray()) : null,
        };
    }

    /**
     * Fills {@code p[0..Tk)} with the softmax of query (b, i) of head h over its allowed keys (zero for
     * the others). Returns false, leaving p all zero, when no key is allowed.
     */
    private static boolean probabilities(Dims d, double[] qv, double[] kv, double[] mask, boolean causal, int b,
            int h, int i, double[] p) {
        // Queries are aligned with the last Tq keys, so query i may see keys up to i + (Tk - Tq).
        int lastKey = causal ? Math.min(d.tk - 1, i + d.tk - d.tq) : d.tk - 1;
        int qRow = (b * d.tq + i) * d.d + h * d.dh;
        double max = Double.NEGATIVE_INFINITY;
        for (int j = 0; j < d.tk; j++) {
            if (!allowed(d, mask, lastKey, b, j)) {
                continue;
            }
            int kRow = (b * d.tk + j) * d.d + h * d.dh;
            double s = 0;
            for (int c = 0; c < d.dh; c++) {
                s += qv[qRow + c] * kv[kRow + c];
            }
            p[j] = s * d.scale;
            max = Math.max(max, p[j]);
        }
        if (max == Double.NEGATIVE_INFINITY) {
            Arrays.fill(p, 0);
            return false;
        }
        double sum = 0;
        for (int j = 0; j < d.tk; j++) {
            p[j] = allowed(d, mask, lastKey, b, j) ? Math.exp(p[j] - max) : 0;
            sum += p[j];
        }
        for (int j = 0; j < d.tk; j++) {
            p[j] /= sum;
        }
        return true;
    }

    private static boolean allowed(Dims d, double[] mask, int lastKey, int b, int j) {
        return j <= lastKey && (mask == null || mask[b * d.tk + j] == 0);
    }

    /** Sizes of one call. */
    private static final class Dims {
        final int b;
        final int tq;
        final int tk;
        final int d;
        final int dv;
        final int dh;
        final int dvh;
        final double scale;

        Dims(Tensor q, Tensor k, Tensor v, int heads) {
            b = q.dim(0);
            tq = q.dim(1);
            tk = k.dim(1);
            d = q.dim(2);
            dv = v.dim(2);
            dh = d / heads;
            dvh = dv / heads;
            scale = 1.0 / Math.sqrt(dh);
        }
    }
}
