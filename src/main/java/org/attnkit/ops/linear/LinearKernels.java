package org.attnkit.ops.linear;

import org.attnkit.tensor.Tensor;

/** What every backend implements for {@link Linear}; shapes have been validated by the entry class. */
public interface LinearKernels {
    /** y[..., out] = x[..., in] weight[out, in]^T + bias[out] (bias may be null). */
    Tensor forward(Tensor x, Tensor weight, Tensor bias);

    /**
     * {@code {dx, dweight, dbias}}: {@code dx = dy W}, {@code dW = dy^T x} and {@code db = sum of dy}
     * over all leading positions. Entry i is computed only when {@code needsGrad[i]}, otherwise null
     * (always null for an absent bias).
     */
    Tensor[] backward(Tensor x, Tensor weight, Tensor dy, boolean[] needsGrad);
}
