package org.attnkit.bench;

import java.util.Arrays;

/**
 * Times a call: warm-up runs (so the JIT has compiled the kernels and the pool's threads are up), then
 * timed repetitions, within time budgets; the result is the median, robust to the other tenants of
 * a shared machine.
 *
 * <p>Warm-up is adaptive because Vector API code runs boxed, orders of magnitude slower, until C2 has
 * compiled it, which on a busy machine can take seconds. The warm-up clock starts after the first run,
 * which carries class loading and the interpreter (0.7 s of a 1.3 ms softmax, measured) and would
 * otherwise use up the whole minimum. After {@code minWarmup} runs and {@code warmupSeconds}, warming
 * continues while the runs keep getting faster, up to {@code maxWarmupSeconds}: a new best more than 10%
 * below the previous one within the last three runs, or the median of the last {@value #WINDOW} runs more
 * than 5% below the median of the {@value #WINDOW} before them. The second test catches a gradual
 * speed-up hidden in noise, such as the methods of one operator reaching C2 one after another (softmax
 * measured 3-5 ms per call at the end of the old warm-up and 1.3-1.6 ms a second later).
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
        long start = System.nanoTime();
        double[] recent = new double[2 * WINDOW]; // the last warm-up runs, run i at i % (2 * WINDOW)
        double best = Double.MAX_VALUE;
        int sinceImprovement = 0;
        long warmStart = start;
        for (int i = 0; i < WARMUP_LIMIT; i++) {
            long now = System.nanoTime();
            boolean enough = i >= minWarmup && (now - warmStart) * 1e-9 >= warmupSeconds;
            if (enough && (!improving(recent, i, sinceImprovement) || (now - start) * 1e-9 >= maxWarmupSeconds)) {
                break;
            }
            long t0 = System.nanoTime();
            call.run();
            long t1 = System.nanoTime();
            double dt = (t1 - t0) * 1e-9;
            if (i == 0) {
                warmStart = t1; // the first run's class loading and interpretation do not count as warming
            }
            recent[i % recent.length] = dt;
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

    /** Runs compared by the windowed-median test of the warm-up. */
    static final int WINDOW = 5;
    private static final int WARMUP_LIMIT = 100_000;

    /**
     * Whether the warm-up still gets faster after {@code n} runs, the last {@code 2 * WINDOW} of them in
     * {@code recent} (run i at i % (2 * WINDOW)): a new best within the last three runs, or the median of
     * the last {@link #WINDOW} runs more than 5% below that of the {@link #WINDOW} before them.
     */
    static boolean improving(double[] recent, int n, int sinceImprovement) {
        if (sinceImprovement < 3) {
            return true;
        }
        if (n < 2 * WINDOW) {
            return false;
        }
        double[] last = new double[WINDOW];
        double[] before = new double[WINDOW];
        for (int j = 0; j < WINDOW; j++) {
            last[j] = recent[(n - WINDOW + j) % recent.length];
            before[j] = recent[(n - 2 * WINDOW + j) % recent.length];
        }
        return median(last) < 0.95 * median(before);
    }

    /** The median (mean of the middle two for an even count). */
    static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        int n = s.length;
        return n % 2 == 1 ? s[n / 2] : 0.5 * (s[n / 2 - 1] + s[n / 2]);
    }
}
