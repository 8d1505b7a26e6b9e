package dev.adjoint.benchmarks;

import dev.adjoint.MemoryScope;
import dev.adjoint.DType;
import dev.adjoint.Functional;
import dev.adjoint.Generator;
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
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.List;
import java.util.function.Supplier;
import java.util.concurrent.TimeUnit;

/**
 * The story: what a convolution costs, forward and backward, at the shapes real networks use, and
 * one training step of benchmarks/train's CNN, on one thread and on two.
 * {@code benchmarks/peers/torch_conv.py} times the same shapes and step in PyTorch 1.13 (which runs
 * FLOAT32 convolutions on oneDNN), and {@code benchmarks/conv-sweep} runs both and prints the ratios.
 *
 * <p>{@code conv}: {@code out = conv2d(x, w, b)}, then the gradients of {@code sum(out * g)} with
 * respect to {@code x}, {@code w} and {@code b} for a fixed {@code g} (one {@code Autograd.grad}, as
 * {@code torch.autograd.grad}). Shapes ({@code shape} parameter):
 * <ul>
 *   <li>{@code resnet3x3}: {@code [32, 64, 56, 56]} x {@code [64, 64, 3, 3]}, padding 1 (a ResNet stage-1 layer);</li>
 *   <li>{@code stem7x7}: {@code [32, 3, 224, 224]} x {@code [64, 3, 7, 7]}, stride 2, padding 3 (the ResNet stem);</li>
 *   <li>{@code depthwise3x3}: {@code [32, 128, 28, 28]} x {@code [128, 1, 3, 3]}, padding 1, groups 128 (MobileNet);</li>
 *   <li>{@code depthwise3x3s2}: {@code [32, 128, 56, 56]} x {@code [128, 1, 3, 3]}, stride 2, padding 1, groups 128
 *       (MobileNet's downsampling depthwise layer);</li>
 *   <li>{@code fmnist1}, {@code fmnist2}: the Fashion-MNIST CNN's layers at batch 64,
 *       {@code [64, 1, 28, 28]} x {@code [32, 1, 3, 3]} and {@code [64, 32, 14, 14]} x {@code [64, 32, 3, 3]}, padding 1.</li>
 * </ul>
 * {@code cnnStep}: {@code zeroGrad}, forward through {@link TrainFashionMnist#cnn}, cross-entropy,
 * backward and an Adam step, batch 64.
 *
 * <p>Pitfalls avoided:
 * <ul>
 *   <li>Thread count: {@code adjoint.simd.threads} is read once per JVM, so each method sets it in
 *       its own forks' command line ({@code oneThread}/{@code twoThreads} suffixes), as GemmBenchmark does;
 *       on nd4j the set-up pins OpenBLAS and libnd4j's pool to that count ({@link Nd4jBlasThreads}).</li>
 *   <li>Dead-code elimination: one element of each gradient (read before the call's MemoryScope closes) and the loss are returned.</li>
 *   <li>Warm-up: the largest shapes take a few hundred milliseconds per call, so warm-up iterations
 *       are 3 s long, enough for C2 to compile the kernels before measuring.</li>
 *   <li>Reproducibility: every tensor comes from a seeded generator.</li>
 *   <li>A shared machine: besides the wall time per call, the benchmark thread's CPU time per call
 *       ({@link CpuTime}), the fairer one-thread figure when other jobs hold the cores.</li>
 * </ul>
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 3)
@Measurement(iterations = 5, time = 2)
public class ConvBenchmark {
    private static final String VECTOR = "--add-modules=jdk.incubator.vector";
    private static final String NATIVE = "--enable-native-access=ALL-UNNAMED";
    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

    /**
     * The benchmark thread's CPU time and calls in an iteration (JMH prints both as iteration totals;
     * {@code benchmarks/peers/conv_table.py} divides them). On one thread all the work runs on the
     * benchmark thread, so this is the call's CPU time, which a machine shared with other jobs
     * inflates far less than the wall time: the one-thread figure to compare with PyTorch's CPU time.
     */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.EVENTS)
    public static class CpuTime {
        public long cpuNanos;
        public long calls;

        @Setup(Level.Iteration)
        public void reset() {
            cpuNanos = 0;
            calls = 0;
        }

        <T> T measure(Supplier<T> call) {
            long start = THREADS.getCurrentThreadCpuTime();
            T result = call.get();
            cpuNanos += THREADS.getCurrentThreadCpuTime() - start;
            calls++;
            return result;
        }
    }

    /** One convolution's operands. */
    @State(Scope.Thread)
    public static class Conv {
        @Param({"simd"})
        public String backend;

        @Param({"FLOAT32"})
        public DType dtype;

        @Param({"resnet3x3", "stem7x7", "depthwise3x3", "depthwise3x3s2", "fmnist1", "fmnist2"})
        public String shape;

        Tensor x;
        Tensor w;
        Tensor b;
        Tensor g;
        int[] stride;
        int[] padding;
        int groups;

        @Setup
        public void setUp() {
            TensorFactory f = Tensor.on(Backends.get(backend));
            Generator gen = new Generator(1);
            int[][] dims = switch (shape) {
                // input, weight, stride, padding, groups
                case "resnet3x3" -> new int[][] {{32, 64, 56, 56}, {64, 64, 3, 3}, {1}, {1}, {1}};
                case "stem7x7" -> new int[][] {{32, 3, 224, 224}, {64, 3, 7, 7}, {2}, {3}, {1}};
                case "depthwise3x3" -> new int[][] {{32, 128, 28, 28}, {128, 1, 3, 3}, {1}, {1}, {128}};
                case "depthwise3x3s2" -> new int[][] {{32, 128, 56, 56}, {128, 1, 3, 3}, {2}, {1}, {128}};
                case "fmnist1" -> new int[][] {{64, 1, 28, 28}, {32, 1, 3, 3}, {1}, {1}, {1}};
                case "fmnist2" -> new int[][] {{64, 32, 14, 14}, {64, 32, 3, 3}, {1}, {1}, {1}};
                default -> throw new IllegalArgumentException("unknown shape " + shape);
            };
            stride = dims[2];
            padding = dims[3];
            groups = dims[4][0];
            x = f.randn(gen, dtype, dims[0]).requiresGrad(true);
            int fanIn = dims[1][1] * dims[1][2] * dims[1][3];
            w = f.randn(gen, dtype, dims[1]).mul(1.0 / Math.sqrt(fanIn)).detach().requiresGrad(true);
            b = f.randn(gen, dtype, dims[1][0]).mul(0.1).detach().requiresGrad(true);
            Tensor out;
            try (var scope = Tensor.noGrad()) {
                out = Functional.conv2d(x, w, b, stride, padding, new int[] {1}, groups);
            }
            g = f.randn(gen, dtype, out.shape().toArray());
            Nd4jBlasThreads.pinIfNd4j(Backends.get(backend));
        }

        /*
         * Every call runs in a MemoryScope, as a training step does (benchmarks/train, and cnnStep below):
         * its output and gradients reuse the previous call's arrays, as PyTorch's allocator reuses freed
         * blocks, instead of fresh arrays that the JVM zero-fills on the calling thread (12.8 MB each for
         * depthwise3x3, a millisecond of a 5 ms call). Each returns the sum of one element of every tensor
         * it made, read before the scope releases them.
         */

        double forwardBackward() {
            try (MemoryScope scope = MemoryScope.open()) {
                Tensor out = Functional.conv2d(x, w, b, stride, padding, new int[] {1}, groups);
                return firstElements(Autograd.grad(List.of(out), List.of(x, w, b), List.of(g), false, false, false));
            }
        }

        /** The forward alone, no graph recorded. */
        double forward() {
            try (MemoryScope scope = MemoryScope.open(); var noGrad = Tensor.noGrad()) {
                return firstElements(List.of(Functional.conv2d(x, w, b, stride, padding, new int[] {1}, groups)));
            }
        }

        /** The forward and the gradient of one operand ({@code x} or {@code w}): the other's is not computed. */
        double forwardAndGradOf(Tensor operand) {
            try (MemoryScope scope = MemoryScope.open()) {
                Tensor out = Functional.conv2d(x, w, b, stride, padding, new int[] {1}, groups);
                return firstElements(Autograd.grad(List.of(out), List.of(operand), List.of(g), false, false, false));
            }
        }

        private static double firstElements(List<Tensor> tensors) {
            double sum = 0;
            for (Tensor t : tensors) {
                sum += t.reshape(t.numel()).narrow(0, 0, 1).item();
            }
            return sum;
        }
    }

    /** benchmarks/train's CNN, its optimizer and a batch. */
    @State(Scope.Thread)
    public static class Step {
        @Param({"simd"})
        public String backend;

        Module model;
        Optimizer optimizer;
        CrossEntropyLoss loss;
        Tensor images;
        Tensor labels;

        @Setup
        public void setUp() {
            NnContext ctx = NnContext.of(Backends.get(backend), new Generator(0));
            model = TrainFashionMnist.cnn(ctx);
            optimizer = new Adam(model.parameters(), 1e-3);
            loss = new CrossEntropyLoss();
            TensorFactory f = Tensor.on(ctx.backend());
            images = f.rand(new Generator(1), DType.FLOAT32, 64, 1, 28, 28);
            long[] y = new long[64];
            Generator gen = new Generator(2);
            for (int i = 0; i < y.length; i++) {
                y[i] = gen.nextLong(10);
            }
            labels = f.fromArray(y, 64);
            Nd4jBlasThreads.pinIfNd4j(ctx.backend());
        }

        /**
         * One step in a MemoryScope, as benchmarks/train runs it (its tensors' memory is reused by the next);
         * the report's {@code cnn-step} workload times this too.
         */
        public double step() {
            try (MemoryScope scope = MemoryScope.open()) {
                optimizer.zeroGrad();
                Tensor l = loss.forward(model.forward(images), labels);
                l.backward();
                optimizer.step();
                return l.item();
            }
        }
    }

    @Benchmark
    @Fork(value = 1, jvmArgsAppend = {VECTOR, NATIVE, "-Dadjoint.simd.threads=1", "-Dadjoint.bench.threads=1"})
    public double convOneThread(Conv c, CpuTime cpu) {
        return cpu.measure(c::forwardBackward);
    }

    @Benchmark
    @Fork(value = 1, jvmArgsAppend = {VECTOR, NATIVE, "-Dadjoint.simd.threads=2", "-Dadjoint.bench.threads=2"})
    public double convTwoThreads(Conv c, CpuTime cpu) {
        return cpu.measure(c::forwardBackward);
    }

    /*
     * The passes one at a time, to see where a shape's time goes: the forward alone, the forward and
     * the input gradient, the forward and the weight gradient (torch_conv.py --passes times the same);
     * a gradient's own cost is its figure less the forward's. Not in conv-sweep's default selection.
     */

    @Benchmark
    @Fork(value = 1, jvmArgsAppend = {VECTOR, NATIVE, "-Dadjoint.simd.threads=1", "-Dadjoint.bench.threads=1"})
    public double passForwardOneThread(Conv c, CpuTime cpu) {
        return cpu.measure(c::forward);
    }

    @Benchmark
    @Fork(value = 1, jvmArgsAppend = {VECTOR, NATIVE, "-Dadjoint.simd.threads=1", "-Dadjoint.bench.threads=1"})
    public double passInputGradOneThread(Conv c, CpuTime cpu) {
        return cpu.measure(() -> c.forwardAndGradOf(c.x));
    }

    @Benchmark
    @Fork(value = 1, jvmArgsAppend = {VECTOR, NATIVE, "-Dadjoint.simd.threads=1", "-Dadjoint.bench.threads=1"})
    public double passWeightGradOneThread(Conv c, CpuTime cpu) {
        return cpu.measure(() -> c.forwardAndGradOf(c.w));
    }

    @Benchmark
    @Fork(value = 1, jvmArgsAppend = {VECTOR, NATIVE, "-Dadjoint.simd.threads=2", "-Dadjoint.bench.threads=2"})
    public double passForwardTwoThreads(Conv c, CpuTime cpu) {
        return cpu.measure(c::forward);
    }

    @Benchmark
    @Fork(value = 1, jvmArgsAppend = {VECTOR, NATIVE, "-Dadjoint.simd.threads=2", "-Dadjoint.bench.threads=2"})
    public double passInputGradTwoThreads(Conv c, CpuTime cpu) {
        return cpu.measure(() -> c.forwardAndGradOf(c.x));
    }

    @Benchmark
    @Fork(value = 1, jvmArgsAppend = {VECTOR, NATIVE, "-Dadjoint.simd.threads=2", "-Dadjoint.bench.threads=2"})
    public double passWeightGradTwoThreads(Conv c, CpuTime cpu) {
        return cpu.measure(() -> c.forwardAndGradOf(c.w));
    }

    @Benchmark
    @Fork(value = 1, jvmArgsAppend = {VECTOR, NATIVE, "-Dadjoint.simd.threads=1", "-Dadjoint.bench.threads=1"})
    public double cnnStepOneThread(Step s, CpuTime cpu) {
        return cpu.measure(s::step);
    }

    @Benchmark
    @Fork(value = 1, jvmArgsAppend = {VECTOR, NATIVE, "-Dadjoint.simd.threads=2", "-Dadjoint.bench.threads=2"})
    public double cnnStepTwoThreads(Step s, CpuTime cpu) {
        return cpu.measure(s::step);
    }
}
