package org.attnkit.optim;

/** A learning-rate multiplier as a function of the (0-based) step. */
@FunctionalInterface
public interface Schedule {
    double scale(long step);

    /** No schedule: always 1. */
    static Schedule constant() {
        return s -> 1.0;
    }

    /**
     * Linear warm-up to 1 over {@code warmup} steps, then inverse-square-root decay (fairseq's
     * {@code inverse_sqrt}): {@code (s+1)/warmup} for {@code s+1 < warmup}, else {@code sqrt(warmup/(s+1))}.
     * {@code warmup = 0} means no warm-up and a decay of {@code 1/sqrt(s+1)}.
     */
    static Schedule warmupInverseSqrt(int warmup) {
        if (warmup < 0) {
            throw new IllegalArgumentException("warmupInverseSqrt: warmup must be >= 0, got " + warmup);
        }
        int w = Math.max(1, warmup);
        return s -> {
            double n = s + 1.0;
            return n < w ? n / w : Math.sqrt(w / n);
        };
    }
}
