package org.attnkit.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.attnkit.nn.MixerType;
import org.attnkit.optim.Adam;
import org.attnkit.optim.Schedule;
import org.attnkit.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Each task reaches a stated accuracy within a stated number of steps from seed 1 (deterministic). */
class TrainTest {
    @TempDir
    Path tmp;

    private static Trainer.Log train(String task, String model, int steps) {
        Trainer t = Experiments.trainer(task, model, 1, Experiments.defaultLr(task, model));
        List<Trainer.Log> logs = t.run(steps, steps, null, null);
        return logs.get(logs.size() - 1);
    }

    @Test
    void topicClassifierLearnsToAttendToTheTopicWord() {
        Trainer t = Experiments.trainer("topic", "single-query", 1, 0.1);
        List<Trainer.Log> logs = t.run(200, 50, null, null);
        assertEquals(1.0, logs.get(logs.size() - 1).accuracy());
        double first = logs.get(0).extra().get("topic_attention");
        double last = logs.get(logs.size() - 1).extra().get("topic_attention");
        // Uniform attention over 6 words is 1/6; the topic word's score and embedding grow together.
        assertTrue(first < 0.2 && last > 0.25, "topic attention " + first + " -> " + last);
        assertTrue(logs.get(logs.size() - 1).extra().get("topic_norm_sq") > 1.5);

        Trainer.Log free = train("topic", "free", 50);
        assertEquals(1.0, free.accuracy());
        assertTrue(free.extra().get("topic_attention") > 0.9, free.toString());
    }

    /** Max over the run of |I_tau - I_tau(0)|, and the final mean |v_tau|^2, at gradient-flow time 20. */
    private static double[] identityRun(double lr) {
        Trainer t = Experiments.trainer("topic", "single-query", 1, lr);
        double drift = 0;
        for (Trainer.Log l : t.run(Math.round(20 / lr), 10, null, null)) {
            drift = Math.max(drift, l.extra().get("identity_drift"));
        }
        return new double[] {drift, t.history().get(t.history().size() - 1).extra().get("topic_norm_sq")};
    }

    @Test
    void spec43IdentityDriftIsBoundedByLrAndHalvesWithIt() {
        double[] a = identityRun(0.1);
        double[] b = identityRun(0.05);
        // Seed 1 gives drifts 0.0108 and 0.0054 while |v_tau|^2 grows from about 0.05 to 2.2.
        assertTrue(a[0] <= 0.15 * 0.1 && b[0] <= 0.15 * 0.05, "drifts " + a[0] + ", " + b[0]);
        double ratio = b[0] / a[0];
        assertTrue(ratio > 0.4 && ratio < 0.6, "halving lr should halve the drift, ratio " + ratio);
        assertTrue(a[1] > 1.5 && b[1] > 1.5, "the embedding norm must change by O(1): " + a[1] + ", " + b[1]);
    }

    @Test
    void convolutionsLearnTheLocalityTaskWithin60Steps() {
        // Seed 1: LightConv 0.78 at 40 steps and 0.99 at 60; DynamicConv 0.98 at 40.
        assertTrue(train("locality", "lightconv", 60).accuracy() >= 0.95);
        assertTrue(train("locality", "dynamicconv", 40).accuracy() >= 0.95);
    }

    @Test
    void attentionLearnsTheNonLocalityTaskWithin60Steps() {
        Trainer.Log l = train("nonlocality", "attention", 60);
        assertTrue(l.accuracy() >= 0.4, l.toString()); // chance is 1/8; seed 1 gives 0.46 at 50 steps, 0.66 at 100
    }

