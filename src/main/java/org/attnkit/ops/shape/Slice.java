package org.attnkit.ops.shape;

import org.attnkit.autograd.Autograd;
import org.attnkit.backend.Backend;
import org.attnkit.backend.Kernels;
import org.attnkit.tensor.Tensor;

/**
 * Elements {@code [start, end)} along one dimension (a copy). Backward scatters the gradient into zeros
 * of the input's shape; nothing is saved but the shape and the range.
 */
public final class Slice {
    static final Kernels<ShapeKernels> KERNELS = Kernels.of("slice", (ShapeKernels) new ShapeRef())
            .with(Backend.CUDA, new ShapeCuda());

    private Slice() {
    }

    public static Tensor apply(Tensor x, int dim, int start, int end) {
        int d = x.shape().axis(dim);
        int size = x.dim(d);
        if (start < 0 || end > size || start > end) {
            throw new IllegalArgumentException("slice: range [" + start + ", " + end + ") must lie within [0, "
                    + size + "] of dim " + d + " of shape " + x.shape());
        }
        ShapeKernels k = KERNELS.select(x);
        Tensor y = k.slice(x, d, start, end);
        int[] inShape = x.shape().toArray();
        return Autograd.record("slice", y, (g, needs) -> new Tensor[] {k.sliceBackward(g, inShape, d, start)}, x);
    }

    /** Flat indices into a tensor of {@code shape} of the elements with coordinate d in [start, start+len). */
    static int[] blockIndex(int[] shape, int d, int start, int len) {
        int outer = 1;
        for (int i = 0; i < d; i++) {
            outer *= shape[i];
        }
        int inner = 1;
        for (int i = d + 1; i < shape.length; i++) {
            inner *= shape[i];
        }
        int[] index = new int[outer * len * inner];
        int k = 0;
        for (int o = 0; o < outer; o++) {
            int base = (o * shape[d] + start) * inner;
            for (int j = 0; j < len * inner; j++) {
                index[k++] = base + j;
            }
        }
        return index;
    }
}
