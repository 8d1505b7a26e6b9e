import dev.adjoint.DType;
import dev.adjoint.Functional;
import dev.adjoint.Generator;
import dev.adjoint.MemoryScope;
import dev.adjoint.Tensor;
import dev.adjoint.TensorFactory;
import dev.adjoint.autograd.Autograd;
import dev.adjoint.backend.Backends;
import dev.adjoint.benchmarks.train.TrainFashionMnist;
import dev.adjoint.nn.Module;
import dev.adjoint.nn.NnContext;
import dev.adjoint.nn.loss.CrossEntropyLoss;
import dev.adjoint.nn.optim.Adam;
import dev.adjoint.nn.optim.Optimizer;
import dev.adjoint.spi.Backend;
import org.bytedeco.openblas.global.openblas_nolapack;
import org.nd4j.linalg.factory.Nd4j;

import java.lang.management.ManagementFactory;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Supplier;

/**
 * Paired A/B of the nd4j backend's fused batch norm (its loops over the native buffers) against the api's
 * composite on the same backend: B is nd4j seen through a proxy whose {@code fused()} is null, so the api
 * composes batch norm from nd4j's primitives, as it did before nd4j offered the kernels. The two take turns,
 * {@code CALLS} calls (default 10) each per round, so load from other processes falls on both alike; each
 * round is timed by the process's CPU time (libnd4j's pool runs on threads of its own) and by the wall
 * clock; the table gives the medians per call.
 *
 * <pre>
 * flock /tmp/adjoint-bench.lock java --enable-native-access=ALL-UNNAMED -cp benchmarks/target/benchmarks.jar \
 *     benchmarks/ab/Nd4jBatchNormAB.java rounds workload...
 * </pre>
 * Workloads: {@code forward:fmnist1} (batch norm alone, no graph), {@code backward:fmnist1} (forward, then
 * the gradients of x, weight and bias), shapes {@code fmnist1} [64,32,28,28], {@code fmnist2} [64,64,14,14],
 * {@code resnet} [32,64,56,56]; {@code cnn-step}: benchmarks/train's CNN (two BatchNorm2d), one Adam step at
 * batch 64, as ConvBenchmark's {@code cnnStep}. FLOAT32; {@code THREADS} in the environment sizes libnd4j's
 * pool and OpenBLAS (default 1).
 */
