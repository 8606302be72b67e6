package org.attnkit.nn;

import java.util.SplittableRandom;
import org.attnkit.ops.arith.Mul;
import org.attnkit.ops.matmul.MatMul;
import org.attnkit.ops.softmax.Softmax;
import org.attnkit.tensor.Tensor;

/**
 * Talking-heads attention (Shazeer et al. 2020, SPEC 5.2) with {@code h_k = h = h_v = H}, composed from
 * MatMul, Softmax and permutes (there is no fused op for it yet):
 * <pre>
 *   J[b,i,n,m] = q_i[n] . k_i[m] / sqrt(D/H)
 *   L[b,j,n,m] = sum_i J[b,i,n,m] Pl[i,j]          pre-softmax mix
 *   W          = softmax_m(L)
 *   U[b,l,n,m] = sum_j W[b,j,n,m] Pw[j,l]          post-softmax mix
 *   O[b,n,l,:] = sum_m U[b,l,n,m] v_l[m];  y = concat_l(O) Wo
 * </pre>
 * The mixing matrices start at the identity plus small noise, i.e. near plain multi-head attention.
 */
public final class TalkingHeadsAttention extends EncoderLayer {
    private final Linear q;
    private final Linear k;
    private final Linear v;
    private final Linear out;
    public final Tensor preMix;
    public final Tensor postMix;

    public TalkingHeadsAttention(SplittableRandom rng, LayerConfig config) {
        super(rng, config);
        int d = config.dim();
        int h = config.heads();
        q = child("q", new Linear(rng, d, d, true));
        k = child("k", new Linear(rng, d, d, true));
        v = child("v", new Linear(rng, d, d, true));
        out = child("out", new Linear(rng, d, d, true));
        preMix = parameter("pre_mix", nearIdentity(rng, h));
        postMix = parameter("post_mix", nearIdentity(rng, h));
    }

    private static Tensor nearIdentity(SplittableRandom rng, int h) {
        Tensor t = Init.normal(rng, 0.01, h, h);
        for (int i = 0; i < h; i++) {
            t.data()[i * h + i] += 1f;
        }
        return t;
    }

    /** Splits {@code [B,T,D]} into heads {@code [B,H,T,D/H]}. */
    private Tensor heads(Tensor x) {
        int b = x.dim(0);
        int t = x.dim(1);
        int h = config.heads();
        return x.reshape(b, t, h, x.dim(2) / h).permute(0, 2, 1, 3);
    }

    /** Mixes the head axis of {@code s[B,H,T,T]} with {@code p[H,H]}: {@code out[b,j] = sum_i s[b,i] p[i,j]}. */
    private static Tensor mixHeads(Tensor s, Tensor p) {
        int b = s.dim(0);
        int h = s.dim(1);
        int t = s.dim(2);
        int m = s.dim(3);
        Tensor last = s.permute(0, 2, 3, 1).reshape(b * t * m, h); // [B*T*T, H]
        return MatMul.apply(last, p).reshape(b, t, m, h).permute(0, 3, 1, 2);
    }

    @Override
    protected Tensor mix(Tensor x) {
        int b = x.dim(0);
        int t = x.dim(1);
        int d = config.dim();
        Tensor qh = heads(q.forward(x));
        Tensor kh = heads(k.forward(x));
        Tensor vh = heads(v.forward(x));
        Tensor logits = Mul.apply(MatMul.apply(qh, kh.transpose(2, 3)), 1.0 / Math.sqrt((double) d / config.heads()));
        Tensor w = Softmax.apply(mixHeads(logits, preMix), -1);
        Tensor u = mixHeads(w, postMix);
        Tensor o = MatMul.apply(u, vh).permute(0, 2, 1, 3).reshape(b, t, d);
        return out.forward(o);
    }

}
