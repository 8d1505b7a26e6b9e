package dev.adjoint.ops;

import dev.adjoint.BackendMismatchException;
import dev.adjoint.DType;
import dev.adjoint.DTypeMismatchException;
import dev.adjoint.Shape;
import dev.adjoint.Tensor;
import dev.adjoint.TensorShapeException;
import dev.adjoint.internal.TensorInternals;
import dev.adjoint.spi.Backend;
import dev.adjoint.spi.BinaryOp;
import dev.adjoint.spi.Layout;
import dev.adjoint.spi.ReduceOp;
import dev.adjoint.spi.ScanOp;
import dev.adjoint.spi.Storage;
import dev.adjoint.spi.UnaryOp;
import dev.adjoint.spi.Window2d;

import java.util.Arrays;

/**
 * The forward half of every op: validate once, allocate the output, call the backend's kernel.
 * Nothing here records a graph; the op classes pair these calls with their backward formulas.
 * Because every check runs here, above the SPI, every backend fails the same way with the same message.
 * No kernel is called where there is nothing to read or write (an empty tensor): an empty view may
 * carry any offset (cat places an empty piece one past the end of an empty storage), which a
 * backend's bulk copy would reject.
 */
public final class Dispatch {
    private static final TensorInternals INTERNALS = TensorInternals.get();
    private Dispatch() {
    }

    // ---- checks ---------------------------------------------------------------------------------

    static void checkSameBackend(String op, Tensor a, Tensor b) {
        if (a.backend() != b.backend()) {
            throw new BackendMismatchException(op + ": tensors are on different backends ('" + a.backend().name()
                    + "' for shape " + a.shape() + ", '" + b.backend().name() + "' for shape " + b.shape()
                    + "); move one with to(backend)");
        }
    }

    static void checkSameDType(String op, Tensor a, Tensor b) {
        if (a.dtype() != b.dtype()) {
            throw new DTypeMismatchException(op + ": dtypes differ (" + a.dtype() + " for shape " + a.shape() + ", "
                    + b.dtype() + " for shape " + b.shape() + "); convert one with toType(...)");
        }
    }

    static void checkFloating(String op, Tensor t) {
        if (!t.dtype().isFloatingPoint()) {
            throw new DTypeMismatchException(op + ": expected a FLOAT32 or FLOAT64 tensor, got " + t.dtype()
                    + " with shape " + t.shape());
        }
    }

    static void checkIndex(String op, Tensor index) {
        if (index.dtype() != DType.INT64) {
            throw new DTypeMismatchException(op + ": index must be INT64, got " + index.dtype()
                    + " with shape " + index.shape());
        }
    }

    /** Reads every index and fails with the op, position and valid range if one is out of bounds. */
    static void checkIndexValues(String op, Tensor index, int bound, int dim) {
        checkIndexValues(op, "index", index, bound, "dimension " + dim + " of size " + bound,
                "index shape " + index.shape());
    }

    /**
     * Reads every value of {@code index} and fails on the first one outside {@code [0, bound)}, with a
     * message in the user's terms: their op and argument, the value and where it is, what the values
     * count ({@code range}, e.g. "3 classes") and the shapes involved ({@code shapes}). Ops built on
     * others (crossEntropy and indexSelect on gather, nn's Embedding on indexSelect) check their own
     * argument with this first, so the user never reads about an op they did not call.
     */
    public static void checkIndexValues(String op, String argument, Tensor index, int bound, String range,
                                        String shapes) {
        long[] values = index.toLongArray();
        for (int i = 0; i < values.length; i++) {
            if (values[i] < 0 || values[i] >= bound) {
                String position = index.rank() <= 1 ? String.valueOf(i)
                        : Arrays.toString(index.shape().unravel(i));
                throw new IndexOutOfBoundsException(op + ": " + argument + " " + values[i] + " at position "
                        + position + " is out of range for " + range + " ("
                        + (bound == 0 ? "no value is valid" : "valid values are 0 to " + (bound - 1)) + "; "
                        + shapes + ")");
            }
        }
    }

    // ---- helpers ----------------------------------------------------------------------------------

    /** A 0-d tensor holding {@code value}, for the scalar forms of binary ops. */
    public static Tensor scalar(Backend backend, DType dtype, double value) {
        Storage s = backend.fromDoubles(new double[] {value}, dtype);
        return INTERNALS.fromStorage(s, Layout.contiguous(Shape.scalar()), backend);
    }

    static Tensor empty(Backend backend, DType dtype, Shape shape) {
        return INTERNALS.fromStorage(backend.allocate(dtype, shape.numel()), Layout.contiguous(shape), backend);
    }

    /** Records an in-place write to {@code t}'s storage. */
    static void markModifiedInPlace(Tensor t) {
        INTERNALS.markModifiedInPlace(t);
    }

    /** A view of {@code t} with another layout over the same storage (no history). */
    static Tensor view(Tensor t, Layout layout) {
        return INTERNALS.viewAs(t, layout);
    }

    // ---- kernels ----------------------------------------------------------------------------------

