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

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The row walks of {@link SimdBackend} over views the contiguous paths never see: permuted and
 * transposed operands, broadcasts along any dim, offset and stepped slices, and reductions over every
 * subset of dims of such views, each diffed against the scalar reference backend. Rows of 1, 17 and
 * 40 elements put vector bodies and tails in every row.
 */
class SimdStridedLayoutsTest {
    private static final Backend SIMD = new SimdBackend();
    private static final Backend SCALAR = new ScalarBackend();
    private static final DType[] FLOATING = {DType.FLOAT64, DType.FLOAT32};
    private static final Shape[] SHAPES = {Shape.of(3, 5, 17), Shape.of(2, 3, 4, 40), Shape.of(4, 1, 6)};

    /** One way a view of a given shape may sit in its storage. */
    enum View { DENSE, REVERSED_DIMS, LAST_TWO_SWAPPED, BROADCAST_FIRST, BROADCAST_LAST, BROADCAST_MIDDLE, STEPPED }

    /** A view and the storage it reads, filled with values from {@code seed}. */
    record Operand(Layout layout, double[] storage) {
    }

    static Operand operand(Shape shape, View view, long seed) {
        int rank = shape.rank();
        int[] dims = shape.toArray();
        int[] strides = new int[rank];
        int offset = 3;
        switch (view) {
            case DENSE -> strides = Layout.contiguous(shape).strides();
            case REVERSED_DIMS -> {
                // Stored with its dims in reverse order: the first dim has stride 1.
                int s = 1;
                for (int d = 0; d < rank; d++) {
                    strides[d] = s;
                    s *= dims[d];
                }
            }
            case LAST_TWO_SWAPPED -> {
                // A transposed batch of matrices, as a permuted gradient or k^T.
                int s = 1;
                strides[rank - 2] = s;
                s *= dims[rank - 2];
                strides[rank - 1] = s;
                s *= dims[rank - 1];
                for (int d = rank - 3; d >= 0; d--) {
                    strides[d] = s;
                    s *= dims[d];
                }
            }
            case BROADCAST_FIRST, BROADCAST_LAST, BROADCAST_MIDDLE -> {
                int zero = view == View.BROADCAST_FIRST ? 0 : view == View.BROADCAST_LAST ? rank - 1 : rank / 2;
                int s = 1;
                for (int d = rank - 1; d >= 0; d--) {
                    if (d == zero) {
                        strides[d] = 0;
                    } else {
                        strides[d] = s;
                        s *= dims[d];
                    }
                }
            }
            case STEPPED -> {
                // Every other element of a wider dense tensor: no dim has stride 1.
                int s = 2;
                for (int d = rank - 1; d >= 0; d--) {
                    strides[d] = s;
                    s *= dims[d];
                }
            }
        }
        int last = offset;
        for (int d = 0; d < rank; d++) {
            last += (dims[d] - 1) * strides[d];
        }
        Random random = new Random(seed);
        double[] storage = new double[last + 1];
        for (int i = 0; i < storage.length; i++) {
            storage[i] = 0.5 + 1.5 * random.nextDouble();
        }
        return new Operand(new Layout(shape, strides, offset), storage);
    }

    @Test
    void binaryOverEveryPairOfViewsMatchesTheReference() {
        for (DType dtype : FLOATING) {
            for (Shape shape : SHAPES) {
                for (View va : View.values()) {
                    for (View vb : View.values()) {
                        Operand a = operand(shape, va, 1);
                        Operand b = operand(shape, vb, 2);
                        for (BinaryOp op : new BinaryOp[] {BinaryOp.ADD, BinaryOp.MUL, BinaryOp.DIV, BinaryOp.SUB}) {
                            String what = op + " " + dtype + " " + shape + " a " + va + " b " + vb;
                            assertSame(what, binary(SCALAR, op, a, b, dtype), binary(SIMD, op, a, b, dtype), dtype);
                        }
                    }
                }
            }
        }
    }

