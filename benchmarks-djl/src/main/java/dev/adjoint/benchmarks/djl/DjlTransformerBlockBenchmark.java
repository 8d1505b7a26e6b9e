package dev.adjoint.benchmarks.djl;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;

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
public class DjlTransformerBlockBenchmark extends DjlStepBenchmark {

    private NDManager manager;
    private DjlTransformerBlock block;
    private NDArray x;

    @Override
    protected void build(Engine engine) {
        manager = NDManager.newBaseManager(engine.defaultDevice(), engine.getEngineName());
        block = new DjlTransformerBlock(manager);
        x = DjlTransformerBlock.input(manager);
    }

    @Override
    protected void close() {
        manager.close();
    }

    @Override
    float step() {
        return backward(manager, x, () -> block.loss(x), block.parameters().values());
    }
}
