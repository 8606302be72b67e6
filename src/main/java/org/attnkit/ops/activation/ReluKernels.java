package org.attnkit.ops.activation;

import org.attnkit.tensor.Tensor;

/** What every backend implements for {@link Relu}. */
public interface ReluKernels {
    /** y = max(x, 0). */
    Tensor forward(Tensor x);

    /** dx = dy where x &gt; 0, else 0, from the saved input x. */
    Tensor backward(Tensor x, Tensor dy);
}
