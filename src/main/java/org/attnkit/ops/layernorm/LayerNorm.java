package org.attnkit.ops.layernorm;

import org.attnkit.autograd.Autograd;
import org.attnkit.backend.Backend;
import org.attnkit.backend.Kernels;
import org.attnkit.tensor.Tensor;
import org.attnkit.util.Check;

/**
 * Layer normalization over the last dimension (SPEC 5.3): for x {@code [..., D]} (rank >= 1, D >= 1),
 * each row of D values gets {@code y = gamma * (x - mean) / sqrt(var + eps) + beta}, with the biased
 * variance {@code var = mean((x - mean)^2)}. gamma and beta are {@code [D]} and each may be null
 * (scale 1, shift 0). The output has the shape and dtype of x; the reference keeps the statistics in
 * double.
 *
 * <p>Backward saves x and the per-row mean and {@code rstd = 1/sqrt(var + eps)} ({@code [numel/D]}
 * each) and computes, with {@code xhat = (x - mean) * rstd} and {@code g = gamma * dy}:
 * {@code dx = rstd * (g - mean(g) - xhat * mean(g * xhat))}, {@code dgamma = sum_rows dy * xhat},
 * {@code dbeta = sum_rows dy}.
 */
public final class LayerNorm {
    /** fairseq's and PyTorch's default. */
    public static final double DEFAULT_EPS = 1e-5;

    static final Kernels<LayerNormKernels> KERNELS = Kernels.of("layer_norm", (LayerNormKernels) new LayerNormRef())
            .with(Backend.SIMD, new LayerNormSimdKernels()).with(Backend.CUDA, new LayerNormCuda());

    private static final String OP = "layer_norm";

    private LayerNorm() {
    }

    /** Layer norm with eps = {@value #DEFAULT_EPS}. */
    public static Tensor apply(Tensor x, Tensor gamma, Tensor beta) {
        return apply(x, gamma, beta, DEFAULT_EPS);
    }

    public static Tensor apply(Tensor x, Tensor gamma, Tensor beta, double eps) {
        Check.notNull(OP, "x", x);
        checkNormalized(OP, x, gamma, beta);
        Check.sameDeviceAndType(OP, "x", x, "gamma", gamma, "beta", beta);
        checkEps(OP, eps);
        LayerNormKernels k = KERNELS.select(x);
        LayerNormKernels.Forward f = k.forward(x, gamma, beta, eps);
        Tensor mean = f.mean();
        Tensor rstd = f.rstd();
        return Autograd.record(OP, f.y(), (dy, needs) -> k.backward(x, gamma, mean, rstd, dy, needs), x, gamma, beta);
    }

    /**
     * The shape checks of a LayerNorm over the last dim, under {@code op}'s name (shared with
     * {@link ResidualLayerNorm}): x [..., D] with D >= 1, and gamma, beta [D] where not null.
     */
    static void checkNormalized(String op, Tensor x, Tensor gamma, Tensor beta) {
        if (x.rank() < 1) {
            throw new IllegalArgumentException(op + ": x must have rank >= 1 [..., D], got a rank-0 tensor");
        }
        int d = x.dim(-1);
        if (d < 1) {
            throw new IllegalArgumentException(op + ": x must have a last dimension D >= 1 to normalize over, got "
                    + d + " in shape " + x.shape());
        }
        if (gamma != null) {
            Check.shape(op, "gamma", gamma, "[D]", d);
        }
        if (beta != null) {
            Check.shape(op, "beta", beta, "[D]", d);
        }
    }

    /** eps > 0 and finite, under {@code op}'s name. */
    static void checkEps(String op, double eps) {
        if (!(eps > 0) || !Double.isFinite(eps)) {
            throw new IllegalArgumentException(op + ": eps must be > 0 and finite, got " + eps);
        }
    }
}
