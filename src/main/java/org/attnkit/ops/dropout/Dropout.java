package org.attnkit.ops.dropout;

import org.attnkit.autograd.Autograd;
import org.attnkit.backend.Backend;
import org.attnkit.backend.Kernels;
import org.attnkit.random.Philox;
import org.attnkit.tensor.Tensor;
import org.attnkit.util.Check;

/**
 * Inverted dropout, any shape: each element is dropped with probability {@code p} and the survivors
 * are scaled by {@code 1/(1-p)}, so the expectation is unchanged and inference needs no rescaling.
 *
 * <p>The mask comes from {@link Philox} keyed by {@code (seed, offset)}: element i, its flat row-major
 * index in x, is kept iff {@code Philox.uniform(seed, offset, i) >= p}. The same (seed, offset) gives
 * the same mask on every backend; vary {@code offset} (e.g. the step or layer) for fresh masks under
 * one seed. Backward saves nothing and regenerates the mask: {@code dx = dy * mask / (1-p)}.
 *
 * <p>{@code p = 0} returns x itself (no copy, no graph node): the identity, through which gradients
 * flow unchanged. p must be in [0, 1).
 */
public final class Dropout {
    static final Kernels<DropoutKernels> KERNELS = Kernels.of("dropout", (DropoutKernels) new DropoutRef())
            .with(Backend.SIMD, new DropoutSimdKernels()).with(Backend.CUDA, new DropoutCuda());

    private static final String OP = "dropout";

    private Dropout() {
    }

    public static Tensor apply(Tensor x, double p, long seed, long offset) {
        Check.notNull(OP, "x", x);
        Check.probability(OP, "p", p);
        if (p == 0) {
            return x;
        }
        DropoutKernels k = KERNELS.select(x);
        Tensor y = k.forward(x, p, seed, offset);
        return Autograd.record(OP, y, (dy, needs) -> new Tensor[] {k.backward(dy, p, seed, offset)}, x);
    }
}
