package org.attnkit.ops.dropout;

import org.attnkit.tensor.Tensor;

/**
 * What every backend implements for {@link Dropout}, with 0 < p < 1. The mask of element i (its flat
 * row-major index) is {@code Philox.keep(seed, offset, i, p)}; both directions regenerate it.
 */
public interface DropoutKernels {
    /** y[i] = x[i] / (1 - p) where element i is kept, else 0. */
    Tensor forward(Tensor x, double p, long seed, long offset);

    /** dx[i] = dy[i] / (1 - p) where element i is kept, else 0: the forward mask, regenerated. */
    Tensor backward(Tensor dy, double p, long seed, long offset);
}
