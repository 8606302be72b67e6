package org.attnkit.ops.mae;

import org.attnkit.autograd.Autograd;
import org.attnkit.backend.Backend;
import org.attnkit.backend.Kernels;
import org.attnkit.tensor.Tensor;
import org.attnkit.util.Check;

/**
 * The MAE gate (SPEC section 0): the responsibilities of E experts, from the mean of the layer input,
 * as one fused op.
 * <pre>
 *   xbar = mean_t x[b,t,:]                     (causal: xbar[b,t,:] = mean of x[b,0..t,:])
 *   u    = tanh(xbar)                          [D]
 *   a    = w1 u + b1,  hid = tanh(a)           [G]
 *   z    = w2 hid + b2                         [E]
 *   g    = softmax(z)                          [E]
 * </pre>
 * Shapes: {@code x[B,T,D]}, {@code w1[G,D]}, {@code b1[G]} or null, {@code w2[E,G]}, {@code b2[E]} or
 * null (a null bias is zero; the weights use PyTorch's Linear layout, out x in). The output is
 * {@code g[B,E]}, or {@code g[B,T,E]} when causal: the running prefix mean gives one gate per token that
 * depends on {@code x[b,0..t]} only. T must be at least 1 (the mean of nothing is undefined).
 *
 * <p>Backward saves the inputs and the output gate and recomputes u and hid. With {@code dg} the output
 * gradient: {@code dz = g (dg - <g, dg>)}, {@code db2 = sum dz}, {@code dw2 = sum dz hid^T},
 * {@code da = (w2^T dz)(1 - hid^2)}, {@code db1 = sum da}, {@code dw1 = sum da u^T},
 * {@code dxbar = (w1^T da)(1 - u^2)}, and {@code dx[b,t] = dxbar[b] / T} (causal:
 * {@code dx[b,s] = sum_{t >= s} dxbar[b,t] / (t + 1)}). Only the gradients that are needed are computed.
 */
public final class MaeGate {
    static final String OP = "mae gate";
    static final Kernels<MaeGateKernels> KERNELS = Kernels.of(OP, (MaeGateKernels) new MaeGateRef())
            .with(Backend.SIMD, new MaeGateSimdKernels())
            .with(Backend.CUDA, new MaeGateCuda());

    private MaeGate() {
    }

    /**
     * @param x      layer input {@code [B,T,D]}, T >= 1
     * @param w1     first gate layer {@code [G,D]}
     * @param b1     its bias {@code [G]}, or null for none
     * @param w2     second gate layer {@code [E,G]}, E >= 1
     * @param b2     its bias {@code [E]}, or null for none
     * @param causal use the running prefix mean, giving one gate per token
     * @return {@code [B,E]}, or {@code [B,T,E]} when causal; each row sums to 1
     */
    public static Tensor apply(Tensor x, Tensor w1, Tensor b1, Tensor w2, Tensor b2, boolean causal) {
        Check.rank(OP, "x", x, 3, "[B,T,D]");
        Check.rank(OP, "w1", w1, 2, "[G,D]");
        Check.rank(OP, "w2", w2, 2, "[E,G]");
        Check.atLeast(OP, "x dimension 1 (T)", x.dim(1), 1);
        Check.dim(OP, "w1", w1, 1, x.dim(2), "the feature size D of x");
        Check.dim(OP, "w2", w2, 1, w1.dim(0), "the hidden size G, w1 dimension 0");
        Check.atLeast(OP, "w2 dimension 0 (experts E)", w2.dim(0), 1);
        if (b1 != null) {
            Check.shape(OP, "b1", b1, "[G]", w1.dim(0));
        }
        if (b2 != null) {
            Check.shape(OP, "b2", b2, "[E]", w2.dim(0));
        }
        Check.sameDeviceAndType(OP, "x", x, "w1", w1, "b1", b1, "w2", w2, "b2", b2);

        MaeGateKernels k = KERNELS.select(x, w1, b1, w2, b2);
        Tensor g = k.forward(x, w1, b1, w2, b2, causal);
        return Autograd.record(OP, g, (dg, needs) -> k.backward(x, w1, b1, w2, b2, causal, g, dg, needs),
                x, w1, b1, w2, b2);
    }
}
