package org.attnkit.ops.softmax;

import org.attnkit.autograd.Autograd;
import org.attnkit.tensor.Tensor;

/**
 * Log-softmax along one dimension: {@code y = x - max - log(sum(exp(x - max)))} over {@code dim}
 * (negative counts from the end), for any shape of rank >= 1; computed directly rather than as
 * log(softmax), so very negative entries stay finite. The output has the shape and dtype of x.
 * Backward saves y and computes {@code dx = dy - exp(y) * sum(dy)} along dim (exp(y) is the softmax).
 */
public final class LogSoftmax {
    private LogSoftmax() {
    }

    public static Tensor apply(Tensor x, int dim) {
        int axis = Softmax.axis("log_softmax", x, dim);
        SoftmaxKernels k = Softmax.KERNELS.select(x);
        Tensor y = k.logSoftmax(x, axis);
        return Autograd.record("log_softmax", y,
                (dy, needs) -> new Tensor[] {k.logSoftmaxBackward(y, dy, axis)}, x);
    }
}
