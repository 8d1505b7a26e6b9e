package dev.adjoint.conformance;

import dev.adjoint.DType;
import dev.adjoint.Tensor;
import dev.adjoint.TensorFactory;
import dev.adjoint.autograd.Autograd;
import dev.adjoint.autograd.ForwardAD;
import dev.adjoint.spi.Backend;
import org.junit.jupiter.api.DynamicNode;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;

import static org.junit.jupiter.api.DynamicContainer.dynamicContainer;
import static org.junit.jupiter.api.DynamicTest.dynamicTest;

/**
 * Gradients and tangents where PyTorch makes a choice the catalogue's random samples never reach:
 * <ul>
 *   <li>std and norm where the chain rule meets an infinite slope: std of a constant slice (sqrt at 0)
 *       and norm with p below 1 at zero elements (|x|^(p-1) at 0). PyTorch takes those terms as 0, so
 *       the gradient and the tangent stay finite, where the composites would give 0 * inf = NaN (a
 *       batch of identical features, or a sparse vector, holds such slices);</li>
 *   <li>a whole-tensor max or min on ties and on NaN: torch.max(x) shares the gradient between the
 *       elements attaining the result, the NaN ones when it is NaN (evenly_distribute_backward),
 *       while torch.amax finds no element equal to a NaN result and gives NaN everywhere.</li>
 * </ul>
 */
public final class GradientEdgeCases {
    private static final double NAN = Double.NaN;

    /**
     * An op on an input of {@code shape}: the output, the gradient of {@code sum(out * [1, 2, ...])},
     * the gradient of {@code sum(grad * [1, 2, ...])} (second order), and the tangent for
     * {@code tangent}. Values from PyTorch 1.13, float64 ({@code torch.autograd.grad} with
     * {@code create_graph=True}, then {@code torch.autograd.forward_ad}), but for two kinds of entry:
     * the second order at the zero elements under norm(p < 1), where PyTorch's is NaN and this
     * library's is 0 (the first derivative there is the constant 0 PyTorch chose, whose derivative is
     * 0; a NaN would reach every Hessian-vector product of a loss holding the norm); and the tangent of
     * a NaN max or min, where torch's forward mode gives NaN although its backward gives the gradient
     * listed, and this library's tangent averages over the elements the gradient goes to, so that
     * forward and reverse mode agree ({@code <u, J v> = <J^T u, v>}). {@code second} is null where the
     * second order is not checked.
     */
    private record Case(String op, int[] shape, double[] input, double[] tangent, double[] out, double[] grad,
                        double[] second, double[] jvp) {
    }

    private static final List<Case> CASES = List.of(
            new Case("std", s(3), v(2, 2, 2), v(1, 0, 0), v(0), v(0, 0, 0), v(0, 0, 0), v(0)),
            new Case("std(1)", s(2, 2), v(2, 2, 1, 3), v(1, 0, 0.5, 0.25), v(0, 1.4142135623730951),
                    v(0, 0, -1.414213562373095, 1.414213562373095), v(0, 0, 0, 0), v(0, -0.17677669529663687)),
            new Case("std(0, correction 0)", s(1), v(5), v(1), v(0), v(0), v(0), v(0)),
            new Case("norm(0.5)", s(3), v(0, 1, 2), v(1, 1, 1), v(5.82842712474619),
                    v(0, 2.414213562373095, 1.7071067811865472), v(0, -0.35355339059327395, 0.17677669529663675),
                    v(4.121320343559642)),
            new Case("norm(0.5, 1)", s(2, 2), v(0, 1, 2, 0), v(1, 1, 1, 1), v(1, 2.0000000000000004),
                    v(0, 1, 2, 0), v(0, 0, 0, 0), v(1, 1)),
            new Case("norm(0.5)", s(2), v(0, 0), v(1, 1), v(0), v(0, 0), v(0, 0), v(0)),
            new Case("norm(-1)", s(3), v(0, 1, 2), v(1, 1, 1), v(0), v(0, 0, 0), v(0, 0, 0), v(0)),
            new Case("max", s(3), v(NAN, 1, 3), v(1, 2, 4), v(NAN), v(1, 0, 0), null, v(1)),
            new Case("max", s(3), v(NAN, NAN, 3), v(1, 2, 4), v(NAN), v(0.5, 0.5, 0), null, v(1.5)),
            new Case("max", s(3), v(3, 3, 1), v(1, 2, 4), v(3), v(0.5, 0.5, 0), null, v(1.5)),
            new Case("min", s(3), v(1, NAN, -2), v(1, 2, 4), v(NAN), v(0, 1, 0), null, v(2)),
            new Case("min", s(3), v(-2, 5, -2), v(1, 2, 4), v(-2), v(0.5, 0, 0.5), null, v(2.5)),
            new Case("amax", s(3), v(NAN, 1, 3), v(1, 2, 4), v(NAN), v(NAN, NAN, NAN), null, v(NAN)),
            new Case("amin", s(3), v(1, NAN, -2), v(1, 2, 4), v(NAN), v(NAN, NAN, NAN), null, v(NAN)));

