import dev.adjoint.DType;
import dev.adjoint.Shape;
import dev.adjoint.benchmarks.SimdBuilds;
import dev.adjoint.spi.Backend;
import dev.adjoint.spi.Layout;
import dev.adjoint.spi.Storage;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Paired A/B of engine-simd builds on the five matrix products of TrainingStepBenchmark's step (the
 * MLP 784-256-10 on a batch of 64, FLOAT32) run one after another in the step's order: both layers'
 * {@code x @ w.T + b} (through the backend's {@code linear}, as nn.Linear runs them), then the second
 * layer's weight and input gradients and the first layer's weight gradient. Each product is timed on
 * its own by the calling thread's CPU time, and so is the sum, so the table says what a change does
 * to each product and to the step's share of matrix products. Builds are loaded and alternated as in
 * {@code BlockAB}.
 *
 * <pre>
 * flock /tmp/adjoint-bench.lock java --add-modules jdk.incubator.vector -cp benchmarks/target/benchmarks.jar \
 *     benchmarks/ab/MlpAB.java rounds dirA[@prop=value,...] dirB ...
 * </pre>
 * One thread; builds that are the same classes twice show how far apart two identical builds land.
 * {@code ONLY=fc1.forward} (names, comma-separated) in the environment runs only those products, so
 * their operands stay in cache: the difference from the full step is what cold operands cost.
 */
public class MlpAB {
    private static final DType DTYPE = DType.FLOAT32;
    private static final ThreadMXBean BEAN = ManagementFactory.getThreadMXBean();
    private static final int WARM_UP_ROUNDS = 3000;
    private static final int BATCH = 64, IN = 784, HIDDEN = 256, CLASSES = 10;

    /** {@code a [m, k] @ b [k, n]} with the given strides, plus a bias over n when {@code bias}. */
    private record Spec(String name, int m, int n, int k, int[] aStrides, int[] bStrides, boolean bias) {
    }

    private static final List<Spec> ALL = List.of(
            new Spec("fc1.forward", BATCH, HIDDEN, IN, new int[] {IN, 1}, new int[] {1, IN}, true),
            new Spec("fc2.forward", BATCH, CLASSES, HIDDEN, new int[] {HIDDEN, 1}, new int[] {1, HIDDEN}, true),
            new Spec("fc2.weightGrad", CLASSES, HIDDEN, BATCH, new int[] {1, CLASSES}, new int[] {HIDDEN, 1}, false),
            new Spec("fc2.inputGrad", BATCH, HIDDEN, CLASSES, new int[] {CLASSES, 1}, new int[] {HIDDEN, 1}, false),
            new Spec("fc1.weightGrad", HIDDEN, IN, BATCH, new int[] {1, HIDDEN}, new int[] {IN, 1}, false));
    /** ONLY=name,name in the environment runs those products alone (warm operands), else the step's five. */
    private static final List<Spec> PRODUCTS = System.getenv("ONLY") == null ? ALL
            : ALL.stream().filter(s -> List.of(System.getenv("ONLY").split(",")).contains(s.name)).toList();

    /** One product's operands and preallocated output on one build's backend. */
    private record Product(Storage a, Layout aLayout, Storage b, Layout bLayout, Storage bias, Layout biasLayout,
                           Storage out, Layout outLayout, double gflop) {
        void run(Backend backend) {
            if (bias != null) {
                backend.linear(a, aLayout, b, bLayout, bias, biasLayout, out, outLayout);
            } else {
                backend.matmul(a, aLayout, b, bLayout, out, outLayout);
            }
        }
    }

    public static void main(String[] args) throws Throwable {
        if (args.length < 2) {
            System.err.println("usage: MlpAB rounds dir[@prop=value,...]...");
            System.exit(2);
        }
        int rounds = Integer.parseInt(args[0]);
        System.setProperty("adjoint.simd.threads", "1");
        List<String> labels = new ArrayList<>();
        List<Backend> backends = new ArrayList<>();
        List<Product[]> steps = new ArrayList<>();
        for (int v = 1; v < args.length; v++) {
            steps.add(SimdBuilds.load(args[v], (backend, loader) -> {
                Product[] step = new Product[PRODUCTS.size()];
                for (int i = 0; i < step.length; i++) {
                    step[i] = product(backend, PRODUCTS.get(i), i);
                }
                for (Product p : step) {
                    p.run(backend);
                }
                backends.add(backend);
                return step;
            }));
            labels.add(args[v]);
        }
        int products = PRODUCTS.size();
        double[][][] us = new double[backends.size()][products + 1][rounds];
        for (int round = -WARM_UP_ROUNDS; round < rounds; round++) {
            for (int v = 0; v < backends.size(); v++) {
                Backend backend = backends.get(v);
                Product[] step = steps.get(v);
                long stepStart = BEAN.getCurrentThreadCpuTime();
                for (int i = 0; i < products; i++) {
                    long start = BEAN.getCurrentThreadCpuTime();
                    step[i].run(backend);
                    long end = BEAN.getCurrentThreadCpuTime();
                    if (round >= 0) {
                        us[v][i][round] = (end - start) / 1e3;
                    }
                }
                if (round >= 0) {
                    us[v][products][round] = (BEAN.getCurrentThreadCpuTime() - stepStart) / 1e3;
                }
            }
        }
        System.out.printf("%s, one thread, median of %d rounds: us of CPU time per product, GFLOP/s%n", DTYPE, rounds);
        System.out.printf("%-16s", "product");
        for (String label : labels) {
            System.out.printf(" %24s", label.length() > 24 ? label.substring(label.length() - 24) : label);
        }
        System.out.println();
        double stepGflop = Arrays.stream(steps.get(0)).mapToDouble(Product::gflop).sum();
        for (int i = 0; i <= products; i++) {
            double gflop = i < products ? steps.get(0)[i].gflop : stepGflop;
            System.out.printf("%-16s", i < products ? PRODUCTS.get(i).name : "products");
            for (int v = 0; v < backends.size(); v++) {
                double[] sorted = us[v][i].clone();
                Arrays.sort(sorted);
                double median = sorted[rounds / 2];
                System.out.printf("   %8.1f us %7.1f", median, gflop / median * 1e6);
            }
            System.out.println();
        }
    }

    private static Product product(Backend backend, Spec p, int seed) {
        Layout aLayout = new Layout(Shape.of(p.m, p.k), p.aStrides, 0);
        Layout bLayout = new Layout(Shape.of(p.k, p.n), p.bStrides, 0);
        Layout outLayout = Layout.contiguous(Shape.of(p.m, p.n));
        return new Product(backend.fromDoubles(SimdBuilds.uniform(p.m * p.k, seed), DTYPE), aLayout,
                backend.fromDoubles(SimdBuilds.uniform(p.k * p.n, seed + 100L), DTYPE), bLayout,
                p.bias ? backend.fromDoubles(SimdBuilds.uniform(p.n, seed + 200L), DTYPE) : null,
                p.bias ? Layout.contiguous(Shape.of(p.n)) : null,
                backend.allocate(DTYPE, p.m * p.n), outLayout, 2.0 * p.m * p.n * p.k / 1e9);
    }
}
