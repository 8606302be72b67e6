package org.attnkit.ops.glu;

import org.attnkit.autograd.Autograd;
import org.attnkit.backend.Backend;
import org.attnkit.backend.Kernels;
import org.attnkit.tensor.Tensor;
import org.attnkit.util.Check;

/**
 * Gated linear unit: x is split into halves {@code (a, g)} along {@code dim} (first half a, second
 * half g, as in PyTorch's {@code F.glu}) and {@code y = a * sigmoid(g)}; y has x's shape with that
 * dimension halved. The size along dim must be even. Backward saves x and computes
 * {@code da = dy * sigmoid(g)} and {@code dg = dy * a * sigmoid(g) * (1 - sigmoid(g))}.
 */
public final class Glu {
    static final Kernels<GluKernels> KERNELS = Kernels.of("glu", (GluKernels) new GluRef())
            .with(Backend.SIMD, new GluSimdKernels()).with(Backend.CUDA, new GluCuda());

    private Glu() {
    }

    /** GLU over the last dimension. */
    public static Tensor apply(Tensor x) {
        return apply(x, -1);
    }

    /** GLU over {@code dim} (negative counts from the end). */
    public static Tensor apply(Tensor x, int dim) {
        Check.notNull("glu", "x", x);
        int rank = x.rank();
        if (dim < -rank || dim >= rank) {
            throw new IllegalArgumentException("glu: dim " + dim + " is out of range [" + (-rank) + ", "
                    + (rank - 1) + "] for x of rank " + rank + " with shape " + x.shape());
        }
        int axis = dim < 0 ? dim + rank : dim;
        int size = x.dim(axis);
        if (size % 2 != 0) {
            throw new IllegalArgumentException("glu: the size of x along dim " + dim + " must be even to split "
                    + "it into halves (a, g), got " + size + " in shape " + x.shape());
        }
        GluKernels k = KERNELS.select(x);
        Tensor y = k.forward(x, axis);
        return Autograd.record("glu", y, (dy, needs) -> new Tensor[] {k.backward(x, axis, dy)}, x);
    }
}
