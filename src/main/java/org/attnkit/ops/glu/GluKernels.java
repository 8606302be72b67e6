package org.attnkit.ops.glu;

import org.attnkit.tensor.Tensor;

/**
 * What every backend implements for {@link Glu}. {@code axis} is a non-negative dimension of x whose
 * size is even; the first half along it is a, the second half g.
 */
public interface GluKernels {
    /** y = a * sigmoid(g), shaped like x with the axis halved. */
    Tensor forward(Tensor x, int axis);

    /**
     * dx = concat(da, dg) along the axis, with {@code da = dy * sigmoid(g)} and
     * {@code dg = dy * a * sigmoid(g) * (1 - sigmoid(g))}, from the saved input x.
     */
    Tensor backward(Tensor x, int axis, Tensor dy);
}
