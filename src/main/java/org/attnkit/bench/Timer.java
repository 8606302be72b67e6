package org.attnkit.bench;

import java.util.Arrays;

/**
 * Times a call: warm-up runs (so the JIT has compiled the kernels and the pool's threads are up), then
 * timed repetitions, within time budgets; the result is the median, robust to the other tenants of
 * a shared machine.
 *
 * <p>Warm-up is adaptive because Vector API code runs boxed, orders of magnitude slower, until C2 has
 * compiled it, which on a busy machine can take seconds: after {@code minWarmup} runs and
 * {@code warmupSeconds}, warming continues while the runs keep getting faster (a new best more than 10%
 * below the previous one within the last three runs), up to {@code maxWarmupSeconds}.
 *
 * @param warmupSeconds warm up for at least this long
 * @param minWarmup warm-up runs at least
 * @param maxWarmupSeconds stop warming up after this long even if the runs still get faster
 * @param budgetSeconds stop repeating once the timed runs have taken this long (after {@code minReps})
 * @param minReps timed runs at least
 * @param maxReps timed runs at most
 */
public record Timer(double warmupSeconds, int minWarmup, double maxWarmupSeconds, double budgetSeconds, int minReps,
                    int maxReps) {
    public Timer {
        if (minWarmup < 0 || minReps < 1 || maxReps < minReps) {
            throw new IllegalArgumentException("need minWarmup >= 0 and 1 <= minReps <= maxReps, got " + minWarmup
                    + ", " + minReps + ", " + maxReps);
        }
    }

    /**
     * The median of the timed runs, how many there were, and the fastest: on a shared machine the median is
     * what a caller can expect, the fastest what the code can do when nothing else runs.
     */
    public record Result(double medianSeconds, int reps, double minSeconds) {
        public double ms() {
            return medianSeconds * 1e3;
        }

        public double minMs() {
            return minSeconds * 1e3;
        }
    }

    /** Runs {@code call} as described above. */
    public Result time(Runnable call) {
        long warmStart = System.nanoTime();
        double best = Double.MAX_VALUE;
        int sinceImprovement = 0;
        for (int i = 0; i < 100_000; i++) {
            double elapsed = (System.nanoTime() - warmStart) * 1e-9;
            boolean enough = i >= minWarmup && elapsed >= warmupSeconds;
            if (enough && (sinceImprovement >= 3 || elapsed >= maxWarmupSeconds)) {
                break;
            }
            long t0 = System.nanoTime();
            call.run();
            double dt = (System.nanoTime() - t0) * 1e-9;
            if (dt < 0.9 * best) {
                sinceImprovement = 0;
            } else {
                sinceImprovement++;
            }
            best = Math.min(best, dt);
        }
        double[] t = new double[maxReps];
        int n = 0;
        double total = 0;
        while (n < maxReps && (n < minReps || total < budgetSeconds)) {
            long t0 = System.nanoTime();
            call.run();
            t[n] = (System.nanoTime() - t0) * 1e-9;
            total += t[n];
            n++;
        }
        double[] timed = Arrays.copyOf(t, n);
        return new Result(median(timed), n, Arrays.stream(timed).min().orElse(Double.NaN));
    }

    /** The median (mean of the middle two for an even count). */
    static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        int n = s.length;
        return n % 2 == 1 ? s[n / 2] : 0.5 * (s[n / 2 - 1] + s[n / 2]);
    }
}
