package org.attnkit.ops.activation;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import org.attnkit.tensor.Tensor;

/** The SIMD backend of {@link Tanh} (float32): lanewise TANH forward, dy * (1 - y^2) backward. */
final class TanhSimdKernels implements TanhKernels {
    @Override
    public Tensor forward(Tensor x) {
        return Tensor.wrap(ActivationSimd.map(x.data(), v -> v.lanewise(VectorOperators.TANH)), x.shape().toArray());
    }

    @Override
    public Tensor backward(Tensor y, Tensor dy) {
        float[] dx = ActivationSimd.map(y.data(), dy.data(), (yv, g) -> g.mul(yv.neg().fma(yv, FloatVector.broadcast(ActivationSimd.S, 1f))));
        return Tensor.wrap(dx, dy.shape().toArray());
    }
}
