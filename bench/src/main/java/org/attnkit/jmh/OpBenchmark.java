package org.attnkit.jmh;

import java.util.concurrent.TimeUnit;
import org.attnkit.backend.Backend;
import org.attnkit.backend.Backends;
import org.attnkit.bench.BenchOp;
import org.attnkit.bench.BenchShape;
import org.attnkit.bench.Pass;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Every operator x backend x pass at one shape (default: the B=8 T=512 C=512 H=8 K=31 on the
 * SIMD backend). The workloads and their tensor shapes are those of {@code attnkit bench}
 * ({@link BenchOp}), so JMH's figures and the CLI's are of the same calls. Select with {@code -p}, e.g.
 * {@code -p backend=ref,simd -p op=lightconv,gemm -p K=7}. An op without the chosen backend fails its
 * setup with "X has no simd implementation" and JMH moves on to the next one.
 *
 * <p>Two shared cores: one fork, few iterations; compare ratios measured in one run.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "-Xss8m", "-XX:+UseParallelGC", "-Xmn1g",
    "-XX:+AlwaysPreTouch"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class OpBenchmark {
    @Param({"lightconv", "dynamicconv", "attention", "mae", "gemm", "linear", "layernorm", "softmax", "glu"})
    public String op;

    @Param({"simd"})
    public String backend;

    @Param({"fwd", "fwdbwd"})
    public String pass;

    @Param({"8"})
    public int B;

    @Param({"512"})
    public int T;

    @Param({"512"})
    public int C;

    @Param({"8"})
    public int H;

    @Param({"31"})
    public int K;

    private Work work;

    @Setup(Level.Trial)
    public void setup() {
        work = Work.prepare(op, backend, pass, new BenchShape(B, T, C, H, K));
    }

    @Benchmark
    public void run() {
        work.run();
    }

    /** A prepared call on a pinned backend; shared with {@link SweepBenchmark}. */
    record Work(BenchOp.Workload workload, Backend backend, Pass pass) {
        static Work prepare(String op, String backend, String pass, BenchShape shape) {
            BenchOp o = BenchOp.parse(op);
            Backend b = Backend.parse(backend);
            Pass p = Pass.valueOf(pass.toUpperCase(java.util.Locale.ROOT));
            Work w = new Work(o.prepare(shape), b, p);
            // Fails here, with the dispatcher's message, when the op lacks the backend.
            w.run();
            return w;
        }

        void run() {
            // The backend is pinned per thread: pin it around each call, whatever thread JMH uses.
            try (Backends.Scope ignored = Backends.force(backend)) {
                workload.run(pass);
            }
        }
    }
}
