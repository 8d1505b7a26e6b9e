package dev.adjoint.engine.simd;

import dev.adjoint.DType;
import dev.adjoint.Shape;
import dev.adjoint.engine.scalar.ScalarBackend;
import dev.adjoint.spi.Backend;
import dev.adjoint.spi.Layout;
import dev.adjoint.spi.Storage;
import dev.adjoint.spi.Window2d;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * unfold, fold, max pooling and the row scatter/gather against the scalar reference, over window
 * geometries the conformance suite's few samples do not reach (every stride, padding and dilation
 * combination up to 3, kernels wider than the padding, ceil-mode and "same" extents with more
 * positions than the floor formula), strided inputs, and sizes large enough for the helper threads.
 */
class SimdWindowsTest {
    private static final Backend SIMD = new SimdBackend();
    private static final Backend SCALAR = new ScalarBackend();

    /** Geometries for an image of {@code height x width}: every small kernel, stride, padding, dilation and extent. */
    private static List<Window2d> windows(int height, int width) {
        List<Window2d> out = new ArrayList<>();
        for (int k = 1; k <= 3; k++) {
            for (int s = 1; s <= 3; s++) {
                for (int p = 0; p <= 2; p++) {
                    for (int d = 1; d <= 2; d++) {
                        for (int extra = 0; extra <= 1; extra++) {
                            int outH = Window2d.outputSize(height, k, s, p, d, false) + extra;
                            int outW = Window2d.outputSize(width, k + 1, s, p, d, false) + extra;
                            if (outH > 0 && outW > 0) {
                                out.add(new Window2d(height, width, k, k + 1, s, s, p, p, d, d, outH, outW));
                            }
                        }
                    }
                }
            }
        }
        return out;
    }

    @Test
    void unfoldAndFoldMatchTheReferenceForEveryGeometry() {
        for (DType dtype : new DType[] {DType.FLOAT64, DType.FLOAT32}) {
            for (Window2d w : windows(5, 7)) {
                int n = 2;
                int c = 3;
                // Input read through a transposed-batch view: [N, C, H, W] stored as [C, N, H, W].
                Shape shape = Shape.of(n, c, w.height(), w.width());
                int plane = w.height() * w.width();
                Layout input = new Layout(shape, new int[] {plane, n * plane, w.width(), 1}, 0);
                double[] x = values(shape.numel(), w.hashCode());
                Layout cols = columnsLayout(n, c * w.taps(), w.positions());
                assertArrayEquals(unfold(SCALAR, x, input, w, cols, dtype), unfold(SIMD, x, input, w, cols, dtype),
                        "unfold " + w + " " + dtype);
                double[] g = values(n * c * w.taps() * w.positions(), w.hashCode() + 1);
                assertClose("fold " + w + " " + dtype, fold(SCALAR, g, cols, w, shape, dtype),
                        fold(SIMD, g, cols, w, shape, dtype), dtype);
            }
        }
    }

    @Test
    void maxPoolMatchesTheReferenceForEveryGeometry() {
        for (DType dtype : new DType[] {DType.FLOAT64, DType.FLOAT32}) {
            for (Window2d w : windows(6, 5)) {
                if (!everyWindowReachesTheImage(w)) {
                    continue;
                }
                // Columns 2 apart (a strided input: gathers), and dense (plain loads, or at stride 2 the
                // even lanes of two loads).
                for (int columnStride : new int[] {2, 1}) {
                    Shape shape = Shape.of(2, 2, w.height(), w.width());
                    int plane = w.height() * w.width() * columnStride;
                    Layout input = new Layout(shape, new int[] {2 * plane, plane, w.width() * columnStride,
                            columnStride}, 1);
                    double[] x = values(4 * plane + 1, w.hashCode());
                    // Ties, NaN and -inf: copies of a neighbour, one NaN, and a run of -inf long enough
                    // to fill windows (whose first tap must then be the index, as in the reference).
                    x[7] = x[9];
                    x[11] = Double.NaN;
                    for (int i = 2 * plane + 1; i < 2 * plane + 1 + 2 * w.width() * columnStride; i++) {
                        x[i] = Double.NEGATIVE_INFINITY;
                    }
                    Object[] expected = maxPool(SCALAR, x, input, w, dtype);
                    Object[] actual = maxPool(SIMD, x, input, w, dtype);
                    String what = w + " column stride " + columnStride + " " + dtype;
                    assertArrayEquals((double[]) expected[0], (double[]) actual[0], "values " + what);
                    assertArrayEquals((long[]) expected[1], (long[]) actual[1], "indices " + what);
                }
            }
        }
    }

