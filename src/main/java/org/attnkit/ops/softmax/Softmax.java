package org.attnkit.ops.softmax;

import org.attnkit.autograd.Autograd;
import org.attnkit.backend.Backend;
import org.attnkit.backend.Kernels;
import org.attnkit.tensor.Tensor;
import org.attnkit.util.Check;

/**
 * Softmax along one dimension: {@code y = exp(x - max) / sum(exp(x - max))}, where max and sum run
 * over {@code dim} (negative counts from the end), for any shape of rank >= 1. Subtracting the max
 * keeps exp from overflowing; the reference accumulates the sum in double. The output has the shape
 * and dtype of x. Backward saves y and computes {@code dx = y * (dy - sum(dy * y))} along dim.
 *
 * <p>As in PyTorch, a line whose entries are all -inf has no defined softmax and comes out NaN.
 */
public final class Softmax {
    /** Shared with {@link LogSoftmax}: one kernel interface serves the family. */
    static final Kernels<SoftmaxKernels> KERNELS = Kernels.of("softmax", (SoftmaxKernels) new SoftmaxRef())
            .with(Backend.SIMD, new SoftmaxSimdKernels()).with(Backend.CUDA, new SoftmaxCuda());

    private Softmax() {
    }

    public static Tensor apply(Tensor x, int dim) {
        int axis = axis("softmax", x, dim);
        SoftmaxKernels k = KERNELS.select(x);
        Tensor y = k.softmax(x, axis);
        return Autograd.record("softmax", y, (dy, needs) -> new Tensor[] {k.softmaxBackward(y, dy, axis)}, x);
    }

    /** Validates x and normalizes dim to [0, rank), with messages naming the op. */
    static int axis(String op, Tensor x, int dim) {
        Check.notNull(op, "x", x);
        int rank = x.rank();
        if (rank == 0) {
            throw new IllegalArgumentException(op + ": x must have rank >= 1 to normalize along a dimension, got a "
                    + "rank-0 tensor");
        }
        if (dim < -rank || dim >= rank) {
            throw new IllegalArgumentException(op + ": dim must be in [" + -rank + ", " + rank + ") for x of shape "
                    + x.shape() + ", got " + dim);
        }
        return dim < 0 ? dim + rank : dim;
    }
}
