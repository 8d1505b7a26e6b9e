package dev.adjoint.benchmarks.djl;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import ai.djl.training.initializer.XavierInitializer;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * DJL's encoder-layer is torch_workloads.py's: the same parameter count, output [8, 128, 256], a
 * finite loss, and dropout active (training mode: two steps on the same input differ); under the
 * language model's causal mask a token's output does not depend on later tokens.
 */
class DjlEncoderLayerTest {
    /**
     * sum(p.numel() for p in nn.TransformerEncoderLayer(256, 4, 1024).parameters()): in_proj 768 x 256
     * + 768, out_proj 256 x 256 + 256, linear1 1024 x 256 + 1024, linear2 256 x 1024 + 256, two
     * LayerNorms 2 x 512.
     */
    private static final long PYTORCH_PARAMETERS = 789_760;

    @Test
    void sameLayerInTrainingMode() {
        DjlEncoderLayerBenchmark bench = new DjlEncoderLayerBenchmark();
        bench.setUp();
        try {
            assertEquals(PYTORCH_PARAMETERS, bench.parameterCount(), "parameters");
            assertEquals(DjlEncoderLayerBenchmark.INPUT, bench.outputShape(), "output");
            float first = bench.step();
            float second = bench.step();
            assertTrue(Float.isFinite(first) && first > 0, "loss " + first);
            assertNotEquals(first, second, "dropout draws new masks each step");
        } finally {
            bench.tearDown();
        }
    }

    @Test
    void theCausalMaskHidesLaterTokens() {
        Engine engine = Engine.getEngine("PyTorch");
        try (NDManager manager = NDManager.newBaseManager(engine.defaultDevice(), engine.getEngineName())) {
            Shape shape = new Shape(1, 4, 256);
            DjlEncoderLayer layer = new DjlEncoderLayer(256, 4, 1024, 0.1f);
            layer.setInitializer(new XavierInitializer(), Parameter.Type.WEIGHT);
            layer.initialize(manager, DataType.FLOAT32, shape, new Shape(4, 4));
            ParameterStore ps = new ParameterStore(manager, false);
            float[] causal = new float[16];
            for (int i = 0; i < 4; i++) {
                for (int j = i + 1; j < 4; j++) {
                    causal[i * 4 + j] = Float.NEGATIVE_INFINITY;
                }
            }
            NDArray mask = manager.create(causal, new Shape(4, 4));
            NDArray x = manager.randomNormal(shape);
            NDArray changed = x.duplicate();
            changed.set(new NDIndex(":, 3, :"), 5f);
            // Evaluation mode: no dropout, so only the mask decides what reaches token 0..2.
            NDArray a = layer.forward(ps, new NDList(x, mask), false).singletonOrThrow();
            NDArray b = layer.forward(ps, new NDList(changed, mask), false).singletonOrThrow();
            NDIndex first3 = new NDIndex(":, 0:3, :");
            assertTrue(a.get(first3).allClose(b.get(first3), 1e-5, 1e-6, false), "tokens 0..2 do not see token 3");
            assertTrue(!a.get(new NDIndex(":, 3, :")).allClose(b.get(new NDIndex(":, 3, :"))), "token 3 sees itself");
        }
    }
}
