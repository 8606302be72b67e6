package org.attnkit.ops.reduce;

import org.attnkit.backend.Backend;
import org.attnkit.backend.Kernels;
import org.attnkit.tensor.Tensor;

/**
 * Sum reduction: {@code y = sum of x over the reduced dimensions}.
 *
 * <p>{@code dims} lists dimensions of x (negative counts from the end), each at most once; the
 * reduced dimensions are kept as size 1 when {@code keepDim}, else dropped. Without dims every element
 * is reduced and the result has rank 0. Backward saves only x's shape and computes
 * {@code dx = dy} broadcast back over the reduced dimensions. The reference accumulates in double.
 */
public final class Sum {
    static final Kernels<ReduceKernels> KERNELS = Kernels.of("sum", (ReduceKernels) new ReduceRef())
            .with(Backend.SIMD, new ReduceSimdKernels()).with(Backend.CUDA, new ReduceCuda("sum"));

    private Sum() {
    }

    /** The sum of all elements of x, as a rank-0 tensor. */
    public static Tensor apply(Tensor x) {
        return Reductions.apply(KERNELS, x, null, false, false);
    }

    /** The sum over {@code dims} (at least one; negative allowed; no repeats). */
    public static Tensor apply(Tensor x, int[] dims, boolean keepDim) {
        if (dims == null) {
            throw new IllegalArgumentException(
                    "sum: dims must not be null; use sum(x) to reduce over all elements");
        }
        return Reductions.apply(KERNELS, x, dims, keepDim, false);
    }

    /** The sum over one dimension. */
    public static Tensor apply(Tensor x, int dim, boolean keepDim) {
        return apply(x, new int[] {dim}, keepDim);
    }
}
