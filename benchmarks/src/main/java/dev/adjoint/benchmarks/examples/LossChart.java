package dev.adjoint.benchmarks.examples;

import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;

import java.awt.Color;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A loss curve as a PNG: the training loss per step, averaged over windows of steps, and the loss on
 * held-out data at each evaluation. Drawn off-screen with XChart, so it needs no display.
 */
final class LossChart {
    private static final Color TRAIN = new Color(40, 90, 200);
    private static final Color HELD_OUT = new Color(230, 120, 20);

    private final String title;
    private final String yAxis;
    private final int window;
    private final List<Double> trainX = new ArrayList<>();
    private final List<Double> trainY = new ArrayList<>();
    private final List<Double> heldOutX = new ArrayList<>();
    private final List<Double> heldOutY = new ArrayList<>();
    private final String heldOutName;
    private double sum;
    private int count;

    /** {@code window} steps are averaged into one point of the training curve. */
    LossChart(String title, String yAxis, String heldOutName, int window) {
        this.title = title;
        this.yAxis = yAxis;
        this.heldOutName = heldOutName;
        this.window = window;
    }

    void addStep(int step, double loss) {
        sum += loss;
        count++;
        if (count == window) {
            trainX.add((double) step);
            trainY.add(sum / count);
            sum = 0;
            count = 0;
        }
    }

    void addHeldOut(int step, double loss) {
        heldOutX.add((double) step);
        heldOutY.add(loss);
    }

    void write(Path file) throws IOException {
        XYChart chart = new XYChartBuilder().width(800).height(450).title(title).xAxisTitle("step").yAxisTitle(yAxis)
                .build();
        chart.getStyler().setLegendPosition(Styler.LegendPosition.InsideNE);
        chart.getStyler().setChartTitleFont(chart.getStyler().getChartTitleFont().deriveFont(13f));
        if (!trainX.isEmpty()) {
            XYSeries s = chart.addSeries("train, mean of " + window + " steps", trainX, trainY);
            s.setMarker(SeriesMarkers.NONE);
            s.setLineColor(TRAIN);
        }
        if (!heldOutX.isEmpty()) {
            XYSeries s = chart.addSeries(heldOutName, heldOutX, heldOutY);
            s.setMarker(SeriesMarkers.DIAMOND);
            s.setLineColor(HELD_OUT);
            s.setMarkerColor(HELD_OUT);
        }
        Path parent = file.toAbsolutePath().getParent();
        Files.createDirectories(parent);
        try (OutputStream out = Files.newOutputStream(file)) {
            BitmapEncoder.saveBitmap(chart, out, BitmapEncoder.BitmapFormat.PNG);
        }
    }
}
