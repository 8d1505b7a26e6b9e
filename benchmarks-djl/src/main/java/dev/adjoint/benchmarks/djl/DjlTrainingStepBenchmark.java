package dev.adjoint.benchmarks.djl;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
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
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * The story: the step of {@code dev.adjoint.benchmarks.TrainingStepBenchmark} - MLP 784-256-10,
 * ReLU, cross-entropy, batch 64, FLOAT32, backward, SGD with momentum 0.9 and lr 0.01 - written on
 * DJL 0.35 with its PyTorch 2.7.1 engine, so one JMH run puts Adjoint's backends next to libtorch
 * driven from Java. The step uses DJL's NDArray ops and GradientCollector directly (no Trainer, no
 * metrics), mirroring the Adjoint step op for op: zero grads, {@code relu(x W1 + b1) W2 + b2},
 * log-softmax, mean negative log-likelihood via a one-hot mask, backward, the momentum update.
 *
 * <p>Pitfalls avoided:
 * <ul>
 *   <li>Downloads: libtorch and DJL's JNI library come from Maven Central jars on the class path;
 *       the forks run with DJL's {@code offline} property, so a missing native fails instead of
 *       fetching.</li>
 *   <li>Threads: libtorch would size its pools from the machine; each method pins its forks to
 *       one or two intra-op threads (one inter-op thread), as TrainingStepBenchmark's methods pin
 *       simd's matmul, so the two are compared at equal thread counts.</li>
 *   <li>Native memory: each step's temporaries live in a sub-manager closed at the end of the step
 *       (the input is attached to it temporarily, so ops on it allocate there); gradient handles
 *       are closed after the update. Without that, native memory would grow with every invocation.</li>
 *   <li>Dead-code elimination: the loss is copied out as a float and returned; the parameters are
 *       updated in place.</li>
 * </ul>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
public class DjlTrainingStepBenchmark {
    private static final int IN = 784;
    private static final int HIDDEN = 256;
    private static final int CLASSES = 10;
    private static final float LR = 0.01f;
    private static final float MOMENTUM = 0.9f;

    @Param({"64"})
    public int batchSize;

    private NDManager manager;
    private NDArray x;
    private NDArray oneHot;
    private NDArray[] params;
    private NDArray[] momentum;

    @Setup
    public void setUp() {
        Engine engine = Engine.getEngine("PyTorch");
        manager = NDManager.newBaseManager(engine.defaultDevice(), engine.getEngineName());
        Random random = new Random(2024);
        x = manager.create(uniform(random, batchSize * IN, 0, 1), new Shape(batchSize, IN));
        float[] labels = new float[batchSize];
        for (int i = 0; i < batchSize; i++) {
            labels[i] = random.nextInt(CLASSES);
        }
        try (NDArray y = manager.create(labels, new Shape(batchSize)).toType(DataType.INT32, false)) {
            oneHot = y.oneHot(CLASSES, DataType.FLOAT32);
        }
        // PyTorch's default Linear initialisation: U(-1/sqrt(fanIn), 1/sqrt(fanIn)).
        params = new NDArray[] {
            parameter(random, IN, new Shape(IN, HIDDEN)),
            parameter(random, IN, new Shape(HIDDEN)),
            parameter(random, HIDDEN, new Shape(HIDDEN, CLASSES)),
            parameter(random, HIDDEN, new Shape(CLASSES)),
        };
        momentum = new NDArray[params.length];
        for (int i = 0; i < params.length; i++) {
            momentum[i] = manager.zeros(params[i].getShape(), DataType.FLOAT32);
        }
        float loss = step();
        if (!Float.isFinite(loss)) {
            throw new IllegalStateException("DjlTrainingStepBenchmark setup: a step must give a finite loss, got " + loss);
        }
    }

    @TearDown
    public void tearDown() {
        manager.close();
    }

    /** libtorch on one intra-op thread: next to TrainingStepBenchmark.oneThread. */
    @Benchmark
    @Fork(value = 2, jvmArgsAppend = {"-Doffline=true", "-Dai.djl.pytorch.num_threads=1",
            "-Dai.djl.pytorch.num_interop_threads=1"})
    public float oneThread() {
        return step();
    }

    /** libtorch on two intra-op threads (this machine's two cores): next to TrainingStepBenchmark.twoThreads. */
    @Benchmark
    @Fork(value = 2, jvmArgsAppend = {"-Doffline=true", "-Dai.djl.pytorch.num_threads=2",
            "-Dai.djl.pytorch.num_interop_threads=1"})
    public float twoThreads() {
        return step();
    }

    private float step() {
        float value;
        try (NDManager stepManager = manager.newSubManager()) {
            x.tempAttach(stepManager);
            oneHot.tempAttach(stepManager);
            try (GradientCollector collector = Engine.getEngine("PyTorch").newGradientCollector()) {
                NDArray hidden = x.matMul(params[0]).add(params[1]).maximum(0f);
                NDArray logits = hidden.matMul(params[2]).add(params[3]);
                NDArray loss = logits.logSoftmax(1).mul(oneHot).sum().neg().div(batchSize);
                collector.backward(loss);
                value = loss.getFloat();
            }
            // SGD with momentum as torch.optim.SGD: buf = momentum * buf + grad; p -= lr * buf.
            for (int i = 0; i < params.length; i++) {
                try (NDArray grad = params[i].getGradient()) {
                    momentum[i].muli(MOMENTUM).addi(grad);
                    try (NDArray delta = momentum[i].mul(LR)) {
                        params[i].subi(delta);
                    }
                    grad.subi(grad); // libtorch accumulates gradients; zero them for the next step
                }
            }
        }
        return value;
    }

    private NDArray parameter(Random random, int fanIn, Shape shape) {
        float bound = (float) (1 / Math.sqrt(fanIn));
        NDArray p = manager.create(uniform(random, (int) shape.size(), -bound, bound), shape);
        p.setRequiresGradient(true);
        return p;
    }

    private static float[] uniform(Random random, int n, float low, float high) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = low + (high - low) * random.nextFloat();
        }
        return v;
    }
}
