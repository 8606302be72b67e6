package org.attnkit.ops.mae;

import org.attnkit.tensor.Tensor;

/** PLACEHOLDER signature (replaced by the MAE gate implementation). */
public final class MaeGate {
    private MaeGate() {
    }

    /** x[B,T,D], w1[G,D], b1[G], w2[E,G], b2[E]; returns gate [B,E] or, causal, [B,T,E]. */
    public static Tensor apply(Tensor x, Tensor w1, Tensor b1, Tensor w2, Tensor b2, boolean causal) {
        throw new UnsupportedOperationException("mae gate: not implemented yet");
    }
}
