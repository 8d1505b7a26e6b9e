import dev.adjoint.DType;
import dev.adjoint.benchmarks.FmaPeakBenchmark;
import dev.adjoint.benchmarks.SimdBuilds;
import dev.adjoint.Shape;
import dev.adjoint.spi.Backend;
import dev.adjoint.spi.Layout;
import dev.adjoint.spi.Storage;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Paired A/B of engine-simd builds' matmul in one JVM, for changes too small for separate JMH runs on
 * a shared machine to resolve (a few percent). Each build's {@code dev.adjoint.engine.simd} classes
 * (a directory, e.g. a copy of {@code engine-simd/target/classes}) get their own class loader; the
 * builds then take turns, one short round each, and every build's best and median round is printed.
 * Another process slowing the machine down slows all builds' rounds around the same time, so the
 * comparison between them survives noise that moves absolute numbers by 10-30%. Not a replacement for
 * JMH: the figures in docs/benchmarks.md come from JMH; this tells which of two builds is faster.
 *
 * <pre>
 * java --add-modules jdk.incubator.vector -cp benchmarks/target/benchmarks.jar benchmarks/ab/GemmAB.java \
 *     shape threads rounds dirA dirB ...
 * </pre>
 * {@code shape} is {@code n} (square), {@code MxKxN}, or {@code BxMxKxN} (a batch of B products);
 * a trailing {@code t} on it ({@code 64x784x256t}) passes B as a transposed view ({@code x @ w.T}), a
 * leading {@code t} ({@code t256x64x784}) A ({@code dy.T @ x}). The product goes through the backend's
 * {@code matmul}, so the path and thread split it chooses are part of what is measured. A build may
 * carry system properties set while its classes initialise, {@code dir@name=value,name=value}, to
 * compare settings read once at start-up within one build. {@code DT=f64} in the environment for FLOAT64;
 * {@code CLOCK=cpu} for rates from the thread's CPU time (one thread only); {@code ROUND_MS=10} for shorter rounds.
 * Wrap it in {@code flock /tmp/adjoint-bench.lock} like every benchmark here.
 */
public class GemmAB {
    private static final DType DTYPE = "f64".equals(System.getenv("DT")) ? DType.FLOAT64 : DType.FLOAT32;
    /**
     * CLOCK=cpu: rates from this thread's CPU time rather than wall time, for one thread on a machine
     * so busy that a round is often descheduled (what is left is the slowdown of shared caches).
     */
    private static final boolean CPU_TIME = "cpu".equals(System.getenv("CLOCK"));
    private static final ThreadMXBean BEAN = ManagementFactory.getThreadMXBean();
    private static final FmaPeakBenchmark FMA_PEAK = new FmaPeakBenchmark();


    /** One build's backend and operands. */
    private record Build(String label, Backend backend, Storage a, Storage b, Storage out) {
    }

