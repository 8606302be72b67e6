package org.attnkit.ops.reduce;

import static org.attnkit.backend.cuda.CudaTensors.address;

import java.util.Arrays;
import org.attnkit.backend.cuda.AttnkitNative;
import org.attnkit.backend.cuda.Cuda;
import org.attnkit.backend.cuda.CudaTensors;
import org.attnkit.backend.cuda.NativeCalls;
import org.attnkit.tensor.Tensor;

/**
 * {@link Sum} and {@link Mean} on CUDA ({@code cuda/pointwise.cu}) when the reduced dims are a suffix
 * of x's dims (the last dim, or everything: a loss mean) or a prefix (a bias gradient): x is then a
 * [rows, cols] view summed along one axis in a fixed order (deterministic). Any other set of dims throws
 * {@link UnsupportedOperationException} naming them, before availability is asked. The native library is
 * touched only after {@link Cuda#requireAvailable} passed. Compiled; NOT yet run on a GPU.
 */
final class ReduceCuda implements ReduceKernels {
    private final String op;

    ReduceCuda(String op) {
        this.op = op;
    }

    /** {rows, cols, axis}: axis 1 sums the trailing (reduced) cols, axis 0 the leading (reduced) rows. */
    private long[] view(int[] shape, boolean[] reduced) {
        int rank = shape.length;
        int k = 0;
        while (k < rank && !reduced[k]) {
            k++;
        }
        int end = k;
        while (end < rank && reduced[end]) {
            end++;
        }
        long rows = 1;
        long cols = 1;
        if (end == rank) {
            // reduced = [k, rank): a suffix
            for (int d = 0; d < k; d++) {
                rows *= shape[d];
            }
            for (int d = k; d < rank; d++) {
                cols *= shape[d];
            }
            return new long[] {rows, cols, 1};
        }
        if (k == 0 && noneFrom(reduced, end)) {
            // reduced = [0, end): a prefix
            for (int d = 0; d < end; d++) {
                rows *= shape[d];
            }
            for (int d = end; d < rank; d++) {
                cols *= shape[d];
            }
            return new long[] {rows, cols, 0};
        }
        throw new UnsupportedOperationException(op + " on CUDA reduces a leading or a trailing run of dims; got dims "
                + Arrays.toString(reducedDims(reduced)) + " of shape " + Arrays.toString(shape)
                + " (permute them to the end first, or reduce on the cpu)");
    }

    private static boolean noneFrom(boolean[] reduced, int from) {
        for (int d = from; d < reduced.length; d++) {
            if (reduced[d]) {
                return false;
            }
        }
        return true;
    }

    private static int[] reducedDims(boolean[] reduced) {
        return java.util.stream.IntStream.range(0, reduced.length).filter(d -> reduced[d]).toArray();
    }

    @Override
    public Tensor forward(Tensor x, boolean[] reduced, boolean keepDim, double scale) {
        int[] shape = x.shape().toArray();
        long[] v = view(shape, reduced);
        Cuda.requireAvailable(op + " forward");
        Tensor y = CudaTensors.empty(x.device(), Reductions.outputShape(shape, reduced, keepDim));
        if (y.numel() > 0) {
            CudaTensors.enter(x.device());
            NativeCalls.check(op + " forward", AttnkitNative.attnkit_reduce_sum(address(y, "y"),
                    x.numel() == 0 ? 0 : address(x, "x"), v[0], v[1], (int) v[2], scale));
        }
        return y;
    }

    @Override
    public Tensor backward(Tensor dy, int[] inShape, boolean[] reduced, double scale) {
        long[] v = view(inShape, reduced);
        Cuda.requireAvailable(op + " backward");
        Tensor dx = CudaTensors.empty(dy.device(), inShape);
        if (dx.numel() > 0) {
            CudaTensors.enter(dy.device());
            NativeCalls.check(op + " backward", AttnkitNative.attnkit_expand(address(dx, "dx"), address(dy, "dy"),
                    v[0], v[1], (int) v[2], scale));
        }
        return dx;
    }
}
