package dev.adjoint.engine.nd4j;

import dev.adjoint.DType;
import dev.adjoint.Shape;
import dev.adjoint.engine.scalar.ScalarBackend;
import dev.adjoint.spi.Backend;
import dev.adjoint.spi.BinaryOp;
import dev.adjoint.spi.Layout;
import dev.adjoint.spi.ReduceOp;
import dev.adjoint.spi.Storage;
import dev.adjoint.spi.UnaryOp;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * NaN, infinities and signed zeros through every elementwise and reduce kernel, against the
 * reference backend. libnd4j differs from the SPI here (max/min and sign drop NaN), which the
 * conformance suite's finite samples do not show.
 */
class Nd4jSpecialValuesTest {
    private static final double NAN = Double.NaN;
    private static final double INF = Double.POSITIVE_INFINITY;
    private static final double[] A = {NAN, 1, 2, -INF, INF, 0.0, -0.0, -3, NAN, 0.5, 4, -2};
    private static final double[] B = {1, NAN, NAN, 5, INF, -0.0, 0.0, -3, NAN, 2, -INF, INF};

    private final Backend nd4j = new Nd4jBackend();
    private final Backend scalar = new ScalarBackend();

    @ParameterizedTest
    @EnumSource(UnaryOp.class)
    void unary(UnaryOp op) {
        for (DType dtype : new DType[] {DType.FLOAT64, DType.FLOAT32}) {
            assertSame(op + " " + dtype, run(scalar, dtype, (be, a, b, out, l) -> be.unary(op, a, l, out, l)),
                    run(nd4j, dtype, (be, a, b, out, l) -> be.unary(op, a, l, out, l)), dtype);
        }
    }

    @ParameterizedTest
    @EnumSource(BinaryOp.class)
    void binary(BinaryOp op) {
        for (DType dtype : new DType[] {DType.FLOAT64, DType.FLOAT32}) {
            // A comparison writes a BOOL output, as the SPI says.
            DType outType = op.isComparison() ? DType.BOOL : dtype;
            double[] expected = run(scalar, dtype, outType, (be, a, b, out, l) -> be.binary(op, a, l, b, l, out, l));
            if (op == BinaryOp.POW) {
                // pow(1, NaN): the reference follows Java (NaN), ND4J follows C and PyTorch (1).
                expected[1] = 1.0;
            }
            assertSame(op + " " + dtype, expected,
                    run(nd4j, dtype, outType, (be, a, b, out, l) -> be.binary(op, a, l, b, l, out, l)), dtype);
        }
    }

    @ParameterizedTest
    @EnumSource(ReduceOp.class)
    void reduceRowsAndColumns(ReduceOp op) {
        Layout x = Layout.contiguous(Shape.of(3, 4));
        for (DType dtype : new DType[] {DType.FLOAT64, DType.FLOAT32}) {
            for (Shape outShape : new Shape[] {Shape.of(3, 1), Shape.of(1, 4), Shape.of(1, 1)}) {
                Layout out = Layout.contiguous(outShape);
                double[] expected = reduce(scalar, op, dtype, x, out);
                double[] actual = reduce(nd4j, op, dtype, x, out);
                assertSame(op + " " + dtype + " to " + outShape, expected, actual, dtype);
            }
        }
    }

    private static double[] reduce(Backend be, ReduceOp op, DType dtype, Layout x, Layout out) {
        Storage o = be.allocate(dtype, out.numel());
        be.reduce(op, be.fromDoubles(A, dtype), x, o, out);
        return be.toDoubles(o, out);
    }

    private interface Kernel {
        void run(Backend be, Storage a, Storage b, Storage out, Layout layout);
    }

    private static double[] run(Backend be, DType dtype, Kernel kernel) {
        return run(be, dtype, dtype, kernel);
    }

    private static double[] run(Backend be, DType dtype, DType outType, Kernel kernel) {
        Layout l = Layout.contiguous(Shape.of(A.length));
        Storage out = be.allocate(outType, A.length);
        kernel.run(be, be.fromDoubles(A, dtype), be.fromDoubles(B, dtype), out, l);
        return be.toDoubles(out, l);
    }

    /** NaN equals NaN; finite values within FLOAT32 or FLOAT64 rounding of the reference. */
    private static void assertSame(String what, double[] expected, double[] actual, DType dtype) {
        double rtol = dtype == DType.FLOAT32 ? 1e-6 : 1e-14;
        for (int i = 0; i < expected.length; i++) {
            double e = expected[i];
            double a = actual[i];
            boolean ok = Double.isNaN(e) ? Double.isNaN(a)
                    : Double.isInfinite(e) ? e == a
                    : Math.abs(a - e) <= rtol * Math.abs(e) + 1e-300;
            assertEquals(true, ok, what + ": element " + i + " is " + a + ", reference " + e
                    + "\n  reference " + Arrays.toString(expected) + "\n  actual    " + Arrays.toString(actual));
        }
    }
}
