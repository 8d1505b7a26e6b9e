package dev.adjoint.benchmarks;

import dev.adjoint.DType;
import dev.adjoint.Functional;
import dev.adjoint.Generator;
import dev.adjoint.Tensor;
import dev.adjoint.TensorFactory;
import dev.adjoint.autograd.Autograd;
import dev.adjoint.backend.Backends;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.DynamicCustomOp;
import org.nd4j.linalg.factory.Nd4j;
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
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * The story: Adjoint's convolution on the nd4j backend against libnd4j's own {@code conv2d} /
 * {@code conv2d_bp} ops. The backend runs libnd4j's {@code conv2d} for the forward (one group, padding
 * alike on both sides) and composes the gradients (the api's unfold, run by libnd4j's {@code im2col},
 * matmuls on ND4J's OpenBLAS, and {@code col2im}), as {@code conv2d_bp} measured no faster. Both sides
 * get the same FLOAT32 values; the set-up checks that the native ops compute the same convolution (and
 * gradients) as Adjoint before anything is timed.
 *
 * <ul>
 *   <li>{@link #adjointForward} / {@link #nativeForward}: {@code conv2d(x, w, b)}, no graph.</li>
 *   <li>{@link #adjointForwardBackward} / {@link #nativeForwardBackward}: the forward, then the
 *       gradients for x, w and b of {@code sum(out * g)}, as ConvBenchmark's {@code conv}.</li>
 * </ul>
 * Shapes: ConvBenchmark's {@code fmnist1}, {@code fmnist2} (benchmarks/train's CNN at batch 64) and
 * {@code resnet3x3} ({@code [32, 64, 56, 56]} x {@code [64, 64, 3, 3]}, padding 1).
 *
 * <p>Run: {@code benchmarks/run --jmh Nd4jConvBenchmark -f 1 -wi 2 -w 2s -i 3 -r 2s}.
 *
 * <p>Pitfalls avoided: both sides run on one thread per fork's setting (OpenBLAS and libnd4j's pool
 * pinned through {@link Nd4jBlasThreads}); results are returned; libnd4j's pool threads are not the
 * benchmark thread, so the CPU time per call counts the whole process ({@link ProcessCpuTime}), the
 * figure to compare on a machine shared with other jobs.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class Nd4jConvBenchmark {
    private static final String NATIVE_ACCESS = "--enable-native-access=ALL-UNNAMED";
    private static final com.sun.management.OperatingSystemMXBean OS =
            (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();

    /** The process's CPU time and calls in an iteration; CPU time per call is their quotient. */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.EVENTS)
    public static class ProcessCpuTime {
        public long cpuNanos;
        public long calls;

        @Setup(Level.Iteration)
        public void reset() {
            cpuNanos = 0;
            calls = 0;
        }

        <T> T measure(Supplier<T> call) {
            long start = OS.getProcessCpuTime();
            T result = call.get();
            cpuNanos += OS.getProcessCpuTime() - start;
            calls++;
            return result;
        }
    }

    /** The operands, as Adjoint tensors on nd4j and as plain INDArrays holding the same values. */
    @State(Scope.Thread)
    public static class Operands {
        @Param({"fmnist1", "fmnist2", "resnet3x3"})
        public String shape;

        Tensor x;
        Tensor w;
        Tensor b;
        Tensor g;
        int padding;
        INDArray rx;
        INDArray rw;
        INDArray rb;
        INDArray rg;
        INDArray rOut;
        INDArray rGradX;
        INDArray rGradW;
        INDArray rGradB;

        @Setup
        public void setUp() {
            int[][] dims = switch (shape) {
                case "fmnist1" -> new int[][] {{64, 1, 28, 28}, {32, 1, 3, 3}};
                case "fmnist2" -> new int[][] {{64, 32, 14, 14}, {64, 32, 3, 3}};
                case "resnet3x3" -> new int[][] {{32, 64, 56, 56}, {64, 64, 3, 3}};
                default -> throw new IllegalArgumentException("unknown shape " + shape);
            };
            padding = 1;
            TensorFactory f = Tensor.on(Backends.get("nd4j"));
            Generator gen = new Generator(1);
            x = f.randn(gen, DType.FLOAT32, dims[0]).requiresGrad(true);
            int fanIn = dims[1][1] * dims[1][2] * dims[1][3];
            w = f.randn(gen, DType.FLOAT32, dims[1]).mul(1.0 / Math.sqrt(fanIn)).detach().requiresGrad(true);
            b = f.randn(gen, DType.FLOAT32, dims[1][0]).mul(0.1).detach().requiresGrad(true);
            long[] outShape = {dims[0][0], dims[1][0], dims[0][2], dims[0][3]};
            g = f.randn(gen, DType.FLOAT32, toInts(outShape));
            rx = Nd4j.create(x.toFloatArray(), toLongs(dims[0]), DataType.FLOAT);
            rw = Nd4j.create(w.toFloatArray(), toLongs(dims[1]), DataType.FLOAT);
            rb = Nd4j.create(b.toFloatArray(), new long[] {dims[1][0]}, DataType.FLOAT);
            rg = Nd4j.create(g.toFloatArray(), outShape, DataType.FLOAT);
            rOut = Nd4j.create(DataType.FLOAT, outShape);
            rGradX = Nd4j.create(DataType.FLOAT, toLongs(dims[0]));
            rGradW = Nd4j.create(DataType.FLOAT, toLongs(dims[1]));
            rGradB = Nd4j.create(DataType.FLOAT, dims[1][0]);
            // Pinned with a matmul probe: libnd4j's own pool threads, busy in a native conv2d, look like
            // OpenBLAS workers to the check.
            Nd4jBlasThreads.pinIfNd4j(Backends.get("nd4j"));
            checkSameConvolution();
        }

        /** The native op must compute the composite's convolution and gradients, or the timing compares different work. */
        private void checkSameConvolution() {
            List<Tensor> grads = adjointForwardBackward();
            nativeForwardBackward();
            Tensor out;
            try (var scope = Tensor.noGrad()) {
                out = adjointForward();
            }
            nativeForward();
            compare("output", out.toFloatArray(), rOut);
            compare("grad x", grads.get(0).toFloatArray(), rGradX);
            compare("grad w", grads.get(1).toFloatArray(), rGradW);
            compare("grad b", grads.get(2).toFloatArray(), rGradB);
        }

        private void compare(String what, float[] adjoint, INDArray nd4j) {
            float[] reference = nd4j.dup('c').data().asFloat();
            double worst = 0;
            double scale = 1e-6;
            for (int i = 0; i < adjoint.length; i++) {
                worst = Math.max(worst, Math.abs(adjoint[i] - reference[i]));
                scale = Math.max(scale, Math.abs(reference[i]));
            }
            if (worst > 1e-3 * scale) {
                throw new IllegalStateException("libnd4j conv2d and Adjoint's composite disagree on " + what + " at "
                        + shape + ": largest difference " + worst + ", largest value " + scale);
            }
        }

        Tensor adjointForward() {
            return Functional.conv2d(x, w, b, new int[] {1}, new int[] {padding}, new int[] {1}, 1);
        }

        List<Tensor> adjointForwardBackward() {
            Tensor out = adjointForward();
            return Autograd.grad(List.of(out), List.of(x, w, b), List.of(g), false, false, false);
        }

        /** libnd4j's conv2d: integer arguments kH, kW, sH, sW, pH, pW, dH, dW, same-mode, NCHW (0), weights [oC, iC, kH, kW] (1). */
        INDArray nativeForward() {
            Nd4j.exec(DynamicCustomOp.builder("conv2d").addInputs(rx, rw, rb).addOutputs(rOut)
                    .addIntegerArguments(integerArguments()).build());
            return rOut;
        }

        INDArray nativeForwardBackward() {
            nativeForward();
            Nd4j.exec(DynamicCustomOp.builder("conv2d_bp").addInputs(rx, rw, rb, rg)
                    .addOutputs(rGradX, rGradW, rGradB).addIntegerArguments(integerArguments()).build());
            return rGradX;
        }

        private int[] integerArguments() {
            int kH = Math.toIntExact(rw.size(2));
            int kW = Math.toIntExact(rw.size(3));
            return new int[] {kH, kW, 1, 1, padding, padding, 1, 1, 0, 0, 1};
        }
    }

    private static long[] toLongs(int[] dims) {
        long[] out = new long[dims.length];
        for (int i = 0; i < dims.length; i++) {
            out[i] = dims[i];
        }
        return out;
    }

    private static int[] toInts(long[] dims) {
        int[] out = new int[dims.length];
        for (int i = 0; i < dims.length; i++) {
            out[i] = Math.toIntExact(dims[i]);
        }
        return out;
    }

    @Benchmark
    @Fork(value = 1, jvmArgsAppend = {NATIVE_ACCESS, "-Dadjoint.bench.threads=1"})
    public Tensor adjointForward(Operands o, ProcessCpuTime cpu) {
        return cpu.measure(() -> {
            try (var scope = Tensor.noGrad()) {
                return o.adjointForward();
            }
        });
    }

    @Benchmark
    @Fork(value = 1, jvmArgsAppend = {NATIVE_ACCESS, "-Dadjoint.bench.threads=1"})
    public INDArray nativeForward(Operands o, ProcessCpuTime cpu) {
        return cpu.measure(o::nativeForward);
    }

    @Benchmark
    @Fork(value = 1, jvmArgsAppend = {NATIVE_ACCESS, "-Dadjoint.bench.threads=1"})
    public List<Tensor> adjointForwardBackward(Operands o, ProcessCpuTime cpu) {
        return cpu.measure(o::adjointForwardBackward);
    }

    @Benchmark
    @Fork(value = 1, jvmArgsAppend = {NATIVE_ACCESS, "-Dadjoint.bench.threads=1"})
    public INDArray nativeForwardBackward(Operands o, ProcessCpuTime cpu) {
        return cpu.measure(o::nativeForwardBackward);
    }
}
