package dev.adjoint.benchmarks.report;

import java.util.Locale;

/** What a workload's figure is: a time per call (lower is better) or a rate (higher is better). */
public enum Metric {
    MILLISECONDS("ms", false, 1e3),
    NANOSECONDS("ns", false, 1e9),
    /** 10^9 floating-point operations per second; the operation counts its work in GFLOP. */
    GFLOPS("GFLOP/s", true, 1),
    /** 10^9 bytes read plus written per second; the operation counts its work in GB. */
    GBPS("GB/s", true, 1);

    private final String unit;
    private final boolean higherIsBetter;
    private final double perSecond;

    Metric(String unit, boolean higherIsBetter, double perSecond) {
        this.unit = unit;
        this.higherIsBetter = higherIsBetter;
        this.perSecond = perSecond;
    }

    public String unit() {
        return unit;
    }

    public boolean higherIsBetter() {
        return higherIsBetter;
    }

    /** The figure of a sample that made {@code calls} calls doing {@code work} in {@code seconds}. */
    public double value(double seconds, long calls, double work) {
        return higherIsBetter ? work / seconds : seconds / calls * perSecond;
    }

    /**
     * How many times faster {@code a} is than {@code b} (above 1: {@code a} is faster), for figures
     * of this metric.
     */
    public double speedup(double a, double b) {
        return higherIsBetter ? a / b : b / a;
    }

    /** A figure with about three significant digits. */
    public static String format(double value) {
        double magnitude = Math.abs(value);
        if (magnitude >= 10_000) {
            return String.format(Locale.ROOT, "%,.0f", value);
        }
        if (magnitude >= 100) {
            return String.format(Locale.ROOT, "%.0f", value);
        }
        if (magnitude >= 10) {
            return String.format(Locale.ROOT, "%.1f", value);
        }
        if (magnitude >= 1) {
            return String.format(Locale.ROOT, "%.2f", value);
        }
        return String.format(Locale.ROOT, "%.3g", value);
    }
}
