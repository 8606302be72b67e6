package org.attnkit.ops.mae;

import org.attnkit.tensor.Tensor;

/** PLACEHOLDER signature (replaced by the head mixture implementation). */
public final class HeadMixture {
    private HeadMixture() {
    }

    /** o[B,T,D] (heads concatenated), gate [B,E] or [B,T,E], membership[E,H]; returns alpha_h * o_h. */
    public static Tensor apply(Tensor o, Tensor gate, Tensor membership) {
        throw new UnsupportedOperationException("head mixture: not implemented yet");
    }
}
