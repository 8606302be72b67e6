package org.attnkit.ops.glu;

import static org.attnkit.backend.cuda.CudaTensors.address;

import org.attnkit.backend.cuda.AttnkitNative;
import org.attnkit.backend.cuda.Cuda;
import org.attnkit.backend.cuda.CudaTensors;
import org.attnkit.backend.cuda.NativeCalls;
import org.attnkit.tensor.Shape;
import org.attnkit.tensor.Tensor;

/**
 * {@link Glu} on CUDA ({@code cuda/rowwise.cu}), any axis: seen as [outer, 2, m] with m = half * inner,
 * one thread per output. The native library is touched only after {@link Cuda#requireAvailable} passed.
 * Compiled and verified on an H200 (2026-12-04: the CUDA equivalence tests pass).
 */
final class GluCuda implements GluKernels {
    @Override
    public Tensor forward(Tensor x, int axis) {
        Cuda.requireAvailable("glu forward");
        int[] shape = x.shape().toArray();
        long[] om = outerAndHalf(shape, axis);
        shape[axis] /= 2;
        Tensor y = CudaTensors.empty(x.device(), shape);
        if (y.numel() > 0) {
            CudaTensors.enter(x.device());
            NativeCalls.check("glu forward", AttnkitNative.attnkit_glu_forward(address(y, "y"), address(x, "x"),
                    om[0], om[1]));
        }
        return y;
    }

    @Override
    public Tensor backward(Tensor x, int axis, Tensor dy) {
        Cuda.requireAvailable("glu backward");
        long[] om = outerAndHalf(x.shape().toArray(), axis);
        Tensor dx = CudaTensors.empty(x.device(), x.shape().toArray());
        if (dx.numel() > 0) {
            CudaTensors.enter(x.device());
            NativeCalls.check("glu backward", AttnkitNative.attnkit_glu_backward(address(dx, "dx"), address(x, "x"),
                    address(dy, "dy"), om[0], om[1]));
        }
        return dx;
    }

    /** {outer, m = half * inner} of the [outer, 2, m] view. */
    private static long[] outerAndHalf(int[] shape, int axis) {
        Shape s = Shape.of(shape);
        return new long[] {s.numel(0, axis), shape[axis] / 2 * (long) s.numel(axis + 1, shape.length)};
    }
}
