package org.attnkit.bench;

import java.util.Arrays;

/**
 * Times a call: warm-up runs (so the JIT has compiled the kernels and the pool's threads are up), then
 * timed repetitions, within time budgets; the result is the median, robust to the other tenants of
 * a shared machine.
 *
 * @param warmupSeconds keep warming up until this much time has passed (at least {@code minWarmup} runs)
 * @param minWarmup warm-up runs at least
 * @param budgetSeconds stop repeating once the timed runs have taken this long (after {@code minReps})
 * @param minReps timed runs at least
 * @param maxReps timed runs at most
 */
public record Timer(double warmupSeconds, int minWarmup, double budgetSeconds, int minReps, int maxReps) {
    public Timer {
        if (minWarmup < 0 || minReps < 1 || maxReps < minReps) {
            throw new IllegalArgumentException("need minWarmup >= 0 and 1 <= minReps <= maxReps, got " + minWarmup
                    + ", " + minReps + ", " + maxReps);
        }
    }

    /** The median of the timed runs and how many there were. */
    public record Result(double medianSeconds, int reps) {
        public double ms() {
            return medianSeconds * 1e3;
        }
    }

    /** Runs {@code call} as described above. */
    public Result time(Runnable call) {
        long warmStart = System.nanoTime();
        for (int i = 0; i < 1000; i++) {
            if (i >= minWarmup && (System.nanoTime() - warmStart) * 1e-9 >= warmupSeconds) {
                break;
            }
            call.run();
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
        return new Result(median(Arrays.copyOf(t, n)), n);
    }

    /** The median (mean of the middle two for an even count). */
    static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        int n = s.length;
        return n % 2 == 1 ? s[n / 2] : 0.5 * (s[n / 2 - 1] + s[n / 2]);
    }
}
