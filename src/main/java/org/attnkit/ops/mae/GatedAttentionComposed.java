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
    public Tensor[] backward(Tensor q, Tensor k, Tensor v, int heads, boolean causal, Tensor keyPaddingMask,
            Tensor gate, Tensor membership, int headsPerExpert, Tensor dy, boolean[] needs) {
        boolean needAttention = needs[0] || needs[1] || needs[2];
        // The mixture backward reads o only for dgate; without it, dy stands in for o's shape.
        Tensor o = needs[3] ? attention.forward(q, k, v, heads, causal, keyPaddingMask) : dy;
        Tensor[] mix = mixture.backward(o, gate, membership, headsPerExpert, dy,
                new boolean[] {needAttention, needs[3]});
        Tensor[] grads = new Tensor[4];
        if (needAttention) {
            Tensor[] qkv = attention.backward(q, k, v, heads, causal, keyPaddingMask, mix[0],
                    new boolean[] {needs[0], needs[1], needs[2]});
            System.arraycopy(qkv, 0, grads, 0, 3);
        }
        grads[3] = mix[1];
        return grads;
    }
}
