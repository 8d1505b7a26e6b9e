package dev.adjoint.benchmarks.train;

import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.Marker;
import org.knowm.xchart.style.markers.SeriesMarkers;

import java.awt.Color;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The loss and accuracy curves of a training run as one PNG: loss on the left (the per-step loss
 * smoothed, and the per-epoch train and test loss), accuracy in percent on the right (per epoch,
 * train and test). Drawn with XChart off-screen, so it needs no display.
 */
final class TrainingChart {
    /** Steps averaged into one point of the smoothed curve; ~15 points per epoch of 937 steps. */
    private static final int SMOOTHING = 64;

    // The same colour for the same split in both panels.
    private static final Color STEPS = new Color(150, 170, 210);
    private static final Color TRAIN = new Color(40, 90, 200);
    private static final Color TEST = new Color(230, 120, 20);

    private final String title;
    private final List<Double> stepX = new ArrayList<>();
    private final List<Double> stepLoss = new ArrayList<>();
    private final List<TrainFashionMnist.Epoch> epochs = new ArrayList<>();
    private double windowSum;
    private int windowCount;

    TrainingChart(String title) {
        this.title = title;
    }

    /** One training step's loss at {@code x} epochs; recorded as the mean of each window of steps. */
    void addStep(double x, double loss) {
        windowSum += loss;
        windowCount++;
        if (windowCount == SMOOTHING) {
            stepX.add(x);
            stepLoss.add(windowSum / windowCount);
            windowSum = 0;
            windowCount = 0;
        }
    }

    void addEpoch(TrainFashionMnist.Epoch epoch) {
        epochs.add(epoch);
    }

    private static void style(XYSeries series, Color color, Marker marker) {
        series.setLineColor(color);
        series.setMarkerColor(color);
        series.setMarker(marker);
    }

    void write(Path file) throws IOException {
        XYChart loss = new XYChartBuilder().width(800).height(500).title("Loss - " + title)
                .xAxisTitle("epoch").yAxisTitle("cross-entropy").build();
        XYChart accuracy = new XYChartBuilder().width(800).height(500).title("Accuracy")
                .xAxisTitle("epoch").yAxisTitle("accuracy (%)").build();
        for (XYChart chart : List.of(loss, accuracy)) {
            chart.getStyler().setLegendPosition(Styler.LegendPosition.InsideNE);
            chart.getStyler().setChartTitleFont(chart.getStyler().getChartTitleFont().deriveFont(13f));
            chart.getStyler().setXAxisMin(0.0);
            chart.getStyler().setXAxisMax((double) Math.max(1, epochs.size()));
        }
        accuracy.getStyler().setLegendPosition(Styler.LegendPosition.InsideSE);

        if (!stepX.isEmpty()) {
            XYSeries s = loss.addSeries("train, mean of " + SMOOTHING + " steps", stepX, stepLoss);
            s.setMarker(SeriesMarkers.NONE);
            s.setLineColor(STEPS);
        }
        if (!epochs.isEmpty()) {
            List<Double> x = new ArrayList<>();
            List<Double> trainLoss = new ArrayList<>();
            List<Double> testLoss = new ArrayList<>();
            List<Double> trainAcc = new ArrayList<>();
            List<Double> testAcc = new ArrayList<>();
            for (TrainFashionMnist.Epoch e : epochs) {
                x.add((double) e.epoch());
                trainLoss.add(e.trainLoss());
                testLoss.add(e.testLoss());
                trainAcc.add(100 * e.trainAccuracy());
                testAcc.add(100 * e.testAccuracy());
            }
            style(loss.addSeries("train, epoch mean", x, trainLoss), TRAIN, SeriesMarkers.CIRCLE);
            style(loss.addSeries("test, end of epoch", x, testLoss), TEST, SeriesMarkers.DIAMOND);
            style(accuracy.addSeries("train, epoch mean", x, trainAcc), TRAIN, SeriesMarkers.CIRCLE);
            style(accuracy.addSeries("test, end of epoch", x, testAcc), TEST, SeriesMarkers.DIAMOND);
        }
        Path parent = file.toAbsolutePath().getParent();
        Files.createDirectories(parent);
        try (OutputStream out = Files.newOutputStream(file)) {
            BitmapEncoder.saveBitmap(List.of(loss, accuracy), 1, 2, out, BitmapEncoder.BitmapFormat.PNG);
        }
    }
}
