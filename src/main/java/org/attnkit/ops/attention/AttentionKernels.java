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

    /**
     * A forward's output {@code y} and what this backend's backward can reuse of that forward ({@code saved},
     * opaque; null when nothing).
     */
    record Forward(Tensor y, Object saved) {
    }

    /** The forward of a call that will be differentiated; by default it saves nothing. */
    default Forward forwardSaving(Tensor q, Tensor k, Tensor v, int heads, boolean causal, Tensor keyPaddingMask) {
        return new Forward(forward(q, k, v, heads, causal, keyPaddingMask), null);
    }

    /**
     * {@link #backward(Tensor, Tensor, Tensor, int, boolean, Tensor, Tensor, boolean[])} of the call whose
     * {@link #forwardSaving} returned {@code fwd}, with the same bits; by default it recomputes everything.
     */
    default Tensor[] backward(Forward fwd, Tensor q, Tensor k, Tensor v, int heads, boolean causal,
            Tensor keyPaddingMask, Tensor dy, boolean[] needs) {
        return backward(q, k, v, heads, causal, keyPaddingMask, dy, needs);
    }
}
