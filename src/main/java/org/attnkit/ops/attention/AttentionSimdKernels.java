package org.attnkit.ops.attention;

import org.attnkit.tensor.Tensor;

/**
 * The SIMD backend of {@link Attention} (float32), a flash-style kernel: see {@link AttentionSimd}.
 *
 * <p>{@link AttentionKernels#backward} receives only the inputs, not anything saved by the forward,
 * so the backward recomputes each query block's log-sum-exp (and {@code rowsum(dO * O)}) in its first
 * pass instead of reading them from the forward; the dk/dv pass then uses the log-sum-exp saved by
 * that first pass. This costs one extra forward per backward and keeps the kernel stateless.
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
