package org.attnkit.ops.mae;

import static org.attnkit.backend.cuda.CudaTensors.address;

import org.attnkit.backend.cuda.AttnkitNative;
import org.attnkit.backend.cuda.Cuda;
import org.attnkit.backend.cuda.CudaTensors;
import org.attnkit.backend.cuda.NativeCalls;
import org.attnkit.ops.attention.AttentionCuda;
import org.attnkit.tensor.Device;
import org.attnkit.tensor.Tensor;

/**
 * {@link GatedAttention} on CUDA ({@code cuda/attention.cu}): the flash attention kernels with alpha applied
 * in the forward epilogue (no extra pass over the output) and, in the backward, dy scaled by alpha per head
 * where it is read, {@code dalpha} reduced in a fixed order from the per-row dot products {@code dy . o}
 * and mapped to {@code dgate} through the membership. The same shape limits as {@code AttentionCuda}
 * (refused with {@link UnsupportedOperationException} before availability is asked). Compiled; NOT yet
 * run on a GPU.
 */
final class GatedAttentionCuda implements GatedAttentionKernels {
    @Override
    public Tensor forward(Tensor q, Tensor k, Tensor v, int heads, boolean causal, Tensor keyPaddingMask,
            Tensor gate, Tensor membership, int headsPerExpert) {
        AttentionCuda.requireSupported(GatedAttention.OP, q, v, heads);
        Cuda.requireAvailable(GatedAttention.OP + " forward");
        Tensor trivial = AttentionCuda.outputWithoutKernel(q, k, v); // no key: alpha * 0
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
        NativeCalls.check(GatedAttention.OP + " forward", AttnkitNative.attnkit_gated_attention_forward(
                address(y, "y"), address(q, "q"), address(k, "k"), address(v, "v"),
                address(keyPaddingMask, "keyPaddingMask"), address(gate, "gate"), address(membership, "membership"),
                b, tq, tk, heads, q.dim(2), dv, membership.dim(0), headsPerExpert, gate.rank() == 3 ? 1 : 0,
                causal ? 1 : 0));
        return y;
    }

    @Override
    public Tensor[] backward(Tensor q, Tensor k, Tensor v, int heads, boolean causal, Tensor keyPaddingMask,
            Tensor gate, Tensor membership, int headsPerExpert, Tensor dy, boolean[] needs) {
        AttentionCuda.requireSupported(GatedAttention.OP, q, v, heads);
        Cuda.requireAvailable(GatedAttention.OP + " backward");
        int b = q.dim(0);
        int tq = q.dim(1);
        int tk = k.dim(1);
        int dv = v.dim(2);
        // No query, key or value column: o is all zeros (or empty), so every gradient, dgate too, is zero.
        Tensor[] grads = AttentionCuda.gradientBuffers(new Tensor[] {q, k, v, gate}, needs);
        if (grads == null) {
            return new Tensor[4];
        }
        if (AttentionCuda.noColumns(q, k, v)) {
            return grads;
        }
        CudaTensors.enter(q.device());
        NativeCalls.check(GatedAttention.OP + " backward", AttnkitNative.attnkit_gated_attention_backward(
                address(grads[0], "dq"), address(grads[1], "dk"), address(grads[2], "dv"), address(grads[3], "dgate"),
                address(q, "q"), address(k, "k"), address(v, "v"), address(keyPaddingMask, "keyPaddingMask"),
                address(gate, "gate"), address(membership, "membership"), address(dy, "dy"), b, tq, tk, heads,
                q.dim(2), dv, membership.dim(0), headsPerExpert, gate.rank() == 3 ? 1 : 0, causal ? 1 : 0));
        return grads;
    }
}
