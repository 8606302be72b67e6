package org.attnkit.ops.reduce;

import java.util.Arrays;
import org.attnkit.autograd.Autograd;
import org.attnkit.backend.Kernels;
import org.attnkit.tensor.Tensor;
import org.attnkit.util.Check;

/** Validation, dispatch and graph recording shared by {@link Sum} and {@link Mean}. */
final class Reductions {
    private Reductions() {
    }

    /**
     * Reduces x over {@code dims} (null means all dims, dropped). {@code mean} divides by the number
     * of elements summed into each output.
     */
    static Tensor apply(Kernels<ReduceKernels> kernels, Tensor x, int[] dims, boolean keepDim, boolean mean) {
        String op = kernels.op();
        Check.notNull(op, "x", x);
        boolean[] reduced = dims == null ? all(x.rank()) : reducedDims(op, x, dims);
        int[] inShape = x.shape().toArray();
        long count = 1;
        for (int d = 0; d < inShape.length; d++) {
            count *= reduced[d] ? inShape[d] : 1;
        }
        // An empty reduction gives a mean of 0 * (1/0) = NaN, as in PyTorch.
        double scale = mean ? 1.0 / count : 1.0;
        ReduceKernels k = kernels.select(x);
        Tensor y = k.forward(x, reduced, keepDim, scale);
        return Autograd.record(op, y,
                (dy, needs) -> new Tensor[] {k.backward(dy, inShape, reduced, scale)}, x);
    }

    private static boolean[] all(int rank) {
        boolean[] r = new boolean[rank];
        Arrays.fill(r, true);
        return r;
    }

    private static boolean[] reducedDims(String op, Tensor x, int[] dims) {
        int rank = x.rank();
        if (dims.length == 0) {
            throw new IllegalArgumentException(op + ": dims must name at least one dimension, got []; use "
                    + op + "(x) to reduce over all elements");
        }
        boolean[] reduced = new boolean[rank];
        for (int dim : dims) {
            if (dim < -rank || dim >= rank) {
                throw new IllegalArgumentException(op + ": dim " + dim + " is out of range [" + (-rank) + ", "
                        + (rank - 1) + "] for x of rank " + rank + " with shape " + x.shape());
            }
            int axis = dim < 0 ? dim + rank : dim;
            if (reduced[axis]) {
                throw new IllegalArgumentException(op + ": dims " + Arrays.toString(dims) + " name dimension "
                        + axis + " more than once (dim " + dim + ")");
            }
            reduced[axis] = true;
        }
        return reduced;
    }

    /** The shape of the result: reduced dims become 1 (keepDim) or are dropped. */
    static int[] outputShape(int[] inShape, boolean[] reduced, boolean keepDim) {
        int kept = 0;
        for (boolean r : reduced) {
            kept += r ? 0 : 1;
        }
        int[] out = new int[keepDim ? inShape.length : kept];
        int j = 0;
        for (int d = 0; d < inShape.length; d++) {
            if (!reduced[d]) {
                out[j++] = inShape[d];
            } else if (keepDim) {
                out[j++] = 1;
            }
        }
        return out;
    }
}
