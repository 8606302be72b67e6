package org.attnkit.ops.shape;

import org.attnkit.tensor.DType;
import org.attnkit.tensor.Tensor;

/** The host implementation of the shape operators: index gathers and scatters of F32 or F64 tensors. */
final class ShapeRef implements ShapeKernels {
    @Override
    public Tensor permute(Tensor x, int[] perm) {
        int r = x.rank();
        int[] inShape = x.shape().toArray();
        int[] inStrides = x.shape().strides();
        int[] outShape = new int[r];
        for (int i = 0; i < r; i++) {
            outShape[i] = inShape[perm[i]];
        }
        int n = x.numel();
        int[] index = new int[n];
        int[] coord = new int[r];
        for (int i = 0; i < n; i++) {
            int off = 0;
            for (int d = 0; d < r; d++) {
                off += coord[d] * inStrides[perm[d]];
            }
            index[i] = off;
            for (int d = r - 1; d >= 0; d--) {
                if (++coord[d] < outShape[d]) {
                    break;
                }
                coord[d] = 0;
            }
        }
        return Elements.gather(x, index, outShape);
    }

    @Override
    public Tensor slice(Tensor x, int dim, int start, int end) {
        int[] outShape = x.shape().toArray();
        outShape[dim] = end - start;
        return Elements.gather(x, Slice.blockIndex(x.shape().toArray(), dim, start, end - start), outShape);
    }

    @Override
    public Tensor sliceBackward(Tensor g, int[] inShape, int dim, int start) {
        return Elements.scatter(g, Slice.blockIndex(inShape, dim, start, g.dim(dim)), inShape, g.dtype());
    }

    @Override
    public Tensor concat(int dim, Tensor[] xs, int[] outShape) {
        DType dtype = xs[0].dtype();
        Tensor out = Tensor.zeros(dtype, outShape);
        int start = 0;
        for (Tensor x : xs) {
            int[] index = Slice.blockIndex(outShape, dim, start, x.dim(dim));
            start += x.dim(dim);
            if (dtype == DType.F64) {
                double[] src = x.doubleData();
                double[] dst = out.doubleData();
                for (int j = 0; j < src.length; j++) {
                    dst[index[j]] = src[j];
                }
            } else {
                float[] src = x.data();
                float[] dst = out.data();
                for (int j = 0; j < src.length; j++) {
                    dst[index[j]] = src[j];
                }
            }
        }
        return out;
    }
}
