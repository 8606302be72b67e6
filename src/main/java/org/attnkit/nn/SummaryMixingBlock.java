package org.attnkit.nn;

import java.util.SplittableRandom;
import org.attnkit.ops.activation.Gelu;
import org.attnkit.ops.arith.Add;
import org.attnkit.ops.reduce.Mean;
import org.attnkit.tensor.Tensor;

/**
 * SummaryMixing (Parcollet et al., SPEC 5.1), a linear-time replacement for self-attention:
 * <pre>
 *   f_t  = gelu(W_f x_t + b_f)            local branch   [B,T,dl]
 *   s_t  = gelu(W_s x_t + b_s)            summary branch [B,T,ds]
 *   sbar = mean_t s_t                     one summary per sequence (no padding: every frame is valid)
 *   y_t  = gelu(W_c [f_t; sbar] + b_c)    combiner       [B,T,D]
 * </pre>
 * The masked mean is composed from {@link Mean} (its gradient is {@code ds_t = dsbar / T}); the summary
 * is broadcast over time by adding it to zeros.
 */
public final class SummaryMixingBlock extends EncoderLayer {
    private final Linear local;
    private final Linear summary;
    private final Linear combine;

    public SummaryMixingBlock(SplittableRandom rng, LayerConfig config, int localDim, int summaryDim) {
        super(rng, config);
        int d = config.dim();
        local = child("local", new Linear(rng, d, localDim, true));
        summary = child("summary", new Linear(rng, d, summaryDim, true));
        combine = child("combine", new Linear(rng, localDim + summaryDim, d, true));
    }

    @Override
    protected Tensor mix(Tensor x) {
        Tensor f = Gelu.apply(local.forward(x));
        Tensor s = Gelu.apply(summary.forward(x));
        Tensor sbar = Mean.apply(s, 1, true); // [B,1,ds]
        Tensor sbarT = Add.apply(Tensor.zeros(s.device(), s.shape().toArray()), sbar); // [B,T,ds]
        return Gelu.apply(combine.forward(Tensor.concat(-1, f, sbarT)));
    }
}
