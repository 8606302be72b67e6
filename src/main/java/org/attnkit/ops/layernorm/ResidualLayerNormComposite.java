package org.attnkit.ops.layernorm;

import org.attnkit.autograd.GradMode;
import org.attnkit.ops.arith.Add;
import org.attnkit.ops.dropout.Dropout;
import org.attnkit.tensor.Tensor;

/**
 * The reference and SIMD backends of {@link ResidualLayerNorm}: by definition the composition of the
 * existing {@link Dropout}, {@link Add} and {@link LayerNorm} kernels, each dispatched by the same rule that
 * picked this one (so under the reference every step is the reference, under SIMD every step is SIMD where
 * it exists). Runs outside the graph: the entry class records the two nodes itself. Its CUDA backward
 * (LayerNorm's backward, the regenerated dropout mask) is this class's too.
 */
final class ResidualLayerNormComposite implements ResidualLayerNormKernels {
    @Override
    public Forward forward(Tensor x, Tensor residual, double p, long seed, long offset, Tensor gamma, Tensor beta,
            double eps) {
        try (GradMode.Scope ignored = GradMode.noGrad()) {
            Tensor sum = Add.apply(residual, Dropout.apply(x, p, seed, offset));
            LayerNormKernels.Forward f = LayerNorm.KERNELS.select(sum).forward(sum, gamma, beta, eps);
            return new Forward(sum, f.y(), f.mean(), f.rstd());
        }
    }

    @Override
    public Tensor[] normBackward(Tensor sum, Tensor gamma, Tensor mean, Tensor rstd, Tensor dy, boolean[] needsGrad) {
        return LayerNorm.KERNELS.select(sum).backward(sum, gamma, mean, rstd, dy, needsGrad);
    }

    @Override
    public Tensor dropoutBackward(Tensor dsum, double p, long seed, long offset) {
        // Dropout is a per-element multiply by the mask, so its gradient is the same multiply (p = 0: dsum).
        try (GradMode.Scope ignored = GradMode.noGrad()) {
            return Dropout.apply(dsum, p, seed, offset);
        }
    }
}
