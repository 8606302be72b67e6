package org.attnkit.ops.softmax;

import static org.attnkit.backend.cuda.CudaTensors.address;

import org.attnkit.backend.cuda.AttnkitNative;
import org.attnkit.backend.cuda.Cuda;
import org.attnkit.backend.cuda.CudaTensors;
import org.attnkit.backend.cuda.NativeCalls;
import org.attnkit.tensor.Tensor;

/**
 * {@link Softmax} and {@link LogSoftmax} on CUDA ({@code cuda/rowwise.cu}): one warp per line of the
 * [outer, n, inner] view around the axis, any axis. The native library is touched only after
 * {@link Cuda#requireAvailable} passed. Compiled and verified on an H200 (2026-12-04: the CUDA equivalence tests
 * pass).
 */
final class SoftmaxCuda implements SoftmaxKernels {
    @Override
    public Tensor softmax(Tensor x, int axis) {
        return run("softmax forward", 0, x, null, axis);
    }

    @Override
    public Tensor softmaxBackward(Tensor y, Tensor dy, int axis) {
        return run("softmax backward", 2, y, dy, axis);
    }

    @Override
    public Tensor logSoftmax(Tensor x, int axis) {
        return run("log_softmax forward", 1, x, null, axis);
    }

    @Override
    public Tensor logSoftmaxBackward(Tensor y, Tensor dy, int axis) {
        return run("log_softmax backward", 3, y, dy, axis);
    }

    private static Tensor run(String what, int kind, Tensor v, Tensor dy, int axis) {
        Cuda.requireAvailable(what);
        int[] shape = v.shape().toArray();
        Tensor out = CudaTensors.empty(v.device(), shape);
        if (out.numel() == 0) {
            return out;
        }
        int outer = v.shape().numel(0, axis);
        int inner = v.shape().numel(axis + 1, shape.length);
        CudaTensors.enter(v.device());
        NativeCalls.check(what, AttnkitNative.attnkit_softmax(address(out, "out"), address(v, kind < 2 ? "x" : "y"),
                address(dy, "dy"), outer, shape[axis], inner, kind));
        return out;
    }
}
