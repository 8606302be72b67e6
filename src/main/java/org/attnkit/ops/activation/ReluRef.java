package org.attnkit.ops.activation;

import org.attnkit.tensor.Tensor;

/** Scalar reference of {@link Relu}, in double. */
final class ReluRef implements ReluKernels {
    @Override
    public Tensor forward(Tensor x) {
        double[] v = x.toDoubleArray();
        for (int i = 0; i < v.length; i++) {
            // Written as a comparison, not Math.max, so that NaN propagates and -0.0 maps to 0.
            v[i] = v[i] > 0 ? v[i] : (Double.isNaN(v[i]) ? v[i] : 0);
        }
        return Tensor.fromDoubles(v, x.dtype(), x.shape().toArray());
    }

    @Override
    public Tensor backward(Tensor x, Tensor dy) {
        double[] xv = x.toDoubleArray();
        double[] g = dy.toDoubleArray();
        for (int i = 0; i < g.length; i++) {
            if (!(xv[i] > 0)) {
                g[i] = 0;
            }
        }
        return Tensor.fromDoubles(g, dy.dtype(), dy.shape().toArray());
    }
}
