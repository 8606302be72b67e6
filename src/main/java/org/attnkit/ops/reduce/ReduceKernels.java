package org.attnkit.ops.reduce;

import org.attnkit.tensor.Tensor;

/**
 * What every backend implements for the sum-like reductions ({@link Sum}, and {@link Mean} as a
 * scaled sum). {@code reduced[d]} marks the dimensions of x that are summed; the entry class has
 * validated them.
 */
public interface ReduceKernels {
    /**
     * {@code y = scale * sum of x over the reduced dims}; y keeps those dims as size 1 when keepDim,
     * else drops them (all dims reduced and not keepDim gives rank 0).
     */
    Tensor forward(Tensor x, boolean[] reduced, boolean keepDim, double scale);

    /**
     * {@code dx = scale * dy} broadcast back over the reduced dims, shaped {@code inShape}; dy may have
     * the keepDim shape or the dropped one (their row-major layouts are the same).
     */
    Tensor backward(Tensor dy, int[] inShape, boolean[] reduced, double scale);
}
