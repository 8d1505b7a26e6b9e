package dev.adjoint.benchmarks.djl;

import ai.djl.ndarray.types.Shape;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * DJL's resnet-step builds the network ResNetBenchmark and torch_workloads.py build: the same number
 * of trainable parameters, logits [32, 10], and a finite loss that falls over a few SGD steps on its
 * fixed batch.
 */
class DjlResNetTest {
    /**
     * sum(p.numel() for p in model.parameters()) of torch_workloads.py's resnet_step: stem 864 + BN 64;
     * block 32: 2 x 9216 + 2 x 64; block 64: 18432 + 36864 + 2 x 128 + shortcut 2048 + 128; block 128:
     * 73728 + 147456 + 2 x 256 + shortcut 8192 + 256; Linear 1290.
     */
    private static final long PYTORCH_PARAMETERS = 308_650;

    @Test
    void sameNetworkAndTheLossFalls() {
        DjlResNetBenchmark bench = new DjlResNetBenchmark();
        bench.setUp();
        try {
            assertEquals(PYTORCH_PARAMETERS, bench.trainableParameters(), "trainable parameters");
            assertEquals(new Shape(DjlResNetBenchmark.BATCH, DjlResNetBenchmark.CLASSES), bench.outputShape(), "logits");
            float first = bench.step();
            float last = first;
            for (int i = 0; i < 5; i++) {
                last = bench.step();
                assertTrue(Float.isFinite(last), "step " + i + ": loss " + last);
            }
            assertTrue(last < first, "the loss falls over 5 steps on one batch: " + first + " -> " + last);
        } finally {
            bench.tearDown();
        }
    }
}
