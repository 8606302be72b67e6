package org.attnkit.ops.linear;

import org.attnkit.tensor.Tensor;

/** Scalar reference of {@link Linear}: x is flattened to [N, in] rows, dot products in double. */
final class LinearRef implements LinearKernels {
    @Override
    public Tensor forward(Tensor x, Tensor weight, Tensor bias) {
        int in = weight.dim(1);
        int out = weight.dim(0);
        int rows = leadingPositions(x);
        double[] xv = x.toDoubleArray(); // [rows, in]
        double[] w = weight.toDoubleArray(); // [out, in]
        double[] b = bias == null ? null : bias.toDoubleArray(); // [out]
        double[] y = new double[rows * out]; // [rows, out]
        for (int r = 0; r < rows; r++) {
            for (int o = 0; o < out; o++) {
                double s = b == null ? 0 : b[o];
                for (int i = 0; i < in; i++) {
                    s += xv[r * in + i] * w[o * in + i];
                }
                y[r * out + o] = s;
            }
        }
        int[] shape = x.shape().toArray();
        shape[shape.length - 1] = out;
        return Tensor.fromDoubles(y, x.dtype(), shape);
    }

    @Override
    public Tensor[] backward(Tensor x, Tensor weight, Tensor dy, boolean[] needsGrad) {
        int in = weight.dim(1);
        int out = weight.dim(0);
        int rows = leadingPositions(x);
        double[] g = dy.toDoubleArray(); // [rows, out]
        Tensor dx = null;
        Tensor dw = null;
        Tensor db = null;
        if (needsGrad[0]) {
            double[] w = weight.toDoubleArray();
            double[] d = new double[rows * in]; // [rows, in] = dy W
            for (int r = 0; r < rows; r++) {
                for (int i = 0; i < in; i++) {
                    double s = 0;
                    for (int o = 0; o < out; o++) {
                        s += g[r * out + o] * w[o * in + i];
                    }
                    d[r * in + i] = s;
                }
            }
            dx = Tensor.fromDoubles(d, dy.dtype(), x.shape().toArray());
        }
        if (needsGrad[1]) {
            double[] xv = x.toDoubleArray();
            double[] d = new double[out * in]; // [out, in] = dy^T x
            for (int o = 0; o < out; o++) {
                for (int i = 0; i < in; i++) {
                    double s = 0;
                    for (int r = 0; r < rows; r++) {
                        s += g[r * out + o] * xv[r * in + i];
                    }
                    d[o * in + i] = s;
                }
            }
            dw = Tensor.fromDoubles(d, dy.dtype(), out, in);
        }
        if (needsGrad.length > 2 && needsGrad[2]) {
            double[] d = new double[out]; // [out]
            for (int r = 0; r < rows; r++) {
                for (int o = 0; o < out; o++) {
                    d[o] += g[r * out + o];
                }
            }
            db = Tensor.fromDoubles(d, dy.dtype(), out);
        }
        return new Tensor[] {dx, dw, db};
    }

    /** Product of all dims but the last (not numel / in, which fails when in or out is 0). */
    private static int leadingPositions(Tensor x) {
        int rows = 1;
        for (int d = 0; d < x.rank() - 1; d++) {
            rows *= x.dim(d);
        }
        return rows;
    }
}
