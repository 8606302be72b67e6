package org.attnkit.nn;

import org.attnkit.ops.arith.Add;
import org.attnkit.tensor.Tensor;

/**
 * Fixed sinusoidal position encodings (Vaswani et al.), added to {@code x[B,T,D]}:
 * {@code pe[t, 2i] = sin(t / 10000^(2i/D))}, {@code pe[t, 2i+1] = cos(t / 10000^(2i/D))}. No parameters.
 */
public final class SinusoidalPositions extends Module {
    private final int dim;

    public SinusoidalPositions(int dim) {
        this.dim = dim;
    }

    /** The {@code [T, D]} table. */
    public static Tensor table(int time, int dim) {
        float[] pe = new float[time * dim];
        for (int t = 0; t < time; t++) {
            for (int i = 0; i < dim; i += 2) {
                double freq = Math.pow(10000.0, -(double) i / dim);
                pe[t * dim + i] = (float) Math.sin(t * freq);
                if (i + 1 < dim) {
                    pe[t * dim + i + 1] = (float) Math.cos(t * freq);
                }
            }
        }
        return Tensor.wrap(pe, time, dim);
    }

    public Tensor forward(Tensor x) {
        return Add.apply(x, table(x.dim(1), dim).to(x.device()));
    }
}
