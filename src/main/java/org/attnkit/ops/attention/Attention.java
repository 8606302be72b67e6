package org.attnkit.ops.attention;

import org.attnkit.tensor.Tensor;

/** PLACEHOLDER signature (replaced by the attention implementation). */
public final class Attention {
    private Attention() {
    }

    /** q[B,Tq,D], k[B,Tk,D], v[B,Tk,Dv]; keyPaddingMask[B,Tk] (nonzero = padded) or null. */
    public static Tensor apply(Tensor q, Tensor k, Tensor v, int heads, boolean causal, Tensor keyPaddingMask) {
        throw new UnsupportedOperationException("attention: not implemented yet");
    }
}
