package org.attnkit.ops.mae;

import static org.attnkit.backend.cuda.CudaTensors.address;

import org.attnkit.backend.cuda.AttnkitNative;
import org.attnkit.backend.cuda.Cuda;
import org.attnkit.backend.cuda.CudaTensors;
import org.attnkit.backend.cuda.NativeCalls;
import org.attnkit.tensor.Tensor;

/**
 * {@link MaeGate} on the CUDA kernels of {@code cuda/mae.cu}. Compiled and verified on an H200 (2026-12-04: the CUDA
 * equivalence tests pass).
 */
final class MaeGateCuda implements MaeGateKernels {
    @Override
    public Tensor forward(Tensor x, Tensor w1, Tensor b1, Tensor w2, Tensor b2, boolean causal) {
        Cuda.requireAvailable(MaeGate.OP + " forward");
        int b = x.dim(0);
        int t = x.dim(1);
        int e = w2.dim(0);
        Tensor g = causal ? CudaTensors.empty(x.device(), b, t, e) : CudaTensors.empty(x.device(), b, e);
        CudaTensors.enter(x.device());
        NativeCalls.check(MaeGate.OP + " forward", AttnkitNative.attnkit_mae_gate_forward(address(g, "g"),
                address(x, "x"), address(w1, "w1"), address(b1, "b1"), address(w2, "w2"), address(b2, "b2"), b, t,
                x.dim(2), w1.dim(0), e, causal ? 1 : 0));
        return g;
    }

    @Override
    public Tensor[] backward(Tensor x, Tensor w1, Tensor b1, Tensor w2, Tensor b2, boolean causal, Tensor g, Tensor dg,
            boolean[] needs) {
        Cuda.requireAvailable(MaeGate.OP + " backward");
        Tensor dx = needs[0] ? CudaTensors.empty(x.device(), x.shape().toArray()) : null;
        Tensor dw1 = needs[1] ? CudaTensors.empty(x.device(), w1.shape().toArray()) : null;
        Tensor db1 = needs[2] && b1 != null ? CudaTensors.empty(x.device(), b1.shape().toArray()) : null;
        Tensor dw2 = needs[3] ? CudaTensors.empty(x.device(), w2.shape().toArray()) : null;
        Tensor db2 = needs[4] && b2 != null ? CudaTensors.empty(x.device(), b2.shape().toArray()) : null;
        CudaTensors.enter(x.device());
        NativeCalls.check(MaeGate.OP + " backward", AttnkitNative.attnkit_mae_gate_backward(address(dx, "dx"),
                address(dw1, "dw1"), address(db1, "db1"), address(dw2, "dw2"), address(db2, "db2"), address(x, "x"),
                address(w1, "w1"), address(b1, "b1"), address(w2, "w2"), address(b2, "b2"), address(g, "g"),
                address(dg, "dg"), x.dim(0), x.dim(1), x.dim(2), w1.dim(0), w2.dim(0), causal ? 1 : 0));
        return new Tensor[] {dx, dw1, db1, dw2, db2};
    }
}
