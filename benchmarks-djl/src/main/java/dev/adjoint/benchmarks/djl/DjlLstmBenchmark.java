package dev.adjoint.benchmarks.djl;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.nn.recurrent.LSTM;
import ai.djl.training.ParameterStore;
import ai.djl.training.initializer.XavierInitializer;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;

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
public class DjlLstmBenchmark extends DjlStepBenchmark {
    static final Shape INPUT = new Shape(32, 64, 256);
    static final int HIDDEN = 256;
    static final int LAYERS = 2;

    private NDManager manager;
    private LSTM lstm;
    private ParameterStore parameters;
    private NDArray x;

    @Override
    protected void build(Engine engine) {
        manager = NDManager.newBaseManager(engine.defaultDevice(), engine.getEngineName());
        lstm = LSTM.builder().setStateSize(HIDDEN).setNumLayers(LAYERS).optBatchFirst(true).optHasBiases(true)
                .optReturnState(false).build();
        lstm.setInitializer(new XavierInitializer(), Parameter.Type.WEIGHT);
        lstm.initialize(manager, DataType.FLOAT32, INPUT);
        parameters = new ParameterStore(manager, false);
        x = manager.randomNormal(INPUT);
        x.setRequiresGradient(true);
    }

    @Override
    protected void close() {
        manager.close();
    }

    /** mean(lstm(x)^2), backward, gradients zeroed; the loss. */
    @Override
    float step() {
        return backward(manager, x, () -> output().square().mean(), arrays(lstm));
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
        return trainableParameters(lstm);
    }
}
