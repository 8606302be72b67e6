package org.attnkit.ops.activation;

import static org.attnkit.backend.cuda.CudaTensors.address;

import org.attnkit.backend.cuda.AttnkitNative;
import org.attnkit.backend.cuda.Cuda;
import org.attnkit.backend.cuda.CudaTensors;
import org.attnkit.backend.cuda.NativeCalls;
import org.attnkit.tensor.Tensor;

/**
 * Tanh, ReLU, sigmoid and GELU (exact erf form) on CUDA ({@code cuda/pointwise.cu}), one element per
 * thread; each instance serves one activation. The native library is touched only after
 * {@link Cuda#requireAvailable} passed. Compiled and verified on an H200 (2026-12-04: the CUDA equivalence tests
 * pass).
 */
final class ActivationCuda implements TanhKernels, ReluKernels, SigmoidKernels, GeluKernels {
    private final String op;
    private final int code; // the forward op of attnkit_unary; code + 1 is its backward

    private ActivationCuda(String op, int code) {
        this.op = op;
        this.code = code;
    }

    static ActivationCuda tanh() {
        return new ActivationCuda("tanh", AttnkitNative.UNARY_TANH);
    }

    static ActivationCuda relu() {
        return new ActivationCuda("relu", AttnkitNative.UNARY_RELU);
    }

    static ActivationCuda sigmoid() {
        return new ActivationCuda("sigmoid", AttnkitNative.UNARY_SIGMOID);
    }

    static ActivationCuda gelu() {
        return new ActivationCuda("gelu", AttnkitNative.UNARY_GELU);
    }

    @Override
    public Tensor forward(Tensor x) {
        return run(op + " forward", code, x, null);
    }

    /** {@code saved} is y for tanh and sigmoid, x for relu and gelu (as each interface says). */
    @Override
    public Tensor backward(Tensor saved, Tensor dy) {
        return run(op + " backward", code + 1, saved, dy);
    }

    private static Tensor run(String what, int code, Tensor x, Tensor dy) {
        Cuda.requireAvailable(what);
        Tensor out = CudaTensors.empty(x.device(), x.shape().toArray());
        if (out.numel() > 0) {
            CudaTensors.enter(x.device());
            NativeCalls.check(what, AttnkitNative.attnkit_unary(address(out, "out"), address(x, "x"),
                    address(dy, "dy"), x.numel(), code));
        }
        return out;
    }
}
