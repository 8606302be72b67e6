package org.attnkit.ops.softmax;

import org.attnkit.tensor.Tensor;

/**
 * What every backend implements for {@link Softmax} and {@link LogSoftmax}. {@code axis} is already
 * normalized to {@code [0, rank)}; outputs have the shape and dtype of their first tensor argument.
 */
public interface SoftmaxKernels {
    /** y = exp(x - max) / sum(exp(x - max)) along {@code axis}. */
    Tensor softmax(Tensor x, int axis);

    /** dx = y * (dy - sum(dy * y)) along {@code axis}, from the saved output y. */
    Tensor softmaxBackward(Tensor y, Tensor dy, int axis);

    /** y = x - max - log(sum(exp(x - max))) along {@code axis}. */
    Tensor logSoftmax(Tensor x, int axis);

    /** dx = dy - exp(y) * sum(dy) along {@code axis}, from the saved output y (exp(y) is the softmax). */
    Tensor logSoftmaxBackward(Tensor y, Tensor dy, int axis);
}
