package dev.adjoint.engine.nd4j;

import dev.adjoint.DType;
import dev.adjoint.Shape;
import dev.adjoint.spi.Layout;
import dev.adjoint.spi.Storage;
import dev.adjoint.spi.UnaryOp;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * tanh and log1p on every magnitude from 1e-300 to 1e300, where tanh saturates in each dtype, near
 * log1p's pole at -1, and past where sinh, cosh and exp overflow: Java's {@code Math} in FLOAT64, its
 * rounding (half an ulp) in FLOAT32. The conformance suite covers strided and broadcast inputs.
 */
class NearZeroTest {
    private static final double[] MAGNITUDES = {1e-300, 1e-30, 1e-12, 1e-7, 1e-3, 0.1, 0.4999, 0.5, 0.5001, 0.9,
        1, 2, 5, 9, 9.5, 10, 19, 20, 24.9, 25, 25.1, 30, 100, 700, 720, 1e10, 1e38, 1e300};
    private static final double MAX_ULPS = 0.5;

    private final Nd4jBackend backend = new Nd4jBackend();

    @Test
    void tanhAtEveryMagnitude() {
        List<Double> xs = new ArrayList<>();
        for (double m : MAGNITUDES) {
            xs.add(m);
            xs.add(-m);
        }
        check(UnaryOp.TANH, xs);
    }

    @Test
    void log1pAtEveryMagnitude() {
        List<Double> xs = new ArrayList<>();
        for (double m : MAGNITUDES) {
            xs.add(m);
            if (m < 1) {
                xs.add(-m);
            }
        }
        xs.addAll(List.of(-0.999, -0.9999999, -1.0 + 1e-12));
        check(UnaryOp.LOG1P, xs);
    }

    private void check(UnaryOp op, List<Double> values) {
        for (DType dtype : new DType[] {DType.FLOAT64, DType.FLOAT32}) {
            double[] x = new double[values.size()];
            for (int i = 0; i < x.length; i++) {
                x[i] = dtype == DType.FLOAT32 ? (float) (double) values.get(i) : values.get(i);
            }
            Layout layout = Layout.contiguous(Shape.of(x.length));
            Storage out = backend.allocate(dtype, x.length);
            backend.unary(op, backend.fromDoubles(x, dtype), layout, out, layout);
            double[] actual = backend.toDoubles(out, layout);
            for (int i = 0; i < x.length; i++) {
                double expected = op.apply(x[i]);
                double rounded = dtype == DType.FLOAT32 ? (float) expected : expected;
                double ulp = dtype == DType.FLOAT32 ? Math.ulp((float) rounded) : Math.ulp(rounded);
                double ulps = actual[i] == rounded ? 0 : Math.abs(actual[i] - expected) / ulp;
                assertTrue(ulps <= MAX_ULPS, op + " " + dtype + " of " + x[i] + " is " + actual[i] + ", Math gives "
                        + expected + " (" + ulps + " ulps)");
            }
        }
    }
}