    @Test
    void maxPoolOverRowsWideEnoughForVectorsMatchesTheReference() {
        // Outputs 16 to 40 windows wide: whole vectors of windows (dense loads at stride 1 with
        // dense columns, gathers otherwise), a scalar remainder, and border windows, with ties and NaNs.
        Window2d[] windows = {
            new Window2d(5, 64, 2, 2, 2, 2, 0, 0, 1, 1, 2, 32),
            new Window2d(6, 81, 3, 3, 2, 2, 1, 1, 1, 1, 3, 41),
            new Window2d(4, 40, 2, 3, 1, 1, 1, 1, 1, 2, 5, 38),
            new Window2d(7, 50, 3, 2, 2, 3, 1, 1, 2, 1, 3, 17),
        };
        for (DType dtype : new DType[] {DType.FLOAT64, DType.FLOAT32}) {
            for (Window2d w : windows) {
                for (int columnStride : new int[] {1, 2}) {
                    Shape shape = Shape.of(2, 3, w.height(), w.width());
                    int plane = w.height() * w.width() * columnStride;
                    Layout input = new Layout(shape, new int[] {3 * plane, plane, w.width() * columnStride,
                            columnStride}, 0);
                    double[] x = values(6 * plane, w.hashCode() + columnStride);
                    for (int i = 0; i + 1 < x.length; i += 7) {
                        x[i] = x[i + 1];
                    }
                    for (int i = 3; i < x.length; i += 101) {
                        x[i] = Double.NaN;
                    }
                    Object[] expected = maxPool(SCALAR, x, input, w, dtype);
                    Object[] actual = maxPool(SIMD, x, input, w, dtype);
                    String what = w + " column stride " + columnStride + " " + dtype;
                    assertArrayEquals((double[]) expected[0], (double[]) actual[0], "values " + what);
                    assertArrayEquals((long[]) expected[1], (long[]) actual[1], "indices " + what);
                }
            }
        }
    }

    @Test
    void largeInputsShareTheWorkBetweenThreadsAndGiveTheSameResults() {
        // [32, 64, 30, 30], 3x3 stride 1 padding 1: 18 M elements of columns, far above the parallel threshold.
        Window2d w = new Window2d(30, 30, 3, 3, 1, 1, 1, 1, 1, 1, 30, 30);
        Shape shape = Shape.of(32, 64, 30, 30);
        Layout input = Layout.contiguous(shape);
        double[] x = values(shape.numel(), 5);
        for (DType dtype : new DType[] {DType.FLOAT32, DType.FLOAT64}) {
            Layout cols = columnsLayout(32, 64 * 9, 900);
            double[] unfolded = unfold(SIMD, x, input, w, cols, dtype);
            assertArrayEquals(unfold(SCALAR, x, input, w, cols, dtype), unfolded, "unfold " + dtype);
            assertClose("fold " + dtype, fold(SCALAR, unfolded, cols, w, shape, dtype),
                    fold(SIMD, unfolded, cols, w, shape, dtype), dtype);
            Window2d pool = new Window2d(30, 30, 2, 2, 2, 2, 0, 0, 1, 1, 15, 15);
            Object[] expected = maxPool(SCALAR, x, input, pool, dtype);
            Object[] actual = maxPool(SIMD, x, input, pool, dtype);
            assertArrayEquals((double[]) expected[0], (double[]) actual[0]);
            assertArrayEquals((long[]) expected[1], (long[]) actual[1]);
        }
    }

