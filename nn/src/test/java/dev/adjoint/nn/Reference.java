package dev.adjoint.nn;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.adjoint.DType;
import dev.adjoint.Tensor;
import dev.adjoint.backend.Backends;
import dev.adjoint.spi.Backend;
import org.opentest4j.AssertionFailedError;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Arrays;
import java.util.List;

/**
 * Test support: the PyTorch reference file, the backends under test, and tolerant comparison.
 *
 * <p>Every test that compares numbers runs on each backend {@link Backends#list()} reports as
 * available, so a new engine on the test class path is checked without touching these tests.
 */
final class Reference {
    static final String RESOURCE = "/dev/adjoint/nn/pytorch-trajectories.json";

    private static final class Holder {
        static final JsonNode ROOT = load(RESOURCE);
    }

    private Reference() {
    }

    static JsonNode root() {
        return Holder.ROOT;
    }

    /** A committed reference file; its "generator" field names the script that rewrites it. */
    static JsonNode load(String resource) {
        try (InputStream in = Reference.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException(resource + " is missing; regenerate it with the matching "
                        + "/usr/bin/python3 tools/pytorch-reference/generate_nn*.py");
            }
            return new ObjectMapper().readTree(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The available backends, best first. */
    static List<Backend> backends() {
        List<Backend> out = Backends.list().stream().filter(Backends.BackendInfo::available)
                .map(Backends.BackendInfo::backend).toList();
        if (out.isEmpty()) {
            throw new IllegalStateException("no available backend: " + Backends.describe());
        }
        return out;
    }

    static List<String> backendNames() {
        return backends().stream().map(Backend::name).toList();
    }

    static int[] shape(JsonNode t) {
        JsonNode s = t.get("shape");
        int[] out = new int[s.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = s.get(i).asInt();
        }
        return out;
    }

    static double[] data(JsonNode t) {
        JsonNode d = t.get("data");
        double[] out = new double[d.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = d.get(i).asDouble();
        }
        return out;
    }

    /** The stored tensor on {@code backend}: INT64 when stored as such, otherwise in {@code dtype}. */
    static Tensor tensor(JsonNode t, Backend backend, DType dtype) {
        var create = Tensor.on(backend);
        if (t.has("dtype") && t.get("dtype").asText().equals("INT64")) {
            JsonNode d = t.get("data");
            long[] values = new long[d.size()];
            for (int i = 0; i < values.length; i++) {
                values[i] = d.get(i).asLong();
            }
            return create.fromArray(values, shape(t));
        }
        return create.fromArray(data(t), dtype, shape(t));
    }

    /** Asserts |actual - expected| <= atol + rtol |expected| elementwise, naming the worst element. */
    static void assertClose(String what, double[] expected, double[] actual, double rtol, double atol) {
        if (expected.length != actual.length) {
            throw new AssertionFailedError(what + ": expected " + expected.length + " values, got " + actual.length);
        }
        int worst = -1;
        double worstExcess = 0;
        for (int i = 0; i < expected.length; i++) {
            if (Double.isNaN(actual[i]) && Double.isNaN(expected[i])) {
                continue;
            }
            double err = Math.abs(actual[i] - expected[i]);
            double allowed = atol + rtol * Math.abs(expected[i]);
            boolean bad = !(err <= allowed);
            if (bad && (worst < 0 || !(err - allowed <= worstExcess))) {
                worst = i;
                worstExcess = err - allowed;
            }
        }
        if (worst >= 0) {
            throw new AssertionFailedError(what + ": element " + worst + " is " + actual[worst] + ", expected "
                    + expected[worst] + " (|diff| " + Math.abs(actual[worst] - expected[worst]) + " > atol " + atol
                    + " + rtol " + rtol + " * |expected|)");
        }
    }

    static void assertClose(String what, double expected, double actual, double rtol, double atol) {
        assertClose(what, new double[] {expected}, new double[] {actual}, rtol, atol);
    }

    static void assertClose(String what, JsonNode expected, Tensor actual, double rtol, double atol) {
        int[] shape = shape(expected);
        if (!Arrays.equals(shape, actual.shape().toArray())) {
            throw new AssertionFailedError(what + ": expected shape " + Arrays.toString(shape) + ", got "
                    + actual.shape());
        }
        assertClose(what, data(expected), actual.toDoubleArray(), rtol, atol);
    }
}
