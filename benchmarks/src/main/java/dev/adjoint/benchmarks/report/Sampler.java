package dev.adjoint.benchmarks.report;

import java.lang.management.CompilationMXBean;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;

/**
 * Times an {@link Operation} within a budget of seconds, the way a JMH fork would but sized to the
 * budget: a warm-up that runs until the JIT has stopped compiling (so the figures are of C2's code,
 * not the interpreter's or C1's) and then several samples, each of enough calls to last a slice of
 * the budget. A call longer than a slice is a sample on its own, so a slow operation still gets at
 * least {@value #MIN_SAMPLES} samples (two when a single call takes a third of the measuring budget)
 * and overruns its budget rather than report one call.
 *
 * <p>Results are kept from dead-code elimination by a volatile write of each call's result; the
 * operations return objects that cannot be scalar-replaced (tensors, storages, boxed sums).
 */
public final class Sampler {
    /** The warm-up may use this share of the budget; the rest is for the samples. */
    private static final double WARMUP_SHARE = 0.45;
    private static final int MIN_SAMPLES = 3;
    private static final int TARGET_SAMPLES = 8;
    /** Warm-up runs in slices; this many slices in a row, and this long, without a JIT compilation end it. */
    private static final int QUIET_SLICES = 2;
    private static final double QUIET_SECONDS = 0.25;

    @SuppressWarnings("unused") // written to keep results alive; never read
    private static volatile Object sink;

    private Sampler() {
    }

    /**
     * What a cell measured: the figure of each sample in the metric's unit, the calls they made, and
     * how the warm-up went.
     */
    public record Measurement(double[] samples, long calls, double warmupSeconds, long warmupCalls,
                              boolean jitSettled, double measureSeconds) {
    }

    public static Measurement measure(Operation op, Metric metric, double budgetSeconds) {
        CompilationMXBean jit = ManagementFactory.getCompilationMXBean();
        boolean canWatchJit = jit != null && jit.isCompilationTimeMonitoringSupported();

        // Warm-up: slices of a twentieth of the warm-up budget (and at least one call), until no
        // compilation has finished for QUIET_SECONDS (and QUIET_SLICES slices), or the budget is spent.
        // A long C2 compile adds its time only when it finishes, hence a window in seconds, not one slice.
        double warmupBudget = WARMUP_SHARE * budgetSeconds;
        double slice = warmupBudget / 20;
        long start = System.nanoTime();
        long warmupCalls = 0;
        int quietSlices = 0;
        long lastChange = start;
        long compiled = canWatchJit ? jit.getTotalCompilationTime() : 0;
        boolean settled = false;
        while (!settled && seconds(start) < warmupBudget) {
            long sliceStart = System.nanoTime();
            do {
                sink = op.call();
                warmupCalls++;
            } while (seconds(sliceStart) < slice);
            long nowCompiled = canWatchJit ? jit.getTotalCompilationTime() : compiled + 1;
            if (nowCompiled != compiled) {
                compiled = nowCompiled;
                lastChange = System.nanoTime();
                quietSlices = 0;
            } else {
                quietSlices++;
            }
            settled = quietSlices >= QUIET_SLICES && seconds(lastChange) >= QUIET_SECONDS;
        }
        double warmupSeconds = seconds(start);

        // Samples: each at least a slice of the remaining budget and at least one call.
        double measureBudget = Math.max(budgetSeconds - warmupSeconds, (1 - WARMUP_SHARE) * budgetSeconds);
        double sampleSeconds = measureBudget / TARGET_SAMPLES;
        List<Double> samples = new ArrayList<>();
        long calls = 0;
        long measureStart = System.nanoTime();
        while (true) {
            double workBefore = op.workDone();
            long sampleCalls = 0;
            long sampleStart = System.nanoTime();
            double elapsed;
            do {
                sink = op.call();
                sampleCalls++;
                elapsed = seconds(sampleStart);
            } while (elapsed < sampleSeconds);
            calls += sampleCalls;
            samples.add(metric.value(elapsed, sampleCalls, op.workDone() - workBefore));
            double used = seconds(measureStart);
            boolean slow = sampleCalls == 1 && elapsed > measureBudget / 3;
            int needed = slow ? 2 : MIN_SAMPLES;
            if (samples.size() >= TARGET_SAMPLES || (used >= measureBudget && samples.size() >= needed)) {
                break;
            }
        }
        return new Measurement(samples.stream().mapToDouble(Double::doubleValue).toArray(), calls, warmupSeconds,
                warmupCalls, settled, seconds(measureStart));
    }

    private static double seconds(long since) {
        return (System.nanoTime() - since) / 1e9;
    }
}
