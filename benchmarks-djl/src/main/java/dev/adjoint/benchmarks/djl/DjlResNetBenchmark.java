package dev.adjoint.benchmarks.djl;

import ai.djl.Device;
import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.Block;
import ai.djl.nn.Blocks;
import ai.djl.nn.ParallelBlock;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.BatchNorm;
import ai.djl.nn.pooling.Pool;
import ai.djl.training.DefaultTrainingConfig;
import ai.djl.training.GradientCollector;
import ai.djl.training.Trainer;
import ai.djl.training.loss.SoftmaxCrossEntropyLoss;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;

import java.util.List;

/**
 * The story: {@code dev.adjoint.benchmarks.ResNetBenchmark} on DJL 0.35 with its PyTorch 2.7.1
 * engine, written as a DJL user writes a model: blocks ({@link Conv2d} without bias, {@link BatchNorm},
 * ReLU, residual blocks as a {@link ParallelBlock} of the main path and the shortcut, global average
 * pooling, {@link Linear}), a {@link Trainer} with {@link SoftmaxCrossEntropyLoss} and SGD (lr 0.01,
 * momentum 0.9, weight decay 5e-4), on random images [32, 3, 32, 32] and labels; DJL's own
 * initialisation. The same network as {@code resnet-step} in {@code benchmarks/peers/torch_workloads.py}:
 * {@code DjlResNetTest} checks the parameter count, the output shape and that the loss falls.
 *
 * <p>DJL's SGD keeps its momentum buffer scaled by the learning rate
 * ({@code v = m v + lr (g + wd w); w -= v}) where torch.optim.SGD keeps it unscaled
 * ({@code b = m b + g + wd w; w -= lr b}): at a fixed learning rate the two give the same weights,
 * with the same work per parameter. Weight decay applies to every trainable parameter in both.
 *
 * <p>Pitfalls avoided, as in {@link DjlTransformerBlockBenchmark}: each step's temporaries live in a
 * sub-manager closed at its end; gradients are zeroed by DJL's SGD update (libtorch accumulates
 * them); libtorch's thread count is set per method in the forks' arguments and read back in the
 * set-up; nothing is downloaded ({@code offline}); no metrics or listeners on the trainer.
 */
@State(Scope.Thread)
public class DjlResNetBenchmark extends DjlStepBenchmark {
    static final int BATCH = 32;
    static final int CLASSES = 10;

    private Model model;
    private Trainer trainer;
    private NDArray images;
    private NDArray labels;

    @Override
    protected void build(Engine engine) {
        model = Model.newInstance("resnet-step", engine.getEngineName());
        model.setBlock(network());
        Optimizer sgd = Optimizer.sgd().setLearningRateTracker(Tracker.fixed(0.01f)).optMomentum(0.9f)
                .optWeightDecays(5e-4f).build();
        trainer = model.newTrainer(new DefaultTrainingConfig(new SoftmaxCrossEntropyLoss()).optOptimizer(sgd)
                .optDevices(new Device[] {engine.defaultDevice()}));
        trainer.initialize(new Shape(BATCH, 3, 32, 32));
        NDManager manager = trainer.getManager();
        images = manager.randomNormal(new Shape(BATCH, 3, 32, 32));
        labels = manager.randomInteger(0, CLASSES, new Shape(BATCH), DataType.INT64);
    }

    @Override
    protected void close() {
        trainer.close();
        model.close();
    }

    /** Forward, cross-entropy, backward and the SGD step; the loss. */
    @Override
    float step() {
        float value;
        try (NDManager stepManager = trainer.getManager().newSubManager()) {
            images.tempAttach(stepManager);
            labels.tempAttach(stepManager);
            try (GradientCollector collector = trainer.newGradientCollector()) {
                NDList logits = trainer.forward(new NDList(images));
                NDArray loss = trainer.getLoss().evaluate(new NDList(labels), logits);
                collector.backward(loss);
                value = loss.getFloat();
            }
            trainer.step();
        }
        return value;
    }

    /** The logits' shape for the benchmark's images, without recording or updating anything. */
    Shape outputShape() {
        try (NDManager probe = trainer.getManager().newSubManager()) {
            images.tempAttach(probe);
            return trainer.evaluate(new NDList(images)).singletonOrThrow().getShape();
        }
    }

    /** The number of trainable parameters (BatchNorm's running statistics are not). */
    long trainableParameters() {
        return trainableParameters(model.getBlock());
    }

    /** ResNetBenchmark's network: stem, three residual blocks, pooling, classifier. */
    static Block network() {
        return new SequentialBlock()
                .add(conv(32, 3, 1)).add(BatchNorm.builder().build()).add(Activation::relu)
                .add(residual(32, 1, false)).add(residual(64, 2, true)).add(residual(128, 2, true))
                .add(Pool.globalAvgPool2dBlock())
                .add(Linear.builder().setUnits(CLASSES).build());
    }

    /** Two 3x3 convolutions with batch norms beside a shortcut (a 1x1 projection where the shape changes), summed, ReLU. */
    private static Block residual(int channels, int stride, boolean project) {
        Block main = new SequentialBlock()
                .add(conv(channels, 3, stride)).add(BatchNorm.builder().build()).add(Activation::relu)
                .add(conv(channels, 3, 1)).add(BatchNorm.builder().build());
        Block shortcut = project
                ? new SequentialBlock().add(conv(channels, 1, stride)).add(BatchNorm.builder().build())
                : Blocks.identityBlock();
        return new ParallelBlock(
                paths -> new NDList(Activation.relu(paths.get(0).singletonOrThrow().add(paths.get(1).singletonOrThrow()))),
                List.of(main, shortcut));
    }

    /** A square convolution without bias (a batch norm follows), padded to keep the size at stride 1. */
    private static Block conv(int filters, int kernel, int stride) {
        return Conv2d.builder().setFilters(filters).setKernelShape(new Shape(kernel, kernel))
                .optStride(new Shape(stride, stride)).optPadding(new Shape(kernel / 2, kernel / 2)).optBias(false)
                .build();
    }
}