public class Nd4jBatchNormAB {
    private static final int THREADS = Integer.parseInt(System.getenv().getOrDefault("THREADS", "1"));
    private static final int WARM_UP_ROUNDS = Integer.parseInt(System.getenv().getOrDefault("WARM", "5"));
    /** Calls per timed sample: the process's CPU time advances in ticks of 10 ms. */
    private static final int CALLS = Integer.parseInt(System.getenv().getOrDefault("CALLS", "10"));
    private static final com.sun.management.OperatingSystemMXBean OS =
            (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();

    public static void main(String[] args) {
        int rounds = Integer.parseInt(args[0]);
        Nd4j.getEnvironment().setMaxThreads(THREADS);
        openblas_nolapack.blas_set_num_threads(THREADS);
        Backend fused = Backends.get("nd4j");
        Backend composed = withoutFusedKernels(fused);
        System.out.printf("rounds %d (+%d warm-up) of %d calls each, threads %d; medians per call, ms: CPU (wall)%n",
                rounds, WARM_UP_ROUNDS, CALLS, THREADS);
        System.out.printf("%-18s %22s %22s %8s%n", "workload", "fused (nd4j)", "composite", "CPU x");
        for (String workload : Arrays.copyOfRange(args, 1, args.length)) {
            Supplier<Object> a = workload(workload, fused);
            Supplier<Object> b = workload(workload, composed);
            List<long[]> ta = new ArrayList<>();
            List<long[]> tb = new ArrayList<>();
            for (int r = 0; r < WARM_UP_ROUNDS + rounds; r++) {
                long[] x = time(a);
                long[] y = time(b);
                if (r >= WARM_UP_ROUNDS) {
                    ta.add(x);
                    tb.add(y);
                }
            }
            double cpuA = median(ta, 0);
            double cpuB = median(tb, 0);
            System.out.printf("%-18s %10.2f (%8.2f) %10.2f (%8.2f) %8.2f%n", workload, cpuA, median(ta, 1), cpuB,
                    median(tb, 1), cpuB / cpuA);
        }
    }

    /** nd4j itself, except that it offers no fused kernels. */
    private static Backend withoutFusedKernels(Backend delegate) {
        return (Backend) Proxy.newProxyInstance(Backend.class.getClassLoader(), new Class<?>[] {Backend.class},
                (proxy, method, arguments) -> {
                    if (method.getName().equals("fused")) {
                        return null;
                    }
                    try {
                        return method.invoke(delegate, arguments);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
    }

    private static Supplier<Object> workload(String name, Backend backend) {
        if (name.equals("cnn-step")) {
            NnContext ctx = NnContext.of(backend, new Generator(0));
            Module model = TrainFashionMnist.cnn(ctx);
            Optimizer optimizer = new Adam(model.parameters(), 1e-3);
            CrossEntropyLoss loss = new CrossEntropyLoss();
            TensorFactory f = Tensor.on(backend);
            Tensor images = f.rand(new Generator(1), DType.FLOAT32, 64, 1, 28, 28);
            long[] y = new long[64];
            Generator gen = new Generator(2);
            for (int i = 0; i < y.length; i++) {
                y[i] = gen.nextLong(10);
            }
            Tensor labels = f.fromArray(y, 64);
            return () -> {
                try (MemoryScope scope = MemoryScope.open()) {
                    optimizer.zeroGrad();
                    Tensor l = loss.forward(model.forward(images), labels);
                    l.backward();
                    optimizer.step();
                    return l.item();
                }
            };
        }
        String[] parts = name.split(":");
        int[] dims = switch (parts[1]) {
            case "fmnist1" -> new int[] {64, 32, 28, 28};
            case "fmnist2" -> new int[] {64, 64, 14, 14};
            case "resnet" -> new int[] {32, 64, 56, 56};
            default -> throw new IllegalArgumentException("unknown shape " + parts[1]);
        };
        TensorFactory f = Tensor.on(backend);
        Generator gen = new Generator(1);
        Tensor x = f.randn(gen, DType.FLOAT32, dims).requiresGrad(true);
        Tensor w = f.randn(gen, DType.FLOAT32, dims[1]).mul(0.1).add(1.0).detach().requiresGrad(true);
        Tensor b = f.randn(gen, DType.FLOAT32, dims[1]).mul(0.1).detach().requiresGrad(true);
        Tensor g = f.randn(gen, DType.FLOAT32, dims);
        Tensor runningMean = f.zeros(DType.FLOAT32, dims[1]);
        Tensor runningVar = f.ones(DType.FLOAT32, dims[1]);
        boolean backward = parts[0].equals("backward");
        return () -> {
            try (MemoryScope scope = MemoryScope.open()) {
                if (!backward) {
                    try (var noGrad = Tensor.noGrad()) {
                        return Functional.batchNorm(x, runningMean, runningVar, w, b, true, 0.1, 1e-5).sum().item();
                    }
                }
                Tensor out = Functional.batchNorm(x, runningMean, runningVar, w, b, true, 0.1, 1e-5);
                List<Tensor> grads = Autograd.grad(List.of(out), List.of(x, w, b), List.of(g), false, false, false);
                return grads.get(1).sum().item();
            }
        };
    }

    private static long[] time(Supplier<Object> call) {
        long cpu = OS.getProcessCpuTime();
        long wall = System.nanoTime();
        for (int i = 0; i < CALLS; i++) {
            call.get();
        }
        return new long[] {(OS.getProcessCpuTime() - cpu) / CALLS, (System.nanoTime() - wall) / CALLS};
    }

    private static double median(List<long[]> times, int which) {
        long[] v = times.stream().mapToLong(t -> t[which]).sorted().toArray();
        return v[v.length / 2] / 1e6;
    }
}
