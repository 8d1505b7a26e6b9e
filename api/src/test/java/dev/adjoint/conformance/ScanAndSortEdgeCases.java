package dev.adjoint.conformance;

import dev.adjoint.DType;
import dev.adjoint.Tensor;
import dev.adjoint.TensorFactory;
import dev.adjoint.ValuesAndIndices;
import dev.adjoint.autograd.Autograd;
import dev.adjoint.check.GradCheck;
import dev.adjoint.func.Transforms;
import dev.adjoint.spi.Backend;
import org.junit.jupiter.api.DynamicNode;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.DynamicContainer.dynamicContainer;
import static org.junit.jupiter.api.DynamicTest.dynamicTest;

/**
 * What the catalogue's random samples never reach: running products and prod through exact zeros
 * (where {@code y / x} is no gradient), sort's order of NaN, signed zeros and ties, and max along a
 * dimension with NaN and ties. Expected values are PyTorch 1.13's (float64).
 */
public final class ScanAndSortEdgeCases {
    private static final double NAN = Double.NaN;

    private ScanAndSortEdgeCases() {
    }

    public static Stream<DynamicNode> tests(Backend backend) {
        List<DynamicNode> nodes = new ArrayList<>();
        for (DType dtype : List.of(DType.FLOAT64, DType.FLOAT32)) {
            TensorFactory f = Tensor.on(backend);
            nodes.add(dynamicContainer(dtype.name(), Stream.of(
                    dynamicTest("cumprod through zeros: gradient as PyTorch's", () -> cumprodThroughZeros(f, dtype)),
                    dynamicTest("prod with one zero and with two", () -> prodWithZeros(f, dtype)),
                    dynamicTest("cumprod's Hessian-vector product where squares underflow: exact, not 0 / 0",
                            () -> cumprodSecondOrderOfTinyValues(f, dtype)),
                    dynamicTest("cumprod's tangent and gradient where the running product underflows: exact, not 0 / x",
                            () -> cumprodTangentWhereProductUnderflows(f, dtype)),
                    dynamicTest("sort: NaN above every number, -0.0 equal to 0.0, ties stable", () -> sortOrder(f, dtype)),
                    dynamicTest("topk with NaN", () -> topkWithNaN(f, dtype)),
                    dynamicTest("max and min along a dim: NaN wins, the first tie wins, the gradient goes to it",
                            () -> extremaAlongDim(f, dtype)))));
        }
        nodes.add(dynamicTest("cumprod and prod through zeros pass gradcheck, gradgradcheck and jvpcheck",
                () -> zerosPassGradChecks(Tensor.on(backend))));
        return nodes.stream();
    }

    private static void cumprodThroughZeros(TensorFactory f, DType dtype) {
        // torch: x = [2, 0, 3, 0, 4]; torch.cumprod(x, 0).backward([1, 2, 3, 4, 5]) gives [1, 22, 0, 0, 0]
        Tensor x = f.fromArray(new double[] {2, 0, 3, 0, 4}, dtype, 5).requiresGrad(true);
        Tensor y = x.cumprod(0);
        assertArrayEquals(new double[] {2, 0, 0, 0, 0}, y.toDoubleArray());
        y.backward(f.fromArray(new double[] {1, 2, 3, 4, 5}, dtype, 5));
        assertArrayEquals(new double[] {1, 22, 0, 0, 0}, x.grad().toDoubleArray());
        // Along dim 1 of a matrix, each row with its own zeros.
        Tensor m = f.fromArray(new double[] {0, 2, 3, 1, 2, 0, 4, 5, 6}, dtype, 3, 3).requiresGrad(true);
        m.cumprod(1).sum().backward();
        // Row 0 [0, 2, 3]: d/dx0 = 1 + 2 + 6 = 9; row 1 [1, 2, 0]: [1 + 2, 1, 2]; row 2 [4, 5, 6]: [1 + 5 + 30, 4 + 24, 20].
        assertArrayEquals(new double[] {9, 0, 0, 3, 1, 2, 36, 28, 20}, m.grad().toDoubleArray());
    }