    public static void main(String[] args) throws Throwable {
        if (args.length < 4) {
            System.err.println("usage: GemmAB shape threads rounds dir[@prop=value,...]...");
            System.exit(2);
        }
        String shape = args[0].toLowerCase();
        boolean aTransposed = shape.startsWith("t");
        boolean bTransposed = shape.endsWith("t");
        String[] dims = shape.replaceAll("^t|t$", "").split("x");
        int[] d = Arrays.stream(dims).mapToInt(Integer::parseInt).toArray();
        int batch = d.length == 4 ? d[0] : 1;
        int m = d.length == 1 ? d[0] : d[d.length - 3];
        int k = d.length == 1 ? d[0] : d[d.length - 2];
        int n = d[d.length - 1];
        int threads = Integer.parseInt(args[1]);
        if (CPU_TIME && threads != 1) {
            throw new IllegalArgumentException("CLOCK=cpu measures the calling thread alone: use it with threads = 1");
        }
        int rounds = Integer.parseInt(args[2]);
        System.setProperty("adjoint.simd.threads", Integer.toString(threads));

        Layout aLayout = aTransposed
                ? new Layout(Shape.of(batch, m, k), new int[] {m * k, 1, m}, 0)
                : Layout.contiguous(Shape.of(batch, m, k));
        Layout bLayout = bTransposed
                ? new Layout(Shape.of(batch, k, n), new int[] {k * n, 1, k}, 0)
                : Layout.contiguous(Shape.of(batch, k, n));
        Layout outLayout = Layout.contiguous(Shape.of(batch, m, n));
        double[] x = SimdBuilds.uniform(batch * m * k, 1);
        double[] y = SimdBuilds.uniform(batch * k * n, 2);

        List<Build> builds = new ArrayList<>();
        for (int v = 3; v < args.length; v++) {
            String label = args[v];
            builds.add(SimdBuilds.load(label, (backend, loader) -> {
                Class<?> gemm = Class.forName(DTYPE == DType.FLOAT64 ? "dev.adjoint.engine.simd.DoubleGemm"
                        : "dev.adjoint.engine.simd.FloatGemm", true, loader);
                System.out.printf("%s: register block %d x %d, KC %d, NC %d (%s)%n", label, constant(gemm, "MR"),
                        constant(gemm, "NR"), constant(gemm, "KC"), constant(gemm, "NC"), DTYPE);
                Storage a = backend.fromDoubles(x, DTYPE);
                Storage b = backend.fromDoubles(y, DTYPE);
                Storage out = backend.allocate(DTYPE, batch * m * n);
                // The first product initialises the build's GEMM classes (their blocking) while its properties are set.
                backend.matmul(a, aLayout, b, bLayout, out, outLayout);
                return new Build(label, backend, a, b, out);
            }));
        }
        double flop = 2.0 * batch * m * k * n;
        // About 40 ms of work per round at ~250 GFLOP/s, or ROUND_MS in the environment: shorter rounds
        // make an undisturbed best round likelier on a busy machine.
        double roundMs = Double.parseDouble(System.getenv().getOrDefault("ROUND_MS", "40"));
        int reps = Math.max(1, (int) (roundMs * 2.5e8 / flop));
        double[][] rates = new double[builds.size()][rounds];
        double[] peaks = new double[rounds];
        // FmaPeakBenchmark's FLOAT32 loop, sized to a quarter of a round from the work of one call.
        FmaPeakBenchmark.Flops probe = new FmaPeakBenchmark.Flops();
        FMA_PEAK.float32(probe);
        int peakCalls = Math.max(1, (int) (roundMs * 2.5e8 / (probe.gflops * 1e9) / 4));
        for (int round = -3; round < rounds; round++) {
            // The FMA peak of one core, measured between the builds' rounds the same way, so that a
            // build's rate can be read as a share of what the machine gave this process just then.
            FmaPeakBenchmark.Flops peakFlops = new FmaPeakBenchmark.Flops();
            long peakStart = CPU_TIME ? BEAN.getCurrentThreadCpuTime() : System.nanoTime();
            double sink = 0;
            for (int i = 0; i < peakCalls; i++) {
                sink += FMA_PEAK.float32(peakFlops);
            }
            long peakEnd = CPU_TIME ? BEAN.getCurrentThreadCpuTime() : System.nanoTime();
            if (round >= 0) {
                peaks[round] = peakFlops.gflops * 1e9 / (peakEnd - peakStart) + (sink == 42 ? 1 : 0);
            }
            for (int v = 0; v < builds.size(); v++) {
                Build build = builds.get(v);
                long start = CPU_TIME ? BEAN.getCurrentThreadCpuTime() : System.nanoTime();
                for (int i = 0; i < reps; i++) {
                    build.backend.matmul(build.a, aLayout, build.b, bLayout, build.out, outLayout);
                }
                long end = CPU_TIME ? BEAN.getCurrentThreadCpuTime() : System.nanoTime();
                double gflops = flop * reps / (end - start);
                if (round >= 0) {
                    rates[v][round] = gflops;
                }
            }
        }
        double[] peakSorted = peaks.clone();
        Arrays.sort(peakSorted);
        double peak = peakSorted[rounds / 2];
        System.out.printf("FMA peak (FLOAT32, one thread): median %.1f GFLOP/s%n", peak);
        for (int v = 0; v < builds.size(); v++) {
            double[] sorted = rates[v].clone();
            Arrays.sort(sorted);
            // Against the FLOAT32 peak of one thread: a FLOAT64 product's share is to be doubled, a
            // two-thread product's halved.
            System.out.printf("%s %s threads=%d %-40s best %.1f  median %.1f GFLOP/s (%d rounds), median %.0f%% of the peak%n",
                    DTYPE, args[0], threads, builds.get(v).label, sorted[rounds - 1], sorted[rounds / 2], rounds,
                    100 * sorted[rounds / 2] / peak);
        }
    }

    /** A build's GEMM block size (a static final int of FloatGemm or DoubleGemm), or -1 where it has none by that name. */
    private static int constant(Class<?> gemm, String name) {
        try {
            java.lang.reflect.Field field = gemm.getDeclaredField(name);
            field.setAccessible(true);
            return field.getInt(null);
        } catch (ReflectiveOperationException e) {
            return -1;
        }
    }

}
