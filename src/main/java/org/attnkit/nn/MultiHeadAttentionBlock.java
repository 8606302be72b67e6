package org.attnkit.nn;

import java.util.SplittableRandom;
import org.attnkit.ops.attention.Attention;
import org.attnkit.tensor.Tensor;

/**
 * Self-attention encoder layer: {@code y = Attention(x Wq, x Wk, x Wv; H heads) Wo} (bidirectional, no
 * padding), then the residual, LayerNorm and feed-forward of {@link EncoderLayer}.
 */
public final class MultiHeadAttentionBlock extends EncoderLayer {
    private final Linear q;
    private final Linear k;
    private final Linear v;
    private final Linear out;

    public MultiHeadAttentionBlock(SplittableRandom rng, LayerConfig config) {
        super(rng, config);
        int d = config.dim();
        q = child("q", new Linear(rng, d, d, true));
        k = child("k", new Linear(rng, d, d, true));
        v = child("v", new Linear(rng, d, d, true));
        out = child("out", new Linear(rng, d, d, true));
    }

    @Override
    protected Tensor mix(Tensor x) {
        Tensor o = Attention.apply(q.forward(x), k.forward(x), v.forward(x), config.heads(), false, null);
        return out.forward(o);
    }
}