    static Tensor unary(String op, UnaryOp kernel, Tensor x) {
        checkFloating(op, x);
        Tensor out = empty(x.backend(), x.dtype(), x.shape());
        if (out.numel() == 0) {
            return out;
        }
        x.backend().unary(kernel, x.storage(), x.layout(), out.storage(), out.layout());
        return out;
    }

    static Tensor binary(String op, BinaryOp kernel, Tensor a, Tensor b) {
        checkSameBackend(op, a, b);
        checkSameDType(op, a, b);
        if (!kernel.isComparison()) {
            // Comparisons also take INT64 operands (argmax(...).eq(labels)); arithmetic is floating only.
            checkFloating(op, a);
        }
        Shape shape = Shape.broadcast(op, a.shape(), b.shape());
        Tensor out = empty(a.backend(), a.dtype(), shape);
        if (out.numel() == 0) {
            return out;
        }
        a.backend().binary(kernel, a.storage(), a.layout().broadcastTo(shape), b.storage(),
                b.layout().broadcastTo(shape), out.storage(), out.layout());
        return out;
    }

    static Tensor where(Tensor mask, Tensor a, Tensor b) {
        checkSameBackend("where", a, b);
        checkSameBackend("where", mask, a);
        checkSameDType("where", a, b);
        checkFloating("where", a);
        if (mask.dtype() != a.dtype()) {
            // Masks from comparisons share their operands' dtype; accept any mask by converting it.
            mask = convert(mask, a.dtype());
        }
        Shape shape = Shape.broadcast("where", Shape.broadcast("where", mask.shape(), a.shape()), b.shape());
        Tensor out = empty(a.backend(), a.dtype(), shape);
        if (out.numel() == 0) {
            return out;
        }
        a.backend().where(mask.storage(), mask.layout().broadcastTo(shape), a.storage(), a.layout().broadcastTo(shape),
                b.storage(), b.layout().broadcastTo(shape), out.storage(), out.layout());
        return out;
    }

    /** Reduces along {@code dims} (already normalised, distinct), keeping them as size-1 dims. */
    static Tensor reduceKeepDim(String op, ReduceOp kernel, Tensor x, boolean[] reduced) {
        if (!(kernel == ReduceOp.SUM && x.dtype() == DType.INT64)) {
            // An INT64 sum counts (mask.sum() after a comparison); other reductions are floating only.
            checkFloating(op, x);
        }
        int[] outDims = x.shape().toArray();
        for (int d = 0; d < outDims.length; d++) {
            if (reduced[d]) {
                if (outDims[d] == 0 && kernel != ReduceOp.SUM) {
                    throw new TensorShapeException(op + ": cannot reduce over dimension " + d
                            + " of size 0 (shape " + x.shape() + ")");
                }
                outDims[d] = 1;
            }
        }
        Tensor out = empty(x.backend(), x.dtype(), Shape.of(outDims));
        if (x.numel() == 0) {
            // Only sums get here over an empty dimension: allocate's zeros are the empty sums.
            return out;
        }
        x.backend().reduce(kernel, x.storage(), x.layout(), out.storage(), out.layout());
        return out;
    }

    /**
     * A running {@code kernel} of {@code x} (rank >= 1) along {@code dim}: the kernel works along the last
     * dim, so another one is moved there by a transposed view, and the result viewed back.
     */
    static Tensor scan(String op, ScanOp kernel, boolean reverse, Tensor x, int dim) {
        checkFloating(op, x);
        int last = x.rank() - 1;
        Layout moved = swapped(x.layout(), dim, last);
        Tensor out = empty(x.backend(), x.dtype(), moved.shape());
        if (out.numel() > 0) {
            x.backend().scan(kernel, reverse, x.storage(), moved, out.storage(), out.layout());
        }
        return view(out, swapped(out.layout(), dim, last));
    }

    /** Sorted values and their INT64 positions along {@code dim} of {@code x} (rank >= 1), as views. */
    static Tensor[] sort(String op, Tensor x, int dim, boolean descending) {
        checkFloating(op, x);
        int last = x.rank() - 1;
        Layout moved = swapped(x.layout(), dim, last);
        Tensor values = empty(x.backend(), x.dtype(), moved.shape());
        Tensor indices = empty(x.backend(), DType.INT64, moved.shape());
        if (values.numel() > 0) {
            x.backend().sort(x.storage(), moved, descending, values.storage(), values.layout(), indices.storage(),
                    indices.layout());
        }
        return new Tensor[] {view(values, swapped(values.layout(), dim, last)),
                view(indices, swapped(indices.layout(), dim, last))};
    }

    /** {@code layout} with dims {@code d0} and {@code d1} exchanged (itself when they are the same). */
    static Layout swapped(Layout layout, int d0, int d1) {
        if (d0 == d1) {
            return layout;
        }
        int[] dims = layout.shape().toArray();
        int[] strides = layout.strides();
        int size = dims[d0];
        dims[d0] = dims[d1];
        dims[d1] = size;
        int stride = strides[d0];
        strides[d0] = strides[d1];
        strides[d1] = stride;
        return new Layout(Shape.of(dims), strides, layout.offset());
    }

