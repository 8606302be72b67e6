package org.attnkit.ops.activation;

import org.attnkit.autograd.Autograd;
import org.attnkit.backend.Backend;
import org.attnkit.backend.Kernels;
import org.attnkit.tensor.Tensor;
import org.attnkit.util.Check;

/**
 * Logistic sigmoid, elementwise: {@code y = 1 / (1 + exp(-x))}, any shape, computed without
 * overflow for large |x|. Backward saves y and computes {@code dx = dy * y * (1 - y)}.
 */
public final class Sigmoid {
    static final Kernels<SigmoidKernels> KERNELS = Kernels.of("sigmoid", (SigmoidKernels) new SigmoidRef())
            .with(Backend.SIMD, new SigmoidSimdKernels()).with(Backend.CUDA, ActivationCuda.sigmoid());

    private Sigmoid() {
    }

    public static Tensor apply(Tensor x) {
        Check.notNull("sigmoid", "x", x);
        SigmoidKernels k = KERNELS.select(x);
        Tensor y = k.forward(x);
        return Autograd.record("sigmoid", y, (dy, needs) -> new Tensor[] {k.backward(y, dy)}, x);
    }
}
