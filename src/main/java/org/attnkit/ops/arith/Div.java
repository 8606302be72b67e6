package org.attnkit.ops.arith;

import org.attnkit.backend.Backend;
import org.attnkit.backend.Kernels;
import org.attnkit.tensor.Tensor;

/**
 * Elementwise quotient {@code c = a / b}. Backward: {@code da = dc / b}, {@code db = -dc * a / b^2}.
 *
 * <p>A zero divisor is not rejected: the result is the IEEE value (+-Infinity for a non-zero
 * numerator, NaN for 0/0), and so are the gradients at that element. Callers that can divide by zero
 * guard the divisor themselves (e.g. add an epsilon).
 *
 * <p>Shapes follow NumPy broadcasting: trailing dimensions are aligned, a dimension of size 1 (or one
 * missing because the ranks differ) is repeated to match the other operand, and any other size
 * mismatch is an {@link IllegalArgumentException} naming both shapes. The output has the broadcast
 * shape and the operands' dtype; a and b must share device and dtype. Backward saves a and b and
 * sums each gradient over the dimensions its operand was broadcast along, so it has the operand's
 * shape.
 */
public final class Div {
    static final Kernels<BinaryKernels> KERNELS = Kernels.of("div", (BinaryKernels) new DivRef())
            .with(Backend.SIMD, new BinarySimdKernels(BinarySimd.DIV))
            .with(Backend.CUDA, BinaryCuda.div());

    private Div() {
    }

    /** {@code a / b}, elementwise with broadcasting. */
    public static Tensor apply(Tensor a, Tensor b) {
        return Binary.apply(KERNELS, a, b);
    }

    /**
     * {@code a / s} for a finite scalar s (a constant: it gets no gradient). A zero s gives IEEE
     * infinities or NaN, as in {@link #apply(Tensor, Tensor)}.
     */
    public static Tensor apply(Tensor a, double s) {
        return Binary.apply(KERNELS, a, Binary.scalarLike("div", a, s));
    }
}
