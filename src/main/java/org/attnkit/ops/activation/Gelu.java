package org.attnkit.ops.activation;

import org.attnkit.autograd.Autograd;
import org.attnkit.backend.Backend;
import org.attnkit.backend.Kernels;
import org.attnkit.tensor.Tensor;
import org.attnkit.util.Check;

/**
 * Gaussian error linear unit in its exact form, elementwise: {@code y = 0.5 x (1 + erf(x / sqrt 2))
 * = x Phi(x)}, any shape (not the tanh approximation). Backward saves x and computes
 * {@code dx = dy * (Phi(x) + x phi(x))} with {@code phi(x) = exp(-x^2/2) / sqrt(2 pi)}. erf comes
 * from {@link Erf}, accurate to double precision.
 */
public final class Gelu {
    static final Kernels<GeluKernels> KERNELS = Kernels.of("gelu", (GeluKernels) new GeluRef())
            .with(Backend.SIMD, new GeluSimdKernels()).with(Backend.CUDA, ActivationCuda.gelu());

    private Gelu() {
    }

    public static Tensor apply(Tensor x) {
        Check.notNull("gelu", "x", x);
        GeluKernels k = KERNELS.select(x);
        Tensor y = k.forward(x);
        return Autograd.record("gelu", y, (dy, needs) -> new Tensor[] {k.backward(x, dy)}, x);
    }
}
