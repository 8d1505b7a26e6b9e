package dev.adjoint.conformance;

import com.fasterxml.jackson.databind.JsonNode;
import dev.adjoint.DType;
import dev.adjoint.Tensor;
import dev.adjoint.func.Transforms;
import dev.adjoint.spi.Backend;
import org.junit.jupiter.api.DynamicNode;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiFunction;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;

import static org.junit.jupiter.api.DynamicContainer.dynamicContainer;
import static org.junit.jupiter.api.DynamicTest.dynamicTest;

/**
 * The function transforms against {@code torch.autograd.functional} (jvp, vjp, jacobian, hessian,
 * hvp), through the public API only: {@link Transforms}. Reference values come from
 * {@code tools/pytorch-reference/generate_transforms.py}, which stores every input; each Python
 * function has a Java twin of the same name below. Jacobians are checked from both jacfwd and jacrev.
 */
public final class TransformsReference {
    private static final String RESOURCE = "/dev/adjoint/conformance/transforms-reference.json";

    /** The Java twin of each Python function: (x, constants) -> output. */
    private static final Map<String, BiFunction<Tensor, Map<String, Tensor>, Tensor>> FUNCTIONS = Map.of(
            "vector_field", TransformsReference::vectorField,
            "matrix_map", TransformsReference::matrixMap,
            "scalar_field", TransformsReference::scalarField,
            "scalar_of_matrix", TransformsReference::scalarOfMatrix);

    private TransformsReference() {
    }

    static Tensor vectorField(Tensor x, Map<String, Tensor> c) {
        return c.get("A").matmul(x).tanh().mul(c.get("B").matmul(x).div(4.0).exp());
    }

    static Tensor matrixMap(Tensor x, Map<String, Tensor> c) {
        return x.matmul(c.get("W")).matmul(x.transpose(0, 1)).logSumExp(1, false).add(x.sum(1, false).sigmoid());
    }

    static Tensor scalarField(Tensor x, Map<String, Tensor> c) {
        Tensor square = x.pow(2.0);
        return x.sin().mul(square).sum().add(square.sum().log1p()).add(x.erf().mul(x.add(0.3).relu()).sum());
    }

    static Tensor scalarOfMatrix(Tensor x, Map<String, Tensor> c) {
        return x.softmax(1).mul(x).sum().add(x.matmul(c.get("V")).sigmoid().mean())
                .add(x.pow(2.0).add(1.0).sqrt().sum());
    }

    public static Stream<DynamicNode> tests(Backend backend) {
        JsonNode root = ReferenceFiles.load(RESOURCE, "generate_transforms.py");
        List<DynamicNode> perDtype = new ArrayList<>();
        for (DType dtype : List.of(DType.FLOAT64, DType.FLOAT32)) {
            List<DynamicNode> cases = new ArrayList<>();
            for (JsonNode c : root.get("cases")) {
                cases.add(dynamicTest(c.get("name").asText(), () -> run(c, backend, dtype)));
            }
            perDtype.add(dynamicContainer(dtype.name(), cases));
        }
        return perDtype.stream();
    }

    private static void run(JsonNode c, Backend backend, DType dtype) {
        String name = c.get("name").asText();
        BiFunction<Tensor, Map<String, Tensor>, Tensor> fn = FUNCTIONS.get(name);
        if (fn == null) {
            throw new AssertionError("transforms-reference.json has case '" + name + "' without a Java twin");
        }
        Map<String, Tensor> constants = new HashMap<>();
        c.get("constants").fields().forEachRemaining(e -> constants.put(e.getKey(), tensor(e.getValue(), backend, dtype)));
        Tensor x = tensor(c.get("inputs").get("x"), backend, dtype);
        Tensor v = tensor(c.get("inputs").get("v"), backend, dtype);
        Tensor u = tensor(c.get("inputs").get("u"), backend, dtype);
        UnaryOperator<Tensor> f = t -> fn.apply(t, constants);
        JsonNode expected = c.get("expected");
        double atol = dtype == DType.FLOAT64 ? 1e-12 : 2e-5;
        double rtol = dtype == DType.FLOAT64 ? 1e-10 : 2e-4;
        String where = name + " " + dtype + " on " + backend.name();
        check(where + " output", expected.get("output"), f.apply(x), atol, rtol);
        Transforms.JvpResult jvp = Transforms.jvp(f, x, v);
        check(where + " jvp output", expected.get("output"), jvp.output(), atol, rtol);
        check(where + " jvp", expected.get("jvp"), jvp.tangent(), atol, rtol);
        check(where + " vjp", expected.get("vjp"), Transforms.vjp(f, x).pullback(u), atol, rtol);
        check(where + " jacobian (jacfwd)", expected.get("jacobian"), Transforms.jacfwd(f, x), atol, rtol);
        check(where + " jacobian (jacrev)", expected.get("jacobian"), Transforms.jacrev(f, x), atol, rtol);
        if (expected.has("hessian")) {
            check(where + " hessian", expected.get("hessian"), Transforms.hessian(f, x), atol, rtol);
            check(where + " hvp", expected.get("hvp"), Transforms.hvp(f, x, v), atol, rtol);
        }
    }

    private static void check(String what, JsonNode expected, Tensor actual, double atol, double rtol) {
        int[] shape = shape(expected);
        if (!java.util.Arrays.equals(shape, actual.shape().toArray())) {
            throw new AssertionError(what + ": shape " + actual.shape() + " but PyTorch's is "
                    + java.util.Arrays.toString(shape));
        }
        Compare.assertClose(what, data(expected), actual.toDoubleArray(), atol, rtol);
    }

    private static Tensor tensor(JsonNode node, Backend backend, DType dtype) {
        return Tensor.on(backend).fromArray(data(node), shape(node)).toType(dtype);
    }

    private static int[] shape(JsonNode node) {
        JsonNode s = node.get("shape");
        int[] shape = new int[s.size()];
        for (int i = 0; i < shape.length; i++) {
            shape[i] = s.get(i).asInt();
        }
        return shape;
    }

    private static double[] data(JsonNode node) {
        JsonNode d = node.get("data");
        double[] data = new double[d.size()];
        for (int i = 0; i < data.length; i++) {
            data[i] = d.get(i).asDouble();
        }
        return data;
    }
}
