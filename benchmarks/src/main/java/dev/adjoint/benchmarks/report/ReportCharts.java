package dev.adjoint.benchmarks.report;

import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.style.Styler;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A bar chart per workload: the median of each implementation, grouped by thread count, with half
 * the samples' range as error bars. When the bars of one chart differ by more than {@value #LOG_RATIO}
 * times (nd4j's per-op overhead against simd, say), the axis is logarithmic, without error bars, so
 * the short bars stay readable. Drawn off-screen with XChart.
 */
final class ReportCharts {
    private static final double LOG_RATIO = 30;

    private ReportCharts() {
    }

    /** Writes {@code <workload id>.png} for every workload with a result; returns the file names. */
    static List<String> write(Path dir, List<Workload> workloads, List<CellResult> results, Map<String, String> titles)
            throws IOException {
        List<String> files = new ArrayList<>();
        for (Workload w : workloads) {
            if (Workloads.YARDSTICKS.contains(w)) {
                continue;
            }
            List<CellResult> mine = results.stream().filter(r -> r.workload().equals(w.id()) && r.ok()).toList();
            if (mine.isEmpty()) {
                continue;
            }
            List<String> groups = w.threads().stream().map(t -> t == 1 ? "1 thread" : t + " threads").toList();
            CategoryChart chart = new CategoryChartBuilder().width(800).height(450)
                    .title(w.title() + " - " + w.metric().unit() + (w.metric().higherIsBetter()
                            ? ", higher is better" : ", lower is better"))
                    .yAxisTitle(w.metric().unit()).build();
            chart.getStyler().setLegendPosition(Styler.LegendPosition.OutsideE);
            chart.getStyler().setChartTitleFont(chart.getStyler().getChartTitleFont().deriveFont(13f));
            chart.getStyler().setErrorBarsColor(java.awt.Color.DARK_GRAY);
            double lowest = Double.MAX_VALUE;
            double highest = 0;
            for (CellResult r : mine) {
                lowest = Math.min(lowest, r.median());
                highest = Math.max(highest, r.median());
            }
            boolean logarithmic = highest / lowest > LOG_RATIO;
            for (String implementation : titles.keySet()) {
                List<Double> medians = new ArrayList<>();
                List<Double> halfRanges = new ArrayList<>();
                boolean any = false;
                for (int threads : w.threads()) {
                    CellResult r = mine.stream().filter(c -> c.implementation().equals(implementation)
                            && c.threads() == threads).findFirst().orElse(null);
                    // No bar where there is no figure (null is XChart's gap).
                    medians.add(r == null ? null : r.median());
                    halfRanges.add(r == null ? 0.0 : (r.max() - r.min()) / 2);
                    any |= r != null;
                }
                if (!any) {
                    continue;
                }
                if (logarithmic) {
                    // Symmetric error bars can reach below zero, which a logarithmic axis refuses.
                    chart.addSeries(titles.get(implementation), groups, medians);
                } else {
                    chart.addSeries(titles.get(implementation), groups, medians, halfRanges);
                }
            }
            if (logarithmic) {
                chart.getStyler().setYAxisLogarithmic(true);
                // Bars start at the axis minimum; XChart's default (0) is not on a logarithmic axis.
                chart.getStyler().setYAxisMin(Math.pow(10, Math.floor(Math.log10(lowest))));
            } else {
                chart.getStyler().setYAxisMin(0.0);
            }
            String file = w.id() + ".png";
            try (OutputStream out = Files.newOutputStream(dir.resolve(file))) {
                BitmapEncoder.saveBitmap(chart, out, BitmapEncoder.BitmapFormat.PNG);
            }
            files.add(file);
        }
        return files;
    }
}
