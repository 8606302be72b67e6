package org.attnkit.ops.activation;

import org.attnkit.autograd.Autograd;
import org.attnkit.backend.Backend;
import org.attnkit.backend.Kernels;
import org.attnkit.tensor.Tensor;
import org.attnkit.util.Check;

/**
 * Hyperbolic tangent, elementwise: {@code y = tanh(x)}, any shape. Backward saves y and computes
 * {@code dx = dy * (1 - y^2)}.
 */
public final class Tanh {
    static final Kernels<TanhKernels> KERNELS = Kernels.of("tanh", (TanhKernels) new TanhRef())
            .with(Backend.SIMD, new TanhSimdKernels()).with(Backend.CUDA, ActivationCuda.tanh());

    private Tanh() {
    }

    public static Tensor apply(Tensor x) {
        Check.notNull("tanh", "x", x);
        TanhKernels k = KERNELS.select(x);
        Tensor y = k.forward(x);
        return Autograd.record("tanh", y, (dy, needs) -> new Tensor[] {k.backward(y, dy)}, x);
    }
}
