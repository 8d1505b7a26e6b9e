package dev.adjoint.benchmarks.block;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.adjoint.Tensor;
import dev.adjoint.backend.Backends;
import dev.adjoint.spi.Backend;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The transformer block that TransformerBlockBenchmark times computes what PyTorch computes: the
 * same weights and input (ReferenceBlock, from PortableUniform) give the loss and gradients of
 * {@code transformer-block-reference.json}, which {@code benchmarks/peers/transformer_block.py
 * --reference} wrote from PyTorch in FLOAT64. Run on every backend available in this JVM (Surefire
 * starts it with the Vector API and native access, so simd and nd4j too). The tolerance is
 * FLOAT32's: 1e-3 relative, as the script's own {@code --check} of PyTorch's FLOAT32 step.
 */
class TransformerBlockTest {
    private static final double RTOL = 1e-3;

    @TestFactory
    Stream<DynamicTest> lossAndGradientsMatchPyTorch() throws IOException {
        JsonNode reference = reference();
        return Backends.list().stream().filter(Backends.BackendInfo::available)
                .map(info -> DynamicTest.dynamicTest(info.name(), () -> check(info.backend(), reference)));
    }

    private static void check(Backend backend, JsonNode reference) {
        TransformerBlock block = ReferenceBlock.build(backend);
        Tensor x = ReferenceBlock.input(backend).requiresGrad(true);
        Tensor loss = ReferenceBlock.loss(block, x);
        loss.backward();

        double want = reference.get("loss").asDouble();
        assertEquals(want, loss.item(), RTOL * want, backend.name() + ": loss");
        Map<String, Tensor> grads = new LinkedHashMap<>();
        grads.put("x", x.grad());
        block.namedParameters().forEach((name, p) -> grads.put(name, p.grad()));
        assertEquals(13, grads.size(), "x and the twelve parameters");

        List<String> problems = new ArrayList<>();
        reference.get("gradients").fields().forEachRemaining(entry -> {
            String name = entry.getKey();
            JsonNode ref = entry.getValue();
            Tensor grad = grads.get(name);
            if (grad == null) {
                problems.add(name + ": no gradient");
                return;
            }
            double[] g = grad.toDoubleArray();
            double norm = 0;
            for (double v : g) {
                norm += v * v;
            }
            norm = Math.sqrt(norm);
            double refNorm = ref.get("norm").asDouble();
            if (Math.abs(norm - refNorm) > RTOL * refNorm) {
                problems.add(name + ": norm " + norm + ", PyTorch " + refNorm);
            }
            double rms = refNorm / Math.sqrt(ref.get("numel").asDouble());
            for (int j = 0; j < ref.get("indices").size(); j++) {
                int i = ref.get("indices").get(j).asInt();
                double expected = ref.get("values").get(j).asDouble();
                if (Math.abs(g[i] - expected) > RTOL * (Math.abs(expected) + rms)) {
                    problems.add(name + "[" + i + "]: " + g[i] + ", PyTorch " + expected);
                }
            }
        });
        assertTrue(problems.isEmpty(), backend.name() + ": " + problems);
    }

    private static JsonNode reference() throws IOException {
        try (InputStream in = TransformerBlockTest.class.getResourceAsStream("/transformer-block-reference.json")) {
            return new ObjectMapper().readTree(in);
        }
    }
}
