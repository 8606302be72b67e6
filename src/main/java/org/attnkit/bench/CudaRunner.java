package org.attnkit.bench;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;
import org.attnkit.backend.Backend;
import org.attnkit.backend.cuda.AttnkitNative;
import org.attnkit.backend.cuda.Cuda;
import org.attnkit.backend.cuda.CudaBench;
import org.attnkit.backend.cuda.CudaScope;
import org.attnkit.backend.cuda.CudaTensors;
import org.attnkit.backend.cuda.GemmPrecision;
import org.attnkit.backend.cuda.NativeCalls;
import org.attnkit.tensor.Device;
import org.attnkit.tensor.Tensor;

/**
 * The CUDA rows of {@code attnkit bench}: each call is timed on the GPU with CUDA events (a start and a stop
 * event around the call on the default stream, so host-side launch overhead counts only where the GPU waits
 * for it), inside a {@link CudaScope} that frees the call's buffers after the stop event. Inputs live on the
 * device before timing starts. Rows carry the GPU's ceilings: {@link #PEAK_GFLOPS} per precision and the
 * device-to-device copy bandwidth measured at the start of the run.
 *
 * <p>Besides the selected ops at the bench shape (at the current {@link Cuda#gemmPrecision()} for the GEMM
 * ops), the headline rows of issue 5: the GEMM at fp32, tf32 and on bf16 buffers (the bf16 entry point with
 * bf16 output, like {@code torch.matmul} on bf16 tensors) at 8192^3 and 4096x512x512, and attention at
 * B=8 H=16 T=4096 d=64: the fp32 operator forward and forward+backward, and the bf16 tensor-core forward on bf16
 * buffers, causal and not (precision "bf16-buffers", like {@code scaled_dot_product_attention} on bf16 tensors).
 * Needs a GPU; ran on an H200 (2026-12-04).
 */
public final class CudaRunner {
    /**
     * Compute ceilings in GFLOP/s of an H100/H200 SXM: fp32 CUDA cores 67 TFLOP/s (datasheet); bf16 tensor cores
     * 790 TFLOP/s as measured on such a machine (shared/GPU.md; datasheet dense 989); tf32 at half the bf16 rate.
     */
    public static final double FP32_GFLOPS = 67_000;
    public static final double TF32_GFLOPS = 395_000;
    public static final double BF16_GFLOPS = 790_000;

    /** The ceiling of a precision id ("fp32", "tf32", "bf16", "bf16-buffers"). */
    public static double peakGflops(String precision) {
        return switch (precision) {
            case "tf32" -> TF32_GFLOPS;
            case "bf16", "bf16-buffers" -> BF16_GFLOPS;
            default -> FP32_GFLOPS;
        };
    }

    /** Repetitions and time budget of one row. */
    public record Settings(int warmup, int minReps, int maxReps, double budgetSeconds) {
        public static Settings standard() {
            return new Settings(3, 5, 50, 2.0);
        }

        public static Settings quick() {
            return new Settings(1, 3, 5, 0.2);
        }
    }

    /** GEMM shapes of the headline rows: M x N x K (a[M,K] b[K,N]). */
    public record GemmShape(int m, int n, int k) {
        /** As a {@link BenchShape} of the gemm op: a[B*T, C] x b[C, C] needs N = K = C, M = B*T. */
        BenchShape benchShape() {
            if (n != k) {
                throw new IllegalArgumentException("the gemm op is square in N and K, got " + this);
            }
            return new BenchShape(1, m, k, 1, 1);
        }

        @Override
        public String toString() {
            return m + "x" + n + "x" + k;
        }
    }

    /** 8192^3 and the 4096x512x512 (quick: 1024^3 and 256x128x128). */
    public static List<GemmShape> headlineGemms(boolean quick) {
        return quick ? List.of(new GemmShape(1024, 1024, 1024), new GemmShape(256, 128, 128))
                : List.of(new GemmShape(8192, 8192, 8192), new GemmShape(4096, 512, 512));
    }

    /** Attention at B=8 H=16 T=4096 d=64, i.e. C = 1024 (quick: B=2 H=4 T=256 d=16). */
    public static BenchShape headlineAttention(boolean quick) {
        return quick ? new BenchShape(2, 256, 64, 4, 1) : new BenchShape(8, 4096, 1024, 16, 1);
    }

    private final Settings settings;
    private final Device device;
    private double copyGbps = Double.NaN;

    public CudaRunner(Settings settings, Device device) {
        this.settings = settings;
        this.device = device;
    }

    /** The device-to-device copy bandwidth (read + write GB/s), measured once (1 GiB, quick 64 MiB). */
    public double copyGbps() {
        if (Double.isNaN(copyGbps)) {
            boolean quick = settings.maxReps() <= 5;
            copyGbps = CudaBench.copyGbps(device, quick ? 64L << 20 : 1L << 30, quick ? 3 : 10);
        }
        return copyGbps;
    }

    private Ceilings ceilings(String precision) {
        return new Ceilings(peakGflops(precision), copyGbps());
    }

