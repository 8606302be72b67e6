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
 * The papers' shapes for the convolutions: LightConv and DynamicConv (Wu et al. 2019: C = 512 with
 * H = 8, and C = 1024 with H = 16; K = 3, 7, 15, 31) for T from 64 to 4096 at B = 8; attention's
 * sweep is {@link AttentionSweepBenchmark}. The full cross product is 128 cases of several seconds:
 * narrow it with {@code -p}, e.g. {@code -p op=lightconv -p model=512x8 -p K=31 -p pass=fwd}.
 * {@code model} is "CxH".
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "-Xss8m", "-XX:+UseParallelGC", "-Xmn1g",
    "-XX:+AlwaysPreTouch"})
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
public class SweepBenchmark {
    @Param({"lightconv", "dynamicconv"})
    public String op;

    @Param({"simd"})
    public String backend;

    @Param({"fwd", "fwdbwd"})
    public String pass;

    @Param({"512x8", "1024x16"})
    public String model;

    @Param({"3", "7", "15", "31"})
    public int K;

    @Param({"64", "256", "1024", "4096"})
    public int T;

    @Param({"8"})
    public int B;

    private OpBenchmark.Work work;

    @Setup(Level.Trial)
    public void setup() {
        work = OpBenchmark.Work.prepare(op, backend, pass, shape(model, B, T, K));
    }

    @Benchmark
    public void run() {
        work.run();
    }

    /** B, T, K and the "CxH" model string as a shape. */
    static BenchShape shape(String model, int b, int t, int k) {
        String[] ch = model.split("x");
        if (ch.length != 2) {
            throw new IllegalArgumentException("model must be CxH, e.g. 512x8; got '" + model + "'");
        }
        return new BenchShape(b, t, Integer.parseInt(ch[0].trim()), Integer.parseInt(ch[1].trim()), k);
    }
}
