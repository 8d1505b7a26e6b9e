package dev.adjoint.benchmarks.djl;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import ai.djl.training.initializer.XavierInitializer;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;

/**
 * The story: {@code dev.adjoint.benchmarks.EncoderLayerBenchmark} on DJL 0.35 with its PyTorch 2.7.1
 * engine: the pre-norm encoder layer ({@link DjlEncoderLayer}: width 256, 4 heads, feed-forward 1024,
 * GELU, dropout 0.1, in training mode) forward and backward on x [8, 128, 256] requiring a gradient,
 * loss {@code mean(out^2)}, gradients of x and every parameter, no optimizer. The same layer as
 * {@code encoder-layer} in {@code benchmarks/peers/torch_workloads.py}; weights from DJL's own
 * initialiser (Xavier, the default of its training configuration). {@code DjlEncoderLayerTest}
 * checks the parameter count and the output shape.
 *
 * <p>Pitfalls avoided: as {@link DjlLstmBenchmark}.
 */
@State(Scope.Thread)
public class DjlEncoderLayerBenchmark extends DjlStepBenchmark {
    static final Shape INPUT = new Shape(8, 128, 256);

    private NDManager manager;
    private DjlEncoderLayer layer;
    private ParameterStore parameters;
    private NDArray x;

    @Override
    protected void build(Engine engine) {
        manager = NDManager.newBaseManager(engine.defaultDevice(), engine.getEngineName());
        layer = new DjlEncoderLayer(256, 4, 1024, 0.1f);
        layer.setInitializer(new XavierInitializer(), Parameter.Type.WEIGHT);
        layer.initialize(manager, DataType.FLOAT32, INPUT);
        parameters = new ParameterStore(manager, false);
        x = manager.randomNormal(INPUT);
        x.setRequiresGradient(true);
    }

    @Override
    protected void close() {
        manager.close();
    }

    /** mean(layer(x)^2) in training mode, backward, gradients zeroed; the loss. */
    @Override
    float step() {
        return backward(manager, x, () -> output().square().mean(), arrays(layer));
    }

    /** The layer's output in training mode (recording if a collector is open). */
    NDArray output() {
        return layer.forward(parameters, new NDList(x), true).singletonOrThrow();
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
        return trainableParameters(layer);
    }
}
