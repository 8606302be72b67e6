package org.attnkit.ops.shape;

import org.attnkit.tensor.Tensor;

/**
 * What every backend implements for the copying shape operators ({@link Permute}, {@link Slice},
 * {@link Concat}). The entry classes have validated every argument; outputs are new contiguous tensors on
 * the inputs' device with their dtype. All of them are pure data movement, so every backend gives the
 * same values bit for bit.
 */
public interface ShapeKernels {
    /** Output dim i is input dim {@code perm[i]}. */
    Tensor permute(Tensor x, int[] perm);

    /** Elements {@code [start, end)} of dim {@code dim} (already an axis in [0, rank)). */
    Tensor slice(Tensor x, int dim, int start, int end);

    /** A zero tensor of {@code inShape} holding g at {@code [start, start + g.dim(dim))} of dim {@code dim}. */
    Tensor sliceBackward(Tensor g, int[] inShape, int dim, int start);

    /** The tensors one after another along dim {@code dim}; {@code outShape} is their concatenated shape. */
    Tensor concat(int dim, Tensor[] xs, int[] outShape);
}
