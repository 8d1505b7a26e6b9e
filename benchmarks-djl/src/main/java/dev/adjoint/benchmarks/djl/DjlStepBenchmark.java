package dev.adjoint.benchmarks.djl;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import ai.djl.util.Pair;
import ai.djl.pytorch.jni.JniUtils;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * What every DJL model-step benchmark shares, as {@code StepBenchmark} for Adjoint's: a step timed at
 * one and at two threads, each in forks of its own. A subclass builds its model in {@link #build},
 * defines one step in {@link #step} and frees its native memory in {@link #close}.
 *
 * <p>Pitfalls avoided: libtorch's intra-op thread count is set in each method's forks' arguments
 * ({@code ai.djl.pytorch.num_threads}) and read back in the set-up, which fails if libtorch runs
 * another; nothing is downloaded ({@code offline}); the engine's generator is seeded; the set-up runs
 * one step and requires a finite loss, so a broken model is not measured as fast.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
public abstract class DjlStepBenchmark {
    static final String THREADS = "ai.djl.pytorch.num_threads";

    /** Builds the model, its inputs and optimizer on libtorch. */
    protected abstract void build(Engine engine);

    /** One step (forward, loss, backward, and the optimizer's step where there is one), leaving no gradient to accumulate; the loss. */
    abstract float step();

    /** Frees what {@link #build} allocated. */
    protected abstract void close();

    @Setup
    public void setUp() {
        Engine engine = Engine.getEngine("PyTorch");
        Integer threads = Integer.getInteger(THREADS);
        if (threads != null && JniUtils.getNumThreads() != threads) {
            throw new IllegalStateException(getClass().getSimpleName() + ": libtorch runs " + JniUtils.getNumThreads()
                    + " intra-op threads, " + THREADS + " asked for " + threads);
        }
        engine.setRandomSeed(0);
        build(engine);
        float loss = step();
        if (!Float.isFinite(loss)) {
            throw new IllegalStateException(getClass().getSimpleName() + " setup: a step must give a finite loss, got "
                    + loss);
        }
    }

    @TearDown
    public void tearDown() {
        close();
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

    /**
     * Records {@code loss} in a sub-manager of {@code manager} (closed at the end, with the step's
     * temporaries), backpropagates it, then zeroes the gradients of {@code x} and {@code parameters},
     * which libtorch would otherwise accumulate from step to step; the loss.
     */
    static float backward(NDManager manager, NDArray x, Supplier<NDArray> loss, Iterable<NDArray> parameters) {
        float value;
        try (NDManager stepManager = manager.newSubManager()) {
            x.tempAttach(stepManager);
            try (GradientCollector collector = Engine.getEngine("PyTorch").newGradientCollector()) {
                NDArray result = loss.get();
                collector.backward(result);
                value = result.getFloat();
            }
            zeroGradient(x);
            for (NDArray p : parameters) {
                zeroGradient(p);
            }
        }
        return value;
    }

    /** The arrays of {@code block}'s parameters. */
    static Iterable<NDArray> arrays(Block block) {
        return block.getParameters().values().stream().map(Parameter::getArray).toList();
    }

    /** How many elements {@code block}'s trainable parameters hold (a batch norm's running statistics are not). */
    static long trainableParameters(Block block) {
        long n = 0;
        for (Pair<String, Parameter> p : block.getParameters()) {
            if (p.getValue().requiresGradient()) {
                n += p.getValue().getArray().size();
            }
        }
        return n;
    }

    /** Sets the gradient libtorch accumulates into {@code array}'s to zero, in place. */
    private static void zeroGradient(NDArray array) {
        try (NDArray grad = array.getGradient()) {
            grad.subi(grad);
        }
    }
}
