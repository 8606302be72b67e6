package org.attnkit.ops.mae;

import org.attnkit.ops.attention.AttentionKernels;
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

    /**
     * The forward of a call that will be differentiated, as attention's ({@link AttentionKernels.Forward}: the
     * output and what this backend's backward can reuse); by default it saves nothing.
     */
    default AttentionKernels.Forward forwardSaving(Tensor q, Tensor k, Tensor v, int heads, boolean causal, Tensor keyPaddingMask,
            Tensor gate, Tensor membership, int headsPerExpert) {
        return new AttentionKernels.Forward(forward(q, k, v, heads, causal, keyPaddingMask, gate, membership, headsPerExpert), null);
    }

    /**
     * The backward of the call whose {@link #forwardSaving} returned {@code fwd}, with the bits of the
     * recomputing {@link #backward}; by default it is that one.
     */
    default Tensor[] backward(AttentionKernels.Forward fwd, Tensor q, Tensor k, Tensor v, int heads, boolean causal,
            Tensor keyPaddingMask, Tensor gate, Tensor membership, int headsPerExpert, Tensor dy, boolean[] needs) {
        return backward(q, k, v, heads, causal, keyPaddingMask, gate, membership, headsPerExpert, dy, needs);
    }
}
