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