    @Test
    void callsLargeEnoughToSplitOverThreadsMatchTheReference() {
        // Past RowThreads.PARALLEL_ELEMENTS: rows (and pieces of one run, bands of a tiled copy, blocks
        // of columns of a reduction) are cut into parts, each part's walk starting mid-way.
        Shape shape = Shape.of(3, 131, 257);
        assertEquals(true, RowThreads.parts(shape.numel() / 257, 257) > 1, "the calls must be split");
        for (DType dtype : FLOATING) {
            for (View va : new View[] {View.DENSE, View.BROADCAST_MIDDLE, View.LAST_TWO_SWAPPED}) {
                for (View vb : new View[] {View.DENSE, View.BROADCAST_FIRST, View.BROADCAST_LAST}) {
                    Operand a = operand(shape, va, 7);
                    Operand b = operand(shape, vb, 8);
                    String what = "add " + dtype + " " + shape + " a " + va + " b " + vb;
                    assertSame(what, binary(SCALAR, BinaryOp.ADD, a, b, dtype), binary(SIMD, BinaryOp.ADD, a, b, dtype),
                            dtype);
                }
                Operand x = operand(shape, va, 9);
                assertSame("gelu " + dtype + " " + va, run(SCALAR, "gelu", x, x, x, dtype), run(SIMD, "gelu", x, x, x, dtype),
                        dtype);
                // Copies (whole, by rows, in tiles), scaledAdd and where split by rows or pieces too.
                Operand y = operand(shape, View.DENSE, 10);
                Operand cond = operand(shape, View.DENSE, 11);
                for (int i = 0; i < cond.storage().length; i++) {
                    cond.storage()[i] = cond.storage()[i] > 1.2 ? 1 : 0;
                }
                for (String kernel : new String[] {"copy", "scaledAdd", "where", "copyIntoTransposed"}) {
                    assertSame(kernel + " " + dtype + " " + va, run(SCALAR, kernel, x, y, cond, dtype),
                            run(SIMD, kernel, x, y, cond, dtype), dtype);
                }
                // Reductions: a whole run's pieces, outputs of runs, blocks of columns, kept dims between reduced ones.
                for (Shape outShape : new Shape[] {Shape.of(1, 1, 1), Shape.of(3, 131, 1), Shape.of(1, 1, 257),
                        Shape.of(3, 1, 257), Shape.of(1, 131, 1)}) {
                    for (ReduceOp op : ReduceOp.values()) {
                        String what = op + " " + dtype + " " + va + " " + shape + " -> " + outShape;
                        assertSame(what, reduce(SCALAR, op, x, outShape, dtype), reduce(SIMD, op, x, outShape, dtype),
                                dtype);
                    }
                }
            }
        }
    }

    private static double[] binary(Backend be, BinaryOp op, Operand a, Operand b, DType dtype) {
        Shape shape = a.layout().shape();
        Storage out = be.allocate(dtype, shape.numel());
        Layout outLayout = Layout.contiguous(shape);
        be.binary(op, be.fromDoubles(a.storage(), dtype), a.layout(), be.fromDoubles(b.storage(), dtype), b.layout(),
                out, outLayout);
        return be.toDoubles(out, outLayout);
    }

    @Test
    void unaryCopyScaledAddAndWhereOverEveryViewMatchTheReference() {
        for (DType dtype : FLOATING) {
            for (Shape shape : SHAPES) {
                for (View view : View.values()) {
                    Operand x = operand(shape, view, 3);
                    Operand y = operand(shape, View.values()[(view.ordinal() + 3) % View.values().length], 4);
                    Operand cond = operand(shape, View.values()[(view.ordinal() + 5) % View.values().length], 5);
                    for (int i = 0; i < cond.storage().length; i++) {
                        cond.storage()[i] = cond.storage()[i] > 1.2 ? 1 : 0;
                    }
                    String what = dtype + " " + shape + " " + view;
                    double[][] results = new double[2][];
                    Backend[] backends = {SCALAR, SIMD};
                    for (String kernel : new String[] {"exp", "copy", "scaledAdd", "where", "copyIntoTransposed"}) {
                        for (int k = 0; k < 2; k++) {
                            results[k] = run(backends[k], kernel, x, y, cond, dtype);
                        }
                        assertSame(kernel + " " + what + " (y " + y.layout() + ")", results[0], results[1], dtype);
                    }
                }
            }
        }
    }

