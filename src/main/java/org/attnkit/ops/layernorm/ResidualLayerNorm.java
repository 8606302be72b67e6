package org.attnkit.ops.layernorm;

import org.attnkit.autograd.Autograd;
import org.attnkit.backend.Backend;
import org.attnkit.backend.Kernels;
import org.attnkit.tensor.Tensor;
import org.attnkit.util.Check;

/**
 * The end of an encoder sub-block, fused (SPEC 5.3): dropout on the sub-block's output x, the residual
 * add and a LayerNorm, in one pass over memory on CUDA.
 * <pre>
 *   sum        = residual + dropout(x)          dropout: element i (flat row-major index) kept iff
 *                                               Philox.keep(seed, offset, i, p), survivors times 1/(1-p)
 *   normalized = LayerNorm(sum; gamma, beta, eps)  over the last dim, as {@link LayerNorm}
 * </pre>
 * Both outputs are returned because the two block layouts need different ones:
 * <ul>
 *   <li>Post-LN, {@code x = LN(x + drop(F(x)))}: the next input is {@code normalized}
 *   ({@code sum} is unused, and gets no gradient);</li>
 *   <li>Pre-LN, {@code x = x + drop(F(LN1(x)))} followed by the next sub-block's {@code LN2(x)}: the residual
 *   stream continues with {@code sum} and the next sub-block reads {@code normalized}, computed with LN2's
 *   gamma and beta.</li>
 * </ul>
 * The mask is exactly {@link org.attnkit.ops.dropout.Dropout}'s for the same (p, seed, offset), so this
 * equals {@code LayerNorm.apply(Add.apply(residual, Dropout.apply(x, p, seed, offset)), gamma, beta, eps)}
 * (and the reference and SIMD backends are that composition). {@code p = 0} is no dropout.
 *
 * <p>Graph: {@code sum} is a node of (x, residual) whose backward is {@code dresidual = dsum},
 * {@code dx = dsum * mask / (1-p)} (nothing saved, the mask is regenerated); {@code normalized} is a node
 * of (sum, gamma, beta) that saves sum and the per-row mean and rstd and runs LayerNorm's backward.
 * Gradients reaching {@code sum} from both (Pre-LN) are added by autograd before the first runs.
 */
public final class ResidualLayerNorm {
    private static final String OP = "residual_layer_norm";

    static final Kernels<ResidualLayerNormKernels> KERNELS = Kernels.of(OP,
                    (ResidualLayerNormKernels) new ResidualLayerNormComposite())
            .with(Backend.SIMD, new ResidualLayerNormComposite()).with(Backend.CUDA, new ResidualLayerNormCuda());

    /**
     * The two outputs.
     *
     * @param sum        {@code residual + dropout(x)}: the residual stream of a Pre-LN block
     * @param normalized {@code LayerNorm(sum)}: the output of a Post-LN block, or the next Pre-LN sub-block's input
     */
    public record Result(Tensor sum, Tensor normalized) {
    }

    private ResidualLayerNorm() {
    }

    /** With eps = {@value LayerNorm#DEFAULT_EPS}. */
    public static Result apply(Tensor x, Tensor residual, double p, long seed, long offset, Tensor gamma,
            Tensor beta) {
        return apply(x, residual, p, seed, offset, gamma, beta, LayerNorm.DEFAULT_EPS);
    }

    /**
     * @param x        the sub-block's output {@code [..., D]} (rank >= 1, D >= 1)
     * @param residual the sub-block's input, x's shape
     * @param p        dropout probability in [0, 1)
     * @param seed     dropout seed, as {@link org.attnkit.ops.dropout.Dropout}
     * @param offset   dropout stream offset (e.g. the training step)
     * @param gamma    {@code [D]} or null (scale 1)
     * @param beta     {@code [D]} or null (shift 0)
     * @param eps      > 0 and finite
     */
    public static Result apply(Tensor x, Tensor residual, double p, long seed, long offset, Tensor gamma, Tensor beta,
            double eps) {
        Check.notNull(OP, "x", x);
        Check.notNull(OP, "residual", residual);
        if (!residual.shape().equals(x.shape())) {
            throw new IllegalArgumentException(OP + ": residual must have x's shape " + x.shape() + ", got "
                    + residual.shape());
        }
        LayerNorm.checkNormalized(OP, x, gamma, beta);
        Check.sameDeviceAndType(OP, "x", x, "residual", residual, "gamma", gamma, "beta", beta);
        Check.probability(OP, "p", p);
        LayerNorm.checkEps(OP, eps);
        ResidualLayerNormKernels k = KERNELS.select(x);
        ResidualLayerNormKernels.Forward f = k.forward(x, residual, p, seed, offset, gamma, beta, eps);
        Tensor sum = Autograd.record(OP, f.sum(),
                (ds, needs) -> new Tensor[] {needs[0] ? k.dropoutBackward(ds, p, seed, offset) : null, ds}, x, residual);
        Tensor mean = f.mean();
        Tensor rstd = f.rstd();
        Tensor y = Autograd.record(OP, f.y(), (dy, needs) -> k.normBackward(sum, gamma, mean, rstd, dy, needs), sum,
                gamma, beta);
        return new Result(sum, y);
    }
}
