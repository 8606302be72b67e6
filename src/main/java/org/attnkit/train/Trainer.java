package org.attnkit.train;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.Function;
import org.attnkit.autograd.GradMode;
import org.attnkit.io.SafeTensors;
import org.attnkit.io.SafeTensorsFile;
import org.attnkit.ops.loss.CrossEntropy;
import org.attnkit.optim.GradClip;
import org.attnkit.optim.Schedule;
import org.attnkit.tensor.CpuScope;
import org.attnkit.tensor.Device;
import org.attnkit.tensor.Tensor;

/**
 * The training loop: for each step, the task's batch of that step, forward, cross-entropy, backward,
 * optional gradient clipping, the schedule's learning rate, the update. Everything that varies between
 * steps is a function of the step number (batches, dropout and DropConnect masks, sampled experts), so
 * {@link #save} then {@link #load} into a fresh trainer continues bit for bit like the uninterrupted run.
 */
public final class Trainer {
    /**
     * One epoch's summary.
     *
     * @param loss      mean training loss over the epoch's steps
     * @param accuracy  accuracy on the task's held-out set at the end of the epoch
     * @param msPerStep mean wall time of a training step in the epoch
     * @param extra     task-specific quantities (attention on the topic word, gate entropy, ...)
     */
    public record Log(int epoch, long step, double loss, double accuracy, double msPerStep, Map<String, Double> extra) {
    }

    private final Classifier model;
    private final Task task;
    private final Updater updater;
    private final Schedule schedule;
    private final double clipNorm;
    private Function<Trainer, Map<String, Double>> probe = t -> Map.of();
    private long step;
    private final List<Log> history = new ArrayList<>();
    private final List<Double> stepLosses = new ArrayList<>();

    /** @param clipNorm global gradient-norm limit, or 0 for none */
    public Trainer(Classifier model, Task task, Updater updater, Schedule schedule, double clipNorm) {
        this.model = model;
        this.task = task;
        this.updater = updater;
        this.schedule = schedule;
        this.clipNorm = clipNorm;
    }

    /** Extra quantities computed at the end of every epoch. */
    public Trainer probe(Function<Trainer, Map<String, Double>> p) {
        probe = p;
        return this;
    }

    public Classifier model() {
        return model;
    }

    public Task task() {
        return task;
    }

    /** Steps taken so far. */
    public long step() {
        return step;
    }

    public List<Log> history() {
        return history;
    }

    /** The loss of every step this trainer took (not those before a {@link #load}). */
    public List<Double> stepLosses() {
        return stepLosses;
    }

    /** Cross-entropy of a batch (ignored targets excluded). */
    public static Tensor loss(Classifier model, Batch b) {
        Tensor logits = model.logits(b);
        int classes = logits.dim(-1);
        return CrossEntropy.apply(logits.reshape(logits.numel() / classes, classes), b.targets());
    }

    /**
     * One training step; returns its loss. The step runs in a {@link CpuScope}: its activations' and
     * gradients' arrays are recycled by the next step instead of being allocated (and zeroed) again.
     */
    public double trainStep() {
        double l;
        try (CpuScope ignored = CpuScope.open()) {
            Batch b = task.batch(step);
            model.module().train(true);
            model.module().setStep(step);
            updater.begin(step);
            updater.setLrScale(schedule.scale(step));
            Tensor loss = loss(model, b);
            loss.backward(); // seeded on the loss's device
            if (clipNorm > 0) {
                GradClip.clipGlobalNorm(updater.parameters(), clipNorm);
            }
            updater.step();
            // The loss's one value comes to the host (a no-op for a CPU model).
            l = loss.to(Device.CPU).item();
        }
        step++;
        stepLosses.add(l);
        return l;
    }

    /** Accuracy on the held-out set, in evaluation mode. */
    public double accuracy() {
        return accuracy(model, task.evalSet());
    }

    public static double accuracy(Classifier model, Batch b) {
        model.module().train(false);
        try (GradMode.Scope ignored = GradMode.noGrad()) {
            Tensor logits = model.logits(b);
            int classes = logits.dim(-1);
            float[] z = logits.to(Device.CPU).toArray();
            int right = 0;
            int counted = 0;
            for (int r = 0; r < b.targets().length; r++) {
                if (b.targets()[r] == Batch.IGNORE) {
                    continue;
                }
                int best = 0;
                for (int c = 1; c < classes; c++) {
                    if (z[r * classes + c] > z[r * classes + best]) {
                        best = c;
                    }
                }
                right += best == b.targets()[r] ? 1 : 0;
                counted++;
            }
            return counted == 0 ? 0 : (double) right / counted;
        } finally {
            model.module().train(true);
        }
    }

    /**
     * Trains until {@code totalSteps} steps have been taken, in epochs of {@code stepsPerEpoch} steps,
     * reporting each epoch to {@code listener} (and {@code onStep} after every step, e.g. a progress bar).
     */
    public List<Log> run(long totalSteps, int stepsPerEpoch, Consumer<Log> listener, Runnable onStep) {
        if (stepsPerEpoch < 1) {
            throw new IllegalArgumentException("stepsPerEpoch must be >= 1, got " + stepsPerEpoch);
        }
        List<Log> logs = new ArrayList<>();
        while (step < totalSteps) {
            long n = Math.min(stepsPerEpoch, totalSteps - step);
            double lossSum = 0;
            long nanos = 0;
            for (long i = 0; i < n; i++) {
                long t0 = System.nanoTime();
                lossSum += trainStep();
                nanos += System.nanoTime() - t0;
                if (onStep != null) {
                    onStep.run();
                }
            }
            Log log = new Log(history.size() + 1, step, lossSum / n, accuracy(), nanos / 1e6 / n, probe.apply(this));
            history.add(log);
            logs.add(log);
            if (listener != null) {
                listener.accept(log);
            }
        }
        return logs;
    }

    // ---------------------------------------------------------------- checkpoints

    /**
     * Writes the parameters ({@code model.<name>}), the optimizer state ({@code optim.<name>}) and the
     * step (metadata {@code step}, with {@code task} and any {@code extraMeta}) as safetensors.
     */
    public void save(Path path, Map<String, String> extraMeta) throws IOException {
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        model.module().stateDict().forEach((k, v) -> tensors.put("model." + k, v));
        updater.state().forEach((k, v) -> tensors.put("optim." + k, v));
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("format", "attnkit-checkpoint-1");
        meta.put("task", task.name());
        meta.put("step", Long.toString(step));
        if (extraMeta != null) {
            meta.putAll(extraMeta);
        }
        SafeTensors.write(path, tensors, meta);
    }

    /** Restores a checkpoint written by {@link #save} into this trainer (same model and optimizer shapes). */
    public void load(Path path) throws IOException {
        SafeTensorsFile f = SafeTensors.read(path);
        if (!task.name().equals(f.meta("task"))) {
            throw new IllegalArgumentException("checkpoint " + path + " is for task '" + f.meta("task")
                    + "', this trainer runs '" + task.name() + "'");
        }
        Map<String, Tensor> params = new LinkedHashMap<>();
        Map<String, Tensor> optim = new LinkedHashMap<>();
        f.tensors().forEach((k, v) -> {
            if (k.startsWith("model.")) {
                params.put(k.substring(6), v);
            } else if (k.startsWith("optim.")) {
                optim.put(k.substring(6), v);
            }
        });
        model.module().loadStateDict(params);
        updater.loadState(optim);
        step = Long.parseLong(f.meta("step"));
    }
}
