package org.attnkit.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;
import org.attnkit.backend.Backend;
import org.attnkit.backend.Backends;

/**
 * Times each op x backend x pass at one shape and turns the medians into rows with GFLOP/s, GB/s,
 * the roofline fraction and the speedup over the reference.
 *
 * <p>The reference is the slow scalar definition: at large shapes one call can take many seconds. It
 * is therefore first probed at B = 1 (every op's work is linear in B) and its full-shape time
 * predicted as B times that; when the prediction exceeds {@link Settings#refCallSeconds} the row is
 * skipped and says so, and the other backends' speedups are computed against the prediction and
 * marked as estimated. Otherwise the reference is timed at the full shape with fewer repetitions.
 */
public final class BenchRunner {
    /**
     * Time budgets. {@code fast} applies to the optimized backends, {@code ref} to the reference;
     * {@code refCallSeconds} is the longest predicted reference call that is still timed.
     */
    public record Settings(Timer fast, Timer ref, double refCallSeconds) {
        /**
         * Default sizes finish in about a minute on 2 cores. The optimized backends warm up for at least 1.5 s
         * and take the median of up to 200 calls within 1 s: LightConv's forward at B=8 T=512 C=512 K=31 kept
         * getting faster for ~0.5 s of calls (medians of successive 100-call rounds 1.38, 1.17, 1.10, 1.03,
         * 1.00, 0.92, 0.94, 0.98 ms, 2026-12-04), too gradually for the warm-up's tests to notice, and the
         * median of 40 calls (~40 ms) moved with every burst of the machine's other tenants (1.0-1.8 ms
         * in four runs whose fastest calls were all 1.0-1.07 ms).
         */
        public static Settings standard() {
            return new Settings(new Timer(1.5, 2, 4.0, 1.0, 5, 200), new Timer(0.0, 0, 0.0, 1.2, 1, 5), 1.5);
        }

        /** Seconds in all, for CI smoke tests. */
        public static Settings quick() {
            return new Settings(new Timer(0.02, 1, 0.5, 0.05, 3, 5), new Timer(0.0, 1, 0.0, 0.05, 2, 3), 0.3);
        }
    }

    /**
     * One line of the result.
     *
     * @param ms median milliseconds per call, NaN when skipped
     * @param reps timed repetitions behind the median (0 when skipped)
     * @param refMs the reference's milliseconds for the same op, pass and shape: measured, or predicted
     *              when {@code refEstimated}; NaN when unknown
     * @param note why the row is skipped, or how the reference was handled; empty when nothing to say
     * @param precision the CUDA GEMM precision of the row ("fp32", "tf32", "bf16", "bf16-buffers") where it
     *                  matters, else empty (every CPU row)
     * @param minMs the fastest timed call in milliseconds, NaN when skipped or not recorded
     */
    public record Row(BenchOp op, Backend backend, Pass pass, BenchShape shape, double flops, double bytes,
                      double ms, int reps, double refMs, boolean refEstimated, String note, Ceilings ceilings,
                      String precision, double minMs) {
        /** A row without the fastest call recorded. */
        public Row(BenchOp op, Backend backend, Pass pass, BenchShape shape, double flops, double bytes, double ms,
                   int reps, double refMs, boolean refEstimated, String note, Ceilings ceilings, String precision) {
            this(op, backend, pass, shape, flops, bytes, ms, reps, refMs, refEstimated, note, ceilings, precision,
                    Double.NaN);
        }

        /** A row without a precision (CPU rows). */
        public Row(BenchOp op, Backend backend, Pass pass, BenchShape shape, double flops, double bytes, double ms,
                   int reps, double refMs, boolean refEstimated, String note, Ceilings ceilings) {
            this(op, backend, pass, shape, flops, bytes, ms, reps, refMs, refEstimated, note, ceilings, "");
        }

        public boolean skipped() {
            return Double.isNaN(ms);
        }

        public double gflops() {
            return skipped() ? Double.NaN : flops / (ms * 1e-3) / 1e9;
        }

        public double gbps() {
            return skipped() ? Double.NaN : bytes / (ms * 1e-3) / 1e9;
        }

        /** max(FLOPs / FMA peak, bytes / bandwidth) / measured time: 1 means at the roofline. */
        public double rooflineFraction() {
            return skipped() ? Double.NaN : ceilings.rooflineSeconds(flops, bytes) / (ms * 1e-3);
        }

        /** Which roof binds at this shape: "compute" or "memory". */
        public String bound() {
            return flops / (ceilings.gflops() * 1e9) >= bytes / (ceilings.gbps() * 1e9) ? "compute" : "memory";
        }

        /** Reference time over this row's time; NaN when either is unknown. */
        public double speedup() {
            return skipped() || Double.isNaN(refMs) ? Double.NaN : refMs / ms;
        }
    }

    private final Settings settings;
    private final Ceilings ceilings;

    public BenchRunner(Settings settings, Ceilings ceilings) {
        this.settings = settings;
        this.ceilings = ceilings;
    }

