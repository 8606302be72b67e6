package org.attnkit.ops.mae;

import java.util.Arrays;
import org.attnkit.tensor.Tensor;

/**
 * Scalar reference of {@link MaeGate}, in double. A "row" is one gate: one per sequence b, or one per
 * token (b, t) when causal.
 */
final class MaeGateRef implements MaeGateKernels {
    @Override
    public Tensor forward(Tensor x, Tensor w1, Tensor b1, Tensor w2, Tensor b2, boolean causal) {
        Sizes s = new Sizes(x, w1, w2, causal);
        double[] w1v = w1.toDoubleArray();
        double[] b1v = b1 == null ? new double[s.g] : b1.toDoubleArray();
        double[] w2v = w2.toDoubleArray();
        double[] b2v = b2 == null ? new double[s.e] : b2.toDoubleArray();
        double[] xbar = means(x, s);          // [rows, D]
        double[] gate = new double[s.rows * s.e]; // [rows, E]
        double[] u = new double[s.d];
        double[] hid = new double[s.g];
        for (int r = 0; r < s.rows; r++) {
            hidden(s, xbar, w1v, b1v, r, u, hid);
            double max = Double.NEGATIVE_INFINITY;
            for (int e = 0; e < s.e; e++) {
                double z = b2v[e];
                for (int j = 0; j < s.g; j++) {
                    z += w2v[e * s.g + j] * hid[j];
                }
                gate[r * s.e + e] = z;
                max = Math.max(max, z);
            }
            double sum = 0;
            for (int e = 0; e < s.e; e++) {
                gate[r * s.e + e] = Math.exp(gate[r * s.e + e] - max);
                sum += gate[r * s.e + e];
            }
            for (int e = 0; e < s.e; e++) {
                gate[r * s.e + e] /= sum;
            }
        }
        return causal ? Tensor.fromDoubles(gate, x.dtype(), s.b, s.t, s.e)
                : Tensor.fromDoubles(gate, x.dtype(), s.b, s.e);
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
        boolean needHidden = needX || needW1 || needB1; // anything below the second layer
        double[] w1v = w1.toDoubleArray();
        double[] b1v = b1 == null ? new double[s.g] : b1.toDoubleArray();
        double[] w2v = w2.toDoubleArray();
        double[] gv = g.toDoubleArray();
        double[] dgv = dg.toDoubleArray();
        double[] xbar = means(x, s);
        double[] dxbar = needX ? new double[s.rows * s.d] : null; // [rows, D]
        double[] dw1 = needW1 ? new double[s.g * s.d] : null;    // [G, D]
        double[] db1 = needB1 ? new double[s.g] : null;          // [G]
        double[] dw2 = needW2 ? new double[s.e * s.g] : null;    // [E, G]
        double[] db2 = needB2 ? new double[s.e] : null;          // [E]
        double[] u = new double[s.d];
        double[] hid = new double[s.g];
        double[] dz = new double[s.e];
        double[] da = new double[s.g];
        for (int r = 0; r < s.rows; r++) {
            hidden(s, xbar, w1v, b1v, r, u, hid);
            double dot = 0; // <g, dg>
            for (int e = 0; e < s.e; e++) {
                dot += gv[r * s.e + e] * dgv[r * s.e + e];
            }
            for (int e = 0; e < s.e; e++) {
                dz[e] = gv[r * s.e + e] * (dgv[r * s.e + e] - dot);
                if (needB2) {
                    db2[e] += dz[e];
                }
                if (needW2) {
                    for (int j = 0; j < s.g; j++) {
                        dw2[e * s.g + j] += dz[e] * hid[j];
                    }
                }
            }
            if (!needHidden) {
                continue;
            }
            for (int j = 0; j < s.g; j++) {
                double dh = 0;
                for (int e = 0; e < s.e; e++) {
                    dh += w2v[e * s.g + j] * dz[e];
                }
                da[j] = dh * (1 - hid[j] * hid[j]);
                if (needB1) {
                    db1[j] += da[j];
                }
                if (needW1) {
                    for (int c = 0; c < s.d; c++) {
                        dw1[j * s.d + c] += da[j] * u[c];
                    }
                }
            }
            if (needX) {
                for (int c = 0; c < s.d; c++) {
                    double du = 0;
                    for (int j = 0; j < s.g; j++) {
                        du += w1v[j * s.d + c] * da[j];
                    }
                    dxbar[r * s.d + c] = du * (1 - u[c] * u[c]);
                }
            }
        }
        return new Tensor[] {
            needX ? Tensor.fromDoubles(meansBackward(dxbar, s), x.dtype(), x.shape().toArray()) : null,
            needW1 ? Tensor.fromDoubles(dw1, w1.dtype(), w1.shape().toArray()) : null,
            needB1 ? Tensor.fromDoubles(db1, b1.dtype(), b1.shape().toArray()) : null,
            needW2 ? Tensor.fromDoubles(dw2, w2.dtype(), w2.shape().toArray()) : null,
            needB2 ? Tensor.fromDoubles(db2, b2.dtype(), b2.shape().toArray()) : null,
        };
    }

