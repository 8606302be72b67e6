package org.attnkit.ops.mae;

import org.attnkit.ops.attention.AttentionKernels;
import org.attnkit.tensor.Tensor;

/**
 * {@link GatedAttention} as the composition of one backend's attention and head-mixture kernels: the
 * reference (with {@code AttentionRef} and {@link HeadMixtureRef}) and the SIMD backend. The same calls in
 * the same order as the two-op graph {@code HeadMixture(Attention(...))} makes, so the bits are the same.
 */
final class GatedAttentionComposed implements GatedAttentionKernels {
    private final AttentionKernels attention;
    private final HeadMixtureKernels mixture;

    GatedAttentionComposed(AttentionKernels attention, HeadMixtureKernels mixture) {
        this.attention = attention;
        this.mixture = mixture;
    }

    @Override
    public Tensor forward(Tensor q, Tensor k, Tensor v, int heads, boolean causal, Tensor keyPaddingMask,
            Tensor gate, Tensor membership, int headsPerExpert) {
        Tensor o = attention.forward(q, k, v, heads, causal, keyPaddingMask);
        return mixture.forward(o, gate, membership, headsPerExpert);
    }

    @Override
    public AttentionKernels.Forward forwardSaving(Tensor q, Tensor k, Tensor v, int heads, boolean causal, Tensor keyPaddingMask,
            Tensor gate, Tensor membership, int headsPerExpert) {
        AttentionKernels.Forward o = attention.forwardSaving(q, k, v, heads, causal, keyPaddingMask);
        return new AttentionKernels.Forward(mixture.forward(o.y(), gate, membership, headsPerExpert), o);
    }

    @Override
    public Tensor[] backward(Tensor q, Tensor k, Tensor v, int heads, boolean causal, Tensor keyPaddingMask,
            Tensor gate, Tensor membership, int headsPerExpert, Tensor dy, boolean[] needs) {
        return backward(null, q, k, v, heads, causal, keyPaddingMask, gate, membership, headsPerExpert, dy, needs);
    }

    /**
     * With {@code fwd} from {@link #forwardSaving}, the attention output o and the attention forward's saved
     * state are reused instead of recomputed (the same values: the same bits); with null, both are recomputed.
     */
    @Override
    public Tensor[] backward(AttentionKernels.Forward fwd, Tensor q, Tensor k, Tensor v, int heads, boolean causal,
            Tensor keyPaddingMask, Tensor gate, Tensor membership, int headsPerExpert, Tensor dy, boolean[] needs) {
        AttentionKernels.Forward saved = fwd != null && fwd.saved() instanceof AttentionKernels.Forward a ? a : null;
        boolean needAttention = needs[0] || needs[1] || needs[2];
        // The mixture backward reads o only for dgate; without it, dy stands in for o's shape.
        Tensor o = !needs[3] ? dy
                : saved != null ? saved.y() : attention.forward(q, k, v, heads, causal, keyPaddingMask);
        Tensor[] mix = mixture.backward(o, gate, membership, headsPerExpert, dy,
                new boolean[] {needAttention, needs[3]});
        Tensor[] grads = new Tensor[4];
        if (needAttention) {
            boolean[] qkvNeeds = {needs[0], needs[1], needs[2]};
            Tensor[] qkv = saved != null
                    ? attention.backward(saved, q, k, v, heads, causal, keyPaddingMask, mix[0], qkvNeeds)
                    : attention.backward(q, k, v, heads, causal, keyPaddingMask, mix[0], qkvNeeds);
            System.arraycopy(qkv, 0, grads, 0, 3);
        }
        grads[3] = mix[1];
        return grads;
    }
}
