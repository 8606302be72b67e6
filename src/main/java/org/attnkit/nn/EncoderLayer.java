package org.attnkit.nn;

import java.util.SplittableRandom;
import org.attnkit.ops.linear.LinearEpilogue;
import org.attnkit.ops.arith.Add;
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
    private final LayerNorm norm1;
    private final LayerNorm norm2;
    private final Linear ff1;
    private final Linear ff2;
    private final Dropout drop1;
    private final Dropout drop2;

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

    public Tensor forward(Tensor x) {
        boolean pre = config.preNorm();
        Tensor h = mix(pre ? norm1.forward(x) : x);
        x = Add.apply(x, drop1.forward(h));
        if (!pre) {
            x = norm1.forward(x);
        }
        if (ff1 == null) {
            return x;
        }
        h = ff2.forward(ff1.forward(pre ? norm2.forward(x) : x, LinearEpilogue.Activation.RELU));
        x = Add.apply(x, drop2.forward(h));
        return pre ? x : norm2.forward(x);
    }
}
