package org.attnkit.ops.dropout;

import static org.attnkit.backend.cuda.CudaTensors.address;

import org.attnkit.backend.cuda.AttnkitNative;
import org.attnkit.backend.cuda.Cuda;
import org.attnkit.backend.cuda.CudaTensors;
import org.attnkit.backend.cuda.NativeCalls;
import org.attnkit.tensor.Tensor;

/**
 * {@link Dropout} on CUDA ({@code cuda/pointwise.cu}): the mask of element i is regenerated on the
 * device from {@code cuda/common.cuh}'s Philox, the same code whose host build is tested bit for bit
 * against {@code org.attnkit.random.Philox} (CudaWithoutGpuTest), so CPU and GPU drop the same elements.
 * The native library is touched only after {@link Cuda#requireAvailable} passed. Compiled and verified on an H200
 * (2026-12-04: the CUDA equivalence tests pass).
 */
final class DropoutCuda implements DropoutKernels {
    @Override
    public Tensor forward(Tensor x, double p, long seed, long offset) {
        return run("dropout forward", x, p, seed, offset);
    }

    @Override
    public Tensor backward(Tensor dy, double p, long seed, long offset) {
        return run("dropout backward", dy, p, seed, offset);
    }

    private static Tensor run(String what, Tensor in, double p, long seed, long offset) {
        Cuda.requireAvailable(what);
        Tensor out = CudaTensors.empty(in.device(), in.shape().toArray());
        if (out.numel() > 0) {
            CudaTensors.enter(in.device());
            NativeCalls.check(what, AttnkitNative.attnkit_dropout(address(out, "out"), address(in, "in"), in.numel(),
                    p, seed, offset));
        }
        return out;
    }
}