    private GradientEdgeCases() {
    }

    private static double[] v(double... values) {
        return values;
    }

    private static int[] s(int... shape) {
        return shape;
    }

    public static Stream<DynamicNode> tests(Backend backend) {
        List<DynamicNode> nodes = new ArrayList<>();
        for (DType dtype : List.of(DType.FLOAT64, DType.FLOAT32)) {
            List<DynamicNode> cases = new ArrayList<>();
            for (Case c : CASES) {
                cases.add(dynamicTest(c.op() + " of " + Arrays.toString(c.input()), () -> check(c, backend, dtype)));
            }
            nodes.add(dynamicContainer(dtype.name(), cases));
        }
        return nodes.stream();
    }

    private static UnaryOperator<Tensor> op(String name) {
        return switch (name) {
            case "std" -> x -> x.std();
            case "std(1)" -> x -> x.std(1, false);
            case "std(0, correction 0)" -> x -> x.std(new int[] {0}, 0, false);
            case "norm(0.5)" -> x -> x.norm(0.5);
            case "norm(0.5, 1)" -> x -> x.norm(0.5, new int[] {1}, false);
            case "norm(-1)" -> x -> x.norm(-1);
            case "max" -> Tensor::max;
            case "min" -> Tensor::min;
            case "amax" -> Tensor::amax;
            case "amin" -> Tensor::amin;
            default -> throw new IllegalArgumentException(name);
        };
    }

    private static void check(Case c, Backend backend, DType dtype) {
        TensorFactory f = Tensor.on(backend);
        UnaryOperator<Tensor> op = op(c.op());
        Tensor x = f.fromArray(c.input(), dtype, c.shape()).requiresGrad(true);
        Tensor y = op.apply(x);
        Tensor gradient = Autograd.grad(List.of(y.mul(counting(f, dtype, y.shape().toArray())).sum()), List.of(x),
                null, false, true, false).get(0);
        Tensor second = c.second() == null ? null
                : Autograd.grad(List.of(gradient.mul(counting(f, dtype, c.shape())).sum()), List.of(x), null, false,
                        false, false).get(0);
        Tensor jvp;
        try (var level = ForwardAD.dualLevel()) {
            Tensor dual = ForwardAD.makeDual(x.detach(), f.fromArray(c.tangent(), dtype, c.shape()));
            jvp = ForwardAD.unpackDual(op.apply(dual)).tangent();
        }
        double tolerance = dtype == DType.FLOAT64 ? 1e-12 : 1e-5;
        String where = c.op() + Arrays.toString(c.input()) + " " + dtype + " on " + backend.name();
        Compare.assertClose(where + " output", c.out(), y.toDoubleArray(), tolerance, tolerance);
        Compare.assertClose(where + " gradient", c.grad(), gradient.toDoubleArray(), tolerance, tolerance);
        if (second != null) {
            Compare.assertClose(where + " second derivative", c.second(), second.toDoubleArray(), tolerance,
                    tolerance);
        }
        Compare.assertClose(where + " tangent", c.jvp(), jvp.toDoubleArray(), tolerance, tolerance);
    }

    /**
     * {@code [1, 2, ...]} in {@code shape}: weights that tell the elements' gradients apart (the edge-case
     * tables differentiate {@code sum(y * counting)}).
     */
    static Tensor counting(TensorFactory f, DType dtype, int... shape) {
        int n = 1;
        for (int d : shape) {
            n *= d;
        }
        double[] weights = new double[n];
        for (int i = 0; i < n; i++) {
            weights[i] = i + 1;
        }
        return f.fromArray(weights, dtype, shape);
    }
}