    /** Every op x pass at {@code shape} on CUDA, at the current GEMM precision. */
    public List<BenchRunner.Row> run(List<BenchOp> ops, List<Pass> passes, BenchShape shape,
                                     Consumer<BenchRunner.Row> sink) {
        List<BenchRunner.Row> rows = new ArrayList<>();
        String precision = Cuda.gemmPrecision().id();
        for (BenchOp op : ops) {
            for (Pass pass : passes) {
                BenchRunner.Row r = opRow(op, pass, shape, precision);
                rows.add(r);
                sink.accept(r);
            }
        }
        return rows;
    }

    private BenchRunner.Row opRow(BenchOp op, Pass pass, BenchShape shape, String precision) {
        Costs.Cost cost = Costs.of(op, shape, pass);
        boolean gemmOp = op == BenchOp.GEMM || op == BenchOp.LINEAR;
        String p = gemmOp ? precision : "";
        Ceilings c = ceilings(gemmOp ? precision : "fp32");
        try (CudaScope ignored = CudaScope.open()) {
            BenchOp.Workload w = op.prepare(shape).to(device);
            Timed t = time(() -> w.run(pass));
            return new BenchRunner.Row(op, Backend.CUDA, pass, shape, cost.flops(), cost.bytes(), t.ms, t.reps,
                    Double.NaN, false, "CUDA events", c, p);
        } catch (UnsupportedOperationException e) {
            return new BenchRunner.Row(op, Backend.CUDA, pass, shape, cost.flops(), cost.bytes(), Double.NaN, 0,
                    Double.NaN, false, "skipped: " + e.getMessage(), c, p);
        }
    }

    /**
     * The headline rows: the GEMM forward at fp32 and tf32 (MatMul at that precision; the precision is restored
     * afterwards) and on bf16 buffers, at each of {@code gemms}; then attention forward and forward+backward at
     * {@code attention} (none when null), and the bf16 attention forward there, not causal and causal.
     */
    public List<BenchRunner.Row> headline(List<GemmShape> gemms, BenchShape attention,
                                          Consumer<BenchRunner.Row> sink) {
        List<BenchRunner.Row> rows = new ArrayList<>();
        Consumer<BenchRunner.Row> emit = r -> {
            rows.add(r);
            sink.accept(r);
        };
        for (GemmShape g : gemms) {
            for (GemmPrecision p : new GemmPrecision[] {GemmPrecision.FP32, GemmPrecision.TF32}) {
                GemmPrecision previous = Cuda.setGemmPrecision(p);
                try {
                    emit.accept(opRow(BenchOp.GEMM, Pass.FWD, g.benchShape(), p.id()));
                } finally {
                    Cuda.setGemmPrecision(previous);
                }
            }
            emit.accept(bf16BufferRow(g));
        }
        if (attention != null) {
            for (Pass pass : Pass.values()) {
                emit.accept(opRow(BenchOp.ATTENTION, pass, attention, ""));
            }
            for (boolean causal : new boolean[] {false, true}) {
                emit.accept(attentionBf16Row(attention, causal));
            }
        }
        return rows;
    }

    /**
     * FLOPs of the bf16 attention row: 4 B T^2 C (S = Q K^T and O = P V), halved when causal (the convention of
     * the PyTorch peer in bench/tools/gpu_peer.py, so the two TFLOP/s compare).
     */
    static double attentionBf16Flops(BenchShape s, boolean causal) {
        return 4.0 * s.B() * s.T() * (double) s.T() * s.C() / (causal ? 2 : 1);
    }

    /** Bytes of the bf16 attention row: read q, k, v and write y (bf16, 2 bytes each), write lse (fp32 per row). */
    static double attentionBf16Bytes(BenchShape s) {
        double n = (double) s.B() * s.T() * s.C();
        return 4 * n * 2 + 4.0 * s.B() * s.H() * s.T();
    }

