package dev.adjoint.conformance;

import dev.adjoint.DType;
import dev.adjoint.Tensor;
import dev.adjoint.TensorFactory;
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
 * Where the gradient of a whole-tensor max or min goes on ties and on NaN, against PyTorch 1.13:
 * torch.max(x) shares it between the elements attaining the result, NaN ones when the result is NaN
 * (evenly_distribute_backward), while torch.amax finds no element equal to a NaN result and gives
 * NaN everywhere. The catalogue's random samples hold neither ties nor NaN.
 */
public final class ExtremumGradients {
    private static final double NAN = Double.NaN;
    /** The tangent of every case: distinct values, so the tangent shows which elements it averages. */
    private static final double[] TANGENT = {1, 2, 4};

    /**
     * An op on three elements: its value, the gradient of its output, and the tangent for
     * {@link #TANGENT}. Values from PyTorch 1.13 (float64), but for the tangent of a NaN max or min:
     * torch's forward mode gives NaN there although its backward gives the gradient below; this
     * library's tangent is the mean over the same elements the gradient goes to, so that forward and
     * reverse mode agree ({@code <u, J v> = <J^T u, v>}).
     */
    private record Case(String op, double[] input, double out, double[] grad, double jvp) {
    }

    private static final List<Case> CASES = List.of(
            new Case("max", v(NAN, 1, 3), NAN, v(1, 0, 0), 1),
            new Case("max", v(NAN, NAN, 3), NAN, v(0.5, 0.5, 0), 1.5),
            new Case("max", v(3, 3, 1), 3, v(0.5, 0.5, 0), 1.5),
            new Case("min", v(1, NAN, -2), NAN, v(0, 1, 0), 2),
            new Case("min", v(-2, 5, -2), -2, v(0.5, 0, 0.5), 2.5),
            new Case("amax", v(NAN, 1, 3), NAN, v(NAN, NAN, NAN), NAN),
            new Case("amin", v(1, NAN, -2), NAN, v(NAN, NAN, NAN), NAN));

    private ExtremumGradients() {
    }

    private static double[] v(double... values) {
        return values;
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
            case "max" -> Tensor::max;
            case "min" -> Tensor::min;
            case "amax" -> Tensor::amax;
            case "amin" -> Tensor::amin;
            default -> throw new IllegalArgumentException(name);
        };
    }

    private static void check(Case c, Backend backend, DType dtype) {
        TensorFactory f = Tensor.on(backend);
        Tensor x = f.fromArray(c.input(), dtype, 3).requiresGrad(true);
        Tensor y = op(c.op()).apply(x);
        y.backward();
        Tensor jvp;
        try (var level = ForwardAD.dualLevel()) {
            jvp = ForwardAD.unpackDual(op(c.op()).apply(ForwardAD.makeDual(x.detach(), f.fromArray(TANGENT, dtype, 3))))
                    .tangent();
        }
        String where = c.op() + Arrays.toString(c.input()) + " " + dtype + " on " + backend.name();
        Compare.assertClose(where + " output", v(c.out()), y.toDoubleArray(), 0, 0);
        Compare.assertClose(where + " gradient", c.grad(), x.grad().toDoubleArray(), 0, 0);
        Compare.assertClose(where + " tangent", v(c.jvp()), jvp.toDoubleArray(), 0, 0);
    }
}
