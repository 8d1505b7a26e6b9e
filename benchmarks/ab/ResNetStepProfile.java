import dev.adjoint.benchmarks.ResNetBenchmark;
import dev.adjoint.benchmarks.SimdBuilds;
import dev.adjoint.spi.Backend;
import dev.adjoint.spi.Layout;
import dev.adjoint.spi.Window2d;

import java.lang.management.ManagementFactory;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * ResNetBenchmark's training step on one engine-simd build, with every backend call of the step timed
 * where the step makes it: the calling thread's CPU time, the wall time and the helper threads' CPU
 * time per call, summed per kind of call (each convolution by its shapes and stride), as ms per step.
 * ConvAB times a convolution alone on operands it keeps hot; here each finds its operands where the
 * step's earlier calls left them, and the table adds up to the step.
 *
 * <pre>
 * flock /tmp/adjoint-bench.lock java --add-modules jdk.incubator.vector -cp benchmarks/target/benchmarks.jar \
 *     benchmarks/ab/ResNetStepProfile.java rounds dir[@prop=value,...]
 * </pre>
 * {@code dir}: a copy of {@code engine-simd/target/classes}, loaded as {@link SimdBuilds} loads it.
 * {@code THREADS=2} in the environment for two threads; {@code WARM=n} steps before the timed ones
 * (default 300). Warm up long: on a loaded two-core machine C2 may finish the kernels' compiles only
 * after 20-60 s, and a step timed before that runs some of them unintrinsified, many times slower.
 * For that reason compare builds in alternating runs of this program, not two builds in one JVM:
 * a second build's copies of the kernels compile behind the first's.
 */
public class ResNetStepProfile {
    private static final com.sun.management.ThreadMXBean BEAN =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    private static final int WARM_UP = Integer.parseInt(System.getenv().getOrDefault("WARM", "300"));
    private static boolean timing;
    /** The helper threads (MatmulThreads' "adjoint-simd-matmul-*"), found once the warm-up has started them. */
    private static long[] helpers = new long[0];

    public static void main(String[] args) throws Throwable {
        if (args.length != 2) {
            System.err.println("usage: ResNetStepProfile rounds dir[@prop=value,...]");
            System.exit(2);
        }
        int rounds = Integer.parseInt(args[0]);
        String threads = System.getenv().getOrDefault("THREADS", "1");
        System.setProperty("adjoint.simd.threads", threads);
        // Per kind of call: calling thread's CPU ms, wall ms, helpers' CPU ms, calls.
        Map<String, double[]> calls = new HashMap<>();
        ResNetBenchmark step = SimdBuilds.load(args[1], (backend, loader) -> {
            Backend timed = (Backend) Proxy.newProxyInstance(ResNetStepProfile.class.getClassLoader(),
                    new Class<?>[] {Backend.class}, (proxy, method, arguments) -> {
                        if (!timing) {
                            return invoke(method, backend, arguments);
                        }
                        long helpersStart = helperCpu();
                        long start = BEAN.getCurrentThreadCpuTime();
                        long wallStart = System.nanoTime();
                        Object result = invoke(method, backend, arguments);
                        long wallEnd = System.nanoTime();
                        long end = BEAN.getCurrentThreadCpuTime();
                        long helpersEnd = helperCpu();
                        double[] t = calls.computeIfAbsent(kind(method, arguments), k -> new double[4]);
                        t[0] += (end - start) / 1e6;
                        t[1] += (wallEnd - wallStart) / 1e6;
                        t[2] += (helpersEnd - helpersStart) / 1e6;
                        t[3]++;
                        return result;
                    });
            ResNetBenchmark benchmark = new ResNetBenchmark();
            benchmark.backend = "simd";
            Method build = ResNetBenchmark.class.getDeclaredMethod("build", Backend.class);
            build.setAccessible(true);
            build.invoke(benchmark, timed);
            benchmark.step();
            return benchmark;
        });
        for (int i = 0; i < WARM_UP; i++) {
            step.step();
        }
        double[] cpu = new double[rounds];
        double[] wall = new double[rounds];
        helpers = Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.getName().startsWith("adjoint-simd-matmul-")).mapToLong(Thread::threadId).toArray();
        timing = true;
        for (int r = 0; r < rounds; r++) {
            long start = BEAN.getCurrentThreadCpuTime();
            long wallStart = System.nanoTime();
            step.step();
            wall[r] = (System.nanoTime() - wallStart) / 1e6;
            cpu[r] = (BEAN.getCurrentThreadCpuTime() - start) / 1e6;
        }
        timing = false;
        Arrays.sort(cpu);
        Arrays.sort(wall);
        System.out.printf("ResNet step, %s, %s thread(s), %d steps after %d: median %.2f ms CPU (%.2f-%.2f),"
                        + " %.2f ms wall (%.2f-%.2f)%n", args[1], threads, rounds, WARM_UP, cpu[rounds / 2],
                cpu[rounds / 4], cpu[3 * rounds / 4], wall[rounds / 2], wall[rounds / 4], wall[3 * rounds / 4]);
        List<Map.Entry<String, double[]>> rows = new ArrayList<>(calls.entrySet());
        rows.sort((a, b) -> Double.compare(b.getValue()[1], a.getValue()[1]));
        double[] total = new double[3];
        for (Map.Entry<String, double[]> row : rows) {
            for (int i = 0; i < 3; i++) {
                total[i] += row.getValue()[i];
            }
        }
        System.out.printf("ms per step (sums over %d steps / %d): caller CPU, wall, helpers' CPU, calls%n", rounds,
                rounds);
        System.out.printf("%8.3f %8.3f %8.3f        backend calls in all%n", total[0] / rounds, total[1] / rounds,
                total[2] / rounds);
        for (Map.Entry<String, double[]> row : rows) {
            double[] t = row.getValue();
            if (t[1] / rounds >= 0.02) {
                System.out.printf("%8.3f %8.3f %8.3f  x%-3.0f %s%n", t[0] / rounds, t[1] / rounds, t[2] / rounds,
                        t[3] / rounds, row.getKey());
            }
        }
    }

    /** A call's kind: the method, and for convolutions, pooling and products the shapes of its operands and the stride. */
    private static String kind(Method method, Object[] arguments) {
        String name = method.getName();
        if (!name.startsWith("conv") && !name.contains("Pool") && !name.equals("matmul") && !name.equals("linear")) {
            return name;
        }
        StringBuilder kind = new StringBuilder(name);
        for (Object argument : arguments) {
            if (argument instanceof Layout layout) {
                kind.append(' ').append(layout.shape());
            } else if (argument instanceof Window2d window) {
                kind.append(" stride ").append(window.strideH());
            }
        }
        return kind.toString();
    }

    private static Object invoke(Method method, Object target, Object[] arguments) throws Throwable {
        try {
            return method.invoke(target, arguments);
        } catch (InvocationTargetException e) {
            throw e.getCause();
        }
    }

    /** The helper threads' CPU time, in ns. */
    private static long helperCpu() {
        long sum = 0;
        for (long id : helpers) {
            sum += Math.max(0, BEAN.getThreadCpuTime(id));
        }
        return sum;
    }
}
