package org.attnkit.ops.layernorm;

import org.attnkit.tensor.Tensor;

/**
 * What every backend implements for {@link LayerNorm}. x is {@code [..., D]}, seen as
 * {@code rows = numel / D} rows; gamma and beta are {@code [D]} or null.
 */
public interface LayerNormKernels {
    /** The output and the per-row statistics backward needs. */
    record Forward(Tensor y, Tensor mean, Tensor rstd) {
    }

    /**
     * y = (x - mean) * rstd * gamma + beta per row, with mean and the biased variance over the last
     * dim and rstd = 1/sqrt(var + eps). mean and rstd are {@code [rows]}.
     */
    Forward forward(Tensor x, Tensor gamma, Tensor beta, double eps);

    /**
     * Gradients {dx, dgamma, dbeta}, each computed only where {@code needsGrad} says so (null
     * otherwise). With xhat = (x - mean) * rstd and g = gamma * dy (dy when gamma is null):
     * dx = rstd * (g - mean(g) - xhat * mean(g * xhat)); dgamma = sum_rows dy * xhat; dbeta = sum_rows dy.
     */
    Tensor[] backward(Tensor x, Tensor gamma, Tensor mean, Tensor rstd, Tensor dy, boolean[] needsGrad);
}
