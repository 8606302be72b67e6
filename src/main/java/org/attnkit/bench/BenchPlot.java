package org.attnkit.bench;

import java.io.IOException;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.style.Styler;

/**
 * Median time against T on log-log axes, one series per op and backend: on such axes a cost linear in
 * T (LightConv, DynamicConv) is a line of slope 1 and attention's quadratic cost one of slope 2.
 */
public final class BenchPlot {
    private BenchPlot() {
    }

    /**
     * Draws the plot from rows saved as JSON lines ({@code attnkit bench --json}, e.g. on a machine whose Java
     * runtime has no java.desktop module, such as the trimmed one of the GPU runs):
     * {@code java -cp attnkit.jar org.attnkit.bench.BenchPlot OUT.png ROWS.jsonl...}. Only forward rows with a
     * time are drawn; the ceiling lines are ignored.
     */
    public static void main(String[] args) throws IOException {
        if (args.length < 2) {
            System.err.println("usage: BenchPlot OUT.png ROWS.jsonl...");
            System.exit(2);
        }
        System.setProperty("java.awt.headless", "true");
        List<BenchRunner.Row> rows = new ArrayList<>();
        BenchShape first = null;
        for (int i = 1; i < args.length; i++) {
            for (String line : java.nio.file.Files.readAllLines(java.nio.file.Path.of(args[i]))) {
                BenchRunner.Row r = parseRow(line);
                if (r != null && r.pass() == Pass.FWD) {
                    rows.add(r);
                    first = first == null ? r.shape() : first;
                }
            }
        }
        if (first == null) {
            throw new IOException("no forward rows in " + java.util.Arrays.toString(java.util.Arrays.copyOfRange(args,
                    1, args.length)));
        }
        try (OutputStream out = java.nio.file.Files.newOutputStream(java.nio.file.Path.of(args[0]))) {
            System.out.println("plot: " + write(rows, first, out) + " series written to " + args[0]);
        }
    }

    /** One JSON row of {@code attnkit bench --json} as a Row (costs and ceilings left out), or null. */
    static BenchRunner.Row parseRow(String line) {
        if (line.isBlank() || !line.trim().startsWith("{")) {
            return null;
        }
        com.google.gson.JsonObject o = com.google.gson.JsonParser.parseString(line).getAsJsonObject();
        if (!o.has("pass") || o.get("ms") == null || o.get("ms").isJsonNull()) {
            return null;
        }
        BenchShape shape = new BenchShape(o.get("B").getAsInt(), o.get("T").getAsInt(), o.get("C").getAsInt(),
                o.get("H").getAsInt(), o.get("K").getAsInt());
        return new BenchRunner.Row(BenchOp.parse(o.get("op").getAsString()),
                org.attnkit.backend.Backend.parse(o.get("backend").getAsString()),
                Pass.valueOf(o.get("pass").getAsString().toUpperCase(java.util.Locale.ROOT)), shape, Double.NaN,
                Double.NaN, o.get("ms").getAsDouble(), o.get("reps").getAsInt(), Double.NaN, false, "",
                new Ceilings(1, 1));
    }

    /**
     * Draws the timed (not skipped) rows as a PNG into {@code out}; returns the number of series.
     * Must run with {@code java.awt.headless=true} on machines without a display.
     */
    public static int write(List<BenchRunner.Row> rows, BenchShape shape, OutputStream out) throws IOException {
        Map<String, List<double[]>> series = new LinkedHashMap<>();
        for (BenchRunner.Row r : rows) {
            if (r.skipped()) {
                continue;
            }
            String name = r.op().id() + " " + r.backend().id() + " " + r.pass().id();
            series.computeIfAbsent(name, n -> new ArrayList<>()).add(new double[] {r.shape().T(), r.ms()});
        }
        XYChart chart = new XYChartBuilder().width(900).height(600)
                .title("attnkit: median time per call against T (B=" + shape.B() + " C=" + shape.C() + " H="
                        + shape.H() + " K=" + shape.K() + ")")
                .xAxisTitle("T (sequence length)").yAxisTitle("ms per call (median)").build();
        chart.getStyler().setXAxisLogarithmic(true).setYAxisLogarithmic(true);
        chart.getStyler().setLegendPosition(Styler.LegendPosition.InsideNW);
        for (Map.Entry<String, List<double[]>> e : series.entrySet()) {
            List<double[]> pts = e.getValue();
            pts.sort((a, b) -> Double.compare(a[0], b[0]));
            double[] xs = new double[pts.size()];
            double[] ys = new double[pts.size()];
            for (int i = 0; i < xs.length; i++) {
                xs[i] = pts.get(i)[0];
                ys[i] = pts.get(i)[1];
            }
            chart.addSeries(e.getKey(), xs, ys);
        }
        if (series.isEmpty()) {
            throw new IOException("nothing to plot: every point was skipped (the reference is predicted to be too "
                    + "slow at these shapes and no other backend has these ops)");
        }
        BitmapEncoder.saveBitmap(chart, out, BitmapEncoder.BitmapFormat.PNG);
        return series.size();
    }
}
