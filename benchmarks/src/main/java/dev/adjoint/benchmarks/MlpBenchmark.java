package dev.adjoint.benchmarks;

import dev.adjoint.DType;
import dev.adjoint.Functional;
import dev.adjoint.Generator;
import dev.adjoint.Tensor;
import dev.adjoint.TensorFactory;
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
 * The story: one training step of an MNIST-sized MLP, 784-256-10 with ReLU and cross-entropy,
 * FLOAT32 - the workload where the tape's per-op cost stops mattering and the kernels (two
 * matmuls forward, four backward) dominate. No optimizer yet: a step is clear grads, forward,
 * loss, backward.
 *
 * <p>Pitfalls avoided:
 * <ul>
 *   <li>Dead-code elimination: the loss is returned (JMH consumes it), and backward writes the
 *       parameters' {@code grad} fields, which live in this {@link State} object.</li>
 *   <li>Constant folding and reproducibility: data and weights are state fields built once in
 *       {@link #setUp} from a seeded {@link Generator}, so every fork, every backend and every
 *       machine times the same numbers (and the same ReLU sparsity pattern, which a sparse-aware
 *       backend could otherwise exploit differently run to run).</li>
 *   <li>Accumulation drift: grads are cleared at the start of each step, as a training loop does;
 *       otherwise every step would add one more gradient-accumulation add per parameter.</li>
 *   <li>Warm-up: a step is milliseconds, so one-second iterations hold hundreds of steps once the
 *       kernels are compiled; the warm-up iterations discard the interpreted and C1 phases.</li>
 * </ul>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
// Every fork may load engine-simd (needs the incubator module) and nd4j (needs native access).
@Fork(value = 2, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class MlpBenchmark {
    private static final int IN = 784;
    private static final int HIDDEN = 256;
    private static final int CLASSES = 10;

    /** The engine under test. */
    @Param({"scalar", "simd", "nd4j"})
    public String backend;

    @Param({"64"})
    public int batchSize;

    private Tensor x;
    private Tensor target;
    private Tensor w1;
    private Tensor b1;
    private Tensor w2;
    private Tensor b2;

    @Setup
    public void setUp() {
        TensorFactory on = Tensor.on(backend);
        Generator generator = new Generator(2024);
        x = on.randn(generator, DType.FLOAT32, batchSize, IN);
        long[] labels = new long[batchSize];
        for (int i = 0; i < labels.length; i++) {
            labels[i] = generator.nextLong(CLASSES);
        }
        target = on.fromArray(labels, batchSize);
        w1 = uniform(on, generator, IN, IN, HIDDEN);
        b1 = uniform(on, generator, IN, HIDDEN);
        w2 = uniform(on, generator, HIDDEN, HIDDEN, CLASSES);
        b2 = uniform(on, generator, HIDDEN, CLASSES);

        double loss = step().item();
        if (!Double.isFinite(loss) || w1.grad() == null || b2.grad() == null) {
            throw new IllegalStateException("MlpBenchmark setup: a step must give a finite loss and grads, got loss "
                    + loss);
        }
    }

    /** Clear grads, forward, cross-entropy, backward: one step without the optimizer update. */
    @Benchmark
    public Tensor step() {
        w1.zeroGrad();
        b1.zeroGrad();
        w2.zeroGrad();
        b2.zeroGrad();
        Tensor hidden = x.matmul(w1).add(b1).relu();
        Tensor logits = hidden.matmul(w2).add(b2);
        Tensor loss = Functional.crossEntropy(logits, target);
        loss.backward();
        return loss;
    }

    /**
     * U(-1/sqrt(fanIn), 1/sqrt(fanIn)), the scale of PyTorch's default Linear initialisation, so the
     * activations (and so the ReLU pattern) look like a real first step rather than saturated noise.
     */
    private static Tensor uniform(TensorFactory on, Generator generator, int fanIn, int... shape) {
        double bound = 1.0 / Math.sqrt(fanIn);
        Tensor unit = on.rand(generator, DType.FLOAT32, shape);
        // Built from ops on a tensor that does not require grad, so the result is a fresh leaf.
        return unit.mul(2 * bound).sub(bound).requiresGrad(true);
    }
}
