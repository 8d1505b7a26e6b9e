package dev.adjoint.nn;

import dev.adjoint.DType;
import dev.adjoint.Generator;
import dev.adjoint.Tensor;
import dev.adjoint.backend.Backends;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Initialisers: PyTorch's bounds and standard deviations, checked statistically, and seeding. */
final class InitTest {
    static List<String> backends() {
        return Reference.backendNames();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("backends")
    void boundsAndSpreadsMatchPyTorchFormulas(String backend) {
        var create = Tensor.on(backend);
        Tensor w = create.zeros(DType.FLOAT64, 300, 200, 2);   // fan_in 400, fan_out 600
        assertArrayEquals(new int[] {400, 600}, Init.fans(w));

        Init.kaimingUniform(w, 0, Init.FanMode.FAN_IN, Init.Nonlinearity.RELU, new Generator(1));
        ModuleTest.checkUniform(w.toDoubleArray(), Math.sqrt(2.0) * Math.sqrt(3.0 / 400));
        Init.kaimingUniform(w, 0, Init.FanMode.FAN_OUT, Init.Nonlinearity.TANH, new Generator(1));
        ModuleTest.checkUniform(w.toDoubleArray(), 5.0 / 3.0 * Math.sqrt(3.0 / 600));
        Init.xavierUniform(w, 1.0, new Generator(2));
        ModuleTest.checkUniform(w.toDoubleArray(), Math.sqrt(6.0 / 1000));

        Init.kaimingNormal(w, 0, Init.FanMode.FAN_IN, Init.Nonlinearity.RELU, new Generator(3));
        checkNormal(w.toDoubleArray(), 0, Math.sqrt(2.0 / 400));
        Init.xavierNormal(w, 2.0, new Generator(4));
        checkNormal(w.toDoubleArray(), 0, 2.0 * Math.sqrt(2.0 / 1000));
        Init.normal(w, 3.0, 0.5, new Generator(5));
        checkNormal(w.toDoubleArray(), 3.0, 0.5);

        Init.constant(w, 0.25);
        assertTrue(Arrays.stream(w.toDoubleArray()).allMatch(v -> v == 0.25));
        Init.zeros(w);
        assertTrue(Arrays.stream(w.toDoubleArray()).allMatch(v -> v == 0.0));

        assertEquals(Math.sqrt(2.0 / (1 + 0.01 * 0.01)), Init.calculateGain(Init.Nonlinearity.LEAKY_RELU, 0.01), 1e-15);
        assertEquals(1.0 / Math.sqrt(3.0), Init.calculateGain(Init.Nonlinearity.LEAKY_RELU, Math.sqrt(5)), 1e-15);
        assertThrows(RuntimeException.class, () -> Init.xavierUniform(create.zeros(DType.FLOAT64, 5), 1, new Generator(0)));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("backends")
    void initialisersWorkOnParametersAndAreSeeded(String backend) {
        Linear a = new Linear(4, 3, NnContext.of(Backends.get(backend), DType.FLOAT64,
                new Generator(1)));
        Init.uniform(a.weight(), -1, 1, new Generator(8));
        double[] first = a.weight().toDoubleArray();
        Init.uniform(a.weight(), -1, 1, new Generator(8));
        assertArrayEquals(first, a.weight().toDoubleArray());
        assertTrue(a.weight().requiresGrad() && a.weight().isLeaf());
    }

    private static void checkNormal(double[] v, double mean, double std) {
        double sum = 0;
        double sumSq = 0;
        for (double x : v) {
            sum += x;
            sumSq += x * x;
        }
        double m = sum / v.length;
        double variance = sumSq / v.length - m * m;
        assertTrue(Math.abs(m - mean) < 5 * std / Math.sqrt(v.length), "mean " + m);
        assertEquals(std * std, variance, 0.02 * std * std, "variance");
    }
}
