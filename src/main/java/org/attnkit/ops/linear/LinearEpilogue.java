package org.attnkit.ops.linear;

import java.util.function.UnaryOperator;
import org.attnkit.autograd.Autograd;
import org.attnkit.autograd.GradMode;
import org.attnkit.backend.Backend;
import org.attnkit.backend.Kernels;
import org.attnkit.backend.cuda.AttnkitNative;
import org.attnkit.ops.activation.Gelu;
import org.attnkit.ops.activation.Relu;
import org.attnkit.ops.activation.Sigmoid;
import org.attnkit.ops.activation.Tanh;
import org.attnkit.ops.glu.Glu;
import org.attnkit.tensor.Tensor;

/**
 * A {@link Linear} followed by an activation or a GLU, as one operator so that the CUDA backend runs it as
 * one GEMM with the activation in its epilogue (no pre-activation round trip through memory in inference):
 * {@code y = f(z)}, {@code z[..., out] = x[..., in] W^T + b} with {@code weight W[out, in]}, optional
 * {@code bias b[out]}, and f one of {@link Activation}:
 * <ul>
 * <li>RELU, GELU (exact erf form), TANH, SIGMOID: elementwise, y has z's shape [..., out];</li>
 * <li>GLU: {@code y[..., j] = z[..., j] * sigmoid(z[..., j + out/2])} for {@code j < out/2}: the first half of
 *     the output features is the value a, the second half the gate g, exactly {@code Glu.apply(z, -1)}
 *     (PyTorch's {@code F.glu} convention); out must be even and y is [..., out/2].</li>
 * </ul>
 * On the reference and SIMD backends this is, bit for bit, {@code Linear.apply} then the activation op
 * ({@code Relu}, {@code Gelu}, {@code Tanh}, {@code Sigmoid}, {@code Glu}) on the same backend, forward and
 * backward. Backward saves x, W and the pre-activation z (CUDA: z only for GELU and GLU, which need it; the
 * others work from y) and computes {@code dz} with the activation's own backward, then the Linear backward's
 * {@code dx = dz W}, {@code dW = dz^T x}, {@code db = sum dz}, each only when needed. On CUDA the GEMM runs at
 * {@link org.attnkit.backend.cuda.Cuda#gemmPrecision()}.
 */
public final class LinearEpilogue {
    static final Kernels<LinearEpilogueKernels> KERNELS = Kernels.of("linear_epilogue",
            (LinearEpilogueKernels) new LinearEpilogueComposed()).with(Backend.SIMD, new LinearEpilogueComposed())
            .with(Backend.CUDA, new LinearEpilogueCuda());

    /** What follows the affine map. */
    public enum Activation {
        RELU(AttnkitNative.EPILOGUE_RELU, Relu::apply),
        GELU(AttnkitNative.EPILOGUE_GELU, Gelu::apply),
        TANH(AttnkitNative.EPILOGUE_TANH, Tanh::apply),
        SIGMOID(AttnkitNative.EPILOGUE_SIGMOID, Sigmoid::apply),
        /** Halves the output features: a = the first half, gate g = the second half, y = a * sigmoid(g). */
        GLU(AttnkitNative.EPILOGUE_GLU, z -> Glu.apply(z, -1));

        private final int code;
        private final UnaryOperator<Tensor> op;

        Activation(int code, UnaryOperator<Tensor> op) {
            this.code = code;
            this.op = op;
        }

        /** The epilogue code of the native {@code attnkit_gemm_ex}. */
        int code() {
            return code;
        }

        /** The stand-alone operator this epilogue fuses ({@code Relu.apply}, ..., {@code Glu.apply(z, -1)}). */
        public Tensor applyUnfused(Tensor z) {
            return op.apply(z);
        }
    }

    private LinearEpilogue() {
    }

    /** y = activation(x W^T + b): x[..., in], weight[out, in], bias[out] or null; out even for GLU. */
    public static Tensor apply(Tensor x, Tensor weight, Tensor bias, Activation activation) {
        String op = "linear_epilogue";
        Linear.checkArguments(op, x, weight, bias);
        if (activation == null) {
            throw new IllegalArgumentException(op + ": activation must not be null (RELU, GELU, TANH, SIGMOID or "
                    + "GLU)");
        }
        if (activation == Activation.GLU && weight.dim(0) % 2 != 0) {
            throw new IllegalArgumentException(op + ": GLU splits the out features into halves (a, gate), so out "
                    + "must be even, got out = " + weight.dim(0) + " (weight shape " + weight.shape() + ")");
        }
        LinearEpilogueKernels k = KERNELS.select(x, weight, bias);
        boolean save = GradMode.isEnabled() && (x.requiresGrad() || weight.requiresGrad()
                || (bias != null && bias.requiresGrad()));
        Tensor[] yz = k.forward(x, weight, bias, activation, save);
        Tensor y = yz[0];
        Tensor z = yz[1];
        return Autograd.record(op, y, (dy, needs) -> k.backward(x, weight, y, z, dy, activation, needs), x, weight,
                bias);
    }
}
