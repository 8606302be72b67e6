package org.attnkit.ops.softmax;

import org.attnkit.tensor.Tensor;

/**
 * Scalar reference of {@link Softmax} and {@link LogSoftmax}, in double. A tensor is viewed as
 * {@code [outer, n, inner]} with n the size of the softmax axis, so element j of line (o, i) sits at
 * {@code (o*n + j)*inner + i}.
 */
final class SoftmaxRef implements SoftmaxKernels {
    @Override
    public Tensor softmax(Tensor x, int axis) {
        Lines l = new Lines(x, axis);
        double[] v = x.toDoubleArray();
        double[] y = new double[v.length];
        for (int o = 0; o < l.outer; o++) {
            for (int i = 0; i < l.inner; i++) {
                int base = o * l.n * l.inner + i;
                double max = max(v, base, l);
                double sum = 0;
                for (int j = 0; j < l.n; j++) {
                    int at = base + j * l.inner;
                    y[at] = Math.exp(v[at] - max);
                    sum += y[at];
                }
                for (int j = 0; j < l.n; j++) {
                    y[base + j * l.inner] /= sum;
                }
            }
        }
        return Tensor.fromDoubles(y, x.dtype(), x.shape().toArray());
    }

    @Override
    public Tensor softmaxBackward(Tensor y, Tensor dy, int axis) {
        Lines l = new Lines(y, axis);
        double[] yv = y.toDoubleArray();
        double[] g = dy.toDoubleArray();
        double[] dx = new double[g.length];
        for (int o = 0; o < l.outer; o++) {
            for (int i = 0; i < l.inner; i++) {
                int base = o * l.n * l.inner + i;
                double dot = 0;
                for (int j = 0; j < l.n; j++) {
                    int at = base + j * l.inner;
                    dot += g[at] * yv[at];
                }
                for (int j = 0; j < l.n; j++) {
                    int at = base + j * l.inner;
                    dx[at] = yv[at] * (g[at] - dot);
                }
            }
        }
        return Tensor.fromDoubles(dx, dy.dtype(), dy.shape().toArray());
    }

    @Override
    public Tensor logSoftmax(Tensor x, int axis) {
        Lines l = new Lines(x, axis);
        double[] v = x.toDoubleArray();
        double[] y = new double[v.length];
        for (int o = 0; o < l.outer; o++) {
            for (int i = 0; i < l.inner; i++) {
                int base = o * l.n * l.inner + i;
                double max = max(v, base, l);
                double sum = 0;
                for (int j = 0; j < l.n; j++) {
                    sum += Math.exp(v[base + j * l.inner] - max);
                }
                double logSum = max + Math.log(sum);
                for (int j = 0; j < l.n; j++) {
                    int at = base + j * l.inner;
                    y[at] = v[at] - logSum;
                }
            }
        }
        return Tensor.fromDoubles(y, x.dtype(), x.shape().toArray());
    }

    @Override
    public Tensor logSoftmaxBackward(Tensor y, Tensor dy, int axis) {
        Lines l = new Lines(y, axis);
        double[] yv = y.toDoubleArray();
        double[] g = dy.toDoubleArray();
        double[] dx = new double[g.length];
        for (int o = 0; o < l.outer; o++) {
            for (int i = 0; i < l.inner; i++) {
                int base = o * l.n * l.inner + i;
                double sum = 0;
                for (int j = 0; j < l.n; j++) {
                    sum += g[base + j * l.inner];
                }
                for (int j = 0; j < l.n; j++) {
                    int at = base + j * l.inner;
                    dx[at] = g[at] - Math.exp(yv[at]) * sum;
                }
            }
        }
        return Tensor.fromDoubles(dx, dy.dtype(), dy.shape().toArray());
    }

    private static double max(double[] v, int base, Lines l) {
        double max = Double.NEGATIVE_INFINITY;
        for (int j = 0; j < l.n; j++) {
            max = Math.max(max, v[base + j * l.inner]);
        }
        return max;
    }

    /** The [outer, n, inner] view of a tensor around one axis. */
    private static final class Lines {
        final int outer;
        final int n;
        final int inner;

        Lines(Tensor t, int axis) {
            outer = t.shape().numel(0, axis);
            n = t.shape().dim(axis);
            inner = t.shape().numel(axis + 1, t.rank());
        }
    }
}
