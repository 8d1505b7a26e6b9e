package dev.adjoint.engine.simd;

import dev.adjoint.DType;
import dev.adjoint.Shape;
import dev.adjoint.engine.scalar.ScalarBackend;
import dev.adjoint.spi.Backend;
import dev.adjoint.spi.BinaryOp;
import dev.adjoint.spi.Layout;
import dev.adjoint.spi.ReduceOp;
import dev.adjoint.spi.Storage;
import dev.adjoint.spi.UnaryOp;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Kernel edge cases the conformance suite's small samples do not reach: with 512-bit vectors its
 * tensors of 6 or 12 elements never fill a FLOAT32 vector, so here every path runs at sizes around and
 * far beyond the lane count (1, 15, 17, 1000, ..., and past the backend's pieces of long runs), with NaN, signed zeros and infinities, and with
 * the layouts each fast path accepts, diffed against the scalar reference backend.
 */
class SimdKernelTest {
    private static final Backend SIMD = new SimdBackend();
    private static final Backend SCALAR = new ScalarBackend();
    /** The last is over two of the pieces SimdBackend hands long runs to the kernels in, with a tail. */
    private static final int[] SIZES = {1, 2, 7, 8, 9, 15, 16, 17, 31, 33, 64, 1000, 2 * SimdBackend.RUN_PIECE + 37};
    private static final DType[] FLOATING = {DType.FLOAT64, DType.FLOAT32};

    // ---- unary ---------------------------------------------------------------------------------------

    @ParameterizedTest
    @EnumSource(UnaryOp.class)
    void unaryMatchesTheReferenceAtEverySize(UnaryOp op) {
        for (DType dtype : FLOATING) {
            for (int n : SIZES) {
                double[] x = values(n, n, domainLow(op), 3.0);
                sprinkleSpecials(x, op);
                Layout layout = Layout.contiguous(Shape.of(n));
                double[] expected = unary(SCALAR, op, x, dtype, layout, n);
                double[] actual = unary(SIMD, op, x, dtype, layout, n);
                assertClose(op + " " + dtype + " n=" + n, expected, actual, dtype, cancellationSlack(op, dtype));
            }
        }
    }

    @ParameterizedTest
    @EnumSource(UnaryOp.class)
    void unaryOverSlicedRowsMatchesTheReference(UnaryOp op) {
        // [5, 37] read from a [5, 40] buffer starting at column 2: rows dense, row stride 40.
        for (DType dtype : FLOATING) {
            double[] x = values(200, 11, domainLow(op), 3.0);
            Layout sliced = new Layout(Shape.of(5, 37), new int[] {40, 1}, 2);
            assertClose(op + " sliced " + dtype, unary(SCALAR, op, x, dtype, sliced, 5 * 37),
                    unary(SIMD, op, x, dtype, sliced, 5 * 37), dtype, cancellationSlack(op, dtype));
        }
    }

    /**
     * floor, ceil, round and trunc are exact: the same bits as Math's (as the reference computes them),
     * at halves, at the last non-integers below 2^23 (FLOAT32) and 2^52 (FLOAT64) and the first
     * integers above, for signed zeros (floor(-0.0), ceil(-0.5) and trunc(-0.5) are -0.0), infinities
     * and NaN, in every lane of a vector and in the tail.
     */
    @ParameterizedTest
    @EnumSource(value = UnaryOp.class, names = {"FLOOR", "CEIL", "ROUND", "TRUNC"})
    void roundingIsExact(UnaryOp op) {
        double[] floats = {0.0, -0.0, 0.3, -0.3, 0.5, -0.5, 0.7, -0.7, 1.0, -1.0, 1.5, -1.5, 2.5, -2.5,
                Math.nextDown(0.5f), -Math.nextDown(0.5f), Math.nextDown(1.0f), -Math.nextDown(1.0f),
                0x1p23 - 0.5, -(0x1p23 - 0.5), 0x1p22 + 0.5, -(0x1p22 + 0.5), 0x1p23, -0x1p23, 0x1p23 + 1,
                0x1p24 + 2, 1e30, -1e30, Float.MIN_VALUE, -Float.MIN_VALUE, Double.POSITIVE_INFINITY,
                Double.NEGATIVE_INFINITY, Double.NaN};
        double[] doubles = {0x1p52 - 0.5, -(0x1p52 - 0.5), 0x1p51 + 0.5, -(0x1p51 + 0.5), 0x1p52, 0x1p52 + 1,
                -(0x1p53 + 2), Math.nextDown(1.0), -Math.nextDown(1.0), Double.MIN_VALUE, -Double.MIN_VALUE, 1e300};
        for (DType dtype : FLOATING) {
            double[] special = dtype == DType.FLOAT32 ? floats : concat(floats, doubles);
            for (int n : new int[] {special.length, 64 + 7}) {
                double[] x = new double[n];
                for (int i = 0; i < n; i++) {
                    x[i] = special[i % special.length];
                }
                Layout layout = Layout.contiguous(Shape.of(n));
                double[] expected = unary(SCALAR, op, x, dtype, layout, n);
                double[] actual = unary(SIMD, op, x, dtype, layout, n);
                for (int i = 0; i < n; i++) {
                    assertEquals(Double.doubleToLongBits(expected[i]), Double.doubleToLongBits(actual[i]),
                            op + " " + dtype + " of " + x[i] + ": " + actual[i] + ", the reference " + expected[i]);
                }
            }
        }
    }

    private static double[] concat(double[] a, double[] b) {
        double[] both = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, both, a.length, b.length);
        return both;
    }

    /**
     * The GELU family computes {@code 1 + erf} or {@code 1 + tanh} (as PyTorch does), which cancels for
     * negative x, and SiLU's derivative {@code 1 + x (1 - s)}, which cancels near its zero (x = -2.4):
     * their error is a few ulps of 1 times |x| (at most 3 here), not a few ulps of the result. An
     * absolute slack of 8 ulps of 1 times 3; tiny inputs are checked in ulps by the conformance suite's
     * tiny samples.
     */
    private static double cancellationSlack(UnaryOp op, DType dtype) {
        boolean cancels = op == UnaryOp.GELU || op == UnaryOp.GELU_DERIVATIVE || op == UnaryOp.GELU_TANH
                || op == UnaryOp.GELU_TANH_DERIVATIVE || op == UnaryOp.SILU_DERIVATIVE;
        return cancels ? 8 * 3 * (dtype == DType.FLOAT64 ? Math.ulp(1.0) : Math.ulp(1.0f)) : 0;
    }

    private static double domainLow(UnaryOp op) {
        return switch (op) {
            case LOG, SQRT -> 0.01;
            case LOG1P -> -0.99;
            default -> -3.0;
        };
    }

    /** NaN everywhere; infinities and signed zeros where the op is defined there. */
    private static void sprinkleSpecials(double[] x, UnaryOp op) {
        double[] specials = op == UnaryOp.LOG || op == UnaryOp.SQRT || op == UnaryOp.LOG1P
                ? new double[] {Double.NaN, Double.POSITIVE_INFINITY, 0.0}
                : new double[] {Double.NaN, -0.0, 0.0, Double.NEGATIVE_INFINITY, Double.POSITIVE_INFINITY, 1000, -1000};
        for (int i = 0; i < x.length; i += 7) {
            x[i] = specials[(i / 7) % specials.length];
        }
        if (op == UnaryOp.SIN || op == UnaryOp.COS) {
            for (int i = 0; i < x.length; i++) {
                if (Double.isInfinite(x[i]) || Math.abs(x[i]) == 1000) {
                    x[i] = 0.5;
                }
            }
        }
    }

    private static double[] unary(Backend backend, UnaryOp op, double[] x, DType dtype, Layout layout, int n) {
        Storage in = backend.fromDoubles(x, dtype);
        Storage out = backend.allocate(dtype, n);
        Layout outLayout = Layout.contiguous(layout.shape());
        backend.unary(op, in, layout, out, outLayout);
        return backend.toDoubles(out, outLayout);
    }

    // ---- binary --------------------------------------------------------------------------------------

    /** How operand b reaches the kernel; a is always dense [rows, cols]. */
    enum BLayout { DENSE, REPEATED, ROW_BROADCAST, COLUMN_BROADCAST, REPEATED_FIRST }

    @Test
    void scaledAddMatchesTheReferenceAtEverySize() {
        // out = scale * a + alpha * b, the fused update behind add_(other, alpha) and the optimizers.
        for (DType dtype : FLOATING) {
            for (int n : SIZES) {
                double[] a = values(n, n, -3, 3);
                double[] b = values(n, n + 1, -3, 3);
                Layout layout = Layout.contiguous(Shape.of(n));
                double[][] results = new double[2][];
                Backend[] backends = {SCALAR, SIMD};
                for (int i = 0; i < 2; i++) {
                    Storage out = backends[i].allocate(dtype, n);
                    backends[i].scaledAdd(0.9, backends[i].fromDoubles(a, dtype), layout, -0.5,
                            backends[i].fromDoubles(b, dtype), layout, out, layout);
                    results[i] = backends[i].toDoubles(out, layout);
                }
                assertClose("scaledAdd " + dtype + " n=" + n, results[0], results[1], dtype);
            }
        }
    }

    @ParameterizedTest
    @EnumSource(BinaryOp.class)
    void binaryMatchesTheReferenceForEveryOperandLayout(BinaryOp op) {
        for (DType dtype : FLOATING) {
            for (int cols : SIZES) {
                for (BLayout how : BLayout.values()) {
                    int rows = 3;
                    int n = rows * cols;
                    double lo = op == BinaryOp.POW ? 0.1 : -2;
                    double[] a = values(n, cols, lo, 2);
                    double[] b = values(n, cols + 1000, op == BinaryOp.DIV || op == BinaryOp.POW ? 0.5 : -2, 2);
                    if (op.isComparison() || op == BinaryOp.MAX || op == BinaryOp.MIN) {
                        // Ties and NaN: equal elements, and NaN in either operand.
                        for (int i = 0; i < n; i += 3) {
                            b[i] = a[i];
                        }
                        a[n / 2] = Double.NaN;
                        b[n - 1] = Double.NaN;
                        b[0] = op == BinaryOp.MAX || op == BinaryOp.MIN ? -0.0 : b[0];
                    }
                    Shape shape = Shape.of(rows, cols);
                    Layout aLayout = Layout.contiguous(shape);
                    Layout bLayout = switch (how) {
                        case DENSE -> Layout.contiguous(shape);
                        case REPEATED, REPEATED_FIRST -> new Layout(shape, new int[] {0, 0}, 5 % n);
                        case ROW_BROADCAST -> new Layout(shape, new int[] {0, 1}, 0);
                        case COLUMN_BROADCAST -> new Layout(shape, new int[] {1, 0}, 0);
                    };
                    boolean swap = how == BLayout.REPEATED_FIRST;
                    String what = op + " " + dtype + " [" + rows + ", " + cols + "] b " + how;
                    assertClose(what, binary(SCALAR, op, a, aLayout, b, bLayout, dtype, shape, swap),
                            binary(SIMD, op, a, aLayout, b, bLayout, dtype, shape, swap), dtype);
                }
            }
        }
    }

    @Test
    void emptyOutputsReadNothing() {
        for (DType dtype : FLOATING) {
            Shape empty = Shape.of(0, 20);
            Layout repeated = new Layout(empty, new int[] {0, 0}, 0);
            Storage none = SIMD.allocate(dtype, 0);
            Storage out = SIMD.allocate(dtype, 0);
            SIMD.binary(BinaryOp.ADD, none, repeated, none, repeated, out, Layout.contiguous(empty));
            SIMD.unary(UnaryOp.EXP, none, Layout.contiguous(empty), out, Layout.contiguous(empty));
            Storage sums = SIMD.allocate(dtype, 20);
            SIMD.reduce(ReduceOp.SUM, none, Layout.contiguous(empty), sums, Layout.contiguous(Shape.of(1, 20)));
            assertEquals(0.0, SIMD.toDoubles(sums, Layout.contiguous(Shape.of(1, 20)))[19]);
            Storage product = SIMD.allocate(dtype, 3 * 20);
            SIMD.fill(product, Layout.contiguous(Shape.of(3, 20)), 7.0);
            SIMD.matmul(none, Layout.contiguous(Shape.of(3, 0)), none, Layout.contiguous(Shape.of(0, 20)), product,
                    Layout.contiguous(Shape.of(3, 20)));
            assertEquals(0.0, SIMD.toDoubles(product, Layout.contiguous(Shape.of(3, 20)))[59], "a k = 0 product is 0");
        }
    }

    @Test
    void powOfNegativeBasesFollowsMathPow() {
        // x.pow(3) and x.pow(-1.5) reach the kernel as POW with a repeated exponent: negative bases
        // must give signed results for integer exponents and NaN otherwise, zero bases 0 or Inf.
        for (DType dtype : FLOATING) {
            for (double exponent : new double[] {-2, -1, 0, 1, 2, 3, 0.5, -1.5, 2.5}) {
                int n = 100;
                double[] base = values(n, 3, -2, 2);
                base[5] = 0.0;
                base[6] = -0.0;
                base[7] = Double.NaN;
                base[8] = Double.NEGATIVE_INFINITY;
                double[] exp = {exponent};
                Shape shape = Shape.of(1, n);
                Layout repeated = new Layout(shape, new int[] {0, 0}, 0);
                assertClose("pow " + dtype + " exponent " + exponent,
                        binary(SCALAR, BinaryOp.POW, base, Layout.contiguous(shape), exp, repeated, dtype, shape, false),
                        binary(SIMD, BinaryOp.POW, base, Layout.contiguous(shape), exp, repeated, dtype, shape, false),
                        dtype);
            }
        }
    }

    private static double[] binary(Backend backend, BinaryOp op, double[] a, Layout aLayout, double[] b,
                                   Layout bLayout, DType dtype, Shape shape, boolean swap) {
        Storage sa = backend.fromDoubles(a, dtype);
        Storage sb = backend.fromDoubles(b, dtype);
        // A comparison writes a BOOL output, as the SPI says.
        Storage out = backend.allocate(op.isComparison() ? DType.BOOL : dtype, shape.numel());
        Layout outLayout = Layout.contiguous(shape);
        if (swap) {
            backend.binary(op, sb, bLayout, sa, aLayout, out, outLayout);
        } else {
            backend.binary(op, sa, aLayout, sb, bLayout, out, outLayout);
        }
        return backend.toDoubles(out, outLayout);
    }

    @Test
    void whereMatchesTheReferenceAtEverySize() {
        for (DType dtype : FLOATING) {
            for (int n : SIZES) {
                double[] cond = new double[n];
                for (int i = 0; i < n; i++) {
                    cond[i] = i % 3 == 0 ? 0.0 : i % 3 == 1 ? 1.0 : (i % 2 == 0 ? Double.NaN : -0.0);
                }
                double[] a = values(n, 1, -1, 1);
                double[] b = values(n, 2, -1, 1);
                Layout layout = Layout.contiguous(Shape.of(n));
                double[][] results = new double[2][];
                Backend[] backends = {SCALAR, SIMD};
                for (int k = 0; k < 2; k++) {
                    Backend be = backends[k];
                    Storage out = be.allocate(dtype, n);
                    // The condition is BOOL, as the SPI says: NaN is true, -0.0 false.
                    be.where(be.fromDoubles(cond, DType.BOOL), layout, be.fromDoubles(a, dtype), layout,
                            be.fromDoubles(b, dtype), layout, out, layout);
                    results[k] = be.toDoubles(out, layout);
                }
                assertClose("where " + dtype + " n=" + n, results[0], results[1], dtype);
            }
        }
    }

    // ---- reductions -------------------------------------------------------------------------------------

    @ParameterizedTest
    @EnumSource(ReduceOp.class)
    void reductionsOverTrailingAndLeadingAxesMatchTheReference(ReduceOp op) {
        for (DType dtype : FLOATING) {
            for (int rows : new int[] {1, 3, 17}) {
                for (int cols : SIZES) {
                    double[] x = values(rows * cols, rows + cols, -5, 5);
                    Shape shape = Shape.of(rows, cols);
                    Layout xLayout = Layout.contiguous(shape);
                    for (Shape outShape : new Shape[] {Shape.of(rows, 1), Shape.of(1, cols), Shape.of(1, 1)}) {
                        String what = op + " " + dtype + " " + shape + " -> " + outShape;
                        assertClose(what, reduce(SCALAR, op, x, xLayout, outShape, dtype),
                                reduce(SIMD, op, x, xLayout, outShape, dtype), dtype, summationSlack(op, x));
                    }
                }
            }
        }
    }

    @ParameterizedTest
    @EnumSource(ReduceOp.class)
    void reductionsOverMiddleAndMixedAxesMatchTheReference(ReduceOp op) {
        for (DType dtype : FLOATING) {
            for (int inner : new int[] {1, 3, 17, 40}) {
                Shape shape = Shape.of(4, 3, 5, inner);
                double[] x = values(shape.numel(), inner, -5, 5);
                Layout xLayout = Layout.contiguous(shape);
                Shape[] outs = {Shape.of(4, 1, 5, inner), Shape.of(4, 1, 1, inner), Shape.of(1, 1, 5, inner),
                        Shape.of(4, 3, 1, 1), Shape.of(1, 3, 1, inner), Shape.of(4, 1, 5, 1), Shape.of(1, 1, 1, 1),
                        // Kept dims between reduced ones, trailing dims reduced: batch norm's per-channel sums.
                        Shape.of(1, 3, 1, 1), Shape.of(1, 1, 5, 1), Shape.of(1, 3, 5, 1)};
                for (Shape outShape : outs) {
                    String what = op + " " + dtype + " " + shape + " -> " + outShape;
                    assertClose(what, reduce(SCALAR, op, x, xLayout, outShape, dtype),
                            reduce(SIMD, op, x, xLayout, outShape, dtype), dtype, summationSlack(op, x));
                }
            }
        }
    }

    @ParameterizedTest
    @EnumSource(value = ReduceOp.class, names = {"MAX", "MIN"})
    void maxAndMinPropagateNaNFromAnyLane(ReduceOp op) {
        for (DType dtype : FLOATING) {
            for (int n : SIZES) {
                for (int at : new int[] {0, n / 2, n - 1}) {
                    double[] x = values(n, n + at, -5, 5);
                    x[at] = Double.NaN;
                    double[] r = reduce(SIMD, op, x, Layout.contiguous(Shape.of(n)), Shape.of(1), dtype);
                    assertTrue(Double.isNaN(r[0]), op + " " + dtype + " n=" + n + " NaN at " + at + " gave " + r[0]);
                    // A leading-axis reduction of [n, 17] with the NaN in row `at`, column 3 only.
                    int cols = 17;
                    double[] grid = values(n * cols, n + at, -5, 5);
                    grid[at * cols + 3] = Double.NaN;
                    double[] columns = reduce(SIMD, op, grid, Layout.contiguous(Shape.of(n, cols)), Shape.of(1, cols),
                            dtype);
                    for (int j = 0; j < cols; j++) {
                        assertEquals(j == 3, Double.isNaN(columns[j]),
                                op + " over rows " + dtype + " n=" + n + " column " + j + " gave " + columns[j]);
                    }
                }
            }
        }
    }

    /** Math.max's order of zeros, -0.0 below 0.0, wherever the one zero of the other sign falls (any accumulator, the tail). */
    @ParameterizedTest
    @EnumSource(value = ReduceOp.class, names = {"MAX", "MIN"})
    void maxAndMinOrderSignedZerosFromAnyLane(ReduceOp op) {
        double many = op == ReduceOp.MAX ? -0.0 : 0.0;
        double one = op == ReduceOp.MAX ? 0.0 : -0.0;
        for (DType dtype : FLOATING) {
            for (int n : SIZES) {
                for (int at : new int[] {0, Math.min(1, n - 1), n / 3, n / 2, n - 1}) {
                    double[] x = new double[n];
                    java.util.Arrays.fill(x, many);
                    x[at] = one;
                    double[] r = reduce(SIMD, op, x, Layout.contiguous(Shape.of(n)), Shape.of(1), dtype);
                    assertEquals(Double.doubleToLongBits(one), Double.doubleToLongBits(r[0]),
                            op + " " + dtype + " n=" + n + " " + one + " at " + at + " gave " + r[0]);
                }
            }
        }
    }

    @Test
    void float32SumsKeepDoubleAccuracy() {
        // 10^6 copies of 0.1f: a float accumulator drifts by ~1%; a double one stays within 1e-9.
        int n = 1_000_000;
        double[] x = new double[n];
        java.util.Arrays.fill(x, 0.1f);
        double exact = n * (double) 0.1f;
        double sum = reduce(SIMD, ReduceOp.SUM, x, Layout.contiguous(Shape.of(n)), Shape.of(1), DType.FLOAT32)[0];
        assertEquals(exact, sum, exact * 1e-7);
        double columns = reduce(SIMD, ReduceOp.SUM, x, Layout.contiguous(Shape.of(n / 20, 20)), Shape.of(1, 20),
                DType.FLOAT32)[3];
        assertEquals(exact / 20, columns, exact / 20 * 1e-7);
    }

    private static double[] reduce(Backend backend, ReduceOp op, double[] x, Layout xLayout, Shape outShape,
                                   DType dtype) {
        Storage out = backend.allocate(dtype, outShape.numel());
        Layout outLayout = Layout.contiguous(outShape);
        backend.reduce(op, backend.fromDoubles(x, dtype), xLayout, out, outLayout);
        return backend.toDoubles(out, outLayout);
    }

    // ---- matmul -----------------------------------------------------------------------------------------

    @Test
    void largeMatmulMatchesANaiveDoubleLoop() {
        checkMatmul(1, 67, 129, 35, false, false);
        checkMatmul(1, 64, 64, 64, false, false);
        checkMatmul(1, 5, 3, 100, false, false);
    }

    @Test
    void batchedMatmulMatchesANaiveDoubleLoop() {
        checkMatmul(3, 67, 129, 35, false, false);
        checkMatmul(2, 17, 9, 33, false, false);
    }

    @Test
    void matmulWithTransposedOperandsMatchesANaiveDoubleLoop() {
        checkMatmul(2, 67, 129, 35, true, false);
        checkMatmul(2, 67, 129, 35, false, true);
        checkMatmul(1, 31, 40, 18, true, true);
    }

    @Test
    void matrixVectorAndTinyShapesMatchANaiveDoubleLoop() {
        checkMatmul(1, 67, 129, 1, false, false);
        checkMatmul(1, 1, 129, 67, false, false);
        checkMatmul(1, 67, 129, 1, false, true);
        for (int m : new int[] {1, 2, 3, 4, 5}) {
            for (int k : new int[] {1, 2, 17}) {
                for (int n : new int[] {1, 3, 15, 16, 17, 33}) {
                    checkMatmul(2, m, k, n, false, false);
                    checkMatmul(1, m, k, n, true, true);
                }
            }
        }
    }

    @Test
    void matmulWithABroadcastBatchMatchesANaiveDoubleLoop() {
        // b is one [k, n] matrix expanded over the batch with stride 0.
        for (DType dtype : FLOATING) {
            int batch = 3, m = 9, k = 21, n = 19;
            double[] a = roundedTo(dtype, values(batch * m * k, 1, -1, 1));
            double[] b = roundedTo(dtype, values(k * n, 2, -1, 1));
            Layout aLayout = Layout.contiguous(Shape.of(batch, m, k));
            Layout bLayout = new Layout(Shape.of(batch, k, n), new int[] {0, n, 1}, 0);
            double[] actual = matmul(SIMD, a, aLayout, b, bLayout, dtype, batch, m, n);
            double[] expected = naiveMatmul(a, aLayout, b, bLayout, batch, m, k, n);
            assertMatmulClose("broadcast batch " + dtype, expected, actual, k, dtype);
        }
    }

    // The packed GEMM (FloatGemm/DoubleGemm): NR = 2 vectors, MR = 12 rows with 32 vector registers
    // (6 with AVX2's 16), KC and NC derived from the L1d and L2 sizes (GemmBlocking; e.g. KC 256, NC 1024
    // for FLOAT32 with a 48 KiB L1d and 2 MiB L2). The sizes below straddle blocks of those orders,
    // and the thread threshold 2 * 128^3 flops; surefire runs this module with
    // -Dadjoint.simd.threads=3, so splits are uneven and a batch of 2 is split inside each matrix.

    @Test
    void packedGemmEdgesOfTheRegisterAndCacheBlocksMatchANaiveDoubleLoop() {
        checkMatmul(1, 9, 1100, 33, false, false);    // k > KC, m and n one past MR / NR multiples
        checkMatmul(1, 37, 2100, 65, false, false);   // k > 2 KC: three passes, the last one shorter
        checkMatmul(1, 37, 1025, 65, false, false);   // k = KC + 1: two passes, not KC and 1
        checkMatmul(1, 520, 17, 40, false, false);    // m > MC in both dtypes
        checkMatmul(1, 13, 5, 4100, false, false);    // n > NC in both dtypes, a narrow last panel
        checkMatmul(1, 8, 64, 32, false, false);      // exactly one register block
        checkMatmul(1, 7, 64, 31, false, false);      // one block, all of it edge
        checkMatmul(1, 200, 1, 300, false, false);    // k = 1
        checkMatmul(1, 200, 1, 300, true, true);
    }

    @Test
    void packedGemmAroundTheThreadThresholdMatchesANaiveDoubleLoop() {
        checkMatmul(1, 127, 127, 127, false, false);  // just under: one thread
        checkMatmul(1, 129, 129, 129, false, false);  // just over: rows split across threads
        checkMatmul(1, 60, 300, 400, false, false);   // wider than tall: columns split
        checkMatmul(1, 61, 290, 401, true, true);
        checkMatmul(2, 100, 200, 150, false, true);   // batch shorter than the thread count: split inside
        checkMatmul(5, 70, 200, 90, true, false);     // batch split into runs of whole matrices
    }

    @Test
    void sharedPackingSplitsMatchANaiveDoubleLoop() {
        // Over the thread threshold, one matrix: wide outputs (or fewer than 2 * MR rows per thread)
        // are cut into independent column blocks; the others share each packed pass of B and split rows.
        checkMatmul(1, 5, 700, 2000, false, false);   // m < MR: columns, every row block is edge
        checkMatmul(1, 40, 400, 500, false, true);    // m < 2 * MR * 3 threads: columns
        checkMatmul(1, 40, 2500, 60, false, false);   // columns, though narrower than twice the rows
        checkMatmul(1, 400, 400, 40, true, false);    // shared: two panels of B for three packers
        checkMatmul(1, 200, 300, 390, false, true);   // shared, just under twice as wide as tall
        checkMatmul(1, 300, 1025, 300, false, false); // k = KC + 1: two passes of 528 and 497, not 1024 and 1
        checkMatmul(1, 9, 300, 4100, true, true);     // n > NC: a second shared block of B
    }

    @Test
    void multiLayerPerceptronShapesMatchANaiveDoubleLoop() {
        // nn.Linear: x @ w.T forward, dy.T @ x for the weight gradient, dy @ w for the input gradient.
        checkMatmul(1, 64, 784, 256, false, true);
        checkMatmul(1, 256, 64, 784, true, false);
        checkMatmul(1, 64, 256, 784, false, false);
        checkMatmul(1, 64, 256, 10, false, true);
        checkMatmul(1, 10, 64, 256, true, false);
        checkMatmul(1, 64, 10, 256, false, false);
    }

    @Test
    void rankTwoProductsWithOffsetViewsMatchANaiveDoubleLoop() {
        // Rank 2 skips the batch cursor: offsets and strides come straight from the layouts. Each
        // case: x @ w.T (forward, over the thread threshold), dy.T @ x, and a narrow x @ w.T (dots).
        int[][] cases = {{64, 784, 256}, {256, 64, 784}, {64, 256, 10}, {9, 40, 33}};
        for (DType dtype : FLOATING) {
            for (int[] mkn : cases) {
                int m = mkn[0], k = mkn[1], n = mkn[2];
                for (boolean aTransposed : new boolean[] {false, true}) {
                    int offset = 3;
                    double[] a = roundedTo(dtype, values(offset + m * k, m + k, -1, 1));
                    double[] b = roundedTo(dtype, values(k * n, k + n, -1, 1));
                    Layout aLayout = aTransposed
                            ? new Layout(Shape.of(m, k), new int[] {1, m}, offset)
                            : new Layout(Shape.of(m, k), new int[] {k, 1}, offset);
                    Layout bLayout = new Layout(Shape.of(k, n), new int[] {1, k}, 0);
                    Storage out = SIMD.allocate(dtype, m * n);
                    Layout outLayout = Layout.contiguous(Shape.of(m, n));
                    SIMD.matmul(SIMD.fromDoubles(a, dtype), aLayout, SIMD.fromDoubles(b, dtype), bLayout, out, outLayout);
                    double[] expected = new double[m * n];
                    for (int i = 0; i < m; i++) {
                        for (int j = 0; j < n; j++) {
                            double sum = 0;
                            for (int p = 0; p < k; p++) {
                                sum += a[offset + i * aLayout.stride(0) + p * aLayout.stride(1)] * b[p + j * k];
                            }
                            expected[i * n + j] = sum;
                        }
                    }
                    assertMatmulClose(String.format("rank 2 [%d, %d] @ [%d, %d].T view%s %s", m, k, n, k,
                            aTransposed ? ", a transposed" : "", dtype), expected, SIMD.toDoubles(out, outLayout), k,
                            dtype);
                }
            }
        }
    }

    @Test
    void concurrentMatmulsFromSeveralThreadsAreEachCorrect() throws Exception {
        // Only one product at a time gets the helper threads; the others run on their own thread.
        // Either way every result must be right, and nobody may wait on a helper that never comes.
        int callers = 4;
        Thread[] threads = new Thread[callers];
        Throwable[] failures = new Throwable[callers];
        for (int i = 0; i < callers; i++) {
            int index = i;
            threads[i] = new Thread(() -> {
                try {
                    for (int round = 0; round < 3; round++) {
                        checkMatmul(1, 150 + index, 300, 200, index % 2 == 0, round % 2 == 0);
                    }
                } catch (Throwable e) {
                    failures[index] = e;
                }
            });
            threads[i].start();
        }
        for (int i = 0; i < callers; i++) {
            threads[i].join(60_000);
            assertFalse(threads[i].isAlive(), "caller " + i + " still running after 60 s");
            if (failures[i] != null) {
                throw new AssertionError("caller " + i + " failed", failures[i]);
            }
        }
    }

    @Test
    void packedGemmWithTransposedOperandsMatchesANaiveDoubleLoop() {
        checkMatmul(2, 67, 300, 45, true, false);
        checkMatmul(1, 100, 70, 130, false, true);
        checkMatmul(1, 97, 260, 97, true, true);
    }

    @Test
    void packedGemmWithABroadcastBatchMatchesANaiveDoubleLoop() {
        for (DType dtype : FLOATING) {
            // b repeated over the batch (stride 0), a transposed inside each matrix; over the thread threshold
            int batch = 3, m = 70, k = 600, n = 50;
            double[] a = roundedTo(dtype, values(batch * m * k, 3, -1, 1));
            double[] b = roundedTo(dtype, values(k * n, 4, -1, 1));
            Layout aLayout = new Layout(Shape.of(batch, m, k), new int[] {m * k, 1, m}, 0);
            Layout bLayout = new Layout(Shape.of(batch, k, n), new int[] {0, n, 1}, 0);
            double[] actual = matmul(SIMD, a, aLayout, b, bLayout, dtype, batch, m, n);
            double[] expected = naiveMatmul(a, aLayout, b, bLayout, batch, m, k, n);
            assertMatmulClose("broadcast batch, packed " + dtype, expected, actual, k, dtype);
        }
    }

    @Test
    void packedGemmReadsStridedAndOffsetViews() {
        // Every other column of a [m, 2k] matrix, at an offset: neither operand is dense.
        for (DType dtype : FLOATING) {
            int m = 45, k = 70, n = 66;
            double[] a = roundedTo(dtype, values(5 + m * 2 * k, 5, -1, 1));
            double[] b = roundedTo(dtype, values(k * n * 3, 6, -1, 1));
            Layout aLayout = new Layout(Shape.of(1, m, k), new int[] {0, 2 * k, 2}, 5);
            Layout bLayout = new Layout(Shape.of(1, k, n), new int[] {0, 1, 3 * k}, 0);
            double[] actual = matmul(SIMD, a, aLayout, b, bLayout, dtype, 1, m, n);
            double[] expected = naiveMatmul(a, aLayout, b, bLayout, 1, m, k, n);
            assertMatmulClose("strided views " + dtype, expected, actual, k, dtype);
        }
    }

    @Test
    void theGemmCasesAboveReallyTakeThePackedPath() {
        assertEquals(SimdBackend.MatmulPath.PACKED, SimdBackend.MatmulPath.choose(9, 33, 300, 1, 33, 1));
        assertEquals(SimdBackend.MatmulPath.PACKED, SimdBackend.MatmulPath.choose(200, 300, 1, 1, 300, 1));
        assertEquals(SimdBackend.MatmulPath.PACKED, SimdBackend.MatmulPath.choose(45, 66, 70, 2, 1, 210));
        assertEquals(SimdBackend.MatmulPath.PACKED, SimdBackend.MatmulPath.choose(97, 97, 260, 97, 1, 260));
        // x @ w.T with 10 outputs (the MLP's last layer) takes dot products, not a 32-wide panel.
        assertEquals(SimdBackend.MatmulPath.DOTS, SimdBackend.MatmulPath.choose(64, 10, 256, 1, 1, 256));
        assertEquals(SimdBackend.MatmulPath.PACKED, SimdBackend.MatmulPath.choose(64, 16, 256, 1, 1, 256));
        // ... and the threaded ones really are cut into parts (threshold 2 * 128^3 flops).
        assertEquals(1, MatmulThreads.partsFor(2L * 127 * 127 * 127));
        assertEquals(3, MatmulThreads.partsFor(2L * 129 * 129 * 129));
        assertEquals(3, MatmulThreads.partsFor(2L * 60 * 300 * 400));
        assertEquals(3, MatmulThreads.partsFor(2L * 61 * 290 * 401));
        assertEquals(3, MatmulThreads.partsFor(2L * 2 * 100 * 200 * 150));
        assertEquals(3, MatmulThreads.partsFor(2L * 5 * 70 * 200 * 90));
        assertEquals(3, MatmulThreads.partsFor(2L * 3 * 70 * 600 * 50));
    }

    /**
     * {@code [batch, m, k] @ [batch, k, n]}; a transposed operand is stored as its transpose and
     * passed as a strided view, as the api does for {@code x.transpose()}.
     */
    private static void checkMatmul(int batch, int m, int k, int n, boolean aTransposed, boolean bTransposed) {
        for (DType dtype : FLOATING) {
            double[] a = roundedTo(dtype, values(batch * m * k, m * 31 + k, -1, 1));
            double[] b = roundedTo(dtype, values(batch * k * n, n * 17 + k, -1, 1));
            Layout aLayout = aTransposed
                    ? new Layout(Shape.of(batch, m, k), new int[] {m * k, 1, m}, 0)
                    : Layout.contiguous(Shape.of(batch, m, k));
            Layout bLayout = bTransposed
                    ? new Layout(Shape.of(batch, k, n), new int[] {k * n, 1, k}, 0)
                    : Layout.contiguous(Shape.of(batch, k, n));
            double[] actual = matmul(SIMD, a, aLayout, b, bLayout, dtype, batch, m, n);
            double[] expected = naiveMatmul(a, aLayout, b, bLayout, batch, m, k, n);
            assertMatmulClose(String.format("[%d, %d, %d] @ [%d, %d, %d]%s%s %s", batch, m, k, batch, k, n,
                    aTransposed ? " a transposed" : "", bTransposed ? " b transposed" : "", dtype),
                    expected, actual, k, dtype);
        }
    }

    private static double[] matmul(Backend backend, double[] a, Layout aLayout, double[] b, Layout bLayout,
                                   DType dtype, int batch, int m, int n) {
        Storage out = backend.allocate(dtype, batch * m * n);
        Layout outLayout = Layout.contiguous(Shape.of(batch, m, n));
        backend.matmul(backend.fromDoubles(a, dtype), aLayout, backend.fromDoubles(b, dtype), bLayout, out, outLayout);
        return backend.toDoubles(out, outLayout);
    }

    /** The textbook triple loop in double. */
    private static double[] naiveMatmul(double[] a, Layout aLayout, double[] b, Layout bLayout, int batch, int m,
                                        int k, int n) {
        double[] out = new double[batch * m * n];
        for (int t = 0; t < batch; t++) {
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    double s = 0;
                    for (int p = 0; p < k; p++) {
                        s += a[at(aLayout, t, i, p)] * b[at(bLayout, t, p, j)];
                    }
                    out[(t * m + i) * n + j] = s;
                }
            }
        }
        return out;
    }

    private static int at(Layout layout, int t, int r, int c) {
        return layout.offset() + t * layout.stride(0) + r * layout.stride(1) + c * layout.stride(2);
    }

    /**
     * The inputs are rounded to the dtype before both computations, so the only difference left is
     * the kernel's accumulation: with |values| <= 1 every partial sum is at most k, and each of the k
     * fused steps rounds by at most half an ulp of it.
     */
    private static void assertMatmulClose(String what, double[] expected, double[] actual, int k, DType dtype) {
        double ulpOfOne = dtype == DType.FLOAT64 ? Math.ulp(1.0) : Math.ulp(1.0f);
        double tolerance = ulpOfOne * k * k;
        assertEquals(expected.length, actual.length, what + ": element count");
        for (int i = 0; i < expected.length; i++) {
            double diff = Math.abs(expected[i] - actual[i]);
            if (!(diff <= tolerance)) {
                throw new AssertionError(what + ": element " + i + " is " + actual[i] + " but the naive loop gives "
                        + expected[i] + " (|diff| " + diff + " > " + tolerance + ")");
            }
        }
    }

    // ---- helpers -----------------------------------------------------------------------------------------

    private static double[] roundedTo(DType dtype, double[] v) {
        if (dtype == DType.FLOAT32) {
            for (int i = 0; i < v.length; i++) {
                v[i] = (float) v[i];
            }
        }
        return v;
    }

    /** Deterministic values in [lo, hi). */
    private static double[] values(int n, long seed, double lo, double hi) {
        Random random = new Random(seed);
        double[] v = new double[n];
        for (int i = 0; i < n; i++) {
            v[i] = lo + (hi - lo) * random.nextDouble();
        }
        return v;
    }

    /**
     * NaN equals NaN, infinities exactly, -0 equals +0 only where the reference's own sign is
     * ambiguous; otherwise FLOAT64 within 1e-13 relative (a few ulps) and FLOAT32 within 4 float ulps.
     */
    private static void assertClose(String what, double[] expected, double[] actual, DType dtype) {
        assertClose(what, expected, actual, dtype, 0);
    }

    /**
     * A sum of many terms of both signs may come out far smaller than its terms, and summed in another
     * order its error is a few ulps of the terms' magnitudes, not of the result: for SUM, an absolute
     * slack of 1e-15 times the sum of |x| (all of x, so generous per output).
     */
    private static double summationSlack(ReduceOp op, double[] x) {
        if (op != ReduceOp.SUM) {
            return 0;
        }
        double magnitude = 0;
        for (double v : x) {
            magnitude += Math.abs(v);
        }
        return 1e-15 * magnitude;
    }

    private static void assertClose(String what, double[] expected, double[] actual, DType dtype, double slack) {
        assertEquals(expected.length, actual.length, what + ": element count");
        double rtol = dtype == DType.FLOAT64 ? 1e-13 : 5e-7;
        double atol = (dtype == DType.FLOAT64 ? 1e-300 : 1e-37) + slack;
        for (int i = 0; i < expected.length; i++) {
            double e = expected[i];
            double a = actual[i];
            boolean ok = Double.isNaN(e) ? Double.isNaN(a)
                    : Double.isInfinite(e) ? e == a
                    : Math.abs(a - e) <= atol + rtol * Math.abs(e);
            if (!ok) {
                throw new AssertionError(what + ": element " + i + " is " + a + " but the reference is " + e);
            }
        }
    }
}
