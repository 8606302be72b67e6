package org.attnkit.ops.arith;

import org.attnkit.autograd.Autograd;
import org.attnkit.backend.Kernels;
import org.attnkit.tensor.Tensor;
import org.attnkit.util.Check;

/** Validation, dispatch and graph recording shared by the elementwise binary operators. */
final class Binary {
    private Binary() {
    }

    static Tensor apply(Kernels<BinaryKernels> kernels, Tensor a, Tensor b) {
        String op = kernels.op();
        Check.notNull(op, "a", a);
        Check.notNull(op, "b", b);
        Check.sameDeviceAndType(op, "a", a, "b", b);
        Broadcast.shape(op, a, b);
        BinaryKernels k = kernels.select(a, b);
        Tensor c = k.forward(a, b);
        return Autograd.record(op, c, (dc, needs) -> k.backward(a, b, dc, needs), a, b);
    }

    /**
     * A rank-0 constant of a's dtype on a's device (uploaded once where a lives on a GPU, so that
     * {@code a op s} runs there), for the scalar variants; rejects null a and non-finite s.
     */
    static Tensor scalarLike(String op, Tensor a, double s) {
        Check.notNull(op, "a", a);
        Check.finite(op, "scalar", s);
        Tensor c = Tensor.fromDoubles(new double[] {s}, a.dtype());
        return a.device().isCpu() ? c : c.to(a.device());
    }
}
