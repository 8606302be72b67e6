package org.attnkit.ops.activation;

import org.attnkit.autograd.Autograd;
import org.attnkit.backend.Backend;
import org.attnkit.backend.Kernels;
import org.attnkit.tensor.Tensor;
import org.attnkit.util.Check;

/**
 * Rectified linear unit, elementwise: {@code y = max(x, 0)}, any shape (NaN stays NaN). Backward
 * saves x and computes {@code dx = dy * [x > 0]}; the subgradient at exactly 0 is taken as 0, as in
 * PyTorch.
 */
public final class Relu {
    static final Kernels<ReluKernels> KERNELS = Kernels.of("relu", (ReluKernels) new ReluRef())
            .with(Backend.SIMD, new ReluSimdKernels()).with(Backend.CUDA, ActivationCuda.relu());

    private Relu() {
    }

    public static Tensor apply(Tensor x) {
        Check.notNull("relu", "x", x);
        ReluKernels k = KERNELS.select(x);
        Tensor y = k.forward(x);
        return Autograd.record("relu", y, (dy, needs) -> new Tensor[] {k.backward(x, dy)}, x);
    }
}
