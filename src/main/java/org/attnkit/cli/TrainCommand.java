package org.attnkit.cli;

import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import org.attnkit.train.Experiments;
import org.attnkit.train.Trainer;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.style.markers.SeriesMarkers;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code attnkit train}: trains the small in-process experiments of {@link Experiments} and prints a
 * line per epoch, then a side-by-side summary of the models (accuracy and time per step).
 */
@Command(name = "train", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = {"Train a small model on a task generated in-process from a seed (no downloads).",
            "Tasks: topic (single-query attention classifier, SPEC 4), locality and nonlocality (every encoder type "
                    + "side by side), mae (block coordinate descent vs joint training)."})
public final class TrainCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--task", defaultValue = "topic", description = "topic, locality, nonlocality or mae (default: ${DEFAULT-VALUE})")
    String task;

    @Option(names = "--model", description = "a model of the task, or 'all' (default: single-query for topic, all otherwise)")
    String model;

    @Option(names = "--steps", description = "training steps per model (default: the task's)")
    Integer steps;

    @Option(names = "--epochs", defaultValue = "5", description = "report lines per model (default: ${DEFAULT-VALUE})")
    int epochs;

    @Option(names = "--seed", defaultValue = "1", description = "seed of the data and the initialization (default: ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--lr", description = "learning rate (default: the task's)")
    Double lr;

    @Option(names = "--json", description = "print one JSON object per epoch and a final one per model")
    boolean json;

    @Option(names = "--plot", paramLabel = "FILE.png", description = "write the loss curves to a PNG")
    Path plot;

    @Option(names = "--save", paramLabel = "FILE", description = "write a checkpoint (safetensors) after training; one model only")
    Path save;

    @Option(names = "--resume", paramLabel = "FILE", description = "resume from a checkpoint written by --save; one model only")
    Path resume;

    @Option(names = "--progress", negatable = true, description = "show a progress bar on stderr (default: when on a terminal)")
    Boolean progress;

    record Result(String model, Trainer trainer) {
    }

    @Override
    public Integer call() throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        if (!Experiments.TASKS.contains(task)) {
            throw new ParameterException(spec.commandLine(), "unknown --task '" + task + "'; expected one of "
                    + Experiments.TASKS);
        }
        List<String> models = Experiments.models(task);
        String chosen = model != null ? model : task.equals("topic") ? models.get(0) : "all";
        List<String> run = chosen.equals("all") ? models : List.of(chosen);
        if (!chosen.equals("all") && !models.contains(chosen)) {
            throw new ParameterException(spec.commandLine(), "task '" + task + "' has no --model '" + chosen
                    + "'; expected one of " + models + " or all");
        }
        if ((save != null || resume != null) && run.size() != 1) {
            throw new ParameterException(spec.commandLine(), "--save and --resume need a single --model, not all of "
                    + run);
        }
        int total = steps != null ? steps : Experiments.defaultSteps(task);
        if (total < 1 || epochs < 1) {
            throw new ParameterException(spec.commandLine(), "--steps and --epochs must be >= 1, got steps=" + total
                    + ", epochs=" + epochs);
        }
        if (lr != null && !(lr > 0 && lr < Double.POSITIVE_INFINITY)) {
            throw new ParameterException(spec.commandLine(), "--lr must be finite and > 0, got " + lr);
        }
        boolean bar = progress != null ? progress : System.console() != null;
        List<Result> results = new ArrayList<>();
        for (String m : run) {
            double rate = lr != null ? lr : Experiments.defaultLr(task, m);
            Trainer t = Experiments.trainer(task, m, seed, rate);
            if (resume != null) {
                t.load(resume);
            }
            if (!json) {
                out.printf(Locale.ROOT, "%s / %s: %d steps, lr %s, seed %d, %,d parameters%n", task, m, total, rate, seed,
                        t.model().module().parameterCount());
                out.flush();
            }
            int perEpoch = (int) Math.max(1, (total + epochs - 1) / epochs);
            ProgressBar pb = bar ? new ProgressBarBuilder().setTaskName(m).setInitialMax(total - t.step())
                    .setConsumer(new ConsoleProgressBarConsumer(new PrintStream(System.err, true)))
                    .setUpdateIntervalMillis(200).build() : null;
            try {
                t.run(total, perEpoch, log -> {
                    if (json) {
                        Map<String, Object> o = new LinkedHashMap<>();
                        o.put("task", task);
                        o.put("model", m);
                        o.put("epoch", log.epoch());
                        o.put("step", log.step());
                        o.put("loss", log.loss());
                        o.put("accuracy", log.accuracy());
                        o.put("ms_per_step", log.msPerStep());
                        o.putAll(log.extra());
                        out.println(Json.object(o));
                    } else {
                        StringBuilder sb = new StringBuilder(String.format(Locale.ROOT,
                                "  epoch %d  step %d  loss %.4f  accuracy %.4f  %.2f ms/step", log.epoch(), log.step(),
                                log.loss(), log.accuracy(), log.msPerStep()));
                        log.extra().forEach((k, v) -> sb.append(String.format(Locale.ROOT, "  %s %.4g", k, v)));
                        out.println(sb);
                    }
                    out.flush();
                }, pb == null ? null : pb::step);
            } finally {
                if (pb != null) {
                    pb.close();
                }
            }
            if (save != null) {
                t.save(save, Map.of("model", m, "seed", Long.toString(seed)));
            }
            results.add(new Result(m, t));
            Map<String, Object> fin = finalObject(m, t);
            if (json) {
                out.println(Json.object(fin));
                out.flush();
            }
        }
        if (!json) {
            out.printf("%n%-16s %10s %10s %12s%n", "model", "accuracy", "loss", "ms/step");
            for (Result r : results) {
                Map<String, Object> f = finalObject(r.model, r.trainer);
                out.printf(Locale.ROOT, "%-16s %10.4f %10.4f %12.2f%n", r.model, (double) f.get("accuracy"),
                        (double) f.get("loss"), (double) f.get("ms_per_step"));
            }
            out.flush();
        }
        if (plot != null) {
            writePlot(results, plot);
            if (!json) {
                out.println("wrote " + plot);
                out.flush();
            }
        }
        return Main.EXIT_OK;
    }

    /**
     * The final summary of one model: the last epoch's loss and accuracy, and the mean ms/step of the
     * epochs after the first (which includes the JIT warm-up), or of the only epoch.
     */
    private Map<String, Object> finalObject(String m, Trainer t) {
        List<Trainer.Log> h = t.history();
        Trainer.Log last = h.isEmpty() ? null : h.get(h.size() - 1);
        double ms = h.stream().skip(h.size() > 1 ? 1 : 0).mapToDouble(Trainer.Log::msPerStep).average()
                .orElse(Double.NaN);
        Map<String, Object> o = new LinkedHashMap<>();
        o.put("task", task);
        o.put("model", m);
        o.put("steps", t.step());
        o.put("loss", last == null ? Double.NaN : last.loss());
        o.put("accuracy", last == null ? t.accuracy() : last.accuracy());
        o.put("ms_per_step", ms);
        if (last != null) {
            o.putAll(last.extra());
        }
        o.put("final", true);
        return o;
    }

    private void writePlot(List<Result> results, Path file) throws IOException {
        System.setProperty("java.awt.headless", "true");
        XYChart chart = new XYChartBuilder().width(720).height(420)
                .title("attnkit train --task " + task).xAxisTitle("step").yAxisTitle("training loss").build();
        chart.getStyler().setMarkerSize(0);
        for (Result r : results) {
            List<Double> losses = r.trainer.stepLosses();
            if (losses.isEmpty()) {
                continue;
            }
            long first = r.trainer.step() - losses.size();
            double[] x = new double[losses.size()];
            double[] y = new double[losses.size()];
            double ema = losses.get(0);
            for (int i = 0; i < x.length; i++) {
                ema = 0.9 * ema + 0.1 * losses.get(i); // smoothed: single-batch losses are noisy
                x[i] = first + i + 1;
                y[i] = i == 0 ? losses.get(0) : ema;
            }
            chart.addSeries(r.model, x, y).setMarker(SeriesMarkers.NONE);
        }
        String name = file.toString();
        String base = name.toLowerCase(Locale.ROOT).endsWith(".png") ? name.substring(0, name.length() - 4) : name;
        BitmapEncoder.saveBitmap(chart, base, BitmapEncoder.BitmapFormat.PNG);
    }

    /** Minimal JSON for flat objects of strings, numbers and booleans. */
    static final class Json {
        private Json() {
        }

        static String object(Map<String, Object> o) {
            StringBuilder sb = new StringBuilder("{");
            o.forEach((k, v) -> {
                if (sb.length() > 1) {
                    sb.append(',');
                }
                sb.append('"').append(k).append("\":").append(value(v));
            });
            return sb.append('}').toString();
        }

        private static String value(Object v) {
            if (v instanceof Double d) {
                return d.isNaN() || d.isInfinite() ? "null" : Double.toString(d);
            }
            if (v instanceof Number || v instanceof Boolean) {
                return v.toString();
            }
            return "\"" + v.toString().replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
        }
    }
}
