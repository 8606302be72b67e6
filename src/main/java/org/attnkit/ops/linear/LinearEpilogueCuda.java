package org.attnkit.ops.linear;

import static org.attnkit.backend.cuda.CudaTensors.address;

import org.attnkit.backend.cuda.AttnkitNative;
import org.attnkit.backend.cuda.Cuda;
import org.attnkit.backend.cuda.CudaTensors;
import org.attnkit.backend.cuda.NativeCalls;
import org.attnkit.ops.linear.LinearEpilogue.Activation;
import org.attnkit.tensor.Tensor;

/**
 * {@link LinearEpilogue} on CUDA: one {@code attnkit_gemm_ex} call with the bias and the activation (or GLU) in
 * the GEMM's epilogue, at {@link Cuda#gemmPrecision()}. The pre-activation z is written only when a backward
 * will need it (GELU and GLU; ReLU, tanh and sigmoid differentiate from y). Backward: dz by the activation
 * kernels' backward ({@code attnkit_unary}, {@code attnkit_glu_backward}), then {@link LinearCuda}'s backward.
 * Compiled and verified on an H200 (2026-12-04: the CUDA equivalence tests pass).
 */
final class LinearEpilogueCuda implements LinearEpilogueKernels {
    private static final String OP = "linear_epilogue";
    private static final LinearCuda LINEAR = new LinearCuda();

    @Override
    public Tensor[] forward(Tensor x, Tensor weight, Tensor bias, Activation activation, boolean saveForBackward) {
        Cuda.requireAvailable(OP + " forward");
        int out = weight.dim(0);
        int[] shape = x.shape().toArray();
        shape[shape.length - 1] = activation == Activation.GLU ? out / 2 : out;
        Tensor y = CudaTensors.empty(x.device(), shape);
        Tensor z = null;
        if (saveForBackward && needsZ(activation)) {
            shape[shape.length - 1] = out;
            z = CudaTensors.empty(x.device(), shape);
        }
        LinearCuda.forwardInto(OP + " forward", y, z, x, weight, bias, activation.code(), Cuda.gemmPrecision());
        return new Tensor[] {y, z};
    }

    /** Whether the backward needs z: GELU's derivative is a function of z, GLU's of both halves of z. */
    static boolean needsZ(Activation activation) {
        return activation == Activation.GELU || activation == Activation.GLU;
    }

    @Override
    public Tensor[] backward(Tensor x, Tensor weight, Tensor y, Tensor z, Tensor dy, Activation activation,
            boolean[] needsGrad) {
        Cuda.requireAvailable(OP + " backward");
        int out = weight.dim(0);
        int rows = LinearCuda.positions(x);
        int[] shape = x.shape().toArray();
        shape[shape.length - 1] = out;
        Tensor dz = CudaTensors.empty(x.device(), shape);
        try {
            activationBackward(dz, y, z, dy, activation, rows, out);
            return LINEAR.backward(x, weight, dz, needsGrad); // new tensors: dz is scratch
        } finally {
            CudaTensors.release(dz);
        }
    }

    /** dz = dy times the activation's derivative, from y or the saved pre-activation z. */
    private static void activationBackward(Tensor dz, Tensor y, Tensor z, Tensor dy, Activation activation, int rows,
            int out) {
        if (dz.numel() > 0) {
            CudaTensors.enter(dz.device());
            long n = dz.numel();
            int status = switch (activation) {
                // relu' from y: y > 0 exactly where z > 0 (the backward op is the forward code + 1)
                case RELU -> AttnkitNative.attnkit_unary(address(dz, "dz"), address(y, "y"), address(dy, "dy"), n,
                        AttnkitNative.UNARY_RELU + 1);
                case TANH -> AttnkitNative.attnkit_unary(address(dz, "dz"), address(y, "y"), address(dy, "dy"), n,
                        AttnkitNative.UNARY_TANH + 1);
                case SIGMOID -> AttnkitNative.attnkit_unary(address(dz, "dz"), address(y, "y"), address(dy, "dy"), n,
                        AttnkitNative.UNARY_SIGMOID + 1);
                case GELU -> AttnkitNative.attnkit_unary(address(dz, "dz"), address(z, "z"), address(dy, "dy"), n,
                        AttnkitNative.UNARY_GELU + 1);
                // z rows are [a (out/2), gate (out/2)]: the [outer, 2, m] layout of attnkit_glu_backward
                case GLU -> AttnkitNative.attnkit_glu_backward(address(dz, "dz"), address(z, "z"),
                        address(dy, "dy"), rows, out / 2);
            };
            NativeCalls.check(OP + " backward", status);
        }
    }
}
