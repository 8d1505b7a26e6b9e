package dev.adjoint.conformance;

import com.fasterxml.jackson.databind.JsonNode;
import dev.adjoint.DType;
import dev.adjoint.DTypeMismatchException;
import dev.adjoint.Tensor;
import dev.adjoint.TensorFactory;
import dev.adjoint.spi.Backend;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.DynamicTest;
import org.opentest4j.AssertionFailedError;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * Type promotion and integer division against PyTorch, on one backend: every op of
 * {@code pytorch-dtypes.json} (written by tools/pytorch-reference/generate_dtypes.py) on a tensor and a
 * tensor, a 0-d tensor or a number of every dtype, with torch's result dtype and values. Integer
 * results are compared exactly (as longs), floating ones to the rounding of their dtype. Where torch
 * refuses an op, so must Adjoint; where torch would mix FLOAT32 and FLOAT64 tensors, Adjoint refuses
 * (the documented difference, docs/dtypes.md).
 */
final class DTypeReference {
    private static final String RESOURCE = "/dev/adjoint/conformance/pytorch-dtypes.json";

    private DTypeReference() {
    }

    static Stream<DynamicNode> tests(Backend backend) {
        JsonNode cases = ReferenceFiles.load(RESOURCE, "generate_dtypes.py").get("cases");
        List<DynamicNode> tests = new ArrayList<>();
        for (JsonNode c : cases) {
            String name = c.get("op").asText() + "(" + describe(c.get("a")) + ", " + describe(c.get("b")) + ")";
            tests.add(DynamicTest.dynamicTest(name, () -> check(c, Tensor.on(backend), name)));
        }
        return tests.stream();
    }

    private static String describe(JsonNode operand) {
        return operand.get("kind").asText() + " " + operand.get("dtype").asText();
    }

    private static void check(JsonNode c, TensorFactory f, String name) {
        JsonNode aSpec = c.get("a");
        JsonNode bSpec = c.get("b");
        Tensor a = tensor(f, aSpec);
        String op = c.get("op").asText();
        boolean bIsNumber = bSpec.get("kind").asText().equals("number");
        DType bType = DType.valueOf(bSpec.get("dtype").asText());
        if (c.has("error")) {
            assertThrows(RuntimeException.class, () -> apply(op, a, bSpec, f), name + ": torch refuses it ("
                    + c.get("error").asText() + ")");
            return;
        }
        if (!bIsNumber && a.dtype().isFloatingPoint() && bType.isFloatingPoint() && a.dtype() != bType) {
            DTypeMismatchException e = assertThrows(DTypeMismatchException.class, () -> apply(op, a, bSpec, f),
                    name + ": FLOAT32 with FLOAT64 is refused (docs/dtypes.md)");
            if (!e.getMessage().contains("not promoted")) {
                throw new AssertionFailedError(name + ": the message should say the dtypes are not promoted: "
                        + e.getMessage());
            }
            return;
        }
        Tensor out = apply(op, a, bSpec, f);
        DType expectedType = DType.valueOf(c.get("dtype").asText());
        assertEquals(expectedType, out.dtype(), name + ": result dtype");
        JsonNode data = c.get("data");
        if (!expectedType.isFloatingPoint()) {
            long[] got = out.toLongArray();
            for (int i = 0; i < got.length; i++) {
                assertEquals(data.get(i).asLong(), got[i], name + ": element " + i);
            }
            return;
        }
        double[] got = out.toDoubleArray();
        double relative = expectedType == DType.FLOAT32 ? 1e-6 : 1e-14;
        for (int i = 0; i < got.length; i++) {
            double want = data.get(i).asDouble();
            if (Double.isNaN(want) ? !Double.isNaN(got[i]) : !(Math.abs(got[i] - want) <= relative * Math.abs(want))) {
                throw new AssertionFailedError(name + ": element " + i + " expected " + want + ", got " + got[i]);
            }
        }
    }

    private static Tensor apply(String op, Tensor a, JsonNode bSpec, TensorFactory f) {
        if (bSpec.get("kind").asText().equals("number")) {
            JsonNode v = bSpec.get("data").get(0);
            if (v.isIntegralNumber()) {
                long b = v.asLong();
                return switch (op) {
                    case "add" -> a.add(b);
                    case "mul" -> a.mul(b);
                    case "sub" -> a.sub(b);
                    case "div" -> a.div(b);
                    case "floorDivide" -> a.floorDivide(b);
                    case "remainder" -> a.remainder(b);
                    case "lt" -> a.lt(b);
                    default -> throw new IllegalArgumentException(op);
                };
            }
            double b = v.asDouble();
            return switch (op) {
                case "add" -> a.add(b);
                case "mul" -> a.mul(b);
                case "sub" -> a.sub(b);
                case "div" -> a.div(b);
                case "floorDivide" -> a.floorDivide(b);
                case "remainder" -> a.remainder(b);
                case "lt" -> a.lt(b);
                default -> throw new IllegalArgumentException(op);
            };
        }
        Tensor b = tensor(f, bSpec);
        return switch (op) {
            case "add" -> a.add(b);
            case "mul" -> a.mul(b);
            case "sub" -> a.sub(b);
            case "div" -> a.div(b);
            case "div(trunc)" -> a.div(b, "trunc");
            case "div(floor)" -> a.div(b, "floor");
            case "floorDivide" -> a.floorDivide(b);
            case "remainder" -> a.remainder(b);
            case "lt" -> a.lt(b);
            default -> throw new IllegalArgumentException(op);
        };
    }

    /** The operand as a tensor: integers from their exact JSON values, a 0-d tensor for "zerodim". */
    private static Tensor tensor(TensorFactory f, JsonNode spec) {
        DType dtype = DType.valueOf(spec.get("dtype").asText());
        JsonNode data = spec.get("data");
        int n = data.size();
        Tensor t;
        if (dtype.isFloatingPoint()) {
            double[] v = new double[n];
            for (int i = 0; i < n; i++) {
                v[i] = data.get(i).asDouble();
            }
            t = f.fromArray(v, dtype, n);
        } else {
            long[] v = new long[n];
            for (int i = 0; i < n; i++) {
                v[i] = data.get(i).asLong();
            }
            t = f.fromArray(v, n).toType(dtype);
        }
        return spec.get("kind").asText().equals("zerodim") ? t.reshape() : t;
    }
}
