package dev.adjoint.benchmarks.djl;

import ai.djl.Device;
import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.ndarray.types.SparseFormat;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.nn.core.Embedding;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.LayerNorm;
import ai.djl.training.DefaultTrainingConfig;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import ai.djl.training.Trainer;
import ai.djl.training.loss.SoftmaxCrossEntropyLoss;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;
import ai.djl.util.PairList;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;

/**
 * The story: {@code dev.adjoint.benchmarks.LanguageModelBenchmark} on DJL 0.35 with its PyTorch 2.7.1
 * engine: token and position embeddings (vocabulary 4096, width 256; DJL's {@link Embedding#embedding},
 * libtorch's dense {@code embedding} and its scatter-add gradient), two pre-norm {@link DjlEncoderLayer}s
 * (4 heads, feed-forward 1024, GELU, dropout 0.1) under a causal mask, a final {@link LayerNorm}, a
 * {@link Linear} head to the vocabulary; {@link SoftmaxCrossEntropyLoss} of 8 x 128 random next tokens,
 * backward, and DJL's AdamW (lr 3e-4, weight decay 0.01, torch.optim.AdamW's defaults) through a
 * {@link Trainer}. The same model as {@code language-model} in {@code benchmarks/peers/torch_workloads.py};
 * DJL's own initialisation. {@code DjlLanguageModelTest} checks the parameter count, the logits' shape
 * and that the loss falls.
 *
 * <p>DJL's AdamW decays weights as torch.optim.AdamW does ({@code w -= lr wd w}, apart from the
 * gradient), but adds epsilon to {@code sqrt(v)} before the bias correction of the second moment
 * rather than after: a different step size while v is tiny, the same work.
 *
 * <p>Pitfalls avoided: as {@link DjlResNetBenchmark}.
 */
@State(Scope.Thread)
public class DjlLanguageModelBenchmark extends DjlStepBenchmark {
    static final int VOCABULARY = 4096;
    static final int WIDTH = 256;
    static final int LENGTH = 128;
    static final int BATCH = 8;

    private Model model;
    private Trainer trainer;
    private NDArray tokens;
    private NDArray targets;
    private NDArray positions;
    private NDArray causal;

    @Override
    protected void build(Engine engine) {
        model = Model.newInstance("language-model", engine.getEngineName());
        model.setBlock(new LanguageModel());
        Optimizer adamW = Optimizer.adamW().optLearningRateTracker(Tracker.fixed(3e-4f)).optWeightDecays(0.01f).build();
        trainer = model.newTrainer(new DefaultTrainingConfig(new SoftmaxCrossEntropyLoss()).optOptimizer(adamW)
                .optDevices(new Device[] {engine.defaultDevice()}));
        trainer.initialize(new Shape(BATCH, LENGTH), new Shape(LENGTH), new Shape(LENGTH, LENGTH));
        NDManager manager = trainer.getManager();
        tokens = manager.randomInteger(0, VOCABULARY, new Shape(BATCH, LENGTH), DataType.INT64);
        targets = manager.randomInteger(0, VOCABULARY, new Shape(BATCH * LENGTH), DataType.INT64);
        positions = manager.arange(0L, (long) LENGTH, 1L, DataType.INT64);
        // -inf above the diagonal: position i attends to positions up to i.
        float[] mask = new float[LENGTH * LENGTH];
        for (int i = 0; i < LENGTH; i++) {
            for (int j = i + 1; j < LENGTH; j++) {
                mask[i * LENGTH + j] = Float.NEGATIVE_INFINITY;
            }
        }
        causal = manager.create(mask, new Shape(LENGTH, LENGTH));
    }

    @Override
    protected void close() {
        trainer.close();
        model.close();
    }

    /** Forward, cross-entropy of the next tokens, backward and the AdamW step; the loss. */
    @Override
    float step() {
        float value;
        try (NDManager stepManager = trainer.getManager().newSubManager()) {
            for (NDArray a : new NDArray[] {tokens, targets, positions, causal}) {
                a.tempAttach(stepManager);
            }
            try (GradientCollector collector = trainer.newGradientCollector()) {
                NDArray logits = trainer.forward(new NDList(tokens, positions, causal)).singletonOrThrow();
                NDArray loss = trainer.getLoss().evaluate(new NDList(targets),
                        new NDList(logits.reshape(BATCH * LENGTH, VOCABULARY)));
                collector.backward(loss);
                value = loss.getFloat();
            }
            trainer.step();
        }
        return value;
    }

    /** The logits' shape, in training mode, without recording or updating anything. */
    Shape outputShape() {
        try (NDManager probe = trainer.getManager().newSubManager()) {
            for (NDArray a : new NDArray[] {tokens, positions, causal}) {
                a.tempAttach(probe);
            }
            return trainer.evaluate(new NDList(tokens, positions, causal)).singletonOrThrow().getShape();
        }
    }

    /** The number of trainable parameters. */
    long trainableParameters() {
        return trainableParameters(model.getBlock());
    }

    /** Embeddings, two encoder layers, LayerNorm, head: inputs tokens [batch, length], positions [length], mask. */
    static final class LanguageModel extends AbstractBlock {
        private final Parameter tokenTable;
        private final Parameter positionTable;
        private final Block layer1;
        private final Block layer2;
        private final Block norm;
        private final Block head;

        LanguageModel() {
            tokenTable = addParameter(Parameter.builder().setName("tokens").setType(Parameter.Type.WEIGHT)
                    .optShape(new Shape(VOCABULARY, WIDTH)).build());
            positionTable = addParameter(Parameter.builder().setName("positions").setType(Parameter.Type.WEIGHT)
                    .optShape(new Shape(LENGTH, WIDTH)).build());
            layer1 = addChildBlock("layer1", new DjlEncoderLayer(WIDTH, 4, 1024, 0.1f));
            layer2 = addChildBlock("layer2", new DjlEncoderLayer(WIDTH, 4, 1024, 0.1f));
            norm = addChildBlock("norm", LayerNorm.builder().axis(2).optEpsilon(1e-5f).build());
            head = addChildBlock("head", Linear.builder().setUnits(VOCABULARY).build());
        }

        @Override
        protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training,
                PairList<String, Object> params) {
            NDArray ids = inputs.get(0);
            Device device = ids.getDevice();
            NDArray h = Embedding.embedding(ids, ps.getValue(tokenTable, device, training), SparseFormat.DENSE)
                    .singletonOrThrow()
                    .add(Embedding.embedding(inputs.get(1), ps.getValue(positionTable, device, training),
                            SparseFormat.DENSE).singletonOrThrow());
            NDArray mask = inputs.get(2);
            h = layer1.forward(ps, new NDList(h, mask), training).singletonOrThrow();
            h = layer2.forward(ps, new NDList(h, mask), training).singletonOrThrow();
            h = norm.forward(ps, new NDList(h), training).singletonOrThrow();
            return head.forward(ps, new NDList(h), training);
        }

        @Override
        public Shape[] getOutputShapes(Shape[] inputShapes) {
            return new Shape[] {new Shape(inputShapes[0].get(0), inputShapes[0].get(1), VOCABULARY)};
        }

        @Override
        protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
            Shape hidden = new Shape(inputShapes[0].get(0), inputShapes[0].get(1), WIDTH);
            layer1.initialize(manager, dataType, hidden, inputShapes[2]);
            layer2.initialize(manager, dataType, hidden, inputShapes[2]);
            norm.initialize(manager, dataType, hidden);
            head.initialize(manager, dataType, hidden);
        }
    }
}