    /**
     * Found by the random programs (-Pfuzz): x of order 1e-24 (logSigmoid of a large value) under a
     * running product. y1 = x0 x1 per column, so with cotangent v, g0 = v0 + v1 x1 and g1 = v1 x0,
     * and the Hessian-vector product with w is (w1 v1, w0 v1): exact, whatever the size of x. PyTorch
     * 1.13 gives 2.3e15 (float32) and -4.2e6 (float64) for the first element, -0.3: its double
     * backward differentiates {@code reverse_cumsum(g y) / x}, whose derivative divides by x^2.
     */
    private static void cumprodSecondOrderOfTinyValues(TensorFactory f, DType dtype) {
        Tensor x = f.fromArray(new double[] {-1.9e-24, -3e-22, -2.5e-24, -1e-23}, dtype, 2, 2).requiresGrad(true);
        Tensor v = f.fromArray(new double[] {0.3, -0.7, 0.5, 0.9}, dtype, 2, 2);
        Tensor w = f.fromArray(new double[] {0.2, 0.4, -0.6, 0.8}, dtype, 2, 2);
        Tensor g = Autograd.grad(List.of(x.cumprod(0)), List.of(x), List.of(v), true, true, false).get(0);
        Tensor hvp = Autograd.grad(List.of(g), List.of(x), List.of(w), false, false, false).get(0);
        double[] expected = {-0.6 * 0.5, 0.8 * 0.9, 0.2 * 0.5, 0.4 * 0.9};
        double[] got = hvp.toDoubleArray();
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], got[i], 1e-6 * Math.abs(expected[i]), dtype + " element " + i);
        }
        // The first-order gradient keeps its tiny terms too: g1 = v1 x0.
        assertEquals(0.5 * -1.9e-24, g.toDoubleArray()[2], 1e-6 * 0.5 * 1.9e-24);
        // Forward over reverse (Transforms.hvp) differentiates the same backward.
        double[] forwardOverReverse = Transforms.hvp(t -> t.cumprod(0).mul(v).sum(), x.detach(), w).toDoubleArray();
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], forwardOverReverse[i], 1e-6 * Math.abs(expected[i]), dtype + " hvp element " + i);
        }
    }

    private static void cumprodTangentWhereProductUnderflows(TensorFactory f, DType dtype) {
        // The running product of [s, s, 1000, 2] underflows to 0 from its second element (s^2 is below
        // the dtype's smallest subnormal) while its tangent does not: dy_1 = t_0 s + t_1 s and
        // dy_k = x_k dy_{k-1} + t_k y_{k-1}, here 1000 times the last (y_1 rounds to 0). The division
        // form y * cumsum(t / x) multiplies 0 by t / s.
        double s = dtype == DType.FLOAT32 ? 1e-30 : 1e-200;
        Tensor x = f.fromArray(new double[] {s, s, 1000, 2}, dtype, 4);
        Tensor t = f.fromArray(new double[] {1, 2, 0.5, 0.25}, dtype, 4);
        double dy1 = 3 * s;
        double[] expected = {1, dy1, 1000 * dy1, 2 * 1000 * dy1};
        double[] got = Transforms.jvp(in -> in.cumprod(0), x, t).tangent().toDoubleArray();
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], got[i], 1e-6 * Math.abs(expected[i]), dtype + " element " + i);
        }
        // prod is the running product's last element: its tangent the last of these.
        double[] last = Transforms.jvp(in -> in.prod(), x, t).tangent().toDoubleArray();
        assertEquals(expected[3], last[0], 1e-6 * expected[3], dtype + " prod");
        // The gradient likewise: d(sum y)/dx_1 = x_0 + x_0 x_2 + x_0 x_2 x_3 = 3001 s, where the division
        // form reverse_cumsum(y)_1 / x_1 sums underflowed zeros.
        Tensor leaf = x.detach().requiresGrad(true);
        leaf.cumprod(0).sum().backward();
        assertEquals(3001 * s, leaf.grad().toDoubleArray()[1], 1e-6 * 3001 * s, dtype + " gradient element 1");
        // Through a zero: from it on only its own term is left, t_0 times the product of what follows.
        Tensor z = f.fromArray(new double[] {0, 3, s}, dtype, 3);
        Tensor tz = f.fromArray(new double[] {2, 1, 1}, dtype, 3);
        assertArrayEquals(new double[] {2, 6, 6 * s}, Transforms.jvp(in -> in.cumprod(0), z, tz).tangent().toDoubleArray(),
                1e-6 * 6 * s, dtype + " through a zero");
    }

    private static void prodWithZeros(TensorFactory f, DType dtype) {
        // torch.prod([2, 0, 3, 5, 4]).backward() gives [0, 120, 0, 0, 0]
        Tensor x = f.fromArray(new double[] {2, 0, 3, 5, 4}, dtype, 5).requiresGrad(true);
        x.prod().backward();
        assertArrayEquals(new double[] {0, 120, 0, 0, 0}, x.grad().toDoubleArray());
        Tensor two = f.fromArray(new double[] {2, 0, 3, 0}, dtype, 4).requiresGrad(true);
        two.prod().backward();
        assertArrayEquals(new double[] {0, 0, 0, 0}, two.grad().toDoubleArray());
        Tensor rows = f.fromArray(new double[] {1, 2, 0, 3}, dtype, 2, 2).requiresGrad(true);
        Tensor p = rows.prod(1, true);
        assertArrayEquals(new int[] {2, 1}, p.shape().toArray());
        p.sum().backward();
        assertArrayEquals(new double[] {2, 1, 3, 0}, rows.grad().toDoubleArray());
        assertArrayEquals(new double[] {1, 1}, f.zeros(dtype, 2, 0).prod(1, false).toDoubleArray());
    }

    private static void sortOrder(TensorFactory f, DType dtype) {
        Tensor x = f.fromArray(new double[] {1, NAN, 2, -0.0, 0.0, 1, NAN, -1}, dtype, 8);
        // torch.sort(x, stable=True) and torch.sort(x, descending=True, stable=True)
        ValuesAndIndices up = x.sort(0, false);
        assertArrayEquals(new double[] {-1, -0.0, 0.0, 1, 1, 2, NAN, NAN}, up.values().toDoubleArray());
        assertArrayEquals(new long[] {7, 3, 4, 0, 5, 2, 1, 6}, up.indices().toLongArray());
        ValuesAndIndices down = x.sort(0, true);
        assertArrayEquals(new double[] {NAN, NAN, 2, 1, 1, -0.0, 0.0, -1}, down.values().toDoubleArray());
        assertArrayEquals(new long[] {1, 6, 2, 0, 5, 3, 4, 7}, down.indices().toLongArray());
        // The gradient of the sorted values goes back to where each value was.
        Tensor leaf = f.fromArray(new double[] {3, 1, 2}, dtype, 3).requiresGrad(true);
        leaf.sort().values().mul(f.fromArray(new double[] {10, 20, 30}, dtype, 3)).sum().backward();
        assertArrayEquals(new double[] {30, 10, 20}, leaf.grad().toDoubleArray());
    }

    private static void topkWithNaN(TensorFactory f, DType dtype) {
        Tensor x = f.fromArray(new double[] {1, NAN, 2, -0.0, 0.0, 1, NAN, -1}, dtype, 8);
        ValuesAndIndices top = x.topk(3);
        // torch.topk(x, 3): values [nan, nan, 2], indices [1, 6, 2]
        assertArrayEquals(new double[] {NAN, NAN, 2}, top.values().toDoubleArray());
        assertArrayEquals(new long[] {1, 6, 2}, top.indices().toLongArray());
    }

    private static void extremaAlongDim(TensorFactory f, DType dtype) {
        Tensor x = f.fromArray(new double[] {1, 3, 3, NAN, 1, 2}, dtype, 2, 3).requiresGrad(true);
        // torch.max(x, 1): values [3, nan], indices [1, 0]
        ValuesAndIndices max = x.max(1, false);
        assertArrayEquals(new double[] {3, NAN}, max.values().toDoubleArray());
        assertArrayEquals(new long[] {1, 0}, max.indices().toLongArray());
        max.values().sum().backward();
        assertArrayEquals(new double[] {0, 1, 0, 1, 0, 0}, x.grad().toDoubleArray());
        ValuesAndIndices min = f.fromArray(new double[] {2, 1, 1, 5}, dtype, 4).min(0, true);
        assertArrayEquals(new double[] {1}, min.values().toDoubleArray());
        assertArrayEquals(new long[] {1}, min.indices().toLongArray());
        assertArrayEquals(new int[] {1}, min.values().shape().toArray());
    }

    private static void zerosPassGradChecks(TensorFactory f) {
        double[][] rows = {
                {2, 0, 3, 0, 4}, {0, 1.5, -2, 0.5, 3}, {1.5, -2, 0.5, 3, 0}, {1.5, 0, 0, 2, 0.5}, {1.5, -2, 0.5, 3, 1.25}};
        List<Function<List<Tensor>, Tensor>> functions = List.of(
                in -> in.get(0).cumprod(0), in -> in.get(0).prod(), in -> in.get(0).prod(0, true),
                in -> in.get(0).reshape(5, 1).expand(5, 2).cumprod(0));
        for (double[] row : rows) {
            for (Function<List<Tensor>, Tensor> fn : functions) {
                List<Tensor> inputs = List.of(f.fromArray(row, DType.FLOAT64, row.length).requiresGrad(true));
                GradCheck.gradcheck("cumprod", fn, inputs, GradCheck.Options.defaults());
                GradCheck.gradgradcheck("cumprod", fn, inputs, GradCheck.Options.defaults());
                GradCheck.jvpcheck("cumprod", fn, inputs, GradCheck.Options.defaults());
            }
        }
    }
}
