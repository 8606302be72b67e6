package org.attnkit.ops.activation;

import org.attnkit.tensor.Tensor;

/** What every backend implements for {@link Gelu}. */
public interface GeluKernels {
    /** y = x * Phi(x) with Phi the standard normal CDF (the exact erf form). */
    Tensor forward(Tensor x);

    /** dx = dy * (Phi(x) + x * phi(x)), from the saved input x. */
    Tensor backward(Tensor x, Tensor dy);
}
