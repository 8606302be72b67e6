package org.attnkit.ops.activation;

import org.attnkit.tensor.Tensor;

/** Scalar reference of {@link Gelu}, in double. */
final class GeluRef implements GeluKernels {
    private static final double INV_SQRT2 = 0.7071067811865476; // 1 / sqrt(2)
    private static final double INV_SQRT_2PI = 0.3989422804014327; // 1 / sqrt(2 pi)

    @Override
    public Tensor forward(Tensor x) {
        double[] v = x.toDoubleArray();
        for (int i = 0; i < v.length; i++) {
            v[i] = v[i] * cdf(v[i]);
        }
        return Tensor.fromDoubles(v, x.dtype(), x.shape().toArray());
    }

    @Override
    public Tensor backward(Tensor x, Tensor dy) {
        double[] xv = x.toDoubleArray();
        double[] g = dy.toDoubleArray();
        for (int i = 0; i < g.length; i++) {
            double pdf = INV_SQRT_2PI * Math.exp(-0.5 * xv[i] * xv[i]);
            g[i] *= cdf(xv[i]) + xv[i] * pdf;
        }
        return Tensor.fromDoubles(g, dy.dtype(), dy.shape().toArray());
    }

    /**
     * Phi(x) = (1 + erf(x/sqrt2)) / 2, written as erfc(-x/sqrt2) / 2 so that the far negative tail
     * keeps its relative accuracy instead of cancelling to 0.
     */
    static double cdf(double x) {
        return 0.5 * Erf.erfc(-x * INV_SQRT2);
    }
}