    /** u = tanh(xbar[r]) and hid = tanh(w1 u + b1) for row r. */
    private static void hidden(Sizes s, double[] xbar, double[] w1v, double[] b1v, int r, double[] u,
            double[] hid) {
        for (int c = 0; c < s.d; c++) {
            u[c] = Math.tanh(xbar[r * s.d + c]);
        }
        for (int j = 0; j < s.g; j++) {
            double a = b1v[j];
            for (int c = 0; c < s.d; c++) {
                a += w1v[j * s.d + c] * u[c];
            }
            hid[j] = Math.tanh(a);
        }
    }

    /** The mean over t per sequence [B,D], or the running prefix mean per token [B*T,D] when causal. */
    private static double[] means(Tensor x, Sizes s) {
        double[] xv = x.toDoubleArray();
        double[] out = new double[s.rows * s.d];
        double[] sum = new double[s.d];
        for (int b = 0; b < s.b; b++) {
            Arrays.fill(sum, 0);
            for (int t = 0; t < s.t; t++) {
                for (int c = 0; c < s.d; c++) {
                    sum[c] += xv[(b * s.t + t) * s.d + c];
                    if (s.causal) {
                        out[(b * s.t + t) * s.d + c] = sum[c] / (t + 1);
                    }
                }
            }
            if (!s.causal) {
                for (int c = 0; c < s.d; c++) {
                    out[b * s.d + c] = sum[c] / s.t;
                }
            }
        }
        return out;
    }

    /** dx[B,T,D] from dxbar: each token gets 1/count of the gradient of every mean it took part in. */
    private static double[] meansBackward(double[] dxbar, Sizes s) {
        double[] dx = new double[s.b * s.t * s.d];
        double[] acc = new double[s.d];
        for (int b = 0; b < s.b; b++) {
            if (!s.causal) {
                for (int t = 0; t < s.t; t++) {
                    for (int c = 0; c < s.d; c++) {
                        dx[(b * s.t + t) * s.d + c] = dxbar[b * s.d + c] / s.t;
                    }
                }
                continue;
            }
            // Token s is in the prefix means of t = s..T-1: a suffix sum, walked backwards.
            Arrays.fill(acc, 0);
            for (int t = s.t - 1; t >= 0; t--) {
                for (int c = 0; c < s.d; c++) {
                    acc[c] += dxbar[(b * s.t + t) * s.d + c] / (t + 1);
                    dx[(b * s.t + t) * s.d + c] = acc[c];
                }
            }
        }
        return dx;
    }

    /** Sizes of one call. */
    private static final class Sizes {
        final int b;
        final int t;
        final int d;
        final int g;
        final int e;
        final boolean causal;
        final int rows;

        Sizes(Tensor x, Tensor w1, Tensor w2, boolean causal) {
            b = x.dim(0);
            t = x.dim(1);
            d = x.dim(2);
            g = w1.dim(0);
            e = w2.dim(0);
            this.causal = causal;
            rows = causal ? b * t : b;
        }
    }
}
