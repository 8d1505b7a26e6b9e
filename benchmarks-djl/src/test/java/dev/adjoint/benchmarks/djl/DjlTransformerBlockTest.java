package dev.adjoint.benchmarks.djl;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * DJL's transformer block computes what PyTorch and Adjoint compute: the loss and gradients of the
 * fixture {@code benchmarks/peers/transformer_block.py --reference} wrote (the one
 * {@code TransformerBlockTest} checks Adjoint's backends against), with the same FLOAT32 tolerance.
 */
class DjlTransformerBlockTest {
    private static final double RTOL = 1e-3;
    // Surefire runs in the module directory; the fixture is the benchmarks module's test resource.
    private static final Path REFERENCE = Path.of("..", "benchmarks", "src", "test", "resources",
            "transformer-block-reference.json");

    @Test
    void lossAndGradientsMatchPyTorch() throws IOException {
        JsonNode reference = new ObjectMapper().readTree(REFERENCE.toFile());
        Engine engine = Engine.getEngine("PyTorch");
        try (NDManager manager = NDManager.newBaseManager(engine.defaultDevice(), engine.getEngineName())) {
            DjlTransformerBlock block = new DjlTransformerBlock(manager);
            NDArray x = DjlTransformerBlock.input(manager);
            double loss;
            try (GradientCollector collector = engine.newGradientCollector()) {
                NDArray l = block.loss(x);
                collector.backward(l);
                loss = l.getFloat();
            }
            double want = reference.get("loss").asDouble();
            assertEquals(want, loss, RTOL * want, "loss");

            Map<String, float[]> grads = new LinkedHashMap<>();
            grads.put("x", x.getGradient().toFloatArray());
            block.parameters().forEach((name, p) -> grads.put(name, p.getGradient().toFloatArray()));
            List<String> problems = new ArrayList<>();
            reference.get("gradients").fields().forEachRemaining(entry -> {
                float[] g = grads.get(entry.getKey());
                JsonNode ref = entry.getValue();
                double norm = 0;
                for (float v : g) {
                    norm += (double) v * v;
                }
                norm = Math.sqrt(norm);
                double refNorm = ref.get("norm").asDouble();
                if (Math.abs(norm - refNorm) > RTOL * refNorm) {
                    problems.add(entry.getKey() + ": norm " + norm + ", PyTorch " + refNorm);
                }
                double rms = refNorm / Math.sqrt(ref.get("numel").asDouble());
                for (int j = 0; j < ref.get("indices").size(); j++) {
                    int i = ref.get("indices").get(j).asInt();
                    double expected = ref.get("values").get(j).asDouble();
                    if (Math.abs(g[i] - expected) > RTOL * (Math.abs(expected) + rms)) {
                        problems.add(entry.getKey() + "[" + i + "]: " + g[i] + ", PyTorch " + expected);
                    }
                }
            });
            assertTrue(problems.isEmpty(), problems.toString());
        }
    }
}
