package org.attnkit.ops.attention;

import org.attnkit.tensor.Tensor;

/**
 * The SIMD backend of {@link Attention} (float32), a flash-style kernel: see {@link AttentionSimd}.
 *
 * <p>A forward that will be differentiated ({@link #forwardSaving}) keeps each row's log-sum-exp; the
 * backward then reads it and the forward's output (for {@code rowsum(dO * O)}) instead of recomputing
 * them. The stateless {@link #backward(Tensor, Tensor, Tensor, int, boolean, Tensor, Tensor, boolean[])}
 * recomputes both in its first pass, one extra forward, with the same bits.
 *
 * <p>Public so that the fused MAE op ({@code org.attnkit.ops.mae.GatedAttention}) composes it with the
 * SIMD head mixture.
 */
public final class AttentionSimdKernels implements AttentionKernels {
    @Override
    public Tensor forward(Tensor q, Tensor k, Tensor v, int heads, boolean causal, Tensor keyPaddingMask) {
        AttentionSimd.Packed p = pack(q, k, v, heads, causal, keyPaddingMask, null);
        float[] y = AttentionSimd.forward(p, null);
        return Tensor.wrap(y, p.b, p.tq, p.dv);
    }

    @Override
    public Tensor[] backward(Tensor q, Tensor k, Tensor v, int heads, boolean causal, Tensor keyPaddingMask,
            Tensor dy, boolean[] needs) {
        AttentionSimd.Packed p = pack(q, k, v, heads, causal, keyPaddingMask, dy);
        float[][] g = AttentionSimd.backward(p, needs[0], needs[1], needs[2]);
        return wrapGradients(p, g, needs);
    }

    /** What {@link #forwardSaving} keeps: the log-sum-exp of every (batch, head, padded query row). */
    private record Saved(float[] lse) {
    }

    @Override
    public Forward forwardSaving(Tensor q, Tensor k, Tensor v, int heads, boolean causal, Tensor keyPaddingMask) {
        AttentionSimd.Packed p = pack(q, k, v, heads, causal, keyPaddingMask, null);
        float[] lse = new float[p.bh() * p.tqp];
        float[] y = AttentionSimd.forward(p, lse);
        return new Forward(Tensor.wrap(y, p.b, p.tq, p.dv), new Saved(lse));
    }

    @Override
    public Tensor[] backward(Forward fwd, Tensor q, Tensor k, Tensor v, int heads, boolean causal,
            Tensor keyPaddingMask, Tensor dy, boolean[] needs) {
        if (!(fwd.saved() instanceof Saved saved)) {
            return backward(q, k, v, heads, causal, keyPaddingMask, dy, needs);
        }
        AttentionSimd.Packed p = pack(q, k, v, heads, causal, keyPaddingMask, dy);
        float[][] g = AttentionSimd.backward(p, needs[0], needs[1], needs[2], saved.lse(), fwd.y().data());
        return wrapGradients(p, g, needs);
    }

    private static Tensor[] wrapGradients(AttentionSimd.Packed p, float[][] g, boolean[] needs) {
        return new Tensor[] {
            needs[0] ? Tensor.wrap(g[0], p.b, p.tq, p.d) : null,
            needs[1] ? Tensor.wrap(g[1], p.b, p.tk, p.d) : null,
            needs[2] ? Tensor.wrap(g[2], p.b, p.tk, p.dv) : null,
        };
    }

    private static AttentionSimd.Packed pack(Tensor q, Tensor k, Tensor v, int heads, boolean causal,
            Tensor keyPaddingMask, Tensor dy) {
        return AttentionSimd.pack(q.data(), k.data(), v.data(), keyPaddingMask == null ? null : keyPaddingMask.data(),
                dy == null ? null : dy.data(), q.dim(0), heads, q.dim(1), k.dim(1), q.dim(2), v.dim(2), causal);
    }
}
