package org.attnkit.ops.activation;

import org.attnkit.tensor.Tensor;

/** Scalar reference of {@link Sigmoid}, in double. */
final class SigmoidRef implements SigmoidKernels {
    @Override
    public Tensor forward(Tensor x) {
        double[] v = x.toDoubleArray();
        for (int i = 0; i < v.length; i++) {
            v[i] = sigmoid(v[i]);
        }
        return Tensor.fromDoubles(v, x.dtype(), x.shape().toArray());
    }

    @Override
    public Tensor backward(Tensor y, Tensor dy) {
        double[] yv = y.toDoubleArray();
        double[] g = dy.toDoubleArray();
        for (int i = 0; i < g.length; i++) {
            g[i] *= yv[i] * (1 - yv[i]);
        }
        return Tensor.fromDoubles(g, dy.dtype(), dy.shape().toArray());
    }

    /** exp is only taken of a non-positive number, so it cannot overflow for large |x|. */
    static double sigmoid(double x) {
        if (x >= 0) {
            return 1 / (1 + Math.exp(-x));
        }
        double e = Math.exp(x);
        return e / (1 + e);
    }
}
