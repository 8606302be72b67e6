package org.attnkit.ops.attention;

import org.attnkit.autograd.Autograd;
import org.attnkit.backend.Backend;
import org.attnkit.backend.Kernels;
import org.attnkit.tensor.Tensor;
import org.attnkit.util.Check;

/**
 * Multi-head scaled dot-product attention as one fused op, layout BTC.
 *
 * <p>Shapes: {@code q[B,Tq,D]}, {@code k[B,Tk,D]}, {@code v[B,Tk,Dv]}, output {@code y[B,Tq,Dv]}.
 * Head {@code h} of {@code H = heads} owns the consecutive columns {@code [h*D/H, (h+1)*D/H)} of q and
 * k and {@code [h*Dv/H, (h+1)*Dv/H)} of v and y (the heads are concatenated in y, as PyTorch's
 * {@code view(B,T,H,D/H)} gives). Per batch row b and head h:
 * <pre>
 *   s[i,j] = q_h[i] . k_h[j] / sqrt(D/H)
 *   p[i,:] = softmax_j(s[i,:]) over the allowed keys j
 *   y_h[i] = sum_j p[i,j] v_h[j]
 * </pre>
 * Key j is allowed for query i unless {@code keyPaddingMask[b,j] != 0} (a padded key) or, when
 * {@code causal}, {@code j > i + (Tk - Tq)}. The offset {@code Tk - Tq} aligns the queries with the
 * <em>last</em> Tq keys, as in incremental decoding where the keys hold a cached prefix: with Tq = Tk it
 * is the usual "no key after the query". When Tq > Tk the first {@code Tq - Tk} queries have no key.
 *
 * <p>A query with no allowed key (fully masked row) outputs zeros, not NaN, and passes zero gradient to
 * q, k and v: its probabilities are taken to be all zero.
 *
 * <p>The mask is a fixed input: it never receives a gradient, and a mask that requires grad is
 * rejected. Backward saves q, k, v and the mask and recomputes the probabilities (as a flash-style
 * kernel does; a backend may also keep per-row statistics of its forward, see
 * {@link AttentionKernels#forwardSaving}), then applies the standard softmax-attention backward:
 * {@code dv_h[j] = sum_i p[i,j] dy_h[i]}, {@code dp[i,j] = dy_h[i] . v_h[j]},
 * {@code ds[i,j] = p[i,j] (dp[i,j] - sum_j' p[i,j'] dp[i,j'])}, {@code dq_h[i] = sum_j ds[i,j] k_h[j] / sqrt(D/H)},
 * {@code dk_h[j] = sum_i ds[i,j] q_h[i] / sqrt(D/H)}. Only the gradients that are needed are computed.
 */
public final class Attention {
    static final String OP = "attention";
    static final Kernels<AttentionKernels> KERNELS =
            Kernels.of(OP, (AttentionKernels) new AttentionRef()).with(Backend.SIMD, new AttentionSimdKernels())
                    .with(Backend.CUDA, new AttentionCuda());

    private Attention() {
    }

    /**
     * @param q              queries {@code [B,Tq,D]}
     * @param k              keys {@code [B,Tk,D]}
     * @param v              values {@code [B,Tk,Dv]}
     * @param heads          number of heads H, {@code >= 1}, dividing D and Dv
     * @param causal         mask keys after the (end-aligned) query position
     * @param keyPaddingMask {@code [B,Tk]}, nonzero = padded key; or null for no padding
     * @return {@code [B,Tq,Dv]}, the heads' outputs concatenated
     */
    public static Tensor apply(Tensor q, Tensor k, Tensor v, int heads, boolean causal, Tensor keyPaddingMask) {
        checkArguments(OP, q, k, v, heads, keyPaddingMask);

        AttentionKernels kern = KERNELS.select(q, k, v);
        if (!Autograd.willRecord(q, k, v)) {
            return kern.forward(q, k, v, heads, causal, keyPaddingMask);
        }
        AttentionKernels.Forward fwd = kern.forwardSaving(q, k, v, heads, causal, keyPaddingMask);
        return Autograd.record(OP, fwd.y(),
                (dy, needs) -> kern.backward(fwd, q, k, v, heads, causal, keyPaddingMask, dy, needs), q, k, v);
    }

    /**
     * The argument checks of {@link #apply}, under the name {@code op}: shared with the fused MAE op
     * ({@code org.attnkit.ops.mae.GatedAttention}) so that both reject the same inputs the same way.
     */
    public static void checkArguments(String op, Tensor q, Tensor k, Tensor v, int heads, Tensor keyPaddingMask) {
        Check.rank(op, "q", q, 3, "[B,Tq,D]");
        Check.rank(op, "k", k, 3, "[B,Tk,D]");
        Check.rank(op, "v", v, 3, "[B,Tk,Dv]");
        Check.dim(op, "k", k, 0, q.dim(0), "the batch size B of q");
        Check.dim(op, "v", v, 0, q.dim(0), "the batch size B of q");
        Check.dim(op, "k", k, 2, q.dim(2), "the feature size D of q");
        Check.dim(op, "v", v, 1, k.dim(1), "the key length Tk of k");
        Check.atLeast(op, "heads", heads, 1);
        Check.atLeast(op, "q dimension 2 (D)", q.dim(2), 1);
        Check.divides(op, "heads", heads, "q dimension 2 (D)", q.dim(2));
        Check.divides(op, "heads", heads, "v dimension 2 (Dv)", v.dim(2));
        if (keyPaddingMask != null) {
            Check.shape(op, "keyPaddingMask", keyPaddingMask, "[B,Tk]", q.dim(0), k.dim(1));
            if (keyPaddingMask.requiresGrad()) {
                throw new IllegalArgumentException(op + ": keyPaddingMask must not require grad (it is a fixed "
                        + "0/nonzero mask and gets no gradient), got " + keyPaddingMask);
            }
        }
        Check.sameDeviceAndType(op, "q", q, "k", k, "v", v, "keyPaddingMask", keyPaddingMask);
    }
}
