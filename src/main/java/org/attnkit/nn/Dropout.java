package org.attnkit.nn;

import org.attnkit.ops.layernorm.ResidualLayerNorm;
import org.attnkit.tensor.Tensor;

/**
 * Inverted dropout, active in training mode only. The mask is keyed by this module's seed and the
 * training step ({@link Module#setStep}), so it is reproducible and a resumed run draws the same masks.
 */
public final class Dropout extends Module {
    public final double p;
    private final long seed;

    public Dropout(double p, long seed) {
        if (!(p >= 0 && p < 1)) {
            throw new IllegalArgumentException("Dropout: p must be in [0, 1), got " + p);
        }
        this.p = p;
        this.seed = seed;
    }

    public Tensor forward(Tensor x) {
        if (!isTraining() || p == 0) {
            return x;
        }
        return org.attnkit.ops.dropout.Dropout.apply(x, p, seed, step());
    }

    /**
     * {@code residual + forward(x)} and its LayerNorm by {@code norm}, as one {@link ResidualLayerNorm} with
     * this module's mask (none outside training).
     */
    public ResidualLayerNorm.Result addThenNormalize(Tensor x, Tensor residual, LayerNorm norm) {
        return ResidualLayerNorm.apply(x, residual, isTraining() ? p : 0, seed, step(), norm.gamma, norm.beta);
    }
}
