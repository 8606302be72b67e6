package org.attnkit.ops.mae;

import org.attnkit.tensor.Tensor;

/** What every backend implements for {@link GatedAttention}. Arguments are validated by the caller. */
public interface GatedAttentionKernels {
    /**
     * y[B,Tq,Dv] = alpha * attention(q, k, v) per head, alpha = (H/m) gate M; gate [B,E] or [B,Tq,E];
     * mask [B,Tk] (nonzero = padded) or null; m heads per expert.
     */
    Tensor forward(Tensor q, Tensor k, Tensor v, int heads, boolean causal, Tensor keyPaddingMask, Tensor gate,
            Tensor membership, int headsPerExpert);

    /**
     * {dq, dk, dv, dgate} for the output gradient dy[B,Tq,Dv], recomputing what the forward computed;
     * entry i is computed only when {@code needs[i]} (order q, k, v, gate) and is null otherwise.
     */
    Tensor[] backward(Tensor q, Tensor k, Tensor v, int heads, boolean causal, Tensor keyPaddingMask, Tensor gate,
            Tensor membership, int headsPerExpert, Tensor dy, boolean[] needs);
}
