package org.attnkit.nn;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.attnkit.ops.reduce.Mean;
import org.attnkit.tensor.Tensor;

/**
 * An {@link Encoder} with a linear classifier head: per token ({@code [B,T,classes]}) or, with
 * {@code pooled}, per sequence from the mean over time ({@code [B,classes]}).
 */
public final class TokenClassifier extends Module {
    public final Encoder encoder;
    private final Linear head;
    public final boolean pooled;

    public TokenClassifier(SplittableRandom rng, MixerType type, int vocab, int classes, LayerConfig config,
            int[] kernelSizes, boolean positions, boolean pooled) {
        encoder = child("encoder", new Encoder(rng, type, vocab, config, kernelSizes, positions));
        head = child("head", new Linear(rng, config.dim(), classes, true));
        this.pooled = pooled;
    }

    public Tensor forward(int[] ids, int batch, int time) {
        Tensor h = encoder.forward(ids, batch, time);
        if (pooled) {
            h = Mean.apply(h, 1, false);
        }
        return head.forward(h);
    }

    /** The MAE layers of the encoder (empty unless its type is MAE). */
    public List<MixtureOfHeadsBlock> maeLayers() {
        List<MixtureOfHeadsBlock> out = new ArrayList<>();
        for (EncoderLayer l : encoder.layers()) {
            if (l instanceof MixtureOfHeadsBlock m) {
                out.add(m);
            }
        }
        return out;
    }
}