    @Test
    void maeTrainsJointlyAndByBlockCoordinateDescent() {
        Trainer.Log joint = train("mae", "mae-joint", 60);
        assertTrue(joint.accuracy() >= 0.3, joint.toString());
        // BCD gives the experts 4 of every 5 steps and drops a head in each: slower to start (0.60 at 200
        // steps against 0.75 jointly, see docs/training.md); here only its loss must fall.
        Trainer bcdTrainer = Experiments.trainer("mae", "mae-bcd", 1, 0.01);
        List<Trainer.Log> bcdLogs = bcdTrainer.run(40, 20, null, null);
        Trainer.Log bcd = bcdLogs.get(1);
        assertTrue(bcd.loss() < bcdLogs.get(0).loss() - 0.1, bcdLogs.toString());
        for (Trainer.Log l : List.of(joint, bcd)) {
            double h = l.extra().get("gate_entropy");
            assertTrue(h > 0 && h < Math.log(Experiments.HEADS), "gate entropy " + h + " must leave the uniform log(H)");
        }
    }

    @Test
    void trainingIsDeterministic() {
        Trainer a = Experiments.trainer("locality", "dynamicconv", 7, 0.01);
        Trainer b = Experiments.trainer("locality", "dynamicconv", 7, 0.01);
        a.run(4, 4, null, null);
        b.run(4, 4, null, null);
        assertEquals(a.stepLosses(), b.stepLosses());
    }

    private static float[] flat(Trainer t) {
        List<Tensor> ps = t.model().module().parameters();
        int n = ps.stream().mapToInt(Tensor::numel).sum();
        float[] out = new float[n];
        int o = 0;
        for (Tensor p : ps) {
            System.arraycopy(p.data(), 0, out, o, p.numel());
            o += p.numel();
        }
        return out;
    }

    private void assertResumeIsBitIdentical(java.util.function.Supplier<Trainer> make, int before, int after)
            throws Exception {
        Trainer straight = make.get();
        straight.run(before, before, null, null);
        Path ckpt = tmp.resolve("ckpt.safetensors");
        straight.save(ckpt, Map.of());
        straight.run(before + after, after, null, null);

        Trainer resumed = make.get();
        resumed.load(ckpt);
        assertEquals(before, resumed.step());
        resumed.run(before + after, after, null, null);
        assertArrayEquals(flat(straight), flat(resumed));
        List<Double> tail = straight.stepLosses().subList(before, before + after);
        assertEquals(tail, resumed.stepLosses());
    }

    @Test
    void checkpointRoundTripContinuesBitForBitUnderBlockCoordinateDescent() throws Exception {
        // Two Adam states, a G/F alternation and sampled experts keyed by the step.
        assertResumeIsBitIdentical(() -> Experiments.trainer("mae", "mae-bcd", 3, 0.01), 7, 6);
    }

    @Test
    void checkpointRoundTripContinuesBitForBitWithDropoutAndDropConnect() throws Exception {
        assertResumeIsBitIdentical(() -> {
            Task task = Experiments.task("locality", 5);
            Classifier m = Experiments.sequenceModel(MixerType.LIGHTCONV, task, 5, 0.1);
            return new Trainer(m, task, Updater.of(Adam.adamW(m.module().parameters(), 0.01, 0.01)),
                    Schedule.warmupInverseSqrt(3), 0.5);
        }, 4, 4);
    }

    @Test
    void checkpointOfAnotherTaskIsRejected() throws Exception {
        Trainer t = Experiments.trainer("topic", "single-query", 1, 0.1);
        Path p = tmp.resolve("topic.safetensors");
        t.save(p, Map.of());
        Trainer other = Experiments.trainer("locality", "lightconv", 1, 0.01);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> other.load(p));
        assertTrue(e.getMessage().contains("topic") && e.getMessage().contains("locality"), e.getMessage());
    }

    @Test
    void badTaskOrModelNamesAreRejected() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Experiments.trainer("nope", "attention", 1, 0.1));
        assertTrue(e.getMessage().contains("nope"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Experiments.trainer("locality", "lstm", 1, 0.1));
        assertTrue(e.getMessage().contains("lstm") && e.getMessage().contains("lightconv"), e.getMessage());
    }
}