    @Test
    void scatterAddAndGatherAlongRowsMatchTheReference() {
        Random random = new Random(3);
        long[] index = new long[4 * 3 * 10];
        for (int i = 0; i < index.length; i++) {
            index[i] = random.nextInt(25);
        }
        double[] src = values(index.length, 4);
        double[] base = values(4 * 3 * 25, 6);
        Shape small = Shape.of(4, 3, 10);
        Shape wide = Shape.of(4, 3, 25);
        for (DType dtype : new DType[] {DType.FLOAT64, DType.FLOAT32}) {
            double[][] results = new double[2][];
            double[][] gathered = new double[2][];
            Backend[] backends = {SCALAR, SIMD};
            for (int b = 0; b < 2; b++) {
                Backend backend = backends[b];
                Storage dst = backend.fromDoubles(base, dtype);
                Storage idx = backend.fromLongs(index);
                backend.scatterAdd(dst, Layout.contiguous(wide), 2, idx, Layout.contiguous(small),
                        backend.fromDoubles(src, dtype), Layout.contiguous(small));
                results[b] = backend.toDoubles(dst, Layout.contiguous(wide));
                Storage out = backend.allocate(dtype, small.numel());
                backend.gather(dst, Layout.contiguous(wide), 2, idx, Layout.contiguous(small), out,
                        Layout.contiguous(small));
                gathered[b] = backend.toDoubles(out, Layout.contiguous(small));
            }
            assertClose("scatterAdd " + dtype, results[0], results[1], dtype);
            assertArrayEquals(gathered[0], gathered[1], "gather " + dtype);
        }
    }

    // ---- helpers ----------------------------------------------------------------------------------------

    /** The api's layout for unfold's output: [N, rows, positions] stored as [rows, N, positions]. */
    private static Layout columnsLayout(int n, int rows, int positions) {
        return new Layout(Shape.of(n, rows, positions), new int[] {positions, n * positions, 1}, 0);
    }

    private static boolean everyWindowReachesTheImage(Window2d w) {
        for (int oh = 0; oh < w.outH(); oh++) {
            boolean any = false;
            for (int kh = 0; kh < w.kernelH(); kh++) {
                any |= w.row(oh, kh) >= 0 && w.row(oh, kh) < w.height();
            }
            if (!any) {
                return false;
            }
        }
        for (int ow = 0; ow < w.outW(); ow++) {
            boolean any = false;
            for (int kw = 0; kw < w.kernelW(); kw++) {
                any |= w.column(ow, kw) >= 0 && w.column(ow, kw) < w.width();
            }
            if (!any) {
                return false;
            }
        }
        return true;
    }

    private static double[] unfold(Backend backend, double[] x, Layout input, Window2d w, Layout cols, DType dtype) {
        Storage out = backend.allocate(dtype, cols.numel());
        backend.unfold(backend.fromDoubles(x, dtype), input, w, out, cols);
        return backend.toDoubles(out, cols);
    }

    private static double[] fold(Backend backend, double[] g, Layout cols, Window2d w, Shape image, DType dtype) {
        Storage out = backend.allocate(dtype, image.numel());
        // The columns' storage holds them in [rows, N, positions] order, as cols' strides say.
        backend.fold(backend.fromDoubles(g, dtype), cols, w, out, Layout.contiguous(image));
        return backend.toDoubles(out, Layout.contiguous(image));
    }

    private static Object[] maxPool(Backend backend, double[] x, Layout input, Window2d w, DType dtype) {
        Shape shape = Shape.of(input.shape().dim(0), input.shape().dim(1), w.outH(), w.outW());
        Storage out = backend.allocate(dtype, shape.numel());
        Storage indices = backend.allocate(DType.INT64, shape.numel());
        backend.maxPool2d(backend.fromDoubles(x, dtype), input, w, out, Layout.contiguous(shape), indices,
                Layout.contiguous(shape));
        return new Object[] {backend.toDoubles(out, Layout.contiguous(shape)),
                backend.toLongs(indices, Layout.contiguous(shape))};
    }

    private static double[] values(int n, long seed) {
        Random random = new Random(seed);
        double[] v = new double[n];
        for (int i = 0; i < n; i++) {
            v[i] = random.nextDouble() * 4 - 2;
        }
        return v;
    }

    /** FLOAT64 to round-off; FLOAT32 sums a few taps in float where the reference rounds once. */
    private static void assertClose(String what, double[] expected, double[] actual, DType dtype) {
        assertEquals(expected.length, actual.length, what);
        double tolerance = dtype == DType.FLOAT64 ? 1e-12 : 1e-5;
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], actual[i], tolerance * (1 + Math.abs(expected[i])), what + " element " + i);
        }
    }
}
