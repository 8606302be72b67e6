package org.attnkit.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import org.attnkit.nn.LayerConfig;
import org.attnkit.nn.MixerType;
import org.attnkit.nn.TokenClassifier;
import org.attnkit.optim.Adam;
import org.attnkit.optim.Optimizer;
import org.attnkit.optim.ParamGroup;
import org.attnkit.optim.Schedule;
import org.attnkit.optim.Sgd;
import org.attnkit.tensor.Device;
import org.attnkit.train.Experiments;
import org.attnkit.train.SequenceTasks;
import org.attnkit.train.Task;
import org.attnkit.train.Trainer;
import org.attnkit.train.Updater;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The GPU training-step test of issue 5: the same model, seed and batches trained for {@value #STEPS} steps on
 * the CPU and on CUDA (the whole step on the device: forward, loss, backward, gradient clipping, the
 * optimizer update) give the same loss curve.
 *
 * <p>Setup: the training issue's sequence models (width 16, FFN 32, 4 heads, kernel sizes 3 and 7, the
 * nonlocality task of {@link Experiments}: vocabulary 8, T = 16, B = 16), with dropout and DropConnect 0.1 so
 * that the masks are exercised (the same Philox masks on both devices), Adam (0.9, 0.98, 1e-8) at lr 0.01 with
 * the warm-up schedule and clipping at 1.0, as {@link Experiments#trainer}; one SGD-with-momentum run.
 * Sinusoidal positions are off except in {@link #withSinusoidalPositionsAsTheTrainingIssueRunsThem}.
 *
 * <p>Tolerance, stated: step 0 within {@value #FIRST_RTOL} relative (one forward of fp32 kernels with other
 * summation orders), every step within {@value #ATOL} + {@value #RTOL} x |loss| (Adam turns tiny gradient
 * differences into updates of up to lr, so the curves may drift apart slowly); and the GPU run must learn
 * (last 10 steps' mean loss below the first step's). Calibrated on an H200 (2026-12-04, the ten runs of this
 * class): step 0 equal to 1e-7 relative, every step within 5e-7 of the CPU's loss (the printing resolution of
 * the curves), so the bounds leave a margin of about 50x for other summation orders in later kernels.
 */
@Tag("gpu")
class CudaTrainingStepTest {
    static final int STEPS = 50;
    static final double FIRST_RTOL = 1e-5;
    static final double ATOL = 1e-5;
    static final double RTOL = 1e-5;

    @BeforeEach
    void needsAGpu() {
        assumeTrue(Cuda.isAvailable(), () -> "no CUDA: " + Cuda.status().reason());
    }

    /** The loss of every step of one run on {@code device}. */
    static List<Double> curve(MixerType type, boolean preNorm, boolean sgd, boolean positions, Device device) {
        Task task = SequenceTasks.create(SequenceTasks.Kind.NONLOCALITY, 1, Experiments.VOCAB, Experiments.TIME,
                Experiments.BATCH);
        LayerConfig c = new LayerConfig(Experiments.DIM, Experiments.FFN, Experiments.HEADS, preNorm, 0.1, 1);
        TokenClassifier m = new TokenClassifier(new SplittableRandom(1), type, task.vocab(), task.classes(), c,
                Experiments.KERNEL_SIZES, positions, false);
        m.to(device);
        Optimizer opt = sgd ? new Sgd(List.of(new ParamGroup("default", m.parameters(), 0.05, 1e-4)), 0.9)
                : new Adam(List.of(new ParamGroup("default", m.parameters(), 0.01, 0)), 0.9, 0.98, 1e-8, false);
        Trainer tr = new Trainer(Experiments.wrap(m), task, Updater.of(opt), Schedule.warmupInverseSqrt(20), 1.0);
        for (int s = 0; s < STEPS; s++) {
            tr.trainStep();
        }
        // Every parameter stayed on its device through the run.
        m.parameters().forEach(p -> assertEquals(device, p.device()));
        return tr.stepLosses();
    }

    static void assertSameCurve(String what, List<Double> cpu, List<Double> gpu) {
        assertEquals(STEPS, gpu.size());
        StringBuilder table = new StringBuilder();
        for (int s = 0; s < STEPS; s++) {
            table.append(String.format(Locale.ROOT, "%n  step %2d: cpu %.7f gpu %.7f", s, cpu.get(s), gpu.get(s)));
        }
        double c0 = cpu.get(0);
        assertTrue(Math.abs(gpu.get(0) - c0) <= FIRST_RTOL * Math.abs(c0), what + ": first step differs" + table);
        for (int s = 0; s < STEPS; s++) {
            double c = cpu.get(s);
            double g = gpu.get(s);
            assertTrue(Double.isFinite(g) && Math.abs(g - c) <= ATOL + RTOL * Math.abs(c),
                    what + ": step " + s + " differs beyond the tolerance" + table);
        }
        double last = gpu.subList(STEPS - 10, STEPS).stream().mapToDouble(Double::doubleValue).average().orElseThrow();
        assertTrue(last < gpu.get(0), what + ": the GPU run did not learn" + table);
        System.out.println(what + table);
    }

    @ParameterizedTest(name = "{0} preNorm={1} sgd={2}")
    @CsvSource({"LIGHTCONV,true,false", "DYNAMICCONV,true,false", "ATTENTION,true,false", "TALKING,true,false",
        "LIGHTCONV,false,false", "ATTENTION,false,false", "DYNAMICCONV,true,true"})
    void aTrainingRunOnTheGpuFollowsTheCpuLossCurve(MixerType type, boolean preNorm, boolean sgd) {
        List<Double> cpu = curve(type, preNorm, sgd, false, Device.CPU);
        List<Double> gpu = curve(type, preNorm, sgd, false, CudaTesting.GPU);
        assertSameCurve(type + (preNorm ? " Pre-LN" : " Post-LN") + (sgd ? " SGD" : " Adam"), cpu, gpu);
    }

    @Test
    void maeFollowsTheCpuLossCurve() {
        assertSameCurve("MAE", curve(MixerType.MAE, true, false, false, Device.CPU),
                curve(MixerType.MAE, true, false, false, CudaTesting.GPU));
    }

    @Test
    void summaryMixingFollowsTheCpuLossCurve() {
        assertSameCurve("SUMMARY", curve(MixerType.SUMMARY, true, false, false, Device.CPU),
                curve(MixerType.SUMMARY, true, false, false, CudaTesting.GPU));
    }

    @Test
    void withSinusoidalPositionsAsTheTrainingIssueRunsThem() {
        assertSameCurve("LIGHTCONV with positions", curve(MixerType.LIGHTCONV, true, false, true, Device.CPU),
                curve(MixerType.LIGHTCONV, true, false, true, CudaTesting.GPU));
    }
}
