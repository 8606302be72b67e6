package org.attnkit.bench;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.attnkit.backend.CpuPool;

/**
 * This machine's ceilings, measured from Java in the same run as the benchmarks: the fp32 FMA peak
 * (independent vector FMA chains on every worker thread) and the streaming bandwidth (a
 * copy-and-scale over arrays much larger than the caches, counting read + write bytes), each the
 * best of several repetitions.
 *
 * @param gflops fp32 FMA peak in GFLOP/s (an FMA counts as 2 FLOPs)
 * @param gbps streaming bandwidth in GB/s (bytes read + written)
 */
public record Ceilings(double gflops, double gbps) {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

    /** Measures both ceilings; takes one to two seconds. */
    public static Ceilings measure() {
        return measure(false);
    }

    /**
     * Measures both ceilings. Each figure is the best of several repetitions: on a shared machine the
     * best one is the one least disturbed by other tenants, and the ceiling is what the hardware can
     * do. {@code quick} uses fewer and shorter repetitions (a few hundred ms, for smoke tests).
     */
    public static Ceilings measure(boolean quick) {
        return new Ceilings(measureFmaPeak(quick ? 4_000_000L : 20_000_000L, quick ? 3 : 8),
                measureBandwidth(quick ? 3 : 8));
    }

    /** Seconds a kernel of {@code flops} and {@code bytes} needs at best on this machine. */
    public double rooflineSeconds(double flops, double bytes) {
        return Math.max(flops / (gflops * 1e9), bytes / (gbps * 1e9));
    }

    static double measureFmaPeak(long iters, int reps) {
        int tasks = CpuPool.threads();
        float[] sink = new float[tasks * S.length()];
        // 1000 iterations take ~2 us once C2 has compiled fmaChains; interpreted or C1 code boxes every
        // vector and takes hundreds of us.
        warmUntilFast(() -> fmaChains(1000, sink, 0), 50e-6);
        double best = Double.MAX_VALUE;
        for (int rep = 0; rep < reps; rep++) {
            long t0 = System.nanoTime();
            CpuPool.parallelFor(tasks, task -> fmaChains(iters, sink, task * S.length()));
            best = Math.min(best, (System.nanoTime() - t0) * 1e-9);
        }
        // 12 chains x lanes x 2 FLOPs per iteration per task.
        return (double) iters * 12 * S.length() * 2 * tasks / best / 1e9;
    }

    /**
     * Calls {@code call} until one call is faster than {@code fastSeconds}, or for at most 20 s. Interpreted
     * and C1-compiled Vector API code boxes every vector and runs each operation in tens of nanoseconds or
     * more, so timing a long first call would measure the JIT (tens of seconds on a busy machine, while the
     * C2 compile waits for a core); short calls get the method compiled by C2 as a whole after few slow
     * operations, and the first fast call shows the compiled code is in use.
     */
    private static void warmUntilFast(Runnable call, double fastSeconds) {
        long start = System.nanoTime();
        while ((System.nanoTime() - start) * 1e-9 < 20) {
            long t0 = System.nanoTime();
            call.run();
            if ((System.nanoTime() - t0) * 1e-9 < fastSeconds) {
                return;
            }
        }
    }

    /**
     * Twelve independent FMA chains hide the FMA latency; the result goes to sink so it is not dead. Each chain
     * is the addend of its FMA ({@code c = m * a + c}), as the accumulators of the kernels are: C2 emits
     * {@code vfmadd231ps}, whose destination is the addend, so with the chain as the multiplicand
     * ({@code c = c * m + a}) every FMA also needs a register copy of {@code a}, and on an AVX2 Zen 3 the loop
     * ran at 74-87 GFLOP/s on one core against 98-101 in this form and 87-103 for the C loop
     * ({@code bench/tools/roof.c}).
     */
    private static void fmaChains(long iters, float[] sink, int at) {
        FloatVector m = FloatVector.broadcast(S, 0.9999999f);
        FloatVector a = FloatVector.broadcast(S, 1e-7f);
        FloatVector c0 = FloatVector.broadcast(S, 1f);
        FloatVector c1 = c0;
        FloatVector c2 = c0;
        FloatVector c3 = c0;
        FloatVector c4 = c0;
        FloatVector c5 = c0;
        FloatVector c6 = c0;
        FloatVector c7 = c0;
        FloatVector c8 = c0;
        FloatVector c9 = c0;
        FloatVector c10 = c0;
        FloatVector c11 = c0;
        for (long i = 0; i < iters; i++) {
            c0 = m.fma(a, c0);
            c1 = m.fma(a, c1);
            c2 = m.fma(a, c2);
            c3 = m.fma(a, c3);
            c4 = m.fma(a, c4);
            c5 = m.fma(a, c5);
            c6 = m.fma(a, c6);
            c7 = m.fma(a, c7);
            c8 = m.fma(a, c8);
            c9 = m.fma(a, c9);
            c10 = m.fma(a, c10);
            c11 = m.fma(a, c11);
        }
        c0.add(c1).add(c2).add(c3).add(c4).add(c5).add(c6).add(c7).add(c8).add(c9).add(c10).add(c11)
                .intoArray(sink, at);
    }

    static double measureBandwidth(int reps) {
        int n = 32 << 20; // 32 Mi floats = 128 MiB per array, far past the caches
        float[] a = new float[n];
        float[] b = new float[n];
        java.util.Arrays.fill(a, 1f);
        int tasks = 64;
        int chunk = n / tasks;
        double best = Double.MAX_VALUE;
        // 4096 floats take under a microsecond compiled and tens of us boxed (see measureFmaPeak); then an
        // untimed pass touches every page of b (the first write to a page costs a fault).
        warmUntilFast(() -> scale(a, b, 0, 4096), 8e-6);
        CpuPool.parallelFor(tasks, task -> scale(a, b, task * chunk, (task + 1) * chunk));
        for (int rep = 0; rep < reps; rep++) {
            long t0 = System.nanoTime();
            CpuPool.parallelFor(tasks, task -> scale(a, b, task * chunk, (task + 1) * chunk));
            best = Math.min(best, (System.nanoTime() - t0) * 1e-9);
        }
        return 2.0 * n * Float.BYTES / best / 1e9;
    }

    private static void scale(float[] a, float[] b, int from, int to) {
        FloatVector f = FloatVector.broadcast(S, 1.0001f);
        int i = from;
        int bound = from + S.loopBound(to - from);
        for (; i < bound; i += S.length()) {
            FloatVector.fromArray(S, a, i).mul(f).intoArray(b, i);
        }
        for (; i < to; i++) {
            b[i] = a[i] * 1.0001f;
        }
    }
}