    /** Batched matmul of operands that already have equal rank >= 2 and equal batch dims. */
    static Tensor matmul(Tensor a, Tensor b, Shape outShape) {
        Tensor out = empty(a.backend(), a.dtype(), outShape);
        if (a.numel() == 0 || b.numel() == 0) {
            // Nothing to multiply: every element is empty (allocate's zeros) or there are none.
            return out;
        }
        a.backend().matmul(a.storage(), a.layout(), b.storage(), b.layout(), out.storage(), out.layout());
        return out;
    }

    static Tensor gather(Tensor src, int dim, Tensor index) {
        Tensor out = empty(src.backend(), src.dtype(), index.shape());
        if (out.numel() == 0) {
            return out;
        }
        src.backend().gather(src.storage(), src.layout(), dim, index.storage(), index.layout(),
                out.storage(), out.layout());
        return out;
    }

    static Tensor scatterAdd(Tensor base, int dim, Tensor index, Tensor src) {
        Tensor out = contiguousCopy(base);
        if (index.numel() == 0) {
            return out;
        }
        base.backend().scatterAdd(out.storage(), out.layout(), dim, index.storage(), index.layout(),
                src.storage(), src.layout());
        return out;
    }

    // ---- sliding windows ------------------------------------------------------------------------

    /**
     * unfold's output {@code [N, C * taps, positions]}, stored as {@code [C * taps, N, positions]}:
     * permuted to that order it is contiguous, so a convolution multiplies it as one matrix with
     * {@code N * positions} columns.
     */
    static Tensor unfold(Tensor x, Window2d window) {
        int n = x.size(0);
        int rows = x.size(1) * window.taps();
        int positions = window.positions();
        Storage storage = x.backend().allocate(x.dtype(), n * rows * positions);
        Layout layout = new Layout(Shape.of(n, rows, positions), new int[] {positions, n * positions, 1}, 0);
        x.backend().unfold(x.storage(), x.layout(), window, storage, layout);
        return INTERNALS.fromStorage(storage, layout, x.backend());
    }

    /** fold of {@code cols} ({@code [N, channels * taps, positions]}) into a new {@code [N, channels, height, width]}. */
    static Tensor fold(Tensor cols, Window2d window, int channels) {
        Tensor out = empty(cols.backend(), cols.dtype(),
                Shape.of(cols.size(0), channels, window.height(), window.width()));
        cols.backend().fold(cols.storage(), cols.layout(), window, out.storage(), out.layout());
        return out;
    }

    /** Max pooling of {@code x} ({@code [N, C, H, W]}): the pooled values and their INT64 positions in each image. */
    static Tensor[] maxPool2d(Tensor x, Window2d window) {
        Shape shape = Shape.of(x.size(0), x.size(1), window.outH(), window.outW());
        Tensor values = empty(x.backend(), x.dtype(), shape);
        Tensor indices = empty(x.backend(), DType.INT64, shape);
        x.backend().maxPool2d(x.storage(), x.layout(), window, values.storage(), values.layout(), indices.storage(),
                indices.layout());
        return new Tensor[] {values, indices};
    }

    /**
     * Max pooling's input gradient: {@code grad} ({@code [N, C, outH, outW]}) added into a zero
     * {@code [N, C, height, width]} at {@code indices}, which are positions within each image and
     * come from {@link #maxPool2d}, so they need no range check.
     */
    static Tensor maxPool2dBackward(Tensor grad, Tensor indices, Window2d window) {
        int n = grad.size(0);
        int c = grad.size(1);
        Tensor dense = grad.isContiguous() ? grad : contiguousCopy(grad);
        Shape flat = Shape.of(n, c, window.positions());
        Tensor out = empty(grad.backend(), grad.dtype(), Shape.of(n, c, window.height() * window.width()));
        grad.backend().scatterAdd(out.storage(), out.layout(), 2, indices.storage(),
                new Layout(flat, flat.contiguousStrides(), indices.layout().offset()), dense.storage(),
                new Layout(flat, flat.contiguousStrides(), dense.layout().offset()));
        Shape image = Shape.of(n, c, window.height(), window.width());
        return view(out, Layout.contiguous(image));
    }

    static Tensor contiguousCopy(Tensor x) {
        return convert(x, x.dtype());
    }

    static Tensor convert(Tensor x, DType dtype) {
        Tensor out = empty(x.backend(), dtype, x.shape());
        if (out.numel() > 0) {
            x.backend().copy(x.storage(), x.layout(), out.storage(), out.layout());
        }
        return out;
    }

    /** Copies {@code src} into the view {@code dstLayout} of {@code dst}'s storage. */
    static void copyInto(Tensor src, Tensor dst, Layout dstLayout) {
        if (src.numel() > 0) {
            src.backend().copy(src.storage(), src.layout(), dst.storage(), dstLayout);
        }
    }
}
