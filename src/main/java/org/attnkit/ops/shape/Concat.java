package org.attnkit.ops.shape;

import org.attnkit.autograd.Autograd;
import org.attnkit.backend.Backend;
import org.attnkit.backend.Kernels;
import org.attnkit.tensor.Tensor;
import org.attnkit.util.Check;

/**
 * Concatenation along one dimension; every other dimension must match and all tensors share device and
 * dtype. Backward slices the gradient back into one piece per input.
 */
public final class Concat {
    static final Kernels<ShapeKernels> KERNELS = Kernels.of("concat", (ShapeKernels) new ShapeRef())
            .with(Backend.CUDA, new ShapeCuda());

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
        ShapeKernels k = KERNELS.select(xs[0]);
        Tensor out = k.concat(d, xs.clone(), outShape);
        int[] starts = new int[xs.length];
        for (int i = 1; i < xs.length; i++) {
            starts[i] = starts[i - 1] + xs[i - 1].dim(d);
        }
        return Autograd.record("concat", out, (g, needs) -> {
            Tensor[] grads = new Tensor[xs.length];
            for (int i = 0; i < xs.length; i++) {
                if (needs[i]) {
                    grads[i] = k.slice(g, d, starts[i], starts[i] + xs[i].dim(d));
                }
            }
            return grads;
        }, xs);
    }
}
