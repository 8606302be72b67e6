package org.attnkit.ops.mae;

import org.attnkit.tensor.Tensor;

/** What every backend implements for {@link HeadMixture}. Arguments are validated by the caller. */
public interface HeadMixtureKernels {
    /** y[B,T,D] = alpha * o per head, alpha = (H/m) gate M; gate is [B,E] or [B,T,E]; m heads per expert. */
    Tensor forward(Tensor o, Tensor gate, Tensor membership, int headsPerExpert);

    /**
     * {do, dgate} for the output gradient dy[B,T,D]; entry i is computed only when {@code needs[i]}
     * (order o, gate) and is null otherwise.
     */
    Tensor[] backward(Tensor o, Tensor gate, Tensor membership, int headsPerExpert, Tensor dy, boolean[] needs);
}