    private static double[] run(Backend be, String kernel, Operand x, Operand y, Operand cond, DType dtype) {
        Shape shape = x.layout().shape();
        Storage sx = be.fromDoubles(x.storage(), dtype);
        Storage sy = be.fromDoubles(y.storage(), dtype);
        Storage out = be.allocate(dtype, shape.numel());
        Layout outLayout = Layout.contiguous(shape);
        switch (kernel) {
            case "exp" -> be.unary(UnaryOp.EXP, sx, x.layout(), out, outLayout);
            case "gelu" -> be.unary(UnaryOp.GELU, sx, x.layout(), out, outLayout);
            case "copy" -> be.copy(sx, x.layout(), out, outLayout);
            case "scaledAdd" -> be.scaledAdd(0.75, sx, x.layout(), -1.5, sy, y.layout(), out, outLayout);
            case "where" -> be.where(be.fromDoubles(cond.storage(), dtype), cond.layout(), sx, x.layout(), sy,
                    y.layout(), out, outLayout);
            case "copyIntoTransposed" -> {
                // The destination a transposed view: its rows are not dense, so no row walk applies.
                Operand dst = operand(shape, View.LAST_TWO_SWAPPED, 0);
                Storage sd = be.fromDoubles(dst.storage(), dtype);
                be.copy(sx, x.layout(), sd, dst.layout());
                return be.toDoubles(sd, dst.layout());
            }
            default -> throw new IllegalArgumentException(kernel);
        }
        return be.toDoubles(out, outLayout);
    }

    @Test
    void reductionsOverEverySubsetOfDimsOfEveryViewMatchTheReference() {
        for (DType dtype : FLOATING) {
            for (Shape shape : SHAPES) {
                for (View view : View.values()) {
                    Operand x = operand(shape, view, 6);
                    for (Shape outShape : keptShapes(shape)) {
                        for (ReduceOp op : ReduceOp.values()) {
                            String what = op + " " + dtype + " " + view + " " + shape + " -> " + outShape;
                            assertSame(what, reduce(SCALAR, op, x, outShape, dtype), reduce(SIMD, op, x, outShape, dtype),
                                    dtype);
                        }
                    }
                }
            }
        }
    }

    /** The keep-dim result shape of every subset of reduced dims. */
    private static List<Shape> keptShapes(Shape shape) {
        List<Shape> shapes = new ArrayList<>();
        for (int mask = 0; mask < 1 << shape.rank(); mask++) {
            int[] dims = shape.toArray();
            for (int d = 0; d < dims.length; d++) {
                if ((mask >> d & 1) != 0) {
                    dims[d] = 1;
                }
            }
            shapes.add(Shape.of(dims));
        }
        return shapes;
    }

    private static double[] reduce(Backend be, ReduceOp op, Operand x, Shape outShape, DType dtype) {
        Storage out = be.allocate(dtype, outShape.numel());
        Layout outLayout = Layout.contiguous(outShape);
        be.reduce(op, be.fromDoubles(x.storage(), dtype), x.layout(), out, outLayout);
        return be.toDoubles(out, outLayout);
    }

    /** FLOAT64 within 1e-12 relative; FLOAT32 within 1e-6 relative (sums may combine in another order). */
    private static void assertSame(String what, double[] expected, double[] actual, DType dtype) {
        assertEquals(expected.length, actual.length, what + ": element count");
        double rtol = dtype == DType.FLOAT64 ? 1e-12 : 1e-6;
        for (int i = 0; i < expected.length; i++) {
            double e = expected[i];
            double a = actual[i];
            if (!(Math.abs(a - e) <= rtol * Math.abs(e))) {
                throw new AssertionError(what + ": element " + i + " is " + a + " but the reference is " + e);
            }
        }
    }
}
