package dev.adjoint.conformance;

import dev.adjoint.DType;
import dev.adjoint.Tensor;
import dev.adjoint.TensorFactory;
import dev.adjoint.spi.Backend;
import org.junit.jupiter.api.DynamicNode;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.DynamicContainer.dynamicContainer;
import static org.junit.jupiter.api.DynamicTest.dynamicTest;

/**
 * pow and sign where Java's library and PyTorch part ways: C's pow, which torch.pow follows, gives
 * exactly 1 for a base of 1 whatever the exponent (NaN included) and for -1 with an infinite
 * exponent, where Math.pow gives NaN; torch.sign gives 0 for NaN, where Math.signum keeps NaN. The
 * catalogue's random samples never hold these values. Expected values from PyTorch 1.13, float64 and
 * float32 alike.
 */
public final class PowAndSignSpecialValues {
    private static final double INF = Double.POSITIVE_INFINITY;
    private static final double NAN = Double.NaN;
    /** Long enough that each backend's vector loop, not only its tail, meets every value. */
    private static final int REPEATS = 9;

    private PowAndSignSpecialValues() {
    }

    public static Stream<DynamicNode> tests(Backend backend) {
        List<DynamicNode> nodes = new ArrayList<>();
        for (DType dtype : List.of(DType.FLOAT64, DType.FLOAT32)) {
            TensorFactory f = Tensor.on(backend);
            String on = " on " + backend.name() + " in " + dtype;
            nodes.add(dynamicContainer(dtype.name(), List.of(
                    dynamicTest("pow of tensors: torch.pow(b, e)", () -> powOfTensors(f, dtype, on)),
                    dynamicTest("pow with a constant exponent and its gradient", () -> powOfConstant(f, dtype, on)),
                    dynamicTest("the exponent's gradient at a base of 1 and -1", () -> exponentGradient(f, dtype, on)),
                    dynamicTest("sign of NaN and of zeros", () -> sign(f, dtype, on)))));
        }
        return nodes.stream();
    }

    private static void powOfTensors(TensorFactory f, DType dtype, String on) {
        double[] base = {1, -1, 1, -1, 1, -1, 2, 0.5, 0, NAN, 1};
        double[] exponent = {INF, INF, -INF, -INF, NAN, NAN, NAN, INF, 0, 0, 0};
        double[] expected = {1, 1, 1, 1, 1, NAN, NAN, 0, 1, 1, 1};
        Tensor out = tensor(f, base, dtype).pow(tensor(f, exponent, dtype));
        Compare.assertClose("pow" + on, repeated(expected), out.toDoubleArray(), 0, 0);
    }

    private static void powOfConstant(TensorFactory f, DType dtype, String on) {
        Tensor x = tensor(f, new double[] {1, -1}, dtype).requiresGrad(true);
        Tensor toInfinity = x.pow(INF);
        toInfinity.sum().backward();
        Compare.assertClose("pow(x, inf)" + on, repeated(new double[] {1, 1}), toInfinity.toDoubleArray(), 0, 0);
        Compare.assertClose("d pow(x, inf) / dx" + on, repeated(new double[] {INF, INF}), x.grad().toDoubleArray(),
                0, 0);
        Tensor y = tensor(f, new double[] {1, -1}, dtype).requiresGrad(true);
        Tensor toNaN = y.pow(NAN);
        toNaN.sum().backward();
        Compare.assertClose("pow(x, NaN)" + on, repeated(new double[] {1, NAN}), toNaN.toDoubleArray(), 0, 0);
        Compare.assertClose("d pow(x, NaN) / dx" + on, repeated(new double[] {NAN, NAN}), y.grad().toDoubleArray(),
                0, 0);
    }

    private static void exponentGradient(TensorFactory f, DType dtype, String on) {
        Tensor e = tensor(f, new double[] {INF, INF}, dtype).requiresGrad(true);
        Tensor out = tensor(f, new double[] {1, -1}, dtype).pow(e);
        out.sum().backward();
        Compare.assertClose("pow(b, e)" + on, repeated(new double[] {1, 1}), out.toDoubleArray(), 0, 0);
        Compare.assertClose("d pow(b, e) / de" + on, repeated(new double[] {0, NAN}), e.grad().toDoubleArray(), 0, 0);
    }

    private static void sign(TensorFactory f, DType dtype, String on) {
        double[] out = tensor(f, new double[] {NAN, -0.0, 0.0, -2, 3, -INF, INF}, dtype).sign().toDoubleArray();
        double[] expected = repeated(new double[] {0, 0, 0, -1, 1, -1, 1});
        Compare.assertClose("sign" + on, expected, out, 0, 0);
        for (int i = 0; i < out.length; i++) {
            if (Double.doubleToRawLongBits(out[i]) == Double.doubleToRawLongBits(-0.0)) {
                throw new AssertionError("sign" + on + ": element " + i + " is -0.0, torch.sign gives 0.0");
            }
        }
    }

    private static Tensor tensor(TensorFactory f, double[] values, DType dtype) {
        double[] all = repeated(values);
        return f.fromArray(all, dtype, all.length);
    }

    private static double[] repeated(double[] values) {
        double[] all = new double[values.length * REPEATS];
        for (int r = 0; r < REPEATS; r++) {
            System.arraycopy(values, 0, all, r * values.length, values.length);
        }
        return all;
    }
}
