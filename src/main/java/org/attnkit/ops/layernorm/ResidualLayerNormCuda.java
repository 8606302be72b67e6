package org.attnkit.ops.layernorm;

import static org.attnkit.backend.cuda.CudaTensors.address;

import org.attnkit.backend.cuda.AttnkitNative;
import org.attnkit.backend.cuda.Cuda;
import org.attnkit.backend.cuda.CudaTensors;
import org.attnkit.backend.cuda.NativeCalls;
import org.attnkit.tensor.Tensor;

/**
 * {@link ResidualLayerNorm} on CUDA: the forward is one kernel ({@code cuda/layernorm_residual.cu}, one warp
 * per row: residual + masked x written once, then normalised in the same pass), with the arithmetic of the
 * unfused CUDA dropout, add and LayerNorm kernels so that both give the same bits. The backward is
 * LayerNorm's CUDA backward and the CUDA dropout mask (through {@link ResidualLayerNormComposite}, whose
 * calls dispatch to CUDA here). The native library is touched only after {@link Cuda#requireAvailable}
 * passed. Compiled and verified on an H200 (2026-12-04: the CUDA equivalence tests pass).
 */
final class ResidualLayerNormCuda implements ResidualLayerNormKernels {
    private static final String OP = "residual_layer_norm";
    private final ResidualLayerNormComposite backward = new ResidualLayerNormComposite();

    @Override
    public Forward forward(Tensor x, Tensor residual, double p, long seed, long offset, Tensor gamma, Tensor beta,
            double eps) {
        Cuda.requireAvailable(OP + " forward");
        int d = x.dim(-1);
        int rows = x.numel() / d;
        int[] shape = x.shape().toArray();
        Tensor sum = CudaTensors.empty(x.device(), shape);
        Tensor y = CudaTensors.empty(x.device(), shape);
        Tensor mean = CudaTensors.empty(x.device(), rows);
        Tensor rstd = CudaTensors.empty(x.device(), rows);
        if (rows > 0) {
            CudaTensors.enter(x.device());
            NativeCalls.check(OP + " forward", AttnkitNative.attnkit_residual_layernorm_forward(address(sum, "sum"),
                    address(y, "y"), address(mean, "mean"), address(rstd, "rstd"), address(x, "x"),
                    address(residual, "residual"), address(gamma, "gamma"), address(beta, "beta"), rows, d, eps, p,
                    seed, offset));
        }
        return new Forward(sum, y, mean, rstd);
    }

    @Override
    public Tensor[] normBackward(Tensor sum, Tensor gamma, Tensor mean, Tensor rstd, Tensor dy, boolean[] needsGrad) {
        return backward.normBackward(sum, gamma, mean, rstd, dy, needsGrad);
    }

    @Override
    public Tensor dropoutBackward(Tensor dsum, double p, long seed, long offset) {
        return backward.dropoutBackward(dsum, p, seed, offset);
    }
}
