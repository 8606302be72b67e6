package org.attnkit.cli;

import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.attnkit.backend.Backend;
import org.attnkit.backend.CpuPool;
import org.attnkit.bench.BenchOp;
import org.attnkit.bench.BenchPlot;
import org.attnkit.bench.BenchRunner;
import org.attnkit.bench.BenchShape;
import org.attnkit.bench.Ceilings;
import org.attnkit.bench.CudaRunner;
import org.attnkit.bench.Pass;
import org.attnkit.tensor.Device;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code attnkit bench}: measures this machine's ceilings (fp32 FMA peak and streaming bandwidth, from
 * Java) and then times each op x backend x pass, printing median and fastest ms, GFLOP/s, GB/s, the fraction of the
 * binding roofline and the speedup over the scalar reference. Costs come from
 * {@link org.attnkit.bench.Costs} (SPEC's cost tables).
 */
@Command(name = "bench", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        sortOptions = false,
        description = {"Measure this machine's fp32 FMA peak and streaming bandwidth, then time each op on each "
                + "backend, forward (fwd) and forward+backward (fwdbwd): median and fastest ms, GFLOP/s, GB/s, "
                + "roofline_fraction = max(FLOPs/peak, bytes/bandwidth)/time, and the speedup over the reference.",
                "The reference is timed with fewer repetitions; where one call would take too long it is "
                        + "predicted from a B=1 run and the row says so.",
                "The machine may be shared: compare ratios measured in one run."})
public final class BenchCommand implements Callable<Integer> {
    /** The --backend choices. */
    enum BackendChoice { ref, simd, cuda, all }

    @Option(names = "--op", split = ",", paramLabel = "NAME", converter = OpConverter.class,
            description = "Ops to time (default: all): lightconv, dynamicconv, attention, mae, gemm, linear, "
                    + "layernorm, softmax, glu.")
    List<BenchOp> ops;

    @Option(names = "--backend", paramLabel = "BACKEND", defaultValue = "all",
            description = "ref, simd, cuda or all (default: ${DEFAULT-VALUE}). An op without the backend is a "
                    + "skipped row. cuda: the ops timed with CUDA events, plus the GEMM at fp32/tf32/bf16 buffers "
                    + "(8192^3, 4096x512x512) and attention at B=8 H=16 T=4096 d=64 where gemm/attention are "
                    + "selected; exit 2 when CUDA is unavailable. all: the CUDA rows are skipped rows saying why "
                    + "when CUDA is unavailable.")
    BackendChoice backend;

    @Option(names = "--B", paramLabel = "N", description = "Batch size (default 8; --quick 2).")
    Integer batch;

    @Option(names = "--T", paramLabel = "N", description = "Sequence length (default 512; --quick 64).")
    Integer time;

    @Option(names = "--C", paramLabel = "N", description = "Channels / model width (default 512; --quick 64).")
    Integer channels;

    @Option(names = "--H", paramLabel = "N", description = "Heads (default 8; --quick 4).")
    Integer heads;

    @Option(names = "--K", paramLabel = "N", description = "Kernel size of the convolutions (default 31; --quick 7).")
    Integer kernel;

    @Option(names = "--quick", description = "Small shapes, short ceilings and few repetitions: seconds, for CI.")
    boolean quick;

    @Option(names = "--json", description = "One JSON object per line: the ceilings, then one per row.")
    boolean json;

    @Option(names = "--plot", paramLabel = "FILE.png",
            description = "Also draw median forward time against T (log-log) for lightconv, dynamicconv and "
                    + "attention into this PNG file.")
    Path plot;

    @Option(names = "--plot-T", split = ",", paramLabel = "T",
            description = "T values of the plot (default 64,128,...,4096; --quick 16,32,64,128).")
    List<Integer> plotT;

    @Option(names = "--no-headline",
            description = "With CUDA: leave out the headline rows (GEMM precisions at 8192^3 and 4096x512x512, "
                    + "attention at B=8 H=16 T=4096 d=64), e.g. in a sweep over --T.")
    boolean noHeadline;

    @Spec
    CommandSpec spec;

    /** Ops shown in the plot: the linear-cost convolutions against quadratic attention. */
    static final List<BenchOp> PLOT_OPS = List.of(BenchOp.LIGHTCONV, BenchOp.DYNAMICCONV, BenchOp.ATTENTION);

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        BenchShape base = quick ? BenchShape.QUICK : BenchShape.DEFAULT;
        BenchShape shape;
        try {
            shape = new BenchShape(or(batch, base.B()), or(time, base.T()), or(channels, base.C()),
                    or(heads, base.H()), or(kernel, base.K()));
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), "invalid shape: " + e.getMessage());
        }
        List<BenchOp> selected = ops == null || ops.isEmpty() ? List.of(BenchOp.values())
                : List.copyOf(new LinkedHashSet<>(ops));

        CudaStatus.Probe cuda = CudaStatus.probe();
        String cudaReason = "CUDA unavailable (" + cuda.reason() + ")";
        List<Backend> cpu = new ArrayList<>();
        List<Backend> unavailable = new ArrayList<>();
        boolean onCuda = false;
        switch (backend) {
            case ref -> cpu.add(Backend.REF);
            case simd -> cpu.add(Backend.SIMD);
            case cuda -> {
                if (!cuda.available()) {
                    throw new ParameterException(spec.commandLine(), "--backend cuda: " + cudaReason);
                }
                onCuda = true;
            }
            case all -> {
                cpu.add(Backend.REF);
                cpu.add(Backend.SIMD);
                if (cuda.available()) {
                    onCuda = true;
                } else {
                    unavailable.add(Backend.CUDA);
                }
            }
            default -> throw new AssertionError(backend);
        }
        if (plot != null) {
            System.setProperty("java.awt.headless", "true");
            if (plotT != null) {
                for (int t : plotT) {
                    if (t < 1) {
                        throw new ParameterException(spec.commandLine(), "--plot-T values must be >= 1, got " + t);
                    }
                }
            }
        }

        BenchRunner runner = null;
        if (!cpu.isEmpty()) {
            runner = cpuRows(selected, shape, cpu, unavailable, cudaReason, out);
        }
        CudaRunner cudaRunner = null;
        if (onCuda) {
            cudaRunner = cudaRows(selected, shape, out);
        }

        if (plot != null) {
            drawPlot(runner, cudaRunner, selected, cpu, shape, out);
        }
        return 0;
    }

    /** The CPU ceilings line, then the CPU rows; returns the runner (the plot reuses it). */
    private BenchRunner cpuRows(List<BenchOp> selected, BenchShape shape, List<Backend> cpu, List<Backend> unavailable,
                                String cudaReason, PrintWriter out) {
        Ceilings ceilings = Ceilings.measure(quick);
        int lanes = jdk.incubator.vector.FloatVector.SPECIES_PREFERRED.length();
        if (json) {
            JsonObject c = new JsonObject();
            c.addProperty("op", "ceiling");
            c.add("gflops", num(ceilings.gflops()));
            c.add("gbps", num(ceilings.gbps()));
            c.addProperty("threads", CpuPool.threads());
            c.addProperty("vector_floats", lanes);
            c.addProperty("java", Runtime.version().toString());
            out.println(c);
        } else {
            // The JVM's version is part of the result: the same kernels ran up to 3x apart on JDK 17 and 25.
            out.printf(Locale.ROOT, "ceilings (Java %s, %d threads, %d-float vectors): FMA peak %.1f GFLOP/s, "
                    + "streaming bandwidth %.1f GB/s%n", Runtime.version(), CpuPool.threads(), lanes, ceilings.gflops(),
                    ceilings.gbps());
            out.println(header());
        }
        out.flush();

        BenchRunner runner = new BenchRunner(quick ? BenchRunner.Settings.quick() : BenchRunner.Settings.standard(),
                ceilings);
        runner.run(selected, List.of(Pass.values()), cpu, shape, unavailable, cudaReason,
                row -> print(out, row, false));
        return runner;
    }

    /**
     * The GPU's ceilings, the selected ops on CUDA (CUDA events), then the headline rows of issue 5 where
     * gemm or attention is selected: the GEMM at fp32, tf32 and on bf16 buffers at 8192^3 and 4096x512x512,
     * attention at B=8 H=16 T=4096 d=64 (smaller with --quick).
     */
    private CudaRunner cudaRows(List<BenchOp> selected, BenchShape shape, PrintWriter out) {
        CudaRunner r = new CudaRunner(quick ? CudaRunner.Settings.quick() : CudaRunner.Settings.standard(),
                Device.cuda(0));
        if (json) {
            JsonObject c = new JsonObject();
            c.addProperty("op", "ceiling");
            c.addProperty("backend", "cuda");
            c.add("gflops_fp32", num(CudaRunner.FP32_GFLOPS));
            c.add("gflops_tf32", num(CudaRunner.TF32_GFLOPS));
            c.add("gflops_bf16", num(CudaRunner.BF16_GFLOPS));
            c.add("gbps", num(r.copyGbps()));
            out.println(c);
        } else {
            out.println(r.describeCeilings());
            out.println(header());
        }
        out.flush();
        java.util.function.Consumer<BenchRunner.Row> sink = row -> print(out, row, false);
        r.run(selected, List.of(Pass.values()), shape, sink);
        List<CudaRunner.GemmShape> gemms = selected.contains(BenchOp.GEMM) ? CudaRunner.headlineGemms(quick)
                : List.of();
        if (!noHeadline && (!gemms.isEmpty() || selected.contains(BenchOp.ATTENTION))) {
            r.headline(gemms, selected.contains(BenchOp.ATTENTION) ? CudaRunner.headlineAttention(quick) : null, sink);
        }
        return r;
    }

    private void drawPlot(BenchRunner runner, CudaRunner cudaRunner, List<BenchOp> selected, List<Backend> cpu,
                          BenchShape shape, PrintWriter out) {
        List<BenchOp> plotOps = new ArrayList<>();
        for (BenchOp op : PLOT_OPS) {
            if (ops == null || selected.contains(op)) {
                plotOps.add(op);
            }
        }
        if (plotOps.isEmpty()) {
            throw new ParameterException(spec.commandLine(), "--plot draws lightconv, dynamicconv and attention, "
                    + "but --op selects none of them");
        }
        List<Integer> ts = plotT != null && !plotT.isEmpty() ? plotT
                : quick ? List.of(16, 32, 64, 128) : List.of(64, 128, 256, 512, 1024, 2048, 4096);
        List<BenchRunner.Row> points = new ArrayList<>();
        for (int t : ts) {
            if (runner != null) {
                points.addAll(runner.run(plotOps, List.of(Pass.FWD), cpu, shape.withT(t), List.of(), "", r -> { }));
            }
            if (cudaRunner != null) {
                points.addAll(cudaRunner.run(plotOps, List.of(Pass.FWD), shape.withT(t), r -> { }));
            }
        }
        // The plotted points are figures too: printed like the table's rows.
        points.forEach(point -> print(out, point, true));
        int drawn;
        try (OutputStream os = Files.newOutputStream(plot)) {
            drawn = BenchPlot.write(points, shape, os);
        } catch (IOException e) {
            throw new CliException(Main.EXIT_FAILED, "cannot write the plot to " + plot + ": " + e.getMessage());
        }
        String msg = "plot: " + drawn + " series against T = " + ts + " written to " + plot;
        if (json) {
            PrintWriter err = spec.commandLine().getErr();
            err.println(msg);
            err.flush();
        } else {
            out.println(msg);
            out.flush();
        }
    }

    /** One row as a table line or, with --json, a JSON line (a plotted point's marked "plot": true), flushed. */
    private void print(PrintWriter out, BenchRunner.Row row, boolean plotPoint) {
        if (json) {
            JsonObject o = toJson(row);
            if (plotPoint) {
                o.addProperty("plot", true);
            }
            out.println(o);
        } else {
            out.println(format(row));
        }
        out.flush();
    }

    private static int or(Integer v, int dflt) {
        return v == null ? dflt : v;
    }

    /** The table's column header. */
    static String header() {
        return String.format(Locale.ROOT, "%-11s %-7s %-6s %4s %5s %5s %3s %3s %11s %9s %9s %8s %9s %9s  %s",
                "op", "backend", "pass", "B", "T", "C", "H", "K", "median_ms", "min_ms", "GFLOP/s", "GB/s",
                "roofline", "vs_ref", "note");
    }

    /** One table row; skipped rows show dashes and their reason. */
    static String format(BenchRunner.Row r) {
        BenchShape s = r.shape();
        String speed = Double.isNaN(r.speedup()) ? "-"
                : String.format(Locale.ROOT, "%s%.1fx", r.refEstimated() && r.backend() != Backend.REF ? "~" : "",
                        r.speedup());
        if (r.backend() == Backend.REF && !r.skipped()) {
            speed = "1.0x";
        }
        String note = r.note();
        if (!r.skipped()) {
            note = (note.isEmpty() ? "" : note + "; ") + r.bound() + "-bound";
        }
        return String.format(Locale.ROOT, "%-11s %-7s %-6s %4d %5d %5d %3d %3d %11s %9s %9s %8s %9s %9s  %s",
                r.op().id(), r.backend().id(), r.pass().id(), s.B(), s.T(), s.C(), s.H(), s.K(),
                fmt(r.ms(), "%.3f"), fmt(r.minMs(), "%.3f"), fmt(r.gflops(), "%.1f"), fmt(r.gbps(), "%.1f"),
                fmt(r.rooflineFraction(), "%.3f"), speed, note);
    }

    private static String fmt(double v, String f) {
        return Double.isNaN(v) ? "-" : String.format(Locale.ROOT, f, v);
    }

    /** One JSON object: the fields of the issue, then extras (speedup, reps, costs, bound, note). */
    static JsonObject toJson(BenchRunner.Row r) {
        BenchShape s = r.shape();
        JsonObject o = new JsonObject();
        o.addProperty("op", r.op().id());
        o.addProperty("backend", r.backend().id());
        o.addProperty("pass", r.pass().id());
        o.addProperty("B", s.B());
        o.addProperty("T", s.T());
        o.addProperty("C", s.C());
        o.addProperty("H", s.H());
        o.addProperty("K", s.K());
        o.add("ms", num(r.ms()));
        o.add("min_ms", num(r.minMs()));
        o.add("gflops", num(r.gflops()));
        o.add("gbps", num(r.gbps()));
        o.add("roofline_fraction", num(r.rooflineFraction()));
        o.add("speedup_vs_ref", r.backend() == Backend.REF && !r.skipped() ? num(1.0) : num(r.speedup()));
        o.addProperty("speedup_estimated", r.refEstimated() && r.backend() != Backend.REF && !r.skipped());
        o.add("ref_ms", num(r.refMs()));
        o.addProperty("reps", r.reps());
        o.addProperty("flops", r.flops());
        o.addProperty("bytes", r.bytes());
        o.addProperty("bound", r.bound());
        o.addProperty("skipped", r.skipped());
        o.addProperty("note", r.note());
        if (!r.precision().isEmpty()) {
            o.addProperty("precision", r.precision());
        }
        return o;
    }

    /** A number rounded to 6 significant digits, or JSON null for NaN. */
    private static com.google.gson.JsonElement num(double v) {
        if (Double.isNaN(v) || Double.isInfinite(v)) {
            return JsonNull.INSTANCE;
        }
        return new JsonPrimitive(new java.math.BigDecimal(v).round(new java.math.MathContext(6)).doubleValue());
    }

    /** --op names, with an error that lists the valid ones. */
    static final class OpConverter implements CommandLine.ITypeConverter<BenchOp> {
        @Override
        public BenchOp convert(String value) {
            try {
                return BenchOp.parse(value);
            } catch (IllegalArgumentException e) {
                throw new CommandLine.TypeConversionException(e.getMessage());
            }
        }
    }
}
