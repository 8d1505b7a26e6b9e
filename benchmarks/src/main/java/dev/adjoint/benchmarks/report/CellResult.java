package dev.adjoint.benchmarks.report;

import java.util.Arrays;

/**
 * What one cell of the report measured: a workload run by one implementation (an Adjoint backend,
 * a peer, or the JVM alone for a yardstick) at one thread count. The figure quoted is the median of
 * the samples, the spread their minimum and maximum.
 *
 * @param implementation the column key: a backend name, {@code pytorch}, a {@link PeerLibrary#id()},
 *                       or {@code jvm} for a yardstick
 * @param status         {@code ok}, {@code failed} (see message) or {@code skipped}
 * @param jitSettled     whether the warm-up ended because the JIT had stopped compiling (always false
 *                       for PyTorch, which has no JIT and gets a short fixed warm-up)
 * @param samplesSetAside samples taken and left out because the JIT compiled during them ({@link Sampler})
 * @param loadBefore     the 1-minute load average just before the cell started
 */
public record CellResult(String workload, String implementation, int threads, String status, double[] samples,
                         long calls, double warmupSeconds, long warmupCalls, boolean jitSettled,
                         int samplesSetAside, double seconds, double loadBefore, double loadAfter, String message) {

    public static CellResult failed(String workload, String implementation, int threads, double seconds,
                                    double loadBefore, String message) {
        return new CellResult(workload, implementation, threads, "failed", new double[0], 0, 0, 0, false, 0, seconds,
                loadBefore, Machine.load1(), message);
    }

    /**
     * This cell pooled with a later round of the same cell ({@code benchmarks/run --rounds}): the
     * samples of both, so that the median is over every round; counts and durations add up, the load
     * runs from this one's start to the later one's end, and a round without a figure leaves the other's
     * figures, its reason kept in the message.
     */
    public CellResult pooledWith(CellResult later) {
        if (!later.ok()) {
            return ok() ? withMessage(join(message, "a later round " + later.status() + ": " + later.message())) : this;
        }
        if (!ok()) {
            return later.withMessage(join("an earlier round " + status + ": " + message, later.message()));
        }
        double[] pooled = Arrays.copyOf(samples, samples.length + later.samples.length);
        System.arraycopy(later.samples, 0, pooled, samples.length, later.samples.length);
        return new CellResult(workload, implementation, threads, status, pooled, calls + later.calls,
                warmupSeconds + later.warmupSeconds, warmupCalls + later.warmupCalls, jitSettled && later.jitSettled,
                samplesSetAside + later.samplesSetAside, seconds + later.seconds, loadBefore, later.loadAfter, join(message, later.message));
    }

    private CellResult withMessage(String m) {
        return new CellResult(workload, implementation, threads, status, samples, calls, warmupSeconds, warmupCalls,
                jitSettled, samplesSetAside, seconds, loadBefore, loadAfter, m);
    }

    private static String join(String a, String b) {
        return a == null ? b : b == null ? a : a + "; " + b;
    }

    public boolean ok() {
        return status.equals("ok") && samples.length > 0;
    }

    public double median() {
        double[] s = sorted();
        int n = s.length;
        return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    }

    public double min() {
        return sorted()[0];
    }

    public double max() {
        double[] s = sorted();
        return s[s.length - 1];
    }

    private double[] sorted() {
        double[] s = samples.clone();
        Arrays.sort(s);
        return s;
    }
}
