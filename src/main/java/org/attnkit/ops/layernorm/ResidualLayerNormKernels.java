package org.attnkit.ops.layernorm;

import org.attnkit.tensor.Tensor;

/**
 * What every backend implements for {@link ResidualLayerNorm}. x, residual and sum are {@code [..., D]},
 * seen as {@code rows = numel / D} rows; gamma and beta are {@code [D]} or null; {@code 0 <= p < 1}.
 */
public interface ResidualLayerNormKernels {
    /** Both outputs and the per-row statistics ({@code [rows]}) the backward needs. */
    record Forward(Tensor sum, Tensor y, Tensor mean, Tensor rstd) {
    }

    /**
     * sum = residual + dropout(x) (element i kept iff {@code Philox.keep(seed, offset, i, p)}, survivors
     * times 1/(1-p)); y = LayerNorm(sum; gamma, beta, eps).
     */
    Forward forward(Tensor x, Tensor residual, double p, long seed, long offset, Tensor gamma, Tensor beta,
            double eps);

    /** {dsum, dgamma, dbeta} of y = LayerNorm(sum) from dy, each only where {@code needsGrad} says so. */
    Tensor[] normBackward(Tensor sum, Tensor gamma, Tensor mean, Tensor rstd, Tensor dy, boolean[] needsGrad);

    /** dx of sum = residual + dropout(x) from dsum: the forward mask, regenerated (dresidual is dsum itself). */
    Tensor dropoutBackward(Tensor dsum, double p, long seed, long offset);
}
