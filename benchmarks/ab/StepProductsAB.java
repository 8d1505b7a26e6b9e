import dev.adjoint.DType;
import dev.adjoint.Shape;
import dev.adjoint.benchmarks.SimdBuilds;
import dev.adjoint.benchmarks.StepProducts;
import dev.adjoint.benchmarks.StepProducts.Spec;
import dev.adjoint.spi.Backend;
import dev.adjoint.spi.Layout;
import dev.adjoint.spi.Storage;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Paired A/B of engine-simd builds on the matrix products of one training step, run one after another
 * as the step runs them, so each product finds its operands where the products before it left them:
 * <ul>
 *   <li>{@code STEP=block} (the default): the transformer block's eighteen products, as
 *       {@code MatmulShapesBenchmark -p shape=block.step} runs them (compare a product's figure here with
 *       {@code -p shape=block.X}, where it runs on warm operands);</li>
 *   <li>{@code STEP=mlp}: the five of TrainingStepBenchmark's step (the MLP 784-256-10 on a batch of
 *       64): both layers' {@code x @ w.T + b} through the backend's {@code linear}, as nn.Linear runs
 *       them, then the second layer's weight and input gradients and the first layer's weight gradient.</li>
 * </ul>
 * Every product is timed on its own, and so is the sum, so the table
 * shows what a change does to each product and to the step's share of matrix products. Builds are
 * loaded as in {@code GemmAB} (each directory, a copy of {@code engine-simd/target/classes}, in its
 * own class loader, with optional system properties set while its classes initialise) and take turns,
 * one step each per round, so load from other processes falls on all of them alike.
 *
 * <pre>
 * flock /tmp/adjoint-bench.lock java --add-modules jdk.incubator.vector -cp benchmarks/target/benchmarks.jar \
 *     benchmarks/ab/StepProductsAB.java rounds dirA[@prop=value,...] dirB ...
 * </pre>
 * One thread, timed by its CPU time (time the process is descheduled does not count), or
 * {@code THREADS=2} in the environment for two, timed by the wall clock (the calling thread's CPU time
 * would miss the time it waits for the helper); {@code DT=f64} for FLOAT64; {@code ONLY=name,name} runs
 * only those products, so their operands stay in cache: the difference from the full step is what cold
 * operands cost; {@code GAP_US=n} busy-waits n us after each product, as a step's other work does, so a
 * two-thread run shows what a product pays for a helper that has gone to sleep meanwhile; {@code WARM=1}
 * also times each product a second time right after a first, untimed, run of it in each round, on
 * operands it has just read, and prints that beside the in-step figure: the difference is what the
 * step's order (cold operands, other products' lines in the caches) costs that product. {@code SHARED=1}
 * gives products that read or write the same tensor of the step one storage ({@link Spec#aTensor}: the
 * attention's q, k and v are the qkv projection's output, and so on), so that they find their operands
 * where the step leaves them, rather than each reading operands of its own that no product has touched
 * since the last round (from beyond L3 once the step's working set exceeds it). Builds that
 * are the same classes twice show how far apart two identical builds land: read differences smaller
 * than that as noise.
 */
public class StepProductsAB {
    private static final DType DTYPE = "f64".equals(System.getenv("DT")) ? DType.FLOAT64 : DType.FLOAT32;
    private static final ThreadMXBean BEAN = ManagementFactory.getThreadMXBean();
    private static final String THREADS = System.getenv().getOrDefault("THREADS", "1");
    private static final boolean WALL_CLOCK = !THREADS.equals("1");
    /** GAP_US: microseconds of other work after each product, during which the helper threads idle. */
    private static final long GAP_NANOS = Long.parseLong(System.getenv().getOrDefault("GAP_US", "0")) * 1000;
    /** WARM=1: each product also timed alone, right after an untimed run of it, in every round. */
    private static final boolean WARM = "1".equals(System.getenv("WARM"));
    /** SHARED=1: one storage per tensor of the step that products share (see the header). */
    private static final boolean SHARED = "1".equals(System.getenv("SHARED"));
    /** Warm-up, in seconds of steps: long enough for C2 to have compiled every kernel the step meets. */
    private static final double WARM_UP_SECONDS = 3;

    private static final List<Spec> PRODUCTS = only("mlp".equals(System.getenv("STEP")) ? StepProducts.MLP
            : StepProducts.BLOCK);

    /** The products named in ONLY (comma-separated), or all of the step's. */
    private static List<Spec> only(List<Spec> step) {
        String only = System.getenv("ONLY");
        if (only == null) {
            return step;
        }
        List<String> names = List.of(only.split(","));
        List<Spec> chosen = step.stream().filter(s -> names.contains(s.name())).toList();
        if (chosen.isEmpty()) {
            throw new IllegalArgumentException("ONLY=" + only + " names none of "
                    + step.stream().map(Spec::name).toList());
        }
        return chosen;
    }

    /** One product's operand views, optional bias and preallocated output on one build's backend. */
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
            System.err.println("usage: [STEP=block|mlp] [THREADS=n] [DT=f64] [ONLY=name,...] "
                    + "StepProductsAB rounds dir[@prop=value,...]...");
            System.exit(2);
        }
        int rounds = Integer.parseInt(args[0]);
        System.setProperty("adjoint.simd.threads", THREADS);
        List<String> labels = new ArrayList<>();
        List<Backend> backends = new ArrayList<>();
        List<Product[]> steps = new ArrayList<>();
        for (int v = 1; v < args.length; v++) {
            steps.add(SimdBuilds.load(args[v], (backend, loader) -> {
                Product[] step = new Product[PRODUCTS.size()];
                java.util.Map<String, Storage> tensors = new java.util.HashMap<>();
                for (int i = 0; i < step.length; i++) {
                    step[i] = product(backend, PRODUCTS.get(i), i, tensors);
                }
                // The first step initialises the build's GEMM classes (their blocking) while its properties are set.
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
        double[][][] warm = new double[backends.size()][products + 1][rounds];
        long warmUpEnd = System.nanoTime() + (long) (WARM_UP_SECONDS * 1e9);
        while (System.nanoTime() < warmUpEnd) {
            for (int v = 0; v < backends.size(); v++) {
                for (Product p : steps.get(v)) {
                    p.run(backends.get(v));
                }
            }
        }
        for (int round = 0; round < rounds; round++) {
            for (int v = 0; v < backends.size(); v++) {
                Backend backend = backends.get(v);
                Product[] step = steps.get(v);
                long stepStart = now();
                for (int i = 0; i < products; i++) {
                    long start = now();
                    step[i].run(backend);
                    us[v][i][round] = (now() - start) / 1e3;
                    idle(GAP_NANOS);
                }
                us[v][products][round] = (now() - stepStart) / 1e3;
                for (int i = 0; WARM && i < products; i++) {
                    step[i].run(backend);
                    long start = now();
                    step[i].run(backend);
                    warm[v][i][round] = (now() - start) / 1e3;
                    warm[v][products][round] += warm[v][i][round];
                }
            }
        }
        System.out.printf("%s, %s thread(s), median of %d rounds: us of %s per product, GFLOP/s%s%n", DTYPE,
                THREADS, rounds, WALL_CLOCK ? "wall time" : "CPU time", SHARED ? ", tensors shared as in the step" : "");
        System.out.printf("%-16s", "product");
        for (String label : labels) {
            System.out.printf(" %24s", label.length() > 24 ? label.substring(label.length() - 24) : label);
            if (WARM) {
                System.out.printf(" %24s", "(warm, alone)");
            }
        }
        System.out.println();
        double stepGflop = Arrays.stream(steps.get(0)).mapToDouble(Product::gflop).sum();
        for (int i = 0; i <= products; i++) {
            double gflop = i < products ? steps.get(0)[i].gflop : stepGflop;
            System.out.printf("%-16s", i < products ? PRODUCTS.get(i).name() : "products");
            for (int v = 0; v < backends.size(); v++) {
                double[] sorted = us[v][i].clone();
                Arrays.sort(sorted);
                double median = sorted[rounds / 2];
                System.out.printf("   %9.1f us %7.1f", median, gflop / median * 1e6);
                if (WARM) {
                    double[] w = warm[v][i].clone();
                    Arrays.sort(w);
                    System.out.printf("   %9.1f us %7.1f", w[rounds / 2], gflop / w[rounds / 2] * 1e6);
                }
            }
            System.out.println();
        }
    }

    /** Busy-waits (a step's other work, which leaves the helper idle) for {@code nanos}. */
    private static void idle(long nanos) {
        long end = System.nanoTime() + nanos;
        while (nanos > 0 && System.nanoTime() < end) {
            Thread.onSpinWait();
        }
    }

    private static long now() {
        return WALL_CLOCK ? System.nanoTime() : BEAN.getCurrentThreadCpuTime();
    }

    /**
     * Product {@code p}'s views on its own storages, or, {@link #SHARED}, on the storage in
     * {@code tensors} of each tensor it names (created at the largest size any product of the step
     * views it with, filled as an operand, so that a product reading a tensor before the product that
     * writes it finds finite values).
     */
    private static Product product(Backend backend, Spec p, int seed, java.util.Map<String, Storage> tensors) {
        int outSize = p.matrices() * p.m() * p.n();
        Storage a = SHARED ? tensor(backend, p.aTensor(), tensors) : backend.fromDoubles(SimdBuilds.uniform(p.aSize(), seed), DTYPE);
        Storage b = SHARED ? tensor(backend, p.bTensor(), tensors)
                : backend.fromDoubles(SimdBuilds.uniform(p.bSize(), seed + 100L), DTYPE);
        Storage out = SHARED ? tensor(backend, p.outTensor(), tensors) : backend.allocate(DTYPE, outSize);
        return new Product(a, new Layout(Shape.of(p.aDims()), p.aStrides(), p.aOffset()),
                b, new Layout(Shape.of(p.bDims()), p.bStrides(), p.bOffset()),
                p.bias() ? backend.fromDoubles(SimdBuilds.uniform(p.n(), seed + 200L), DTYPE) : null,
                p.bias() ? Layout.contiguous(Shape.of(p.n())) : null,
                out, Layout.contiguous(Shape.of(p.outDims())), p.gflop());
    }

    /** The storage of the step's tensor {@code name}, created on first use at the largest size the step views it with. */
    private static Storage tensor(Backend backend, String name, java.util.Map<String, Storage> tensors) {
        return tensors.computeIfAbsent(name, n -> {
            int size = 0;
            for (Spec s : PRODUCTS) {
                size = Math.max(size, Math.max(n.equals(s.aTensor()) ? s.aSize() : 0, n.equals(s.bTensor()) ? s.bSize() : 0));
                size = Math.max(size, n.equals(s.outTensor()) ? s.matrices() * s.m() * s.n() : 0);
            }
            return backend.fromDoubles(SimdBuilds.uniform(size, n.hashCode()), DTYPE);
        });
    }
}
