package org.attnkit.ops.attention;

import static org.attnkit.backend.cuda.CudaTensors.address;

import org.attnkit.backend.cuda.AttnkitNative;
import org.attnkit.backend.cuda.Cuda;
import org.attnkit.backend.cuda.CudaTensors;
import org.attnkit.backend.cuda.NativeCalls;
import org.attnkit.tensor.Device;
import org.attnkit.tensor.Tensor;

/**
 * {@link Attention} on CUDA ({@code cuda/attention.cu}), flash-style: key/value tiles in shared memory and
 * an online softmax, no T x T matrix in global memory; backward recomputes the probabilities from the
 * row log-sum-exp (deterministic, no atomics). Head sizes D/H and Dv/H up to {@value #MAX_HEAD_DIM} and at
 * most 65535 (batch, head) pairs; larger shapes throw {@link UnsupportedOperationException} naming the
 * limit, before availability is asked. fp32 SIMT. For head sizes up to 64 the forward and the backward are
 * tiled (a CTA of 4 warps per 64 queries or keys, 4x4 score blocks per thread, shuffle row reductions);
 * larger head sizes use one thread per query or key (its registers spill at 128). The
 * native library is touched only after {@link Cuda#requireAvailable} passed. Compiled and verified on an H200
 * (2026-12-04: the CUDA equivalence tests pass).
 *
 * <p>Public only for {@link #requireSupported}, {@link #outputWithoutKernel}, {@link #gradientBuffers} and
 * {@link #noColumns}, which
 * the fused MAE op ({@code org.attnkit.ops.mae.GatedAttention}) shares with this kernel.
 */
public final class AttentionCuda implements AttentionKernels {
    static final int MAX_HEAD_DIM = 128;

    AttentionCuda() {
    }

    @Override
    public Tensor forward(Tensor q, Tensor k, Tensor v, int heads, boolean causal, Tensor keyPaddingMask) {
        requireSupported(Attention.OP, q, v, heads);
        Cuda.requireAvailable(Attention.OP + " forward");
        Tensor trivial = outputWithoutKernel(q, k, v);
        if (trivial != null) {
            return trivial;
        }
        int b = q.dim(0);
        int tq = q.dim(1);
        int tk = k.dim(1);
        int dv = v.dim(2);
        Device device = q.device();
        Tensor y = CudaTensors.empty(device, b, tq, dv);
        CudaTensors.enter(device);
        NativeCalls.check(Attention.OP + " forward", AttnkitNative.attnkit_attention_forward(address(y, "y"),
                address(q, "q"), address(k, "k"), address(v, "v"), address(keyPaddingMask, "keyPaddingMask"), b, tq,
                tk, heads, q.dim(2), dv, causal ? 1 : 0));
        return y;
    }

    @Override
    public Tensor[] backward(Tensor q, Tensor k, Tensor v, int heads, boolean causal, Tensor keyPaddingMask,
            Tensor dy, boolean[] needs) {
        requireSupported(Attention.OP, q, v, heads);
        Cuda.requireAvailable(Attention.OP + " backward");
        int b = q.dim(0);
        int tq = q.dim(1);
        int tk = k.dim(1);
        int dv = v.dim(2);
        Tensor[] grads = gradientBuffers(new Tensor[] {q, k, v}, needs);
        if (grads == null) {
            return new Tensor[3];
        }
        if (noColumns(q, k, v)) {
            return grads;
        }
        CudaTensors.enter(q.device());
        NativeCalls.check(Attention.OP + " backward", AttnkitNative.attnkit_attention_backward(address(grads[0], "dq"),
                address(grads[1], "dk"), address(grads[2], "dv"), address(q, "q"), address(k, "k"), address(v, "v"),
                address(keyPaddingMask, "keyPaddingMask"), address(dy, "dy"), b, tq, tk, heads, q.dim(2), dv,
                causal ? 1 : 0));
        return grads;
    }

    /**
     * The output [B,Tq,Dv] where no kernel needs to run, else null: empty when there is no query or value
     * column, zeros when there is no key (every query fully masked, whatever scales it).
     */
    public static Tensor outputWithoutKernel(Tensor q, Tensor k, Tensor v) {
        int b = q.dim(0);
        int tq = q.dim(1);
        int dv = v.dim(2);
        if ((long) b * tq * dv == 0) {
            return CudaTensors.empty(q.device(), b, tq, dv);
        }
        return k.dim(1) == 0 ? CudaTensors.zeros(q.device(), b, tq, dv) : null;
    }

    /**
     * Gradient buffers shaped like {@code like[i]} where {@code needs[i]}, on q's device (like[0] is q), or null
     * when none is needed. With no query, key or value column (B*Tq*Tk*Dv = 0) every gradient is a sum over
     * nothing: zeros, and no kernel runs; otherwise uninitialized, for the kernel to write.
     */
    public static Tensor[] gradientBuffers(Tensor[] like, boolean[] needs) {
        Tensor q = like[0];
        boolean empty = noColumns(q, like[1], like[2]);
        Tensor[] grads = new Tensor[like.length];
        boolean any = false;
        for (int i = 0; i < like.length; i++) {
            if (needs[i]) {
                int[] shape = like[i].shape().toArray();
                grads[i] = empty ? CudaTensors.zeros(q.device(), shape) : CudaTensors.empty(q.device(), shape);
                any = true;
            }
        }
        return any ? grads : null;
    }

    /** No query, key or value column (B*Tq*Tk*Dv = 0): the backward has nothing to compute. */
    public static boolean noColumns(Tensor q, Tensor k, Tensor v) {
        return (long) q.dim(0) * q.dim(1) * k.dim(1) * v.dim(2) == 0;
    }

    /**
     * Throws {@link UnsupportedOperationException}, naming {@code op} and the limit, for the shapes that
     * {@code cuda/attention.cu} does not run: head sizes above {@value #MAX_HEAD_DIM}, more than 65535
     * (batch, head) pairs.
     */
    public static void requireSupported(String op, Tensor q, Tensor v, int heads) {
        int dh = q.dim(2) / heads;
        int dvh = v.dim(2) / heads;
        if (dh > MAX_HEAD_DIM || dvh > MAX_HEAD_DIM) {
            throw new UnsupportedOperationException(op + " on CUDA supports head sizes up to "
                    + MAX_HEAD_DIM + ", got D/H = " + dh + " and Dv/H = " + dvh + " (use more heads, or the cpu)");
        }
        if ((long) q.dim(0) * heads > 65535) {
            throw new UnsupportedOperationException(op + " on CUDA runs at most 65535 (batch, head) pairs"
                    + " per call, got B * H = " + (long) q.dim(0) * heads);
        }
    }
}
