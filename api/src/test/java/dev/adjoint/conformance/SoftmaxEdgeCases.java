package dev.adjoint.conformance;

import dev.adjoint.DType;
import dev.adjoint.Tensor;
import dev.adjoint.TensorFactory;
import dev.adjoint.spi.Backend;
import org.junit.jupiter.api.DynamicNode;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.DynamicContainer.dynamicContainer;
import static org.junit.jupiter.api.DynamicTest.dynamicTest;

/**
 * softmax, logSoftmax and logSumExp on rows holding infinities or NaN, and over empty dimensions,
 * against what PyTorch 1.13 returns. The catalogue's random samples never reach these rows; a
 * training run does (a masked attention row of -inf, a diverged logit).
 */
public final class SoftmaxEdgeCases {
    private static final double INF = Double.POSITIVE_INFINITY;
    private static final double NAN = Double.NaN;

    /**
     * One row, the op's output along it and the gradient of {@code sum(out * [1, 2, ...])}. Values from
     * PyTorch 1.13, float64: {@code torch.softmax(x, 0)}, {@code torch.log_softmax(x, 0)},
     * {@code torch.logsumexp(x, 0, keepdim=True)}, then {@code (y * torch.arange(1, n + 1)).sum().backward()}.
     */
    private record Case(String op, double[] row, double[] out, double[] grad) {
    }

    private static final List<Case> CASES = List.of(
            new Case("softmax", v(INF, 1), v(NAN, NAN), v(NAN, NAN)),
            new Case("logSoftmax", v(INF, 1), v(NAN, NAN), v(NAN, NAN)),
            new Case("logSumExp", v(INF, 1), v(INF), v(NAN, 0)),
            new Case("softmax", v(-INF, 1), v(0, 1), v(0, 0)),
            new Case("logSoftmax", v(-INF, 1), v(-INF, 0), v(1, -1)),
            new Case("logSumExp", v(-INF, 1), v(1), v(0, 1)),
            new Case("softmax", v(-INF, -INF), v(NAN, NAN), v(NAN, NAN)),
            new Case("logSoftmax", v(-INF, -INF), v(NAN, NAN), v(NAN, NAN)),
            new Case("logSumExp", v(-INF, -INF), v(-INF), v(NAN, NAN)),
            new Case("softmax", v(INF, INF), v(NAN, NAN), v(NAN, NAN)),
            new Case("logSoftmax", v(INF, INF), v(NAN, NAN), v(NAN, NAN)),
            new Case("logSumExp", v(INF, INF), v(INF), v(NAN, NAN)),
            new Case("softmax", v(INF, -INF), v(NAN, NAN), v(NAN, NAN)),
            new Case("logSoftmax", v(INF, -INF), v(NAN, NAN), v(NAN, NAN)),
            new Case("logSumExp", v(INF, -INF), v(INF), v(NAN, 0)),
            new Case("softmax", v(NAN, 1), v(NAN, NAN), v(NAN, NAN)),
            new Case("logSoftmax", v(NAN, 1), v(NAN, NAN), v(NAN, NAN)),
            new Case("logSumExp", v(NAN, 1), v(NAN), v(NAN, NAN)),
            new Case("softmax", v(-INF, -INF, 0), v(0, 0, 1), v(0, 0, 0)),
            new Case("logSoftmax", v(-INF, -INF, 0), v(-INF, -INF, 0), v(1, 2, -3)),
            new Case("logSumExp", v(-INF, -INF, 0), v(0), v(0, 0, 1)),
            new Case("softmax", v(1, 2), v(0.26894142136999516, 0.7310585786300049),
                    v(-0.1966119332414819, 0.19661193324148177)),
            new Case("logSoftmax", v(1, 2), v(-1.3132616875182228, -0.31326168751822286),
                    v(0.1931757358900147, -0.1931757358900147)),
            new Case("logSumExp", v(1, 2), v(2.313261687518223), v(0.26894142136999505, 0.7310585786300048)));

    private SoftmaxEdgeCases() {
    }

    private static double[] v(double... values) {
        return values;
    }

    public static Stream<DynamicNode> tests(Backend backend) {
        List<DynamicNode> nodes = new ArrayList<>();
        for (DType dtype : List.of(DType.FLOAT64, DType.FLOAT32)) {
            List<DynamicNode> rows = new ArrayList<>();
            for (Case c : CASES) {
                rows.add(dynamicTest(c.op() + " " + Arrays.toString(c.row()), () -> checkRow(c, backend, dtype)));
            }
            nodes.add(dynamicContainer(dtype.name(), rows));
        }
        nodes.add(dynamicTest("over an empty dimension: empty results, logSumExp -inf, as PyTorch",
                () -> emptyDimensions(Tensor.on(backend))));
        return nodes.stream();
    }

    private static UnaryOperator<Tensor> op(String name) {
        return switch (name) {
            case "softmax" -> x -> x.softmax(0);
            case "logSoftmax" -> x -> x.logSoftmax(0);
            case "logSumExp" -> x -> x.logSumExp(0, true);
            default -> throw new IllegalArgumentException(name);
        };
    }

    private static void checkRow(Case c, Backend backend, DType dtype) {
        TensorFactory f = Tensor.on(backend);
        Tensor x = f.fromArray(c.row(), dtype, c.row().length).requiresGrad(true);
        Tensor y = op(c.op()).apply(x);
        y.mul(GradientEdgeCases.counting(f, dtype, y.shape().toArray())).sum().backward();
        // FLOAT32 rounds the finite values; the special values must be the same.
        double tolerance = dtype == DType.FLOAT64 ? 1e-15 : 1e-6;
        String where = c.op() + Arrays.toString(c.row()) + " " + dtype + " on " + backend.name();
        Compare.assertClose(where + " output", c.out(), y.toDoubleArray(), tolerance, tolerance);
        Compare.assertClose(where + " gradient", c.grad(), x.grad().toDoubleArray(), tolerance, tolerance);
    }

    private static void emptyDimensions(TensorFactory f) {
        Tensor rowsOfNothing = f.zeros(DType.FLOAT64, 2, 0).requiresGrad(true);
        Tensor softmax = rowsOfNothing.softmax(1);
        assertArrayEquals(new int[] {2, 0}, softmax.shape().toArray());
        assertArrayEquals(new int[] {2, 0}, rowsOfNothing.logSoftmax(-1).shape().toArray());
        assertArrayEquals(new int[] {0, 3}, f.zeros(DType.FLOAT32, 0, 3).softmax(0).shape().toArray());
        assertArrayEquals(new int[] {0, 3}, f.zeros(DType.FLOAT32, 0, 3).logSoftmax(1).shape().toArray());
        Tensor lse = rowsOfNothing.logSumExp(1, false);
        assertArrayEquals(new double[] {Double.NEGATIVE_INFINITY, Double.NEGATIVE_INFINITY}, lse.toDoubleArray());
        softmax.sum().backward();
        assertArrayEquals(new int[] {2, 0}, rowsOfNothing.grad().shape().toArray());
        assertEquals(0, rowsOfNothing.grad().numel());
    }
}
