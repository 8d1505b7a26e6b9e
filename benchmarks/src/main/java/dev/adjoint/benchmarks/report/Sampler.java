package dev.adjoint.benchmarks.report;

import javax.management.JMException;
import javax.management.ObjectName;
import java.lang.management.CompilationMXBean;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;

/**
 * Times an {@link Operation} the way a JMH fork would, sized to a budget: a warm-up that runs until
 * the JIT has finished compiling (so the figures are of C2's code, not the interpreter's or C1's or
 * an on-stack-replaced loop's), then several samples, each of enough calls to last a slice of the
 * measuring budget. A call longer than a slice is a sample on its own, so a slow operation still
 * gets at least {@value #MIN_SAMPLES} samples (two when a single call takes a third of the budget)
 * and overruns its budget rather than report one call.
 *
 * <p>"Finished compiling" is read from HotSpot itself: the JIT's total compilation time has not
 * moved for {@value #QUIET_SECONDS} s, and its compile queues (the {@code Compiler.queue}
 * diagnostic command, as {@code jcmd PID Compiler.queue} shows it) hold nothing and nothing is being
 * compiled. The first alone is not enough: one large C2 compile can run longer than the quiet window.
 *
 * <p>At the warm-up limit a cell whose JIT is still busy is measured anyway, unless its calls are
 * still getting faster ({@link Progress}): then the warm-up goes on, up to {@value #LIMIT_STRETCH}
 * times the limit. A workload that compiles many large vector kernels (simd's first CNN step runs for
 * seconds before C2 has compiled them) is so measured warm, while one whose JIT keeps compiling rarely
 * taken paths at a steady speed stops at the limit.
 *
 * <p>A sample during which the JIT compiled for at least {@value #DISTURBED_PERCENT}% of the sample's
 * time is set aside and another taken, for up to {@value #SET_ASIDE_STRETCH} times the measuring
 * budget: HotSpot keeps compiling now and then for seconds after the warm-up has seen it quiet
 * (methods called once per step, as the backward pass's driver or a matmul's dispatch, reach C2's
 * call counts late), and each such compile takes a core for a tenth of a second or more. A step
 * on two threads on two cores then runs at the speed of one: measured on an AMD EPYC Zen 5, the
 * transformer block's step at 16-18 ms, and 25-37 ms in the slices that overlapped a compile.
 * A long training run has those compiles behind it.
 *
 * <p>Results are kept from dead-code elimination by a volatile write of each call's result; the
 * operations return objects that cannot be scalar-replaced (tensors, storages, boxed sums).
 */
public final class Sampler {
    private static final int MIN_SAMPLES = 3;
    private static final int TARGET_SAMPLES = 8;
    /** Warm-up slices are a twentieth of the measuring budget. */
    private static final int SLICES = 20;
    private static final double QUIET_SECONDS = 0.25;
    /** The longest warm-up, as a multiple of the limit, for calls that are still getting faster. */
    static final int LIMIT_STRETCH = 4;
    /** A sample is set aside when the JIT compiled for at least this share of its time (compile time summed over the compiler threads). */
    static final int DISTURBED_PERCENT = 10;
    /** The longest measuring time, as a multiple of the budget, while samples are being set aside. */
    static final int SET_ASIDE_STRETCH = 3;

    @SuppressWarnings("unused") // written to keep results alive; never read
    private static volatile Object sink;

    private Sampler() {
    }

    /**
     * What a cell measured: the figure of each sample in the metric's unit, the calls they made, and
     * how the warm-up went.
     */
    public record Measurement(double[] samples, long calls, double warmupSeconds, long warmupCalls,
                              boolean jitSettled, int samplesSetAside, double measureSeconds) {
    }

    /**
     * @param measureSeconds the time for the samples
     * @param warmupLimit    the warm-up's limit; if the JIT is still compiling then, the samples are
     *                       taken anyway and {@link Measurement#jitSettled()} says so, unless the calls
     *                       are still getting faster (then up to {@value #LIMIT_STRETCH} times as long)
     */
    public static Measurement measure(Operation op, Metric metric, double measureSeconds, double warmupLimit) {
        return measure(op, metric, measureSeconds, warmupLimit, new Jit());
    }

