package org.attnkit.nn;

/**
 * Shared sizes of one encoder layer.
 *
 * @param dim       model width d
 * @param ffn       hidden width of the feed-forward sub-block (0: no feed-forward sub-block)
 * @param heads     heads of the mixer (attention heads, or LightConv/DynamicConv kernel heads)
 * @param preNorm   Pre-LN ({@code x + F(LN(x))}) instead of Post-LN ({@code LN(x + F(x))}), SPEC 5.3
 * @param dropout   dropout on each sub-block's output before the residual add
 * @param seed      keys this layer's dropout, DropConnect and expert-sampling masks
 */
public record LayerConfig(int dim, int ffn, int heads, boolean preNorm, double dropout, long seed) {
    public LayerConfig {
        if (dim < 1 || heads < 1 || dim % heads != 0) {
            throw new IllegalArgumentException("LayerConfig: heads must divide dim, both >= 1; got dim=" + dim
                    + ", heads=" + heads);
        }
        if (ffn < 0) {
            throw new IllegalArgumentException("LayerConfig: ffn must be >= 0, got " + ffn);
        }
    }

    /** The same config with another seed (one per layer). */
    public LayerConfig withSeed(long s) {
        return new LayerConfig(dim, ffn, heads, preNorm, dropout, s);
    }
}
