package org.attnkit.ops.dropout;

import org.attnkit.random.Philox;
import org.attnkit.tensor.Tensor;

/** Scalar reference of {@link Dropout}, in double. */
final class DropoutRef implements DropoutKernels {
    @Override
    public Tensor forward(Tensor x, double p, long seed, long offset) {
        return masked(x, p, seed, offset);
    }

    @Override
    public Tensor backward(Tensor dy, double p, long seed, long offset) {
        // The mask is a per-element multiply, so its gradient is the same multiply.
        return masked(dy, p, seed, offset);
    }

    private static Tensor masked(Tensor t, double p, long seed, long offset) {
        double scale = 1.0 / (1.0 - p);
        double[] v = t.toDoubleArray();
        for (int i = 0; i < v.length; i++) {
            v[i] = Philox.keep(seed, offset, i, p) ? v[i] * scale : 0.0;
        }
        return Tensor.fromDoubles(v, t.dtype(), t.shape().toArray());
    }
}
