package org.attnkit.ops.mae;

import org.attnkit.autograd.Autograd;
import org.attnkit.backend.Backend;
import org.attnkit.backend.Kernels;
import org.attnkit.ops.attention.Attention;
import org.attnkit.ops.attention.AttentionKernels;
import org.attnkit.ops.attention.AttentionRef;
import org.attnkit.ops.attention.AttentionSimdKernels;
import org.attnkit.tensor.Tensor;
import org.attnkit.util.Check;

/**
 * MAE's gated multi-head attention as one op (SPEC 0 and 3.4): {@link Attention} whose head outputs are
 * scaled by the gated mixture weights of {@link HeadMixture}, so the mixture costs no extra pass over
 * the attention output. By definition
 * <pre>
 *   GatedAttention.apply(q, k, v, H, causal, mask, gate, M)
 *       == HeadMixture.apply(Attention.apply(q, k, v, H, causal, mask), gate, M)
 *   y[b,i,h*Rv+c] = alpha[b,(i,)h] * o[b,i,h*Rv+c],  alpha[b,(i,)h] = (H/m) sum_e gate[b,(i,)e] M[e,h]
 * </pre>
 * with o the attention output (see {@link Attention} for the masks and the fully masked rows, which stay
 * zero) and {@code Rv = Dv/H}. Shapes: {@code q[B,Tq,D]}, {@code k[B,Tk,D]}, {@code v[B,Tk,Dv]},
 * {@code gate[B,E]} (per sequence) or {@code gate[B,Tq,E]} (per query, the causal gate),
 * {@code membership[E,H]} of 0/1 with m heads per expert (see {@link Membership}); {@code heads} must
 * equal {@code membership.dim(1)}. Output {@code y[B,Tq,Dv]}.
 *
 * <p>The reference and SIMD backends are literally the composition of those two ops' kernels (tested
 * bit-equal to the two-op graph). The CUDA backend applies alpha in the attention forward's epilogue and,
 * in the backward, scales dy by alpha per head where the attention backward reads it and gets
 * {@code dalpha[b,h] = sum_{i, c in head h} dy o} from the row dot products {@code dy_i . o_i} that the
 * flash backward forms anyway.
 *
 * <p>Backward saves q, k, v, the mask, gate and membership and recomputes o (only when the gate needs a
 * gradient: dgate needs o; dq, dk, dv need only {@code alpha dy}). The mask and membership are fixed
 * inputs: they never receive a gradient, and either one requiring grad is rejected.
 */
public final class GatedAttention {
    static final String OP = "gated attention";
    static final Kernels<GatedAttentionKernels> KERNELS = Kernels.of(OP,
                    (GatedAttentionKernels) new GatedAttentionComposed(new AttentionRef(), new HeadMixtureRef()))
            .with(Backend.SIMD, new GatedAttentionComposed(new AttentionSimdKernels(), new HeadMixtureSimdKernels()))
            .with(Backend.CUDA, new GatedAttentionCuda());

    private GatedAttention() {
    }

    /**
     * @param q              queries {@code [B,Tq,D]}
     * @param k              keys {@code [B,Tk,D]}
     * @param v              values {@code [B,Tk,Dv]}
     * @param heads          number of heads H, {@code >= 1}, dividing D and Dv, equal to {@code membership.dim(1)}
     * @param causal         mask keys after the (end-aligned) query position
     * @param keyPaddingMask {@code [B,Tk]}, nonzero = padded key; or null for no padding
     * @param gate           expert responsibilities {@code [B,E]} or {@code [B,Tq,E]}
     * @param membership     {@code [E,H]}, 0/1, m heads per expert
     * @return {@code [B,Tq,Dv]}, head h's attention output scaled by alpha_h
     */
    public static Tensor apply(Tensor q, Tensor k, Tensor v, int heads, boolean causal, Tensor keyPaddingMask,
            Tensor gate, Tensor membership) {
        Attention.checkArguments(OP, q, k, v, heads, keyPaddingMask);
        Check.notNull(OP, "gate", gate);
        Check.rank(OP, "membership", membership, 2, "[E,H]");
        Check.atLeast(OP, "membership dimension 0 (experts E)", membership.dim(0), 1);
        if (membership.dim(1) != heads) {
            throw new IllegalArgumentException(OP + ": membership dimension 1 (heads H) must equal heads = " + heads
                    + ", got " + membership.dim(1) + " (membership shape " + membership.shape() + ")");
        }
        if (gate.rank() != 2 && gate.rank() != 3) {
            throw new IllegalArgumentException(OP + ": gate must have rank 2 [B,E] or 3 [B,Tq,E], got rank "
                    + gate.rank() + " with shape " + gate.shape());
        }
        Check.dim(OP, "gate", gate, 0, q.dim(0), "the batch size B of q");
        if (gate.rank() == 3) {
            Check.dim(OP, "gate", gate, 1, q.dim(1), "the query length Tq of q");
        }
        Check.dim(OP, "gate", gate, gate.rank() - 1, membership.dim(0), "the experts E, membership dimension 0");
        if (membership.requiresGrad()) {
            throw new IllegalArgumentException(OP + ": membership must not require grad (it is a fixed 0/1 "
                    + "structure and gets no gradient), got " + membership);
        }
        Check.sameDeviceAndType(OP, "q", q, "k", k, "v", v, "keyPaddingMask", keyPaddingMask, "gate", gate,
                "membership", membership);
        int m = Membership.headsPerExpert(OP, membership);

        GatedAttentionKernels kern = KERNELS.select(q, k, v, gate);
        if (!Autograd.willRecord(q, k, v, gate)) {
            return kern.forward(q, k, v, heads, causal, keyPaddingMask, gate, membership, m);
        }
        AttentionKernels.Forward fwd = kern.forwardSaving(q, k, v, heads, causal, keyPaddingMask, gate,
                membership, m);
        return Autograd.record(OP, fwd.y(), (dy, needs) -> kern.backward(fwd, q, k, v, heads, causal,
                keyPaddingMask, gate, membership, m, dy, needs), q, k, v, gate);
    }
}
