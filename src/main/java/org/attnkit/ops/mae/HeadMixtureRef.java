package org.attnkit.ops.mae;

import org.attnkit.tensor.Tensor;

/** Scalar reference of {@link HeadMixture}, in double. */
final class HeadMixtureRef implements HeadMixtureKernels {
    @Override
    public Tensor forward(Tensor o, Tensor gate, Tensor membership, int headsPerExpert) {
        Sizes s = new Sizes(o, gate, membership);
        double[] alpha = alpha(s, gate, membership, headsPerExpert); // [B, T or 1, H]
        double[] y = o.toDoubleArray();
        for (int b = 0; b < s.b; b++) {
            for (int t = 0; t < s.t; t++) {
                for (int h = 0; h < s.h; h++) {
                    double a = alpha[s.alphaIndex(b, t, h)];
                    for (int c = 0; c < s.r; c++) {
                        y[(b * s.t + t) * s.d + h * s.r + c] *= a;
                    }
                }
            }
        }
        return Tensor.fromDoubles(y, o.dtype(), o.shape().toArray());
    }

    @Override
    public Tensor[] backward(Tensor o, Tensor gate, Tensor membership, int headsPerExpert, Tensor dy,
            boolean[] needs) {
        Sizes s = new Sizes(o, gate, membership);
        double[] g = dy.toDoubleArray();
        double[] dO = null;
        if (needs[0]) {
            double[] alpha = alpha(s, gate, membership, headsPerExpert);
            dO = new double[g.length]; // [B,T,D]
            for (int b = 0; b < s.b; b++) {
                for (int t = 0; t < s.t; t++) {
                    for (int h = 0; h < s.h; h++) {
                        double a = alpha[s.alphaIndex(b, t, h)];
                        for (int c = 0; c < s.r; c++) {
                            int i = (b * s.t + t) * s.d + h * s.r + c;
                            dO[i] = a * g[i];
                        }
                    }
                }
            }
        }
        double[] dGate = null;
        if (needs[1]) {
            double[] ov = o.toDoubleArray();
            double[] mv = membership.toDoubleArray();
            double[] dAlpha = new double[s.b * s.gateRows * s.h]; // [B, T or 1, H]
            for (int b = 0; b < s.b; b++) {
                for (int t = 0; t < s.t; t++) {
                    for (int h = 0; h < s.h; h++) {
                        double acc = 0;
                        for (int c = 0; c < s.r; c++) {
                            int i = (b * s.t + t) * s.d + h * s.r + c;
                            acc += g[i] * ov[i];
                        }
                        dAlpha[s.alphaIndex(b, t, h)] += acc;
                    }
                }
            }
            double scale = (double) s.h / headsPerExpert;
            dGate = new double[s.b * s.gateRows * s.e]; // gate's shape
            for (int row = 0; row < s.b * s.gateRows; row++) {
                for (int e = 0; e < s.e; e++) {
                    double acc = 0;
                    for (int h = 0; h < s.h; h++) {
                        acc += mv[e * s.h + h] * dAlpha[row * s.h + h];
                    }
                    dGate[row * s.e + e] = scale * acc;
                }
            }
        }
        return new Tensor[] {
            needs[0] ? Tensor.fromDoubles(dO, o.dtype(), o.shape().toArray()) : null,
            needs[1] ? Tensor.fromDoubles(dGate, gate.dtype(), gate.shape().toArray()) : null,
        };
    }

    /** alpha[row, h] = (H/m) sum_e gate[row, e] M[e, h] for every gate row. */
    private static double[] alpha(Sizes s, Tensor gate, Tensor membership, int headsPerExpert) {
        double[] gv = gate.toDoubleArray();
        double[] mv = membership.toDoubleArray();
        double scale = (double) s.h / headsPerExpert;
        double[] alpha = new double[s.b * s.gateRows * s.h];
        for (int row = 0; row < s.b * s.gateRows; row++) {
            for (int h = 0; h < s.h; h++) {
                double acc = 0;
                for (int e = 0; e < s.e; e++) {
                    acc += gv[row * s.e + e] * mv[e * s.h + h];
                }
                alpha[row * s.h + h] = scale * acc;
            }
        }
        return alpha;
    }

    /** Sizes of one call. */
    private static final class Sizes {
        final int b;
        final int t;
        final int d;
        final int h;
        final int r;
        final int e;
        /** Gate rows per sequence: T for a per-token gate, 1 for a per-sequence one. */
        final int gateRows;

        Sizes(Tensor o, Tensor gate, Tensor membership) {
            b = o.dim(0);
            t = o.dim(1);
            d = o.dim(2);
            e = membership.dim(0);
            h = membership.dim(1);
            r = d / h;
            gateRows = gate.rank() == 3 ? t : 1;
        }

        int alphaIndex(int bi, int ti, int hi) {
            return (bi * gateRows + (gateRows == 1 ? 0 : ti)) * h + hi;
        }
    }
}
