package org.attnkit.optim;

import java.util.List;
import org.attnkit.tensor.Tensor;

/** Gradient clipping by global norm, as PyTorch's {@code clip_grad_norm_}. */
public final class GradClip {
    private GradClip() {
    }

    /**
     * Scales every gradient by {@code min(1, maxNorm / (norm + 1e-6))}, where norm is the L2 norm of all
     * gradients together, and returns that norm (before clipping). Gradients are replaced by scaled
     * copies, never changed in place (a backward rule may hand the same tensor to several inputs).
     * Gradients on a CUDA device stay there: their squares are summed on the device (in double, a fixed
     * order per tensor; the tensors' sums are added on the host in parameter order) and the scaled copies
     * are made there ({@code (float) (g * coef)} in double, as on the CPU). The norm may differ from the
     * all-host sum in the last bits (another summation order); the scaling is the same arithmetic.
     */
    public static double clipGlobalNorm(List<Tensor> params, double maxNorm) {
        if (!(maxNorm > 0)) {
            throw new IllegalArgumentException("clipGlobalNorm: maxNorm must be > 0, got " + maxNorm);
        }
        double sq = 0;
        for (Tensor p : params) {
            if (p.grad() != null && !p.grad().device().isCpu()) {
                sq += OptimCuda.sumSquares(p.grad());
            } else if (p.grad() != null) {
                for (double g : p.grad().toDoubleArray()) {
                    sq += g * g;
                }
            }
        }
        double norm = Math.sqrt(sq);
        double coef = maxNorm / (norm + 1e-6);
        if (coef < 1) {
            for (Tensor p : params) {
                Tensor g = p.grad();
                if (g != null && !g.device().isCpu()) {
                    Tensor scaled = OptimCuda.scaled(g, coef);
                    p.zeroGrad();
                    p.accumulateGrad(scaled);
                } else if (g != null) {
                    float[] s = g.toArray();
                    for (int i = 0; i < s.length; i++) {
                        s[i] = (float) (s[i] * coef);
                    }
                    p.zeroGrad();
                    p.accumulateGrad(Tensor.wrap(s, g.shape().toArray()));
                }
            }
        }
        return norm;
    }
}
