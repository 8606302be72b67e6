package org.attnkit.ops.reduce;

import static org.attnkit.backend.cuda.CudaTensors.address;

import java.util.Arrays;
import org.attnkit.backend.cuda.AttnkitNative;
import org.attnkit.backend.cuda.Cuda;
import org.attnkit.backend.cuda.CudaTensors;
import org.attnkit.backend.cuda.NativeCalls;
import org.attnkit.ops.shape.StridedOps;
import org.attnkit.tensor.Tensor;

/**
 * {@link Sum} and {@link Mean} on CUDA. When the reduced dims are a suffix of x's dims (the last dim, or
 * everything: a loss mean) or a prefix (a bias gradient), x is a [rows, cols] view summed along one axis
 * in a fixed order ({@code cuda/pointwise.cu}). Any other set of dims (a mean over time of [B,T,D], several
 * runs) uses the strided sum of {@code cuda/shape.cu} (one thread per output, double accumulation in the
 * reference's order) and its backward the strided copy with stride 0 along the reduced dims; ranks above
 * {@value AttnkitNative#MAX_RANK} throw {@link UnsupportedOperationException} naming the dims, before
 * availability is asked. All deterministic. The native library is
 * touched only after {@link Cuda#requireAvailable} passed. Compiled and verified on an H200 (2026-12-04: the CUDA
 * equivalence tests pass).
 */
final class ReduceCuda implements ReduceKernels {
    private final String op;
    private final StridedOps ops;

    ReduceCuda(String op) {
        this(op, StridedOps.CUDA);
    }

    /** With other strided primitives for the general path (tests: a host emulation of the kernels' contract). */
    ReduceCuda(String op, StridedOps ops) {
        this.op = op;
        this.ops = ops;
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
        if (rank > AttnkitNative.MAX_RANK) {
            throw new UnsupportedOperationException(op + " on CUDA reduces tensors of rank <= " + AttnkitNative.MAX_RANK
                    + " when the dims are not a leading or trailing run; got dims "
                    + Arrays.toString(reducedDims(reduced)) + " of shape " + Arrays.toString(shape));
        }
        return null;
    }

    /** {keptDims, keptStrides, redDims, redStrides} of x's contiguous layout. */
    private static int[][] split(int[] shape, boolean[] reduced) {
        int rank = shape.length;
        int[] strides = new int[rank];
        int acc = 1;
        for (int d = rank - 1; d >= 0; d--) {
            strides[d] = acc;
            acc *= shape[d];
        }
        int nr = reducedDims(reduced).length;
        int[][] out = {new int[rank - nr], new int[rank - nr], new int[nr], new int[nr]};
        int k = 0;
        int r = 0;
        for (int d = 0; d < rank; d++) {
            if (reduced[d]) {
                out[2][r] = shape[d];
                out[3][r++] = strides[d];
            } else {
                out[0][k] = shape[d];
                out[1][k++] = strides[d];
            }
        }
        return out;
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
        if (v == null) {
            // Reduced dims in the middle (or several runs): one thread per output, a fixed-order sum in double.
            ops.requireAvailable(op + " forward");
            Tensor y = ops.empty(x.device(), Reductions.outputShape(shape, reduced, keepDim));
            if (y.numel() > 0) {
                int[][] sp = split(shape, reduced);
                ops.sum(op + " forward", y, x.numel() == 0 ? null : x, sp[0], sp[1], sp[2], sp[3], scale);
            }
            return y;
        }
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
        if (v == null) {
            // dx = scale * dy read with stride 0 along the reduced dims.
            ops.requireAvailable(op + " backward");
            Tensor dx = ops.empty(dy.device(), inShape);
            if (dx.numel() > 0) {
                int rank = inShape.length;
                int[] out = new int[rank];
                int[] read = new int[rank];
                int acc = 1;
                int keptAcc = 1;
                for (int d = rank - 1; d >= 0; d--) {
                    out[d] = acc;
                    acc *= inShape[d];
                    if (!reduced[d]) {
                        read[d] = keptAcc;
                        keptAcc *= inShape[d];
                    }
                }
                ops.copy(op + " backward", dx, 0, out, dy, 0, read, inShape, scale);
            }
            return dx;
        }
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
