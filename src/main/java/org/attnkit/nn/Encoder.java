package org.attnkit.nn;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.SplittableRandom;
import org.attnkit.tensor.Tensor;

/**
 * A stack of encoder layers over token embeddings: {@code embed -> (+ sinusoidal positions) -> layers
 * -> (final LayerNorm when Pre-LN)}. Convolutional layers take their kernel size from a per-layer list,
 * as fairseq's {@code encoder_kernel_size_list} (3, 7, 15, 31, ... in the paper; SPEC 1.4).
 */
public final class Encoder extends Module {
    public final MixerType type;
    private final Embedding embed;
    private final SinusoidalPositions positions;
    private final List<EncoderLayer> layers = new ArrayList<>();
    private final LayerNorm finalNorm;

    /**
     * @param kernelSizes one entry per layer (its length is the depth); used by the convolutional mixers
     * @param positions   add sinusoidal positions to the embeddings
     */
    public Encoder(SplittableRandom rng, MixerType type, int vocab, LayerConfig config, int[] kernelSizes,
            boolean positions) {
        if (kernelSizes == null || kernelSizes.length == 0) {
            throw new IllegalArgumentException("Encoder: kernelSizes must list one kernel size per layer, got none");
        }
        this.type = type;
        embed = child("embed", new Embedding(rng, vocab, config.dim()));
        this.positions = positions ? child("pos", new SinusoidalPositions(config.dim())) : null;
        for (int i = 0; i < kernelSizes.length; i++) {
            layers.add(child(Integer.toString(i), layer(rng, type, config.withSeed(config.seed() * 1000 + i),
                    kernelSizes[i])));
        }
        finalNorm = config.preNorm() ? child("final_norm", new LayerNorm(config.dim())) : null;
    }

    /** One layer of the given type. */
    public static EncoderLayer layer(SplittableRandom rng, MixerType type, LayerConfig c, int kernelSize) {
        return switch (type) {
            case ATTENTION -> new MultiHeadAttentionBlock(rng, c);
            case LIGHTCONV -> new LightConvBlock(rng, c, kernelSize, c.dropout());
            case DYNAMICCONV -> new DynamicConvBlock(rng, c, kernelSize, c.dropout());
            case MAE -> new MixtureOfHeadsBlock(rng, c, c.dim());
            case SUMMARY -> new SummaryMixingBlock(rng, c, c.dim(), c.dim());
            case TALKING -> new TalkingHeadsAttention(rng, c);
        };
    }

    public List<EncoderLayer> layers() {
        return Collections.unmodifiableList(layers);
    }

    /** ids {@code [B,T]} row-major -> {@code [B,T,D]}. */
    public Tensor forward(int[] ids, int batch, int time) {
        Tensor x = embed.forward(ids, batch, time);
        if (positions != null) {
            x = positions.forward(x);
        }
        for (EncoderLayer l : layers) {
            x = l.forward(x);
        }
        return finalNorm == null ? x : finalNorm.forward(x);
    }
}
