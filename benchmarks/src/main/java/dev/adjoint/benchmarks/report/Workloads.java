package dev.adjoint.benchmarks.report;

import dev.adjoint.DType;
import dev.adjoint.benchmarks.ConvBenchmark;
import dev.adjoint.benchmarks.ElementwiseBenchmark;
import dev.adjoint.benchmarks.EncoderLayerBenchmark;
import dev.adjoint.benchmarks.FmaPeakBenchmark;
import dev.adjoint.benchmarks.GemmBenchmark;
import dev.adjoint.benchmarks.LanguageModelBenchmark;
import dev.adjoint.benchmarks.LstmBenchmark;
import dev.adjoint.benchmarks.ResNetBenchmark;
import dev.adjoint.benchmarks.StepBenchmark;
import dev.adjoint.benchmarks.TapeOverheadBenchmark;
import dev.adjoint.benchmarks.TrainingStepBenchmark;
import dev.adjoint.benchmarks.TransformerBlockBenchmark;

import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * The report's workloads, in the order of its table: the place to register a new one (an entry
 * here, the same workload in {@code benchmarks/peers/torch_workloads.py} under the same id for the
 * PyTorch column, and in a {@link PeerLibrary} for DJL's). Each entry sets up the state object of
 * the JMH benchmark that tells the same story, and times the method JMH times.
 *
 * <p>The thread count is never a parameter here: the report starts a JVM per cell with the count in
 * its system properties ({@link CellRunner#jvmArguments}), as the JMH methods {@code oneThread} and
 * {@code twoThreads} do through their forks' arguments; so one method serves both counts.
 */
public final class Workloads {
    private Workloads() {
    }

    private static final List<Integer> ONE_AND_TWO = List.of(1, 2);
    private static final List<Integer> ONE = List.of(1);
    /**
     * nd4j's training steps are chains of small ops with ND4J's per-op cost: a second thread gained
     * nothing when measured (idle Intel Xeon: MLP 6.9 ms at one thread and 13.5 at two, CNN 768 and
     * 818, transformer block 349 and 342), so the report times them at one thread; the JMH suite has both.
     */
    private static final List<String> ND4J_STEPS = List.of("nd4j");

    /** Machine limits the workloads are read against: not rows of their own, the table's "machine" column. */
    public static final List<Workload> YARDSTICKS = List.of(
            new Workload("fma-peak", "FMA peak, one core",
                    "The FMA peak of one core: 16 independent chains of fused multiply-adds on the JVM's "
                            + "preferred vector species, no memory traffic. The GEMM rows are read as a share of it "
                            + "(times the thread count).",
                    Metric.GFLOPS, ONE, List.of("jvm"), List.of(), null, "FmaPeakBenchmark.float32",
                    true, backend -> fmaPeak()),
            new Workload("copy-1e7", "memory copy, 10^7 floats",
                    "System.arraycopy of 10^7 floats: the memory bandwidth an elementwise op on 40 MB arrays "
                            + "can hope for.",
                    Metric.GBPS, ONE, List.of("jvm"), List.of(), null, "ElementwiseBenchmark.copy",
                    false, backend -> elementwise("scalar", "copy")));

    public static final List<Workload> ALL = List.of(
            gemm("gemm-1024", 1024, 1024, 1024,
                    "A square FLOAT32 matrix product through the backend SPI into a preallocated output: how close "
                            + "the matmul kernel comes to the machine's FMA peak and to OpenBLAS / oneMKL."),
            gemm("gemm-odd", 1000, 333, 777,
                    "A product whose sizes are multiples of no register or cache block (m = 1000, k = 333, "
                            + "n = 777): the edge handling that square powers of two never exercise."),
            gemm("gemm-tall", 4096, 64, 256,
                    "A tall product with a shallow k (m = 4096, k = 64, n = 256), as a linear layer's forward "
                            + "on many tokens with few features: one pass over k, so packing and writing the "
                            + "output weigh as much as the multiply-adds."),
            gemm("gemm-deep", 64, 4096, 64,
                    "A small output over a deep k (m = 64, k = 4096, n = 64), as a weight gradient over a "
                            + "long batch: few output blocks to share between threads and many passes over k."),
            new Workload("mlp-step", "MLP training step",
                    "One training step through the nn API: zeroGrad, Sequential(Linear(784, 256), ReLU, "
                            + "Linear(256, 10)) on a batch of 64, cross-entropy, backward, SGD with momentum; FLOAT32. "
                            + "The step benchmarks/train repeats 938 times per Fashion-MNIST epoch.",
                    Metric.MILLISECONDS, ONE_AND_TWO, List.of("simd", "nd4j", "scalar"), ND4J_STEPS, null, "TrainingStepBenchmark",
                    false, backend -> step(new TrainingStepBenchmark(), b -> {
                        b.backend = backend;
                        b.batchSize = 64;
                    })),
            new Workload("cnn-step", "CNN training step",
                    "One training step of benchmarks/train's Fashion-MNIST CNN: zeroGrad, 2 x (Conv2d 3x3 "
                            + "padding 1 -> BatchNorm2d -> ReLU -> MaxPool2d(2)) with 32 and 64 channels, then "
                            + "Linear(3136, 10), on a batch of 64 images [64, 1, 28, 28], cross-entropy, backward, "
                            + "Adam; FLOAT32. The step benchmarks/train --model cnn repeats 938 times per epoch; "
                            + "ConvBenchmark times the convolutions alone.",
                    Metric.MILLISECONDS, ONE_AND_TWO, List.of("simd", "nd4j", "scalar"), ND4J_STEPS, null, "ConvBenchmark.cnnStep",
                    false, Workloads::cnnStep),
            new Workload("transformer-block", "Transformer block, fwd + bwd",
                    "A pre-LN transformer block forward and backward: x [8, 128, 256] -> LayerNorm -> "
                            + "Linear 256->768 -> 4 heads of softmax(q k^T / 8) v -> Linear -> residual -> LayerNorm "
                            + "-> Linear 256->1024 -> GELU -> Linear 1024->256 -> residual; loss mean(out^2); "
                            + "gradients of x and every parameter; FLOAT32. Scalar takes seconds per step and runs "
                            + "in the JMH suite only.",
                    Metric.MILLISECONDS, ONE_AND_TWO, List.of("simd", "nd4j"), ND4J_STEPS, null, "TransformerBlockBenchmark",
                    false, backend -> step(new TransformerBlockBenchmark(), b -> b.backend = backend)),
            new Workload("encoder-layer", "nn.TransformerEncoderLayer, fwd + bwd",
                    "The same sizes through the module a user takes off the shelf: "
                            + "TransformerEncoderLayer(256, 4, dim_feedforward 1024, dropout 0.1, GELU, batch-first, "
                            + "pre-norm) in training mode on x [8, 128, 256]; loss mean(out^2); gradients of x and "
                            + "every parameter; FLOAT32. Each library's own initialisation.",
                    Metric.MILLISECONDS, ONE_AND_TWO, List.of("simd", "nd4j"), ND4J_STEPS, null, "EncoderLayerBenchmark",
                    false, backend -> step(new EncoderLayerBenchmark(), b -> b.backend = backend)),
            new Workload("lstm", "nn.LSTM, fwd + bwd",
                    "A recurrent model off the shelf: LSTM(256, 256, 2 layers, batch-first) on x [32, 64, 256] "
                            + "(64 steps); loss mean(out^2); gradients of x and every parameter; FLOAT32. 64 small "
                            + "products per layer and direction with the gate arithmetic between them, and 64 "
                            + "gradients summed into each hidden weight. Each library's own initialisation.",
                    Metric.MILLISECONDS, ONE_AND_TWO, List.of("simd", "nd4j"), ND4J_STEPS, null, "LstmBenchmark",
                    false, backend -> step(new LstmBenchmark(), b -> b.backend = backend)),
            new Workload("language-model", "Language model training step",
                    "A small GPT-style model's training step, off-the-shelf modules: token and position "
                            + "embeddings (vocabulary 4096, width 256), two pre-norm TransformerEncoderLayers (4 heads, "
                            + "feed-forward 1024, GELU, dropout 0.1) under a causal mask, LayerNorm, a Linear head to "
                            + "the vocabulary; cross-entropy of 8 x 128 next tokens, backward, AdamW; FLOAT32. Each "
                            + "library's own initialisation.",
                    Metric.MILLISECONDS, ONE_AND_TWO, List.of("simd", "nd4j"), ND4J_STEPS, null, "LanguageModelBenchmark",
                    false, backend -> step(new LanguageModelBenchmark(), b -> b.backend = backend)),
            new Workload("resnet-step", "ResNet training step",
                    "A small ResNet on CIFAR-sized images [32, 3, 32, 32]: a 3x3 stem to 32 channels, residual "
                            + "blocks of 32 (32x32), 64 and 128 channels (stride 2, 1x1 projected shortcuts), each two "
                            + "3x3 convolutions with BatchNorm2d and ReLU; average pooling, Linear to 10 classes, "
                            + "cross-entropy, backward, SGD (momentum 0.9, weight decay 5e-4); FLOAT32. Each library's "
                            + "own initialisation.",
                    Metric.MILLISECONDS, ONE_AND_TWO, List.of("simd", "nd4j"), ND4J_STEPS, null, "ResNetBenchmark",
                    false, backend -> step(new ResNetBenchmark(), b -> b.backend = backend)),
            new Workload("tape", "Tape: one recorded add",
                    "A 16-element FLOAT32 add whose inputs require grad: the output, its graph node, "
                            + "validation and dispatch; the arithmetic is a few nanoseconds, the rest is the price "
                            + "of an op on the tape.",
                    Metric.NANOSECONDS, ONE, List.of("simd", "nd4j", "scalar"), List.of(), null, "TapeOverheadBenchmark.addRecorded",
                    false, Workloads::tape),
            new Workload("exp-1e7", "exp on 10^7 floats",
                    "exp over 10^7 FLOAT32 elements (40 MB in, 40 MB out) into a preallocated output, in GB/s "
                            + "of bytes read and written: at this size an elementwise op is bounded by memory, so "
                            + "the yardstick is a plain copy of the same bytes.",
                    Metric.GBPS, ONE, List.of("simd", "nd4j", "scalar"), List.of(), "copy-1e7", "ElementwiseBenchmark.exp -p size=10000000 -p dtype=FLOAT32",
                    false, backend -> elementwise(backend, "exp")));

    /** A workload or yardstick by id. */
    public static Optional<Workload> byId(String id) {
        return Stream.concat(ALL.stream(), YARDSTICKS.stream()).filter(w -> w.id().equals(id)).findFirst();
    }

    /** A FLOAT32 {@code m x k @ k x n} product on simd and nd4j, read against the FMA peak. */
    private static Workload gemm(String id, int m, int k, int n, String description) {
        String jmh = m == k && k == n ? "GemmBenchmark -p n=" + n + " -p dtype=FLOAT32"
                : "GemmBenchmark -p m=" + m + " -p k=" + k + " -p n=" + n + " -p dtype=FLOAT32";
        return new Workload(id, "GEMM " + m + " x " + k + " x " + n + ", f32", description, Metric.GFLOPS,
                ONE_AND_TWO, List.of("simd", "nd4j"), List.of(), "fma-peak", jmh, false,
                backend -> gemm(backend, m, k, n));
    }

    // ---- set-ups: the JMH state objects, configured as their @Param fields would be -------------------

    private static Operation gemm(String backend, int m, int k, int n) {
        GemmBenchmark bench = new GemmBenchmark();
        bench.backend = backend;
        bench.dtype = DType.FLOAT32;
        bench.m = m;
        bench.k = k;
        bench.n = n;
        bench.setUp();
        GemmBenchmark.Flops flops = new GemmBenchmark.Flops();
        return Operation.counting(() -> bench.oneThread(flops), () -> flops.gflops);
    }

    /** A model-step benchmark with its {@code @Param} fields set by {@code params}, set up; its one-thread step. */
    private static <B extends StepBenchmark> Operation step(B bench, Consumer<B> params) {
        params.accept(bench);
        bench.setUp();
        return Operation.timed(bench::oneThread);
    }

    private static Operation cnnStep(String backend) {
        ConvBenchmark.Step step = new ConvBenchmark.Step();
        step.backend = backend;
        step.setUp();
        return Operation.timed(step::step);
    }

    private static Operation tape(String backend) {
        TapeOverheadBenchmark bench = new TapeOverheadBenchmark();
        bench.backend = backend;
        bench.setUp();
        return Operation.timed(bench::addRecorded);
    }

    private static Operation elementwise(String backend, String op) {
        ElementwiseBenchmark bench = new ElementwiseBenchmark();
        bench.backend = backend;
        bench.dtype = DType.FLOAT32;
        bench.size = 10_000_000;
        bench.setUp();
        ElementwiseBenchmark.Bytes bytes = new ElementwiseBenchmark.Bytes();
        return switch (op) {
            case "exp" -> Operation.counting(() -> bench.exp(bytes), () -> bytes.gbytes);
            case "copy" -> Operation.counting(() -> bench.copy(bytes), () -> bytes.gbytes);
            default -> throw new IllegalArgumentException("Workloads: no elementwise op '" + op + "'");
        };
    }

    private static Operation fmaPeak() {
        FmaPeakBenchmark bench = new FmaPeakBenchmark();
        FmaPeakBenchmark.Flops flops = new FmaPeakBenchmark.Flops();
        return Operation.counting(() -> bench.float32(flops), () -> flops.gflops);
    }
}
