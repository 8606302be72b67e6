package org.attnkit.ops.activation;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import org.attnkit.tensor.Tensor;

/**
 * The SIMD backend of {@link Relu} (float32). Lanewise MAX has Math.max semantics, as the reference
 * needs: NaN propagates and -0.0 maps to +0.0. Backward keeps dy where x &gt; 0 (false for NaN).
 */
final class ReluSimdKernels implements ReluKernels {
    @Override
    public Tensor forward(Tensor x) {
        return Tensor.wrap(ActivationSimd.map(x.data(), v -> v.lanewise(VectorOperators.MAX, 0f)), x.shape().toArray());
    }

    @Override
    public Tensor backward(Tensor x, Tensor dy) {
        float[] dx = ActivationSimd.map(x.data(), dy.data(),
                (xv, g) -> FloatVector.zero(ActivationSimd.S).blend(g, xv.compare(VectorOperators.GT, 0f)));
        return Tensor.wrap(dx, dy.shape().toArray());
    }
}
