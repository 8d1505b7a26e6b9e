import dev.adjoint.DType;
import dev.adjoint.Shape;
import dev.adjoint.benchmarks.SimdBuilds;
import dev.adjoint.spi.Backend;
import dev.adjoint.spi.Layout;
import dev.adjoint.spi.Storage;
import dev.adjoint.spi.Window2d;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Paired A/B of engine-simd builds on max pooling's forward (the SPI's {@code maxPool2d}: values and
 * argmax indices), builds loaded as in {@code GemmAB} and taking turns a call each, every call timed
 * by the calling thread's CPU time; the table gives the median per shape and build and a checksum of
 * the values and indices (builds must agree to the bit), and the bytes each call allocates (the
 * outputs are allocated once beforehand, so a kernel that allocates nothing shows about none).
 *
 * <pre>
 * flock /tmp/adjoint-bench.lock java --add-modules jdk.incubator.vector -cp benchmarks/target/benchmarks.jar \
 *     benchmarks/ab/PoolAB.java rounds dirA dirB ...
 * </pre>
 * Shapes: the Fashion-MNIST CNN's two 2x2 stride-2 pools ({@code [64,32,28,28]}, {@code [64,64,14,14]}),
 * the first at batch 2 (its input in L2), ResNet's 3x3 stride-2 padding-1 stem pool
 * ({@code [32,64,112,112]}) and a 3x3 stride-1 padding-1 pool ({@code [32,64,28,28]}). One thread;
 * {@code DT=f64} in the environment for FLOAT64.
 */
public class PoolAB {
    private static final DType DTYPE = "f64".equals(System.getenv("DT")) ? DType.FLOAT64 : DType.FLOAT32;
    private static final com.sun.management.ThreadMXBean BEAN =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    /** {@code ONLY=k} in the environment times the k-th shape alone (its paths alone then shape the JIT's profile). */
    private static final int ONLY = Integer.parseInt(System.getenv().getOrDefault("ONLY", "-1"));
    private static final int WARM_UP_ROUNDS = Integer.parseInt(System.getenv().getOrDefault("WARM", "40"));
    /** {n, c, h, w, kernel, stride, padding} */
    private static final int[][] SHAPES = {{64, 32, 28, 28, 2, 2, 0}, {64, 64, 14, 14, 2, 2, 0}, {2, 32, 28, 28, 2, 2, 0},
            {32, 64, 112, 112, 3, 2, 1}, {32, 64, 28, 28, 3, 1, 1}};

    /** A shape's operands; the outputs are allocated once, so that a call times the kernel alone. */
    private record Operands(Backend backend, Storage x, Layout xl, Window2d win, Layout ol, Storage[] out) {
        Operands(Backend backend, Storage x, Layout xl, Window2d win, Layout ol) {
            this(backend, x, xl, win, ol, new Storage[] {backend.allocate(DTYPE, ol.shape().numel()),
                    backend.allocate(DType.INT64, ol.shape().numel())});
        }

        Storage[] run() {
            backend.maxPool2d(x, xl, win, out[0], ol, out[1], ol);
            return out;
        }
    }

    public static void main(String[] args) throws Throwable {
        if (args.length < 2) {
            System.err.println("usage: PoolAB rounds dir[@prop=value,...]...");
            System.exit(2);
        }
        int rounds = Integer.parseInt(args[0]);
        System.setProperty("adjoint.simd.threads", "1");
        List<String> labels = new ArrayList<>();
        List<Operands[]> builds = new ArrayList<>();
        for (int v = 1; v < args.length; v++) {
            builds.add(SimdBuilds.load(args[v], (backend, loader) -> {
                Operands[] ops = new Operands[SHAPES.length];
                for (int s = 0; s < SHAPES.length; s++) {
                    int[] d = SHAPES[s];
                    int k = d[4], st = d[5], p = d[6];
                    int oh = (d[2] + 2 * p - k) / st + 1, ow = (d[3] + 2 * p - k) / st + 1;
                    Shape xs = Shape.of(d[0], d[1], d[2], d[3]);
                    ops[s] = new Operands(backend, backend.fromDoubles(SimdBuilds.uniform(xs.numel(), 1 + s), DTYPE),
                            Layout.contiguous(xs), new Window2d(d[2], d[3], k, k, st, st, p, p, 1, 1, oh, ow),
                            Layout.contiguous(Shape.of(d[0], d[1], oh, ow)));
                    ops[s].run();
                }
                return ops;
            }));
            labels.add(args[v]);
        }
        double[][][] ms = new double[builds.size()][SHAPES.length][rounds];
        double[][] sums = new double[builds.size()][SHAPES.length];
        long[][] allocated = new long[builds.size()][SHAPES.length];
        for (int round = -WARM_UP_ROUNDS; round < rounds; round++) {
            for (int v = 0; v < builds.size(); v++) {
                for (int s = 0; s < SHAPES.length; s++) {
                    if (ONLY >= 0 && s != ONLY) {
                        continue;
                    }
                    Operands o = builds.get(v)[s];
                    long bytes = BEAN.getCurrentThreadAllocatedBytes();
                    long start = BEAN.getCurrentThreadCpuTime();
                    Storage[] out = o.run();
                    long end = BEAN.getCurrentThreadCpuTime();
                    if (round >= 0) {
                        ms[v][s][round] = (end - start) / 1e6;
                        allocated[v][s] += BEAN.getCurrentThreadAllocatedBytes() - bytes;
                    }
                    if (round == rounds - 1) {
                        double[] values = o.backend.toDoubles(out[0], o.ol);
                        double[] indices = o.backend.toDoubles(out[1], o.ol);
                        double sum = 0;
                        for (int i = 0; i < values.length; i++) {
                            sum += (values[i] + indices[i]) * (1 + (i % 7));
                        }
                        sums[v][s] = sum;
                    }
                }
            }
        }
        System.out.printf("max pooling %s, one thread, median (p25-p75) of %d rounds: ms of CPU time per call%n",
                DTYPE, rounds);
        for (int v = 0; v < builds.size(); v++) {
            System.out.printf("%s%n", labels.get(v));
            for (int s = 0; s < SHAPES.length; s++) {
                double[] sorted = ms[v][s].clone();
                Arrays.sort(sorted);
                System.out.printf("  %-28s %8.3f ms (%7.3f-%7.3f)  %9.0f bytes/call  checksum %.10e%n",
                        Arrays.toString(SHAPES[s]), sorted[rounds / 2], sorted[rounds / 4], sorted[3 * rounds / 4],
                        (double) allocated[v][s] / rounds, sums[v][s]);
            }
        }
    }
}
