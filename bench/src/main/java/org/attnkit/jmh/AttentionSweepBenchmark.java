package org.attnkit.jmh;

import java.util.concurrent.TimeUnit;
import org.attnkit.bench.BenchShape;
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
 * Attention at the transformer-base and -big widths (C = 512 with H = 8, C = 1024 with H = 16; heads of
 * 64) for T from 64 to 4096 at B = 8: the quadratic cost against {@link SweepBenchmark}'s linear one.
 * The reference backend at T = 4096 takes minutes per call: keep it to small T
 * ({@code -p backend=ref -p T=64,256}).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "-Xss8m", "-XX:+UseParallelGC", "-Xmn1g",
    "-XX:+AlwaysPreTouch"})
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
public class AttentionSweepBenchmark {
    @Param({"simd"})
    public String backend;

    @Param({"fwd", "fwdbwd"})
    public String pass;

    @Param({"512x8", "1024x16"})
    public String model;

    @Param({"64", "256", "1024", "4096"})
    public int T;

    @Param({"8"})
    public int B;

    private OpBenchmark.Work work;

    @Setup(Level.Trial)
    public void setup() {
        work = OpBenchmark.Work.prepare("attention", backend, pass, SweepBenchmark.shape(model, B, T, 1));
    }

    @Benchmark
    public void run() {
        work.run();
    }
}
