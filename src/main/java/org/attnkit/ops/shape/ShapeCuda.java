package org.attnkit.ops.shape;

import org.attnkit.backend.cuda.AttnkitNative;
import org.attnkit.backend.cuda.Cuda;
import org.attnkit.tensor.Tensor;

/**
 * The shape operators on CUDA: every one of them, forward and backward, is one call of the strided copy
 * kernel of {@code cuda/shape.cu} (each output coordinate reads one input element at arbitrary strides).
 * Tensors of rank above {@value AttnkitNative#MAX_RANK} throw {@link UnsupportedOperationException}, before
 * availability is asked. The native library is touched only after {@link Cuda#requireAvailable} passed.
 * Compiled and verified on an H200 (2026-12-04: the CUDA equivalence tests pass).
 */
final class ShapeCuda implements ShapeKernels {
    private final StridedOps ops;

    ShapeCuda() {
        this(StridedOps.CUDA);
    }

    /** With other strided primitives (tests: a host emulation of the kernels' contract). */
    ShapeCuda(StridedOps ops) {
        this.ops = ops;
    }
    /** Row-major strides of {@code shape}; a rank-0 shape is seen as {@code [1]}. */
    static int[] strides(int[] shape) {
        int[] s = new int[shape.length];
        int acc = 1;
        for (int d = shape.length - 1; d >= 0; d--) {
            s[d] = acc;
            acc *= shape[d];
        }
        return s;
    }

    private static void checkRank(String op, int rank) {
        if (rank > AttnkitNative.MAX_RANK) {
            throw new UnsupportedOperationException(op + " on CUDA supports rank <= " + AttnkitNative.MAX_RANK
                    + ", got rank " + rank);
        }
    }

    /** out[outOffset + c . outStrides] = in[inOffset + c . inStrides] over the coordinates c of dims. */
    private void copy(String what, Tensor out, long outOffset, int[] outStrides, Tensor in, long inOffset,
            int[] inStrides, int[] dims) {
        if (dims.length == 0) {
            dims = new int[] {1};
            outStrides = new int[] {0};
            inStrides = new int[] {0};
        }
        long n = 1;
        for (int d : dims) {
            n *= d;
        }
        if (n == 0) {
            return;
        }
        ops.copy(what, out, outOffset, outStrides, in, inOffset, inStrides, dims, 1.0);
    }

    @Override
    public Tensor permute(Tensor x, int[] perm) {
        checkRank("permute", x.rank());
        ops.requireAvailable("permute");
        int r = x.rank();
        int[] inShape = x.shape().toArray();
        int[] inStrides = strides(inShape);
        int[] outShape = new int[r];
        int[] read = new int[r];
        for (int i = 0; i < r; i++) {
            outShape[i] = inShape[perm[i]];
            read[i] = inStrides[perm[i]];
        }
        Tensor y = ops.empty(x.device(), outShape);
        copy("permute", y, 0, strides(outShape), x, 0, read, outShape);
        return y;
    }

    @Override
    public Tensor slice(Tensor x, int dim, int start, int end) {
        checkRank("slice", x.rank());
        ops.requireAvailable("slice");
        int[] inShape = x.shape().toArray();
        int[] inStrides = strides(inShape);
        int[] outShape = inShape.clone();
        outShape[dim] = end - start;
        Tensor y = ops.empty(x.device(), outShape);
        copy("slice", y, 0, strides(outShape), x, (long) start * inStrides[dim], inStrides, outShape);
        return y;
    }

    @Override
    public Tensor sliceBackward(Tensor g, int[] inShape, int dim, int start) {
        checkRank("slice backward", inShape.length);
        ops.requireAvailable("slice backward");
        int[] outStrides = strides(inShape);
        Tensor dx = ops.zeros(g.device(), inShape);
        int[] gShape = g.shape().toArray();
        copy("slice backward", dx, (long) start * outStrides[dim], outStrides, g, 0, strides(gShape), gShape);
        return dx;
    }

    @Override
    public Tensor concat(int dim, Tensor[] xs, int[] outShape) {
        checkRank("concat", outShape.length);
        ops.requireAvailable("concat");
        Tensor out = ops.empty(xs[0].device(), outShape);
        int[] outStrides = strides(outShape);
        long start = 0;
        for (Tensor x : xs) {
            int[] shape = x.shape().toArray();
            copy("concat", out, start * outStrides[dim], outStrides, x, 0, strides(shape), shape);
            start += x.dim(dim);
        }
        return out;
    }
}
