package dev.adjoint.benchmarks.djl;

import ai.djl.ndarray.types.Shape;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * DJL's language-model is torch_workloads.py's: the same number of trainable parameters, logits
 * [8, 128, 4096], and a finite loss that falls over a few AdamW steps on its fixed batch.
 */
class DjlLanguageModelTest {
    /**
     * sum(p.numel() for p in model.parameters()) of torch_workloads.py's language_model: embeddings
     * 4096 x 256 + 128 x 256, two encoder layers of 789,760, LayerNorm 512, head 4096 x 256 + 4096.
     */
    private static final long PYTORCH_PARAMETERS = 3_714_048;

    @Test
    void sameModelAndTheLossFalls() {
        DjlLanguageModelBenchmark bench = new DjlLanguageModelBenchmark();
        bench.setUp();
        try {
            assertEquals(PYTORCH_PARAMETERS, bench.trainableParameters(), "trainable parameters");
            assertEquals(new Shape(DjlLanguageModelBenchmark.BATCH, DjlLanguageModelBenchmark.LENGTH,
                    DjlLanguageModelBenchmark.VOCABULARY), bench.outputShape(), "logits");
            float first = bench.step();
            float last = first;
            for (int i = 0; i < 4; i++) {
                last = bench.step();
                assertTrue(Float.isFinite(last), "step " + i + ": loss " + last);
            }
            assertTrue(last < first, "the loss falls over 4 steps on one batch: " + first + " -> " + last);
        } finally {
            bench.tearDown();
        }
    }
}
