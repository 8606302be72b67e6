package org.attnkit.ops.activation;

import org.attnkit.tensor.Tensor;

/** What every backend implements for {@link Sigmoid}. */
public interface SigmoidKernels {
    /** y = 1 / (1 + exp(-x)). */
    Tensor forward(Tensor x);

    /** dx = dy * y * (1 - y), from the saved output y. */
    Tensor backward(Tensor y, Tensor dy);
}