    /**
     * Runs every op x pass on each CPU backend in {@code backends} (REF and SIMD; when the reference is
     * among them it is run or predicted first, because the speedups need it) and hands each row to {@code sink}
     * as soon as it is known. {@code unavailable} backends (e.g. CUDA without a device) give a skipped
     * row per op and pass with the given reason.
     */
    public List<Row> run(List<BenchOp> ops, List<Pass> passes, List<Backend> backends, BenchShape shape,
                         List<Backend> unavailable, String unavailableReason, Consumer<Row> sink) {
        List<Row> rows = new ArrayList<>();
        Consumer<Row> emit = r -> {
            rows.add(r);
            sink.accept(r);
        };
        for (BenchOp op : ops) {
            for (Pass pass : passes) {
                Costs.Cost cost = Costs.of(op, shape, pass);
                // Without the reference among the backends there is no speedup to report: don't pay for it.
                RefTime ref = backends.contains(Backend.REF) ? referenceTime(op, pass, shape)
                        : new RefTime(Double.NaN, 0, false, "");
                for (Backend b : backends) {
                    if (b == Backend.REF) {
                        emit.accept(refRow(op, pass, shape, cost, ref));
                    } else {
                        emit.accept(timedRow(op, b, pass, shape, cost, ref));
                    }
                }
                for (Backend b : unavailable) {
                    emit.accept(skippedRow(op, b, pass, shape, cost, ref, unavailableReason));
                }
            }
        }
        return rows;
    }

    /** The reference's time at {@code shape}: measured, predicted, or missing with a reason. */
    record RefTime(double ms, int reps, boolean estimated, String note, double minMs) {
        RefTime(double ms, int reps, boolean estimated, String note) {
            this(ms, reps, estimated, note, Double.NaN);
        }

    }

    RefTime referenceTime(BenchOp op, Pass pass, BenchShape shape) {
        try (Backends.Scope ignored = Backends.force(Backend.REF)) {
            double predictedS;
            String probe;
            if (shape.B() > 1) {
                BenchOp.Workload small = op.prepare(shape.withB(1));
                // The first runs include class loading, interpretation and JIT compiles, so the best of up to
                // four is the estimate; the probing stops once it has cost half the budget of one call.
                double best = Double.MAX_VALUE;
                double spent = 0;
                for (int i = 0; i < 4 && spent < settings.refCallSeconds() / 2; i++) {
                    double t = once(small, pass);
                    best = Math.min(best, t);
                    spent += t;
                }
                predictedS = best * shape.B();
                probe = String.format(Locale.ROOT, "%.0f ms at B=1", best * 1e3);
            } else {
                predictedS = Double.NaN;
                probe = null;
            }
            if (predictedS > settings.refCallSeconds()) {
                return new RefTime(predictedS * 1e3, 0, true, String.format(Locale.ROOT,
                        "ref not timed: predicted %.1f s per call (%s x B=%d) > %.1f s budget", predictedS, probe,
                        shape.B(), settings.refCallSeconds()));
            }
            BenchOp.Workload w = op.prepare(shape);
            Timer t = settings.ref();
            Timer.Result r = t.time(() -> w.run(pass));
            return new RefTime(r.ms(), r.reps(), false, r.reps() < settings.fast().minReps()
                    ? "ref: " + r.reps() + (r.reps() == 1 ? " rep" : " reps") : "", r.minMs());
        } catch (UnsupportedOperationException e) {
            return new RefTime(Double.NaN, 0, false, "ref failed: " + e.getMessage());
        }
    }

    private static double once(BenchOp.Workload w, Pass pass) {
        long t0 = System.nanoTime();
        w.run(pass);
        return (System.nanoTime() - t0) * 1e-9;
    }

    private Row refRow(BenchOp op, Pass pass, BenchShape shape, Costs.Cost cost, RefTime ref) {
        double ms = ref.estimated() ? Double.NaN : ref.ms();
        return new Row(op, Backend.REF, pass, shape, cost.flops(), cost.bytes(), ms, ref.reps(), ref.ms(),
                ref.estimated(), ref.note(), ceilings, "", ref.estimated() ? Double.NaN : ref.minMs());
    }

    private Row timedRow(BenchOp op, Backend b, Pass pass, BenchShape shape, Costs.Cost cost, RefTime ref) {
        try (Backends.Scope ignored = Backends.force(b)) {
            BenchOp.Workload w = op.prepare(shape);
            Timer.Result r = settings.fast().time(() -> w.run(pass));
            String note = ref.estimated() ? "speedup vs predicted ref" : "";
            return new Row(op, b, pass, shape, cost.flops(), cost.bytes(), r.ms(), r.reps(), ref.ms(),
                    ref.estimated(), note, ceilings, "", r.minMs());
        } catch (UnsupportedOperationException e) {
            if (missingBackend(e, b)) {
                return skippedRow(op, b, pass, shape, cost, ref, e.getMessage());
            }
            throw e;
        }
    }

    private Row skippedRow(BenchOp op, Backend b, Pass pass, BenchShape shape, Costs.Cost cost, RefTime ref,
                           String reason) {
        return new Row(op, b, pass, shape, cost.flops(), cost.bytes(), Double.NaN, 0, ref.ms(), ref.estimated(),
                "skipped: " + reason, ceilings);
    }

    /**
     * Whether {@code e} is the dispatcher saying an operator lacks {@code backend} (see
     * {@code Kernels.choose}), as opposed to the operator failing.
     */
    static boolean missingBackend(UnsupportedOperationException e, Backend backend) {
        String msg = e.getMessage();
        return msg != null && msg.endsWith(" has no " + backend.id() + " implementation");
    }
}
