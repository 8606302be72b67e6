package org.attnkit.ops.activation;

import org.attnkit.tensor.Tensor;

/** What every backend implements for {@link Tanh}. */
public interface TanhKernels {
    /** y = tanh(x). */
    Tensor forward(Tensor x);

    /** dx = dy * (1 - y^2), from the saved output y. */
    Tensor backward(Tensor y, Tensor dy);
}
