package org.attnkit.ops.activation;

import org.attnkit.tensor.Tensor;

/** The SIMD backend of {@link Sigmoid} (float32): overflow-free vector sigmoid, dy * y * (1 - y) backward. */
final class SigmoidSimdKernels implements SigmoidKernels {
    @Override
    public Tensor forward(Tensor x) {
        return Tensor.wrap(ActivationSimd.map(x.data(), ActivationSimd::sigmoid), x.shape().toArray());
    }

    @Override
    public Tensor backward(Tensor y, Tensor dy) {
        float[] dx = ActivationSimd.map(y.data(), dy.data(), (yv, g) -> g.mul(yv).mul(yv.neg().add(1f)));
        return Tensor.wrap(dx, dy.shape().toArray());
    }
}
