package org.attnkit.ops.shape;

import org.attnkit.autograd.Autograd;
import org.attnkit.tensor.DType;
import org.attnkit.tensor.Tensor;
import org.attnkit.util.Check;

/** Concatenation along one dimension; every other dimension must match. */
public final class Concat {
    private Concat() {
    }

    public static Tensor apply(int dim, Tensor... xs) {
        if (xs == null || xs.length == 0) {
            throw new IllegalArgumentException("concat: needs at least one tensor");
        }
        Object[] named = new Object[2 * xs.length];
        for (int i = 0; i < xs.length; i++) {
            Check.notNull("concat", "tensors[" + i + "]", xs[i]);
            named[2 * i] = "tensors[" + i + "]";
            named[2 * i + 1] = xs[i];
        }
        Check.sameDeviceAndType("concat", named);
        int r = xs[0].rank();
        int d = xs[0].shape().axis(dim);
        int[] outShape = xs[0].shape().toArray();
        outShape[d] = 0;
        for (int i = 0; i < xs.length; i++) {
            int[] s = xs[i].shape().toArray();
            if (s.length != r) {
                throw new IllegalArgumentException("concat: tensors[" + i + "] has rank " + s.length + ", expected " + r);
            }
            for (int k = 0; k < r; k++) {
                if (k != d && s[k] != xs[0].dim(k)) {
                    throw new IllegalArgumentException("concat: tensors[" + i + "] shape " + xs[i].shape()
                            + " differs from " + xs[0].shape() + " outside dim " + d);
                }
            }
            outShape[d] += s[d];
        }
        DType dtype = xs[0].dtype();
        Tensor out = Tensor.zeros(dtype, outShape);
        int[][] indices = new int[xs.length][];
        int start = 0;
        for (int i = 0; i < xs.length; i++) {
            indices[i] = Slice.blockIndex(outShape, d, start, xs[i].dim(d));
            start += xs[i].dim(d);
            if (dtype == DType.F64) {
                double[] src = xs[i].doubleData();
                double[] dst = out.doubleData();
                for (int j = 0; j < src.length; j++) {
                    dst[indices[i][j]] = src[j];
                }
            } else {
                float[] src = xs[i].data();
                float[] dst = out.data();
                for (int j = 0; j < src.length; j++) {
                    dst[indices[i][j]] = src[j];
                }
            }
        }
        return Autograd.record("concat", out, (g, needs) -> {
            Tensor[] grads = new Tensor[xs.length];
            for (int i = 0; i < xs.length; i++) {
                if (needs[i]) {
                    grads[i] = Elements.gather(g, indices[i], xs[i].shape().toArray());
                }
            }
            return grads;
        }, xs);
    }
}
