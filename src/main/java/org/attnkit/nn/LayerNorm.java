package org.attnkit.nn;

import org.attnkit.tensor.Tensor;

/** LayerNorm over the last dimension with learned gamma (ones) and beta (zeros), eps 1e-5. */
public final class LayerNorm extends Module {
    public final Tensor gamma;
    public final Tensor beta;

    public LayerNorm(int dim) {
        gamma = parameter("weight", Tensor.ones(dim));
        beta = parameter("bias", Tensor.zeros(dim));
    }

    public Tensor forward(Tensor x) {
        return org.attnkit.ops.layernorm.LayerNorm.apply(x, gamma, beta);
    }
}
