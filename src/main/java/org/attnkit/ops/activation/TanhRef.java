package org.attnkit.ops.activation;

import org.attnkit.tensor.Tensor;

/** Scalar reference of {@link Tanh}, in double. */
final class TanhRef implements TanhKernels {
    @Override
    public Tensor forward(Tensor x) {
        double[] v = x.toDoubleArray();
        for (int i = 0; i < v.length; i++) {
            v[i] = Math.tanh(v[i]);
        }
        return Tensor.fromDoubles(v, x.dtype(), x.shape().toArray());
    }

    @Override
    public Tensor backward(Tensor y, Tensor dy) {
        double[] yv = y.toDoubleArray();
        double[] g = dy.toDoubleArray();
        for (int i = 0; i < g.length; i++) {
            g[i] *= 1 - yv[i] * yv[i];
        }
        return Tensor.fromDoubles(g, dy.dtype(), dy.shape().toArray());
    }
}
