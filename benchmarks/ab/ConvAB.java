import dev.adjoint.DType;
import dev.adjoint.Shape;
import dev.adjoint.benchmarks.SimdBuilds;
import dev.adjoint.spi.Backend;
import dev.adjoint.spi.Layout;
import dev.adjoint.spi.Storage;
import dev.adjoint.spi.Window2d;

import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Paired A/B of engine-simd builds on one ConvBenchmark shape's three convolution kernels (the SPI's
 * {@code conv2d}, {@code conv2dInputGrad}, {@code conv2dWeightGrad}, each into a fresh zeroed output as
 * the ops call them), builds loaded as in {@code GemmAB} and taking turns, one call of each kernel per
 * round, so load from other processes falls on all of them alike. Each call is timed by the calling
 * thread's CPU time and by the wall clock; the table gives the medians per kernel and build, the bytes
 * the calling thread allocated per call (the output included), and a checksum of each build's outputs
 * (builds that must agree to the bit print the same).
 *
 * <pre>
 * flock /tmp/adjoint-bench.lock java --add-modules jdk.incubator.vector -cp benchmarks/target/benchmarks.jar \
 *     benchmarks/ab/ConvAB.java rounds shape dirA[@prop=value,...] dirB ...
 * </pre>
 * {@code shape}: fmnist2, resnet3x3 or resnet512 (a ResNet stage-4 3x3 layer), or one of ResNetBenchmark's
 * layers (batch 32, padding kernel / 2): resnet-stem (3 -> 32, 3x3 at 32x32), resnet-s1-32 (32 -> 32 at
 * 32x32), resnet-s2-64 (32 -> 64, 3x3 stride 2 from 32x32), resnet-s1-64 (64 -> 64 at 16x16),
 * resnet-proj-64 (32 -> 64, 1x1 stride 2 from 32x32), resnet-s2-128 (64 -> 128, 3x3 stride 2 from
 * 16x16), resnet-s1-128 (128 -> 128 at 8x8), resnet-proj-128 (64 -> 128, 1x1 stride 2 from 16x16);
 * {@code benchmarks/ab/torch_resnet_convs.py} times PyTorch's on the same shapes. One thread ({@code THREADS=2} in the environment for two: the
 * calling thread's CPU time then leaves out the other thread's, so read the wall time there, which a
 * loaded machine inflates, and the helper threads' CPU time beside it: the caller's and the helpers'
 * together against one thread's CPU time say how much work the second thread added, their difference
 * how much ran on the caller alone); {@code DT=f64} for FLOAT64.
 */
public class ConvAB {
    private static final DType DTYPE = "f64".equals(System.getenv("DT")) ? DType.FLOAT64 : DType.FLOAT32;
    private static final com.sun.management.ThreadMXBean BEAN =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    private static final int WARM_UP_ROUNDS = Integer.parseInt(System.getenv().getOrDefault("WARM", "40"));
    private static final String[] KERNELS = {"forward", "inputGrad", "weightGrad"};
    /** {@code ONLY=weightGrad} (or forward, inputGrad) in the environment times that kernel alone. */
    private static final String ONLY = System.getenv().getOrDefault("ONLY", "");

    private record Operands(Backend backend, Storage x, Layout xl, Storage w, Layout wl, Storage g, Layout gl,
                            Window2d win, int groups) {
        Storage run(int kernel) {
            Storage out;
            switch (kernel) {
                case 0 -> {
                    out = backend.allocate(DTYPE, gl.shape().numel());
                    backend.conv2d(x, xl, w, wl, win, groups, out, gl);
                }
                case 1 -> {
                    out = backend.allocate(DTYPE, xl.shape().numel());
                    backend.conv2dInputGrad(g, gl, w, wl, win, groups, out, xl);
                }
                default -> {
                    out = backend.allocate(DTYPE, wl.shape().numel());
                    backend.conv2dWeightGrad(x, xl, g, gl, win, groups, out, wl);
                }
            }
            return out;
        }
    }

