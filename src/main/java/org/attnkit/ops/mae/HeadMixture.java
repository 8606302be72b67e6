package org.attnkit.ops.mae;

import org.attnkit.autograd.Autograd;
import org.attnkit.backend.Backend;
import org.attnkit.backend.Kernels;
import org.attnkit.tensor.Tensor;
import org.attnkit.util.Check;

/**
 * The gated head mixture of MAE (SPEC section 0 and 3.1): scales each head's attention output by its
 * weight in the gated mixture of experts, as one fused op.
 * <pre>
 *   alpha[b,h]   = (H/m) sum_e gate[b,e]   M[e,h]      (per-token gate: alpha[b,t,h] from gate[b,t,e])
 *   y[b,t,h*R+c] = alpha[b,(t,)h] * o[b,t,h*R+c]        R = D/H
 * </pre>
 * Shapes: {@code o[B,T,D]}, the heads' outputs concatenated (head h = columns {@code [h*R, (h+1)*R)});
 * {@code gate[B,E]} (one gate per sequence) or {@code gate[B,T,E]} (per token, the causal gate);
 * {@code membership[E,H]} of 0/1 with the same number m >= 1 of heads in every row (see
 * {@link Membership}). H is {@code membership.dim(1)} and must divide D. With drop-one experts
 * {@code alpha_h = H/(H-1) (1 - g_h)}, and a uniform gate gives alpha = 1, plain multi-head attention.
 *
 * <p>The membership is a fixed structure: it never receives a gradient, and a membership that
 * requires grad is rejected. Backward saves o, gate and membership and computes
 * {@code do = alpha dy} and {@code dgate[b,(t,)e] = (H/m) sum_h M[e,h] dalpha[b,(t,)h]} with
 * {@code dalpha[b,h] = sum_{t, c in head h} dy o} (per-token gate: no sum over t). Only the gradients
 * that are needed are computed.
 */
public final class HeadMixture {
    static final String OP = "head mixture";
    static final Kernels<HeadMixtureKernels> KERNELS = Kernels.of(OP, (HeadMixtureKernels) new HeadMixtureRef())
            .with(Backend.SIMD, new HeadMixtureSimdKernels())
            .with(Backend.CUDA, new HeadMixtureCuda());

    private HeadMixture() {
    }

    /**
     * @param o          per-head attention outputs, concatenated {@code [B,T,D]}
     * @param gate       expert responsibilities {@code [B,E]} or {@code [B,T,E]}
     * @param membership {@code [E,H]}, 0/1, m heads per expert
     * @return {@code [B,T,D]}, head h scaled by alpha_h
     */
    public static Tensor apply(Tensor o, Tensor gate, Tensor membership) {
        Check.rank(OP, "o", o, 3, "[B,T,D]");
        Check.notNull(OP, "gate", gate);
        Check.rank(OP, "membership", membership, 2, "[E,H]");
        Check.atLeast(OP, "membership dimension 0 (experts E)", membership.dim(0), 1);
        Check.atLeast(OP, "membership dimension 1 (heads H)", membership.dim(1), 1);
        Check.divides(OP, "heads H = membership dimension 1", membership.dim(1), "o dimension 2 (D)", o.dim(2));
        if (gate.rank() != 2 && gate.rank() != 3) {
            throw new IllegalArgumentException(OP + ": gate must have rank 2 [B,E] or 3 [B,T,E], got rank "
                    + gate.rank() + " with shape " + gate.shape());
        }
        Check.dim(OP, "gate", gate, 0, o.dim(0), "the batch size B of o");
        if (gate.rank() == 3) {
            Check.dim(OP, "gate", gate, 1, o.dim(1), "the length T of o");
        }
        Check.dim(OP, "gate", gate, gate.rank() - 1, membership.dim(0), "the experts E, membership dimension 0");
        if (membership.requiresGrad()) {
            throw new IllegalArgumentException(OP + ": membership must not require grad (it is a fixed 0/1 "
                    + "structure and gets no gradient), got " + membership);
        }
        Check.sameDeviceAndType(OP, "o", o, "gate", gate, "membership", membership);
        int m = Membership.headsPerExpert(OP, membership);

        HeadMixtureKernels k = KERNELS.select(o, gate, membership);
        Tensor y = k.forward(o, gate, membership, m);
        return Autograd.record(OP, y, (dy, needs) -> k.backward(o, gate, membership, m, dy, needs), o, gate);
    }
}