    /**
     * attnkit_attention_forward_bf16 (the tensor-core FA2-style forward, cuda/attention_bf16.cu) on bf16 buffers
     * q, k, v [B,T,C] with bf16 output and the lse written, self-attention (Tq = Tk = T), no padding mask; Java
     * tensors are fp32, so this is a bench row and not an operator. Skipped (with the reason) when the head size
     * C/H is not 64 or 128, e.g. at the quick shape.
     */
    BenchRunner.Row attentionBf16Row(BenchShape s, boolean causal) {
        String what = "bf16 buffers (attnkit_attention_forward_bf16, " + (causal ? "causal" : "not causal")
                + ", bf16 out + lse";
        double flops = attentionBf16Flops(s, causal);
        double bytes = attentionBf16Bytes(s);
        int d = s.C() / s.H();
        if (d != 64 && d != 128) {
            return new BenchRunner.Row(BenchOp.ATTENTION, Backend.CUDA, Pass.FWD, s, flops, bytes, Double.NaN, 0,
                    Double.NaN, false, "skipped: " + what + "): head size " + d + ", the bf16 kernel takes 64 or 128",
                    ceilings("bf16"), "bf16-buffers");
        }
        try (CudaScope ignored = CudaScope.open()) {
            long q = bf16Buffer(BenchOp.randn(2001, 1, s.B() * s.T(), s.C()));
            long k = bf16Buffer(BenchOp.randn(2002, 1, s.B() * s.T(), s.C()));
            long v = bf16Buffer(BenchOp.randn(2003, 1, s.B() * s.T(), s.C()));
            long y = CudaTensors.address(CudaTensors.empty(device, halfFloats((long) s.B() * s.T() * s.C())), "y");
            long lse = CudaTensors.address(CudaTensors.empty(device, s.B() * s.H(), s.T()), "lse");
            int c = causal ? 1 : 0;
            Timed t = time(() -> NativeCalls.check("bench attention bf16", AttnkitNative.attnkit_attention_forward_bf16(
                    y, lse, q, k, v, 0, s.B(), s.T(), s.T(), s.H(), s.C(), c, 1)));
            return new BenchRunner.Row(BenchOp.ATTENTION, Backend.CUDA, Pass.FWD, s, flops, bytes, t.ms, t.reps,
                    Double.NaN, false, what + (causal ? "; FLOPs halved" : "") + "); CUDA events", ceilings("bf16"),
                    "bf16-buffers");
        }
    }

    /** attnkit_gemm_bf16 on bf16 buffers with bf16 output: 2 MNK FLOPs, (MK + KN + MN) * 2 bytes. */
    BenchRunner.Row bf16BufferRow(GemmShape g) {
        BenchShape shape = g.benchShape();
        double flops = 2.0 * g.m() * (double) g.n() * g.k();
        double bytes = 2.0 * ((double) g.m() * g.k() + (double) g.k() * g.n() + (double) g.m() * g.n());
        try (CudaScope ignored = CudaScope.open()) {
            long a = bf16Buffer(BenchOp.randn(1234, 1, g.m(), g.k()));
            // w stored [N, K] (x W^T, as a Linear weight): with K % 8 == 0 the cp.async kernel runs.
            long w = bf16Buffer(BenchOp.randn(1235, 1 / Math.sqrt(g.k()), g.n(), g.k()));
            long c = CudaTensors.address(CudaTensors.empty(device, halfFloats((long) g.m() * g.n())), "c");
            Timed t = time(() -> NativeCalls.check("bench gemm bf16", AttnkitNative.attnkit_gemm_bf16(c, a, w, 0, 1,
                    g.m(), g.n(), g.k(), 0, 1, 0, 1)));
            return new BenchRunner.Row(BenchOp.GEMM, Backend.CUDA, Pass.FWD, shape, flops, bytes, t.ms, t.reps,
                    Double.NaN, false, "bf16 buffers (attnkit_gemm_bf16, a [M,K] x w[N,K]^T, bf16 out); CUDA events",
                    ceilings("bf16"), "bf16-buffers");
        }
    }

    /** A bf16 copy of host tensor t on the device (in the current scope); its address. */
    private long bf16Buffer(Tensor host) {
        Tensor f32 = host.to(device);
        Tensor bf = CudaTensors.empty(device, halfFloats(host.numel()));
        long out = CudaTensors.address(bf, "bf16");
        CudaTensors.enter(device);
        NativeCalls.check("bench bf16 conversion", AttnkitNative.attnkit_f32_to_bf16(out,
                CudaTensors.address(f32, "f32"), host.numel()));
        CudaTensors.release(f32);
        return out;
    }

    /** Floats that hold n bf16 values. */
    private static int halfFloats(long n) {
        return Math.toIntExact((n + 1) / 2);
    }

    private record Timed(double ms, int reps) {
    }

    /** Warm-up calls, then CUDA-event timings until the budget (at least minReps, at most maxReps); the median. */
    private Timed time(Runnable call) {
        for (int i = 0; i < settings.warmup(); i++) {
            once(call);
        }
        double[] t = new double[settings.maxReps()];
        int n = 0;
        double total = 0;
        while (n < settings.maxReps() && (n < settings.minReps() || total < settings.budgetSeconds())) {
            t[n] = once(call);
            total += t[n] * 1e-3;
            n++;
        }
        return new Timed(Timer.median(Arrays.copyOf(t, n)), n);
    }

    /** GPU milliseconds of one call; what it allocated is freed after the stop event. */
    private double once(Runnable call) {
        try (CudaScope ignored = CudaScope.open()) {
            return CudaTensors.time(device, call);
        }
    }

    /** One line describing the GPU ceilings in use. */
    public String describeCeilings() {
        return String.format(Locale.ROOT, "cuda ceilings (%s): fp32 %.0f, tf32 %.0f, bf16 %.0f GFLOP/s; "
                + "device-to-device copy %.1f GB/s (measured)", Cuda.status().devices(), FP32_GFLOPS, TF32_GFLOPS,
                BF16_GFLOPS, copyGbps());
    }
}