    public static void main(String[] args) throws Throwable {
        if (args.length < 3) {
            System.err.println("usage: ConvAB rounds shape dir[@prop=value,...]...");
            System.exit(2);
        }
        int rounds = Integer.parseInt(args[0]);
        // {input, weight, {stride}[, {groups}]}; padding kernel / 2.
        int[][] dims = switch (args[1]) {
            case "fmnist2" -> new int[][] {{64, 32, 14, 14}, {64, 32, 3, 3}, {1}};
            case "resnet3x3" -> new int[][] {{32, 64, 56, 56}, {64, 64, 3, 3}, {1}};
            case "resnet512" -> new int[][] {{32, 512, 7, 7}, {512, 512, 3, 3}, {1}};
            // ResNetBenchmark's (resnet-step's) layers, batch 32.
            case "resnet-stem" -> new int[][] {{32, 3, 32, 32}, {32, 3, 3, 3}, {1}};
            case "resnet-s1-32" -> new int[][] {{32, 32, 32, 32}, {32, 32, 3, 3}, {1}};
            case "resnet-s2-64" -> new int[][] {{32, 32, 32, 32}, {64, 32, 3, 3}, {2}};
            case "resnet-s1-64" -> new int[][] {{32, 64, 16, 16}, {64, 64, 3, 3}, {1}};
            case "resnet-proj-64" -> new int[][] {{32, 32, 32, 32}, {64, 32, 1, 1}, {2}};
            case "resnet-s2-128" -> new int[][] {{32, 64, 16, 16}, {128, 64, 3, 3}, {2}};
            case "resnet-s1-128" -> new int[][] {{32, 128, 8, 8}, {128, 128, 3, 3}, {1}};
            case "resnet-proj-128" -> new int[][] {{32, 64, 16, 16}, {128, 64, 1, 1}, {2}};
            // ConvBenchmark's depthwise layers (MobileNet), one channel per group.
            case "depthwise3x3" -> new int[][] {{32, 128, 28, 28}, {128, 1, 3, 3}, {1}, {128}};
            case "depthwise3x3s2" -> new int[][] {{32, 128, 56, 56}, {128, 1, 3, 3}, {2}, {128}};
            default -> throw new IllegalArgumentException("unknown shape " + args[1]);
        };
        int[] xd = dims[0], wd = dims[1];
        int stride = dims[2][0];
        int groups = dims.length > 3 ? dims[3][0] : 1;
        int padH = wd[2] / 2, padW = wd[3] / 2;
        int outH = (xd[2] + 2 * padH - wd[2]) / stride + 1, outW = (xd[3] + 2 * padW - wd[3]) / stride + 1;
        Window2d win = new Window2d(xd[2], xd[3], wd[2], wd[3], stride, stride, padH, padW, 1, 1, outH, outW);
        Shape xs = Shape.of(xd), ws = Shape.of(wd), gs = Shape.of(xd[0], wd[0], outH, outW);
        System.setProperty("adjoint.simd.threads", System.getenv().getOrDefault("THREADS", "1"));
        List<String> labels = new ArrayList<>();
        List<Operands> builds = new ArrayList<>();
        for (int v = 2; v < args.length; v++) {
            builds.add(SimdBuilds.load(args[v], (backend, loader) -> {
                Operands o = new Operands(backend,
                        backend.fromDoubles(SimdBuilds.uniform(xs.numel(), 1), DTYPE), Layout.contiguous(xs),
                        backend.fromDoubles(SimdBuilds.uniform(ws.numel(), 2), DTYPE), Layout.contiguous(ws),
                        backend.fromDoubles(SimdBuilds.uniform(gs.numel(), 3), DTYPE), Layout.contiguous(gs), win, groups);
                for (int k = 0; k < KERNELS.length; k++) {
                    o.run(k);
                }
                return o;
            }));
            labels.add(args[v]);
        }
        double[][][] ms = new double[builds.size()][KERNELS.length][rounds];
        double[][][] wall = new double[builds.size()][KERNELS.length][rounds];
        double[][][] helper = new double[builds.size()][KERNELS.length][rounds];
        long[][] allocated = new long[builds.size()][KERNELS.length];
        long[] helpers = helperThreads();
        double[][] sums = new double[builds.size()][KERNELS.length];
        for (int round = -WARM_UP_ROUNDS; round < rounds; round++) {
            for (int v = 0; v < builds.size(); v++) {
                for (int k = 0; k < KERNELS.length; k++) {
                    if (!ONLY.isEmpty() && !ONLY.equals(KERNELS[k])) {
                        continue;
                    }
                    long allocatedStart = BEAN.getCurrentThreadAllocatedBytes();
                    long helperStart = cpuTime(helpers);
                    long start = BEAN.getCurrentThreadCpuTime();
                    long wallStart = System.nanoTime();
                    Storage out = builds.get(v).run(k);
                    long wallEnd = System.nanoTime();
                    long end = BEAN.getCurrentThreadCpuTime();
                    long helperEnd = cpuTime(helpers);
                    long allocatedEnd = BEAN.getCurrentThreadAllocatedBytes();
                    if (round >= 0) {
                        ms[v][k][round] = (end - start) / 1e6;
                        wall[v][k][round] = (wallEnd - wallStart) / 1e6;
                        helper[v][k][round] = (helperEnd - helperStart) / 1e6;
                        allocated[v][k] += allocatedEnd - allocatedStart;
                    }
                    if (round == rounds - 1) {
                        double[] d = builds.get(v).backend.toDoubles(out,
                                Layout.contiguous(k == 0 ? gs : k == 1 ? xs : ws));
                        double s = 0;
                        for (int i = 0; i < d.length; i++) {
                            s += d[i] * (1 + (i % 7));
                        }
                        sums[v][k] = s;
                    }
                }
            }
        }
        double gflop = 2.0 * gs.numel() * wd[1] * wd[2] * wd[3] / 1e9;
        System.out.printf("%s %s, %s thread(s), median (p25-p75) of %d rounds: ms of CPU time per call, GFLOP/s,"
                + " median wall ms%n",
                args[1], DTYPE, System.getProperty("adjoint.simd.threads"), rounds);
        for (int v = 0; v < builds.size(); v++) {
            System.out.printf("%s%n", labels.get(v));
            for (int k = 0; k < KERNELS.length; k++) {
                double[] sorted = ms[v][k].clone();
                Arrays.sort(sorted);
                double median = sorted[rounds / 2];
                double[] walls = wall[v][k].clone();
                Arrays.sort(walls);
                double[] helps = helper[v][k].clone();
                Arrays.sort(helps);
                System.out.printf("  %-11s %8.3f ms (%7.3f-%7.3f) %6.1f GFLOP/s  wall %8.3f ms  helpers %7.3f ms"
                        + "  %9d B/call  checksum %.10e%n", KERNELS[k], median, sorted[rounds / 4],
                        sorted[3 * rounds / 4], gflop / median * 1e3, walls[rounds / 2], helps[rounds / 2],
                        allocated[v][k] / rounds, sums[v][k]);
            }
        }
    }

    /**
     * The ids of every build's helper threads (MatmulThreads' "adjoint-simd-matmul-*", started by the
     * set-up's calls): a build's helper idles parked while another build runs, so their sum over a
     * call is that call's helpers' CPU time, give or take the 50 us an idle helper polls before it parks.
     */
    private static long[] helperThreads() {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.getName().startsWith("adjoint-simd-matmul-"))
                .mapToLong(Thread::threadId).toArray();
    }

    private static long cpuTime(long[] threads) {
        long sum = 0;
        for (long id : threads) {
            sum += Math.max(0, BEAN.getThreadCpuTime(id));
        }
        return sum;
    }
}
