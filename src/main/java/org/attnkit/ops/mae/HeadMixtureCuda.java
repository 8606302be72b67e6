package org.attnkit.ops.mae;

import static org.attnkit.backend.cuda.CudaTensors.address;

import org.attnkit.backend.cuda.AttnkitNative;
import org.attnkit.backend.cuda.Cuda;
import org.attnkit.backend.cuda.CudaTensors;
import org.attnkit.backend.cuda.NativeCalls;
import org.attnkit.tensor.Tensor;

/**
 * {@link HeadMixture} on the CUDA kernels of {@code cuda/mae.cu}. Compiled and verified on an H200 (2026-12-04: the
 * CUDA equivalence tests pass).
 */
final class HeadMixtureCuda implements HeadMixtureKernels {
    @Override
    public Tensor forward(Tensor o, Tensor gate, Tensor membership, int headsPerExpert) {
        Cuda.requireAvailable(HeadMixture.OP + " forward");
        Tensor y = CudaTensors.empty(o.device(), o.shape().toArray());
        CudaTensors.enter(o.device());
        NativeCalls.check(HeadMixture.OP + " forward", AttnkitNative.attnkit_head_mixture_forward(address(y, "y"),
                address(o, "o"), address(gate, "gate"), address(membership, "membership"), o.dim(0), o.dim(1),
                o.dim(2), membership.dim(0), membership.dim(1), headsPerExpert, gate.rank() == 3 ? 1 : 0));
        return y;
    }

    @Override
    public Tensor[] backward(Tensor o, Tensor gate, Tensor membership, int headsPerExpert, Tensor dy,
            boolean[] needs) {
        Cuda.requireAvailable(HeadMixture.OP + " backward");
        Tensor dO = needs[0] ? CudaTensors.empty(o.device(), o.shape().toArray()) : null;
        Tensor dGate = needs[1] ? CudaTensors.empty(o.device(), gate.shape().toArray()) : null;
        CudaTensors.enter(o.device());
        NativeCalls.check(HeadMixture.OP + " backward", AttnkitNative.attnkit_head_mixture_backward(
                address(dO, "dO"), address(dGate, "dgate"), address(dy, "dy"), address(o, "o"), address(gate, "gate"),
                address(membership, "membership"), o.dim(0), o.dim(1), o.dim(2), membership.dim(0), membership.dim(1),
                headsPerExpert, gate.rank() == 3 ? 1 : 0));
        return new Tensor[] {dO, dGate};
    }
}