    /** {@link #measure} with the JIT watched through {@code jit} (a test's own). */
    static Measurement measure(Operation op, Metric metric, double measureSeconds, double warmupLimit, JitWatch jit) {
        double slice = measureSeconds / SLICES;
        long start = System.nanoTime();
        long warmupCalls = 0;
        boolean settled = false;
        Progress progress = new Progress();
        while (!settled && (seconds(start) < warmupLimit
                || (seconds(start) < LIMIT_STRETCH * warmupLimit && progress.improving()))) {
            long sliceStart = System.nanoTime();
            long sliceCalls = 0;
            do {
                sink = op.call();
                sliceCalls++;
            } while (seconds(sliceStart) < slice);
            warmupCalls += sliceCalls;
            progress.add(seconds(start), seconds(sliceStart) / sliceCalls);
            settled = jit.settled();
        }
        double warmupSeconds = seconds(start);

        // Samples: each at least an eighth of the budget and at least one call.
        double sampleSeconds = measureSeconds / TARGET_SAMPLES;
        List<Double> samples = new ArrayList<>();
        long calls = 0;
        int setAside = 0;
        double setAsideSeconds = 0;
        long measureStart = System.nanoTime();
        while (true) {
            double workBefore = op.workDone();
            long compiledBefore = jit.compiledMillis();
            long sampleCalls = 0;
            long sampleStart = System.nanoTime();
            double elapsed;
            do {
                sink = op.call();
                sampleCalls++;
                elapsed = seconds(sampleStart);
            } while (elapsed < sampleSeconds);
            calls += sampleCalls;
            double value = metric.value(elapsed, sampleCalls, op.workDone() - workBefore);
            boolean disturbed = jit.compiledMillis() - compiledBefore >= DISTURBED_PERCENT / 100.0 * elapsed * 1000;
            if (disturbed && seconds(measureStart) < SET_ASIDE_STRETCH * measureSeconds) {
                setAside++;
                setAsideSeconds += elapsed;
                continue;
            }
            samples.add(value);
            boolean slow = sampleCalls == 1 && elapsed > measureSeconds / 3;
            int needed = slow ? 2 : MIN_SAMPLES;
            if (samples.size() >= TARGET_SAMPLES || (seconds(measureStart) - setAsideSeconds >= measureSeconds && samples.size() >= needed)) {
                break;
            }
        }
        return new Measurement(samples.stream().mapToDouble(Double::doubleValue).toArray(), calls, warmupSeconds,
                warmupCalls, settled, setAside, seconds(measureStart));
    }

    private static double seconds(long since) {
        return (System.nanoTime() - since) / 1e9;
    }

    /**
     * Whether a warm-up's calls are still getting faster: the best time per call of its last
     * {@value #WINDOW_SECONDS} s (and at least its last {@value #WINDOW_SLICES} slices) is more than
     * {@value #GAIN_PERCENT}% below the best before them. Slices are fed in order with the time they
     * ended at; until a slice lies before the window there is nothing to compare with, and that
     * counts as improving.
     */
    static final class Progress {
        static final double WINDOW_SECONDS = 2.0;
        static final int WINDOW_SLICES = 3;
        static final int GAIN_PERCENT = 5;
        private final List<double[]> slices = new ArrayList<>();

        /** A slice that ended {@code at} seconds into the warm-up, at {@code perCall} seconds a call. */
        void add(double at, double perCall) {
            slices.add(new double[] {at, perCall});
        }

        boolean improving() {
            if (slices.isEmpty()) {
                return true;
            }
            double end = slices.get(slices.size() - 1)[0];
            double before = Double.POSITIVE_INFINITY;
            double recent = Double.POSITIVE_INFINITY;
            for (int i = 0; i < slices.size(); i++) {
                double[] s = slices.get(i);
                boolean inWindow = s[0] > end - WINDOW_SECONDS || i >= slices.size() - WINDOW_SLICES;
                if (inWindow) {
                    recent = Math.min(recent, s[1]);
                } else {
                    before = Math.min(before, s[1]);
                }
            }
            return before == Double.POSITIVE_INFINITY || recent < (1 - GAIN_PERCENT / 100.0) * before;
        }
    }

    /** What the sampler asks of the JIT. */
    interface JitWatch {
        /** Whether the JIT has finished compiling, as far as can be told now. */
        boolean settled();

        /** The JIT's total compile time so far, in milliseconds summed over its threads (0 where not monitored). */
        long compiledMillis();
    }

    /** HotSpot's JIT, watched through its management beans. */
    private static final class Jit implements JitWatch {
        private final CompilationMXBean compilation = ManagementFactory.getCompilationMXBean();
        private final boolean timed = compilation != null && compilation.isCompilationTimeMonitoringSupported();
        /** The total compile time when settled() last saw it change. */
        private long lastSeenMillis = compiledMillis();
        private long lastChange = System.nanoTime();

        Jit() {
            // The first Compiler.queue call sets up HotSpot's diagnostic commands (JFR's among them,
            // which parse their XML settings): a wave of compiles of its own. Made here, that wave
            // overlaps the workload's first compiles instead of restarting the quiet time later.
            queuesEmpty();
        }

        @Override
        public long compiledMillis() {
            return timed ? compilation.getTotalCompilationTime() : 0;
        }

        /** Whether nothing has been compiled for QUIET_SECONDS and nothing is queued or being compiled. */
        @Override
        public boolean settled() {
            if (!timed) {
                return false;
            }
            long now = compiledMillis();
            if (now != lastSeenMillis) {
                lastSeenMillis = now;
                lastChange = System.nanoTime();
                return false;
            }
            return seconds(lastChange) >= QUIET_SECONDS && queuesEmpty();
        }

        /**
         * The {@code Compiler.queue} diagnostic command lists the compiles in progress and queued, one
         * per line under its headings; without it (not HotSpot) the quiet time alone decides.
         */
        private static boolean queuesEmpty() {
            try {
                String queue = (String) ManagementFactory.getPlatformMBeanServer().invoke(
                        new ObjectName("com.sun.management:type=DiagnosticCommand"), "compilerQueue",
                        new Object[] {null}, new String[] {String[].class.getName()});
                return queue.lines().map(String::trim).allMatch(line -> line.isEmpty() || line.equals("Empty")
                        || line.endsWith("queue:") || line.startsWith("Current compiles:"));
            } catch (JMException | RuntimeException e) {
                return true;
            }
        }
    }
}
