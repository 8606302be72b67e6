package org.attnkit.ops.attention;

import org.attnkit.tensor.Tensor;

/** What every backend implements for {@link Attention}. Arguments are validated by the caller. */
public interface AttentionKernels {
    /** y[B,Tq,Dv] from q[B,Tq,D], k[B,Tk,D], v[B,Tk,Dv]; mask [B,Tk] (nonzero = padded) or null. */
    Tensor forward(Tensor q, Tensor k, Tensor v, int heads, boolean causal, Tensor keyPaddingMask);

    /**
     * {dq, dk, dv} for the output gradient dy[B,Tq,Dv], recomputing the probabilities from q, k and the
     * mask; entry i is computed only when {@code needs[i]} (order q, k, v) and is null otherwise.
     */
    Tensor[] backward(Tensor q, Tensor k, Tensor v, int heads, boolean causal, Tensor keyPaddingMask, Tensor dy,
            boolean[] needs);
}
