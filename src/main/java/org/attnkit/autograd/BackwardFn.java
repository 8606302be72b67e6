package org.attnkit.autograd;

import org.attnkit.tensor.Tensor;

/**
 * The gradient rule of one recorded operation: given the gradient of its output, return the
 * gradients of its inputs, in input order. Entry {@code i} must be computed only when
 * {@code needsGrad[i]} is true, and may be null otherwise.
 */
@FunctionalInterface
public interface BackwardFn {
    Tensor[] backward(Tensor gradOutput, boolean[] needsGrad);
}
