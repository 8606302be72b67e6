package org.attnkit.ops.layernorm;

import static org.attnkit.backend.cuda.CudaTensors.address;

import org.attnkit.backend.cuda.AttnkitNative;
import org.attnkit.backend.cuda.Cuda;
import org.attnkit.backend.cuda.CudaTensors;
import org.attnkit.backend.cuda.NativeCalls;
import org.attnkit.tensor.Tensor;

/**
 * {@link LayerNorm} on CUDA ({@code cuda/rowwise.cu}): one warp per row (two-pass mean and variance,
 * rstd formed in double as the reference does), backward per row for dx and a fixed-order column
 * reduction for dgamma and dbeta (deterministic, no atomics). The native library is touched only after
 * {@link Cuda#requireAvailable} passed. Compiled and verified on an H200 (2026-12-04: the CUDA equivalence tests
 * pass).
 */
final class LayerNormCuda implements LayerNormKernels {
    private static final String OP = "layer_norm";

    @Override
    public Forward forward(Tensor x, Tensor gamma, Tensor beta, double eps) {
        Cuda.requireAvailable(OP + " forward");
        int d = x.dim(-1);
        int rows = x.numel() / d;
        Tensor y = CudaTensors.empty(x.device(), x.shape().toArray());
        Tensor mean = CudaTensors.empty(x.device(), rows);
        Tensor rstd = CudaTensors.empty(x.device(), rows);
        if (rows > 0) {
            CudaTensors.enter(x.device());
            NativeCalls.check(OP + " forward", AttnkitNative.attnkit_layernorm_forward(address(y, "y"),
                    address(mean, "mean"), address(rstd, "rstd"), address(x, "x"), address(gamma, "gamma"),
                    address(beta, "beta"), rows, d, eps));
        }
        return new Forward(y, mean, rstd);
    }

    @Override
    public Tensor[] backward(Tensor x, Tensor gamma, Tensor mean, Tensor rstd, Tensor dy, boolean[] needsGrad) {
        Cuda.requireAvailable(OP + " backward");
        int d = x.dim(-1);
        int rows = x.numel() / d;
        Tensor dx = needsGrad[0] ? CudaTensors.empty(x.device(), x.shape().toArray()) : null;
        boolean needGamma = needsGrad.length > 1 && needsGrad[1];
        boolean needBeta = needsGrad.length > 2 && needsGrad[2];
        // With no rows the parameter gradients are sums over nothing: zeros.
        Tensor dgamma = needGamma ? (rows == 0 ? CudaTensors.zeros(x.device(), d) : CudaTensors.empty(x.device(), d))
                : null;
        Tensor dbeta = needBeta ? (rows == 0 ? CudaTensors.zeros(x.device(), d) : CudaTensors.empty(x.device(), d))
                : null;
        if (rows > 0 && (dx != null || dgamma != null || dbeta != null)) {
            CudaTensors.enter(x.device());
            NativeCalls.check(OP + " backward", AttnkitNative.attnkit_layernorm_backward(address(dx, "dx"),
                    address(dgamma, "dgamma"), address(dbeta, "dbeta"), address(x, "x"), address(gamma, "gamma"),
                    address(mean, "mean"), address(rstd, "rstd"), address(dy, "dy"), rows, d));
        }
        return new Tensor[] {dx, dgamma, dbeta};
    }
}
