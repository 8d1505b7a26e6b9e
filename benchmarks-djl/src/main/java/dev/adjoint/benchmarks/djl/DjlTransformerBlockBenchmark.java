package dev.adjoint.benchmarks.djl;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.GradientCollector;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;

/**
 * The story: {@code dev.adjoint.benchmarks.TransformerBlockBenchmark} on DJL 0.35 with PyTorch
 * 2.7.1 - forward and backward through the same pre-LN transformer block ({@link DjlTransformerBlock}),
 * on the same weights and input, loss {@code mean(out^2)}, gradients of x and every parameter - on one
 * and on two libtorch threads. {@code DjlTransformerBlockTest} checks it gives the same loss and
 * gradients as Adjoint and PyTorch.
 *
 * <p>Pitfalls avoided, as in {@link DjlTrainingStepBenchmark}: each step's temporaries live in a
 * sub-manager closed at its end (native memory does not grow); gradients are zeroed after each step
 * the way DJL's {@code GradientCollector.zeroGradients} does, since libtorch accumulates them;
 * libtorch's thread count is set per method in the forks' arguments and read back in the set-up;
 * nothing is downloaded ({@code offline}).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
public class DjlTransformerBlockBenchmark {
    private static final String THREADS = "ai.djl.pytorch.num_threads";

    private NDManager manager;
    private DjlTransformerBlock block;
    private NDArray x;

    @Setup
    public void setUp() {
        Engine engine = Engine.getEngine("PyTorch");
        Integer threads = Integer.getInteger(THREADS);
        if (threads != null && JniUtils.getNumThreads() != threads) {
            throw new IllegalStateException("DjlTransformerBlockBenchmark: libtorch runs " + JniUtils.getNumThreads()
                    + " intra-op threads, " + THREADS + " asked for " + threads);
        }
        manager = NDManager.newBaseManager(engine.defaultDevice(), engine.getEngineName());
        block = new DjlTransformerBlock(manager);
        x = DjlTransformerBlock.input(manager);
        float loss = step();
        if (!Float.isFinite(loss)) {
            throw new IllegalStateException("DjlTransformerBlockBenchmark setup: a step must give a finite loss, got "
                    + loss);
        }
    }

    @TearDown
    public void tearDown() {
        manager.close();
    }

    @Benchmark
    @Fork(value = 1, jvmArgsAppend = {"-Doffline=true", "-D" + THREADS + "=1", "-Dai.djl.pytorch.num_interop_threads=1"})
    public float oneThread() {
        return step();
    }

    @Benchmark
    @Fork(value = 1, jvmArgsAppend = {"-Doffline=true", "-D" + THREADS + "=2", "-Dai.djl.pytorch.num_interop_threads=1"})
    public float twoThreads() {
        return step();
    }

    float step() {
        float value;
        try (NDManager stepManager = manager.newSubManager()) {
            x.tempAttach(stepManager);
            try (GradientCollector collector = Engine.getEngine("PyTorch").newGradientCollector()) {
                NDArray loss = block.loss(x);
                collector.backward(loss);
                value = loss.getFloat();
            }
            zeroGradient(x);
            for (NDArray p : block.parameters().values()) {
                zeroGradient(p);
            }
        }
        return value;
    }

    private static void zeroGradient(NDArray array) {
        try (NDArray grad = array.getGradient()) {
            grad.subi(grad);
        }
    }
}
