package org.attnkit.ops.linear;

import org.attnkit.autograd.Autograd;
import org.attnkit.backend.Backend;
import org.attnkit.backend.Kernels;
import org.attnkit.tensor.Tensor;
import org.attnkit.util.Check;

/**
 * Affine map over the last dimension, PyTorch layout: {@code y[..., out] = x[..., in] W^T + b} with
 * {@code weight W[out, in]} and optional {@code bias b[out]}. x may have any rank >= 1; every leading
 * position is transformed independently. All tensors must share device and dtype.
 *
 * <p>Backward saves x and W and computes, each only when needed, {@code dx = dy W} (needs W),
 * {@code dW = sum over positions of dy^T x} (needs x) and {@code db = sum over positions of dy}.
 * The reference accumulates in double.
 */
public final class Linear {
    static final Kernels<LinearKernels> KERNELS =
            Kernels.of("linear", (LinearKernels) new LinearRef()).with(Backend.SIMD, new LinearSimdKernels())
                    .with(Backend.CUDA, new LinearCuda());

    private Linear() {
    }

    /** x[..., in], weight[out, in], bias[out] or null. */
    public static Tensor apply(Tensor x, Tensor weight, Tensor bias) {
        checkArguments("linear", x, weight, bias);
        LinearKernels k = KERNELS.select(x, weight, bias);
        Tensor y = k.forward(x, weight, bias);
        return Autograd.record("linear", y, (dy, needs) -> k.backward(x, weight, dy, needs), x, weight, bias);
    }

    /** The checks of {@link #apply}, shared with {@link LinearEpilogue}; {@code op} starts every message. */
    static void checkArguments(String op, Tensor x, Tensor weight, Tensor bias) {
        Check.notNull(op, "x", x);
        Check.notNull(op, "weight", weight);
        Check.sameDeviceAndType(op, "x", x, "weight", weight, "bias", bias);
        if (x.rank() < 1) {
            throw new IllegalArgumentException(op + ": x must have rank >= 1 [..., in], got rank 0 with shape "
                    + x.shape());
        }
        Check.rank(op, "weight", weight, 2, "[out, in]");
        if (x.dim(-1) != weight.dim(1)) {
            throw new IllegalArgumentException(op + ": x's last dimension (in = " + x.dim(-1) + ", shape "
                    + x.shape() + ") must equal weight dimension 1 (in = " + weight.dim(1) + ", shape "
                    + weight.shape() + ")");
        }
        if (bias != null) {
            Check.shape(op, "bias", bias, "[out]", weight.dim(0));
        }
    }
}
