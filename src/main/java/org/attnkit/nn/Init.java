package org.attnkit.nn;

import java.util.SplittableRandom;
import org.attnkit.tensor.Tensor;

/** Seeded parameter initializers: the same generator state gives the same tensors. */
public final class Init {
    private Init() {
    }

    /** Uniform in [-bound, bound). */
    public static Tensor uniform(SplittableRandom rng, double bound, int... shape) {
        Tensor t = Tensor.zeros(shape);
        float[] d = t.data();
        for (int i = 0; i < d.length; i++) {
            d[i] = (float) ((rng.nextDouble() * 2 - 1) * bound);
        }
        return t;
    }

    /** Normal with mean 0 and standard deviation {@code std} (Box-Muller). */
    public static Tensor normal(SplittableRandom rng, double std, int... shape) {
        Tensor t = Tensor.zeros(shape);
        float[] d = t.data();
        for (int i = 0; i < d.length; i++) {
            double u = 1.0 - rng.nextDouble();
            double v = rng.nextDouble();
            d[i] = (float) (std * Math.sqrt(-2.0 * Math.log(u)) * Math.cos(2.0 * Math.PI * v));
        }
        return t;
    }

    /** Xavier/Glorot uniform for a {@code [out, in]} weight. */
    public static Tensor xavier(SplittableRandom rng, int out, int in) {
        return uniform(rng, Math.sqrt(6.0 / (in + out)), out, in);
    }
}
