package org.attnkit.nn;

import java.util.SplittableRandom;
import org.attnkit.ops.arith.Add;
import org.attnkit.ops.layernorm.ResidualLayerNorm;
import org.attnkit.ops.linear.LinearEpilogue;
import org.attnkit.tensor.Tensor;

/**
 * One encoder layer as in fairseq's {@code LightConvEncoderLayer} (SPEC 1.4): a token-mixing sub-block
 * ({@link #mix}) and a feed-forward sub-block, each with dropout, a residual add and LayerNorm before
 * (Pre-LN) or after (Post-LN):
 * <pre>
 *   Post-LN: x = LN1(x + drop(mix(x)));        x = LN2(x + drop(W2 relu(W1 x)))
 *   Pre-LN:  x = x + drop(mix(LN1(x)));        x = x + drop(W2 relu(W1 LN2(x)))
 * </pre>
 * Subclasses supply the mixer: attention, LightConv, DynamicConv, the head mixture, SummaryMixing or
 * talking heads.
 */
public abstract class EncoderLayer extends Module {
    protected final LayerConfig config;
    // Package-private so EncoderLayerFusionTest can rebuild the unfused graph from the same modules.
    final LayerNorm norm1;
    final LayerNorm norm2;
    final Linear ff1;
    final Linear ff2;
    final Dropout drop1;
    final Dropout drop2;

    protected EncoderLayer(SplittableRandom rng, LayerConfig config) {
        this.config = config;
        norm1 = child("norm1", new LayerNorm(config.dim()));
        drop1 = child("drop1", new Dropout(config.dropout(), config.seed() * 31 + 1));
        if (config.ffn() > 0) {
            norm2 = child("norm2", new LayerNorm(config.dim()));
            ff1 = child("ff1", new Linear(rng, config.dim(), config.ffn(), true));
            ff2 = child("ff2", new Linear(rng, config.ffn(), config.dim(), true));
            drop2 = child("drop2", new Dropout(config.dropout(), config.seed() * 31 + 2));
        } else {
            norm2 = null;
            ff1 = null;
            ff2 = null;
            drop2 = null;
        }
    }

    /** The token mixer, {@code [B,T,D] -> [B,T,D]}. */
    protected abstract Tensor mix(Tensor x);

    /**
     * Each dropout + residual add + LayerNorm is one {@link ResidualLayerNorm} (one pass over memory on CUDA;
     * the same bits as the three ops on the CPU). Pre-LN fuses the mixer's residual with LN2, whose output
     * feeds the feed-forward while the sum carries the residual stream.
     */
    public Tensor forward(Tensor x) {
        if (!config.preNorm()) {
            x = drop1.addThenNormalize(mix(x), x, norm1).normalized();
            return ff1 == null ? x : drop2.addThenNormalize(feedForward(x), x, norm2).normalized();
        }
        Tensor h = mix(norm1.forward(x));
        if (ff1 == null) {
            return Add.apply(x, drop1.forward(h));
        }
        ResidualLayerNorm.Result r = drop1.addThenNormalize(h, x, norm2);
        return Add.apply(r.sum(), drop2.forward(feedForward(r.normalized())));
    }

    private Tensor feedForward(Tensor x) {
        return ff2.forward(ff1.forward(x, LinearEpilogue.Activation.RELU));
    }
}
