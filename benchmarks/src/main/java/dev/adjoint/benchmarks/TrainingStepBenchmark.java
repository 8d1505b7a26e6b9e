package dev.adjoint.benchmarks;

import dev.adjoint.DType;
import dev.adjoint.Generator;
import dev.adjoint.Tensor;
import dev.adjoint.TensorFactory;
import dev.adjoint.nn.Linear;
import dev.adjoint.nn.Module;
import dev.adjoint.nn.NnContext;
import dev.adjoint.nn.ReLU;
import dev.adjoint.nn.Sequential;
import dev.adjoint.nn.loss.CrossEntropyLoss;
import dev.adjoint.nn.optim.SGD;
import dev.adjoint.spi.Backend;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;

/**
 * The story: one complete training step as the nn API writes it - {@code optimizer.zeroGrad()},
 * forward through {@code Sequential(Linear(784, 256), ReLU(), Linear(256, 10))}, cross-entropy,
 * backward, {@code SGD.step()} with momentum 0.9 - on a batch of 64, FLOAT32. This is the step
 * {@code benchmarks/train} repeats 938 times per Fashion-MNIST epoch, so an epoch takes about 938
 * times this score plus data loading. Against {@link MlpBenchmark} (same sizes, hand-written tensors,
 * no optimizer) the difference is the cost of the module layer and the optimizer update.
 *
 * <p>Threads, memory and pitfalls: {@link StepBenchmark}; besides:
 * <ul>
 *   <li>A moving target: the parameters change every step, as in training. With lr 0.01 on a fixed
 *       batch the loss falls slowly and stays finite over a measurement; the setup runs one step
 *       and checks that.</li>
 *   <li>Reproducibility: weights, data and labels come from seeded generators, so every fork and
 *       every backend starts from the same numbers.</li>
 * </ul>
 */
@State(Scope.Thread)
public class TrainingStepBenchmark extends StepBenchmark {
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

    @Override
    protected String backendName() {
        return backend;
    }

    @Override
    protected void build(Backend engine) {
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
    }

    /** {@code benchmarks/train}'s step: zeroGrad, forward, loss, backward, SGD. */
    @Override
    protected Tensor loss() {
        optimizer.zeroGrad();
        Tensor loss = lossFunction.forward(model.forward(x), target);
        loss.backward();
        optimizer.step();
        return loss;
    }
}
