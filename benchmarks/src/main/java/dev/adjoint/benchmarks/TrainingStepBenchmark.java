package dev.adjoint.benchmarks;

import dev.adjoint.MemoryScope;
import dev.adjoint.DType;
import dev.adjoint.Generator;
import dev.adjoint.Tensor;
import dev.adjoint.TensorFactory;
import dev.adjoint.backend.Backends;
import dev.adjoint.nn.Linear;
import dev.adjoint.nn.Module;
import dev.adjoint.nn.NnContext;
import dev.adjoint.nn.ReLU;
import dev.adjoint.nn.Sequential;
import dev.adjoint.nn.loss.CrossEntropyLoss;
import dev.adjoint.nn.optim.SGD;
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

import java.util.concurrent.TimeUnit;

/**
 * The story: one complete training step as the nn API writes it - {@code optimizer.zeroGrad()},
 * forward through {@code Sequential(Linear(784, 256), ReLU(), Linear(256, 10))}, cross-entropy,
 * backward, {@code SGD.step()} with momentum 0.9 - on a batch of 64, FLOAT32. This is the step
 * {@code benchmarks/train} repeats 938 times per Fashion-MNIST epoch, so an epoch takes about 938
 * times this score plus data loading. Against {@link MlpBenchmark} (same sizes, hand-written tensors,
 * no optimizer) the difference is the cost of the module layer and the optimizer update.
 *
 * <p>Pitfalls avoided:
 * <ul>
 *   <li>Dead-code elimination: the loss is returned, and the step updates the parameters in place,
 *       which live in this {@link State} object.</li>
 *   <li>A moving target: the parameters change every step, as in training. With lr 0.01 on a fixed
 *       batch the loss falls slowly and stays finite over a measurement; the setup runs one step
 *       and checks that.</li>
 *   <li>Reproducibility: weights, data and labels come from seeded generators, so every fork and
 *       every backend starts from the same numbers.</li>
 * </ul>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
public class TrainingStepBenchmark {
    private static final int IN = 784;
    private static final int HIDDEN = 256;
    private static final int CLASSES = 10;

    /** The engine under test. */
    @Param({"scalar", "simd", "nd4j"})
    public String backend;

    @Param({"64"})
    public int batchSize;

    private Module model;
    private SGD optimizer;
    private CrossEntropyLoss lossFunction;
    private Tensor x;
    private Tensor target;

    @Setup
    public void setUp() {
        var engine = Backends.get(backend);
        Nd4jBlasThreads.pinIfNd4j(engine);
        Generator generator = new Generator(2024);
        NnContext ctx = NnContext.of(engine, generator.split());
        model = new Sequential(new Linear(IN, HIDDEN, ctx), new ReLU(), new Linear(HIDDEN, CLASSES, ctx));
        optimizer = new SGD(model.parameters(), 0.01, 0.9);
        lossFunction = new CrossEntropyLoss();
        TensorFactory on = Tensor.on(engine);
        // Pixel-like inputs in [0, 1), as the Fashion-MNIST images are.
        x = on.rand(generator, DType.FLOAT32, batchSize, IN);
        long[] labels = new long[batchSize];
        for (int i = 0; i < labels.length; i++) {
            labels[i] = generator.nextLong(CLASSES);
        }
        target = on.fromArray(labels, batchSize);

        double loss = step();
        if (!Double.isFinite(loss)) {
            throw new IllegalStateException("TrainingStepBenchmark setup: a step must give a finite loss, got " + loss);
        }
    }

    // The simd engine needs the Vector API module (without it the fork would find "simd" unavailable);
    // nd4j's JNI libraries need native access. adjoint.simd.threads is read once per JVM, so each
    // thread count has its own forks; it sets how many threads simd's matmul may use; nd4j's OpenBLAS
    // and libnd4j pool are pinned to the same count in the set-up; scalar is single-threaded.

    /** The step with simd's matmul on the calling thread only: compare with DJL's one-thread step. */
    @Benchmark
    @Fork(value = 2, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
            "-Dadjoint.simd.threads=1", "-D" + GemmBenchmark.THREADS_PROPERTY + "=1"})
    public double oneThread() {
        return step();
    }

    /** The step with simd's matmul on two threads (this machine's two cores). */
    @Benchmark
    @Fork(value = 2, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
            "-Dadjoint.simd.threads=2", "-D" + GemmBenchmark.THREADS_PROPERTY + "=2"})
    public double twoThreads() {
        return step();
    }

    /** The step in a MemoryScope, as benchmarks/train runs it: its tensors' memory is reused by the next. */
    private double step() {
        try (MemoryScope scope = MemoryScope.open()) {
            optimizer.zeroGrad();
            Tensor loss = lossFunction.forward(model.forward(x), target);
            loss.backward();
            optimizer.step();
            return loss.item();
        }
    }
}
