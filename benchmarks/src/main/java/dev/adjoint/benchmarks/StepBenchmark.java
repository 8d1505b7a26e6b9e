package dev.adjoint.benchmarks;

import dev.adjoint.MemoryScope;
import dev.adjoint.Tensor;
import dev.adjoint.backend.Backends;
import dev.adjoint.spi.Backend;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;

/**
 * What every model-step benchmark shares: a step (forward, loss, backward, and an optimizer step
 * where the model has one) timed at one and at two threads, each in forks of its own, and run in a
 * {@link MemoryScope} as a training loop runs it, so that its tensors' memory is reused by the next
 * step as PyTorch's allocator reuses freed blocks. A subclass holds the backend as a JMH
 * {@code @Param} (its own list of backends), builds its model in {@link #build} and defines one step
 * in {@link #loss}.
 *
 * <p>Pitfalls avoided:
 * <ul>
 *   <li>Thread count: {@code adjoint.simd.threads} is read once per JVM, so each method sets it in its
 *       own forks' command line, as GemmBenchmark does; on nd4j {@link Nd4jBlasThreads} pins OpenBLAS
 *       and libnd4j's pool to that count in the set-up. The simd engine needs the Vector API module,
 *       nd4j's JNI libraries native access.</li>
 *   <li>Accumulation: {@link #loss} clears the gradients it will write (set to none, as
 *       {@code zero_grad()}), so every step does the same work.</li>
 *   <li>Dead-code elimination: the loss is returned, and backward writes gradients held by the state.</li>
 *   <li>A broken model measured as fast: the set-up runs one step and requires a finite loss.</li>
 * </ul>
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
public abstract class StepBenchmark {
    /** The backend's name, the subclass's {@code @Param}. */
    protected abstract String backendName();

    /** Builds the model, its inputs and optimizer on {@code engine}. */
    protected abstract void build(Backend engine);

    /** One step inside the benchmark's MemoryScope: clears gradients, returns the loss it backpropagated. */
    protected abstract Tensor loss();

    @Setup
    public void setUp() {
        Backend engine = Backends.get(backendName());
        Nd4jBlasThreads.pinIfNd4j(engine);
        build(engine);
        double loss = step();
        if (!Double.isFinite(loss)) {
            throw new IllegalStateException(getClass().getSimpleName() + " setup: a step must give a finite loss, got "
                    + loss);
        }
    }

    @Benchmark
    @Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
            "-Dadjoint.simd.threads=1", "-D" + GemmBenchmark.THREADS_PROPERTY + "=1"})
    public double oneThread() {
        return step();
    }

    @Benchmark
    @Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
            "-Dadjoint.simd.threads=2", "-D" + GemmBenchmark.THREADS_PROPERTY + "=2"})
    public double twoThreads() {
        return step();
    }

    /** One step in a MemoryScope; its loss. */
    public double step() {
        try (MemoryScope scope = MemoryScope.open()) {
            return loss().item();
        }
    }
}
