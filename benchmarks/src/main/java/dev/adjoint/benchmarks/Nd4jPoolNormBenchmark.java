package dev.adjoint.benchmarks;

import dev.adjoint.DType;
import dev.adjoint.Functional;
import dev.adjoint.Generator;
import dev.adjoint.MemoryScope;
import dev.adjoint.Tensor;
import dev.adjoint.TensorFactory;
import dev.adjoint.autograd.Autograd;
import dev.adjoint.backend.Backends;
import dev.adjoint.benchmarks.Nd4jConvBenchmark.ProcessCpuTime;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.DynamicCustomOp;
import org.nd4j.linalg.factory.Nd4j;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The story: the nd4j backend's max pooling, average pooling and batch norm (what it runs today) against
 * libnd4j's own {@code maxpool2d} / {@code maxpool2d_bp}, {@code avgpool2d} / {@code avgpool2d_bp} and
 * {@code batchnorm} / {@code batchnorm_bp}, called by name as the backend calls {@code conv2d}. The
 * backend's max pooling is its own loop over the native buffers (the SPI wants torch's per-plane
 * argmax indices, which libnd4j's ops do not give) and its gradient a scatter-add at those indices; average pooling
 * runs libnd4j's {@code avgpool2d} / {@code avgpool2d_bp} itself (the SPI's kernel pair), so its pair
 * measures only the api's overhead around them; batch norm runs the backend's fused kernels, loops over the
 * native buffers (benchmarks/ab/Nd4jBatchNormAB.java pairs them with the api's composite). The native
 * batch norm in training needs the batch's mean and biased variance first: libnd4j's {@code batchnorm}
 * only normalises, so its side runs ND4J's mean and variance reductions too, as DL4J's layer does. The
 * set-up checks that both sides compute the same values and gradients before anything is timed.
 *
 * <ul>
 *   <li>{@code adjointForward} / {@code nativeForward}: the op alone, no graph.</li>
 *   <li>{@code adjointForwardBackward} / {@code nativeForwardBackward}: the op, then the gradients
 *       of {@code sum(out * g)} for x (and batch norm's weight and bias).</li>
 * </ul>
 * Shapes: the inputs of benchmarks/train's CNN pooling and batch norm layers at batch 64
 * ({@code fmnist1} {@code [64, 32, 28, 28]}, {@code fmnist2} {@code [64, 64, 14, 14]}) and a larger
 * one, {@code resnet} {@code [32, 64, 56, 56]}; pooling 2x2, stride 2.
 *
 * <p>Run: {@code benchmarks/run --jmh Nd4jPoolNormBenchmark -f 1 -wi 2 -w 1s -i 3 -r 1s}.
 *
 * <p>Pitfalls avoided: the backend's side runs in a {@link MemoryScope}, as a training step does, so its
 * outputs and temporaries are freed per call rather than by the garbage collections that unreachable
 * native storages trigger (the native side writes into preallocated arrays); one thread on both sides (OpenBLAS and libnd4j's pool pinned through
 * {@link Nd4jBlasThreads}); results are returned; the process's CPU time per call
 * ({@link ProcessCpuTime}) is the figure to compare on a machine shared with other jobs.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class Nd4jPoolNormBenchmark {
    private static final String NATIVE_ACCESS = "--enable-native-access=ALL-UNNAMED";
    private static final double EPS = 1e-5;

    /** The operands, as Adjoint tensors on nd4j and as plain INDArrays holding the same values. */
    @State(Scope.Thread)
    public static class Operands {
        @Param({"maxpool", "avgpool", "batchnorm"})
        public String op;

        @Param({"fmnist1", "fmnist2", "resnet"})
        public String shape;

        Tensor x;
        Tensor w;
        Tensor b;
        Tensor g;
        INDArray rx;
        INDArray rw;
        INDArray rb;
        INDArray rg;
        INDArray rOut;
        INDArray rGradX;
        INDArray rGradW;
        INDArray rGradB;
        INDArray rGradMean;
        INDArray rGradVar;

        @Setup
        public void setUp() {
            int[] dims = switch (shape) {
                case "fmnist1" -> new int[] {64, 32, 28, 28};
                case "fmnist2" -> new int[] {64, 64, 14, 14};
                case "resnet" -> new int[] {32, 64, 56, 56};
                default -> throw new IllegalArgumentException("unknown shape " + shape);
            };
            boolean norm = op.equals("batchnorm");
            int channels = dims[1];
            int[] outDims = norm ? dims : new int[] {dims[0], dims[1], dims[2] / 2, dims[3] / 2};
            TensorFactory f = Tensor.on(Backends.get("nd4j"));
            Generator gen = new Generator(1);
            // Normal values: no ties inside a pooling window, where the two sides could pick different taps.
            x = f.randn(gen, DType.FLOAT32, dims).requiresGrad(true);
            w = f.randn(gen, DType.FLOAT32, channels).mul(0.1).add(1.0).detach().requiresGrad(true);
            b = f.randn(gen, DType.FLOAT32, channels).mul(0.1).detach().requiresGrad(true);
            g = f.randn(gen, DType.FLOAT32, outDims);
            rx = Nd4j.create(x.toFloatArray(), toLongs(dims), DataType.FLOAT);
            rw = Nd4j.create(w.toFloatArray(), new long[] {channels}, DataType.FLOAT);
            rb = Nd4j.create(b.toFloatArray(), new long[] {channels}, DataType.FLOAT);
            rg = Nd4j.create(g.toFloatArray(), toLongs(outDims), DataType.FLOAT);
            rOut = Nd4j.create(DataType.FLOAT, toLongs(outDims));
            rGradX = Nd4j.create(DataType.FLOAT, toLongs(dims));
            rGradW = Nd4j.create(DataType.FLOAT, channels);
            rGradB = Nd4j.create(DataType.FLOAT, channels);
            rGradMean = Nd4j.create(DataType.FLOAT, channels);
            rGradVar = Nd4j.create(DataType.FLOAT, channels);
            Nd4jBlasThreads.pinIfNd4j(Backends.get("nd4j"));
            checkSameResults();
        }

        /** The native ops must compute what the backend computes, or the timing compares different work. */
        private void checkSameResults() {
            List<Tensor> grads = adjointForwardBackward();
            nativeForwardBackward();
            Tensor out;
            try (var scope = Tensor.noGrad()) {
                out = adjointForward();
            }
            nativeForward();
            compare("output", out.toFloatArray(), rOut);
            compare("grad x", grads.get(0).toFloatArray(), rGradX);
            if (op.equals("batchnorm")) {
                compare("grad weight", grads.get(1).toFloatArray(), rGradW);
                compare("grad bias", grads.get(2).toFloatArray(), rGradB);
            }
        }

        private void compare(String what, float[] adjoint, INDArray nd4j) {
            float[] reference = nd4j.dup('c').data().asFloat();
            double worst = 0;
            double scale = 1e-6;
            for (int i = 0; i < adjoint.length; i++) {
                worst = Math.max(worst, Math.abs(adjoint[i] - reference[i]));
                scale = Math.max(scale, Math.abs(reference[i]));
            }
            if (!(worst <= 1e-3 * scale)) {
                throw new IllegalStateException("libnd4j " + op + " and the nd4j backend disagree on " + what + " at "
                        + shape + ": largest difference " + worst + ", largest value " + scale);
            }
        }

        Tensor adjointForward() {
            return switch (op) {
                case "maxpool" -> Functional.maxPool2d(x, 2);
                case "avgpool" -> Functional.avgPool2d(x, 2);
                case "batchnorm" -> Functional.batchNorm(x, null, null, w, b, true, 0.1, EPS);
                default -> throw new IllegalArgumentException(op);
            };
        }

        List<Tensor> adjointForwardBackward() {
            Tensor out = adjointForward();
            List<Tensor> wrt = new ArrayList<>(List.of(x));
            if (op.equals("batchnorm")) {
                wrt.add(w);
                wrt.add(b);
            }
            return Autograd.grad(List.of(out), wrt, List.of(g), false, false, false);
        }

        INDArray nativeForward() {
            if (op.equals("batchnorm")) {
                INDArray[] stats = statistics();
                Nd4j.exec(DynamicCustomOp.builder("batchnorm").addInputs(rx, stats[0], stats[1], rw, rb)
                        .addOutputs(rOut).addIntegerArguments(1, 1, 1).addFloatingPointArguments(EPS).build());
                stats[0].close();
                stats[1].close();
                return rOut;
            }
            Nd4j.exec(DynamicCustomOp.builder(op.equals("maxpool") ? "maxpool2d" : "avgpool2d").addInputs(rx)
                    .addOutputs(rOut).addIntegerArguments(poolArguments()).build());
            return rOut;
        }

        INDArray nativeForwardBackward() {
            if (op.equals("batchnorm")) {
                INDArray[] stats = statistics();
                Nd4j.exec(DynamicCustomOp.builder("batchnorm").addInputs(rx, stats[0], stats[1], rw, rb)
                        .addOutputs(rOut).addIntegerArguments(1, 1, 1).addFloatingPointArguments(EPS).build());
                Nd4j.exec(DynamicCustomOp.builder("batchnorm_bp").addInputs(rx, stats[0], stats[1], rw, rb, rg)
                        .addOutputs(rGradX, rGradMean, rGradVar, rGradW, rGradB).addIntegerArguments(1, 1, 1)
                        .addFloatingPointArguments(EPS).build());
                stats[0].close();
                stats[1].close();
                return rGradX;
            }
            nativeForward();
            Nd4j.exec(DynamicCustomOp.builder(op.equals("maxpool") ? "maxpool2d_bp" : "avgpool2d_bp")
                    .addInputs(rx, rg).addOutputs(rGradX).addIntegerArguments(poolArguments()).build());
            return rGradX;
        }

        /** The batch's per-channel mean and biased variance, as libnd4j's batchnorm takes them. */
        private INDArray[] statistics() {
            return new INDArray[] {rx.mean(0, 2, 3), rx.var(false, 0, 2, 3)};
        }

        /**
         * kH, kW, sH, sW, pH, pW, dH, dW, same-mode, extra (average pooling's divisor: 1 counts the
         * padding, as torch's count_include_pad; no padding here), NCHW (0).
         */
        private int[] poolArguments() {
            return new int[] {2, 2, 2, 2, 0, 0, 1, 1, 0, 1, 0};
        }
    }

    private static long[] toLongs(int[] dims) {
        long[] out = new long[dims.length];
        for (int i = 0; i < dims.length; i++) {
            out[i] = dims[i];
        }
        return out;
    }

    @Benchmark
    @Fork(value = 1, jvmArgsAppend = {NATIVE_ACCESS, "-Dadjoint.bench.threads=1"})
    public Tensor adjointForward(Operands o, ProcessCpuTime cpu) {
        return cpu.measure(() -> {
            try (MemoryScope memory = MemoryScope.open(); var scope = Tensor.noGrad()) {
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
        return cpu.measure(() -> {
            try (MemoryScope memory = MemoryScope.open()) {
                return o.adjointForwardBackward();
            }
        });
    }

    @Benchmark
    @Fork(value = 1, jvmArgsAppend = {NATIVE_ACCESS, "-Dadjoint.bench.threads=1"})
    public INDArray nativeForwardBackward(Operands o, ProcessCpuTime cpu) {
        return cpu.measure(o::nativeForwardBackward);
    }
}
