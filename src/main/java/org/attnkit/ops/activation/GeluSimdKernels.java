package org.attnkit.ops.activation;

import org.attnkit.tensor.Tensor;

/**
 * The SIMD backend of {@link Gelu} (float32), exact erf form: Phi from the vector erfc of
 * {@link ActivationSimd#erfc} (relative error ~1e-6 in float), so y = x * Phi(x) and
 * dx = dy * (Phi(x) + x * phi(x)) carry about 1e-6 relative error.
 */
final class GeluSimdKernels implements GeluKernels {
    @Override
    public Tensor forward(Tensor x) {
        return Tensor.wrap(ActivationSimd.map(x.data(), v -> v.mul(ActivationSimd.normalCdf(v))), x.shape().toArray());
    }

    @Override
    public Tensor backward(Tensor x, Tensor dy) {
        float[] dx = ActivationSimd.map(x.data(), dy.data(),
                (xv, g) -> g.mul(xv.fma(ActivationSimd.normalPdf(xv), ActivationSimd.normalCdf(xv))));
        return Tensor.wrap(dx, dy.shape().toArray());
    }
}
