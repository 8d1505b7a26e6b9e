package dev.adjoint.benchmarks.djl;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.nn.recurrent.LSTM;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import ai.djl.training.initializer.XavierInitializer;
import ai.djl.util.Pair;
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
 * The story: {@code dev.adjoint.benchmarks.LstmBenchmark} on DJL 0.35 with its PyTorch 2.7.1 engine:
 * DJL's {@link LSTM} block (state size 256, 2 layers, batch-first, biases; libtorch's
 * {@code torch::lstm} underneath, as {@code torch.nn.LSTM}) forward and backward on x [32, 64, 256]
 * requiring a gradient, loss {@code mean(out^2)}, gradients of x and every parameter, no optimizer.
 * The same model as {@code lstm} in {@code benchmarks/peers/torch_workloads.py}; weights from DJL's
 * own initialiser (Xavier, the default of its training configuration). {@code DjlLstmTest} checks the
 * parameter count and the output shape.
 *
 * <p>Pitfalls avoided, as in {@link DjlTransformerBlockBenchmark}: each step's temporaries live in a
 * sub-manager closed at its end; gradients are zeroed after each step, since libtorch accumulates
 * them; libtorch's thread count is set per method in the forks' arguments and read back in the
 * set-up; nothing is downloaded ({@code offline}).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
public class DjlLstmBenchmark {
    private static final String THREADS = "ai.djl.pytorch.num_threads";
    static final Shape INPUT = new Shape(32, 64, 256);
    static final int HIDDEN = 256;
    static final int LAYERS = 2;

    private NDManager manager;
    private LSTM lstm;
    private ParameterStore parameters;
    private NDArray x;

    @Setup
    public void setUp() {
        Engine engine = Engine.getEngine("PyTorch");
        Integer threads = Integer.getInteger(THREADS);
        if (threads != null && JniUtils.getNumThreads() != threads) {
            throw new IllegalStateException("DjlLstmBenchmark: libtorch runs " + JniUtils.getNumThreads()
                    + " intra-op threads, " + THREADS + " asked for " + threads);
        }
        engine.setRandomSeed(0);
        manager = NDManager.newBaseManager(engine.defaultDevice(), engine.getEngineName());
        lstm = LSTM.builder().setStateSize(HIDDEN).setNumLayers(LAYERS).optBatchFirst(true).optHasBiases(true)
                .optReturnState(false).build();
        lstm.setInitializer(new XavierInitializer(), Parameter.Type.WEIGHT);
        lstm.initialize(manager, DataType.FLOAT32, INPUT);
        parameters = new ParameterStore(manager, false);
        x = manager.randomNormal(INPUT);
        x.setRequiresGradient(true);
        float loss = step();
        if (!Float.isFinite(loss)) {
            throw new IllegalStateException("DjlLstmBenchmark setup: a step must give a finite loss, got " + loss);
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

    /** mean(lstm(x)^2), backward, gradients zeroed; the loss. */
    float step() {
        float value;
        try (NDManager stepManager = manager.newSubManager()) {
            x.tempAttach(stepManager);
            try (GradientCollector collector = Engine.getEngine("PyTorch").newGradientCollector()) {
                NDArray loss = output().square().mean();
                collector.backward(loss);
                value = loss.getFloat();
            }
            zeroGradient(x);
            for (Pair<String, Parameter> p : lstm.getParameters()) {
                zeroGradient(p.getValue().getArray());
            }
        }
        return value;
    }

    /** The output sequence [32, 64, 256] (recording if a collector is open). */
    NDArray output() {
        return lstm.forward(parameters, new NDList(x), true).head();
    }

    /** The output's shape, computed in a sub-manager closed before returning. */
    Shape outputShape() {
        try (NDManager probe = manager.newSubManager()) {
            x.tempAttach(probe);
            return output().getShape();
        }
    }

    /** The number of parameters (every one requires a gradient). */
    long parameterCount() {
        long n = 0;
        for (Pair<String, Parameter> p : lstm.getParameters()) {
            if (p.getValue().requiresGradient()) {
                n += p.getValue().getArray().size();
            }
        }
        return n;
    }

    private static void zeroGradient(NDArray array) {
        try (NDArray grad = array.getGradient()) {
            grad.subi(grad);
        }
    }
}
