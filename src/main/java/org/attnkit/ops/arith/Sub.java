package org.attnkit.ops.arith;

import org.attnkit.backend.Backend;
import org.attnkit.backend.Kernels;
import org.attnkit.tensor.Tensor;

/**
 * Elementwise difference {@code c = a - b}.
 *
 * <p>Shapes follow NumPy broadcasting: trailing dimensions are aligned, a dimension of size 1 (or one
 * missing because the ranks differ) is repeated to match the other operand, and any other size
 * mismatch is an {@link IllegalArgumentException} naming both shapes. The output has the broadcast
 * shape and the operands' dtype; a and b must share device and dtype. Backward saves a and b and
 * sums each gradient over the dimensions its operand was broadcast along, so it has the operand's
 * shape.
 */
public final class Sub {
    static final Kernels<BinaryKernels> KERNELS = Kernels.of("sub", (BinaryKernels) new SubRef())
            .with(Backend.SIMD, new BinarySimdKernels(BinarySimd.SUB))
            .with(Backend.CUDA, BinaryCuda.sub());

    private Sub() {
    }

    /** {@code a - b}, elementwise with broadcasting. */
    public static Tensor apply(Tensor a, Tensor b) {
        return Binary.apply(KERNELS, a, b);
    }

    /** {@code a - s} for a finite scalar s (a constant: it gets no gradient). */
    public static Tensor apply(Tensor a, double s) {
        return Binary.apply(KERNELS, a, Binary.scalarLike("sub", a, s));
    }
}
