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

    /**
     * The dtype {@code a (op) b} computes in: torch.result_type. The higher of
     * {@code BOOL < INT32 < INT64 < FLOAT32 < FLOAT64}, except that a 0-d operand (a number the api
     * wrapped, or a 0-d tensor) with a dimensioned one raises the dtype only when it is of a higher
     * category (bool, integral, floating): {@code int32Tensor.add(5)} stays INT32, and
     * {@code int64Tensor.mul(0.5)} is FLOAT32, the 0.5 having been wrapped as FLOAT32. A FLOAT32 and a
     * FLOAT64 operand are refused, deliberately unlike PyTorch (see {@link DType}).
     */
    public static DType resultType(String op, Tensor a, Tensor b) {
        DType da = a.dtype();
        DType db = b.dtype();
        if (da == db) {
            return da;
        }
        if (da.isFloatingPoint() && db.isFloatingPoint()) {
            throw new DTypeMismatchException(op + ": dtypes differ (" + da + " for shape " + a.shape() + ", " + db
                    + " for shape " + b.shape() + "); FLOAT32 and FLOAT64 are not promoted silently, convert one "
                    + "with toType(...)");
        }
        boolean aDims = a.rank() > 0;
        boolean bDims = b.rank() > 0;
        if (aDims != bDims) {
            DType dimensioned = aDims ? da : db;
            DType zeroDim = aDims ? db : da;
            return zeroDim.category().compareTo(dimensioned.category()) > 0 ? zeroDim : dimensioned;
        }
        return DType.promote(da, db);
    }

    /**
     * {@code a} and {@code b} converted to the dtype {@code kernel} computes in for them: their
     * {@link #resultType}, or FLOAT32 for integers where the op has no exact rule (div, pow, atan2 of
     * integers are FLOAT32 in torch). Only bool and integer tensors are ever converted, and they carry
     * no gradient, so the conversion is not recorded. BOOL operands are refused where PyTorch refuses
     * them (sub, division, remainder); add and mul of BOOLs are logical or and and, as in PyTorch.
     */
    static Tensor[] promoted(String op, BinaryOp kernel, Tensor a, Tensor b) {
        checkSameBackend(op, a, b);
        DType common = resultType(op, a, b);
        if (!common.isFloatingPoint() && !kernel.hasExact()) {
            common = DType.DEFAULT_FLOATING;
        }
        if (common == DType.BOOL && !(kernel.isComparison() || kernel == BinaryOp.ADD || kernel == BinaryOp.MUL
                || kernel == BinaryOp.MAX || kernel == BinaryOp.MIN)) {
            throw new DTypeMismatchException(op + ": not defined for BOOL operands (shapes " + a.shape() + " and "
                    + b.shape() + "), as in PyTorch; use logicalXor / logicalNot for masks, or convert with "
                    + "toType(DType.INT64)");
        }
        Tensor ca = a.dtype() == common ? a : convert(a, common);
        Tensor cb = b.dtype() == common ? b : convert(b, common);
        if (kernel.dividesIntegers() && !common.isFloatingPoint()) {
            checkNoZero(op, cb);
        }
        return new Tensor[] {ca, cb};
    }

    /** Integer division by zero has no value (PyTorch raises ZeroDivisionError): fail naming the op and where. */
    private static void checkNoZero(String op, Tensor divisor) {
        long[] values = divisor.toLongArray();
        for (int i = 0; i < values.length; i++) {
            if (values[i] == 0) {
                String position = divisor.rank() <= 1 ? String.valueOf(i) : Arrays.toString(divisor.shape().unravel(i));
                throw new ArithmeticException(op + ": integer division by zero (the " + divisor.dtype()
                        + " divisor of shape " + divisor.shape() + " is 0 at position " + position + ")");
            }
        }
    }

    public static void checkFloating(String op, Tensor t) {
        if (!t.dtype().isFloatingPoint()) {
            throw new DTypeMismatchException(op + ": expected a FLOAT32 or FLOAT64 tensor, got " + t.dtype()
                    + " with shape " + t.shape() + "; convert with toType(DType.FLOAT32)");
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
        // A dim of stride 0 repeats the same values (indexSelect's index, expanded along the other dims of
        // its input, and its gradient's scatterAdd): each value is read once. Its first bad value, at index
        // 0 of those dims, is also the first in the whole index's row-major order.
        Tensor distinct = index;
        for (int d = 0; d < index.rank(); d++) {
            if (index.layout().stride(d) == 0 && index.size(d) > 1) {
                distinct = distinct.narrow(d, 0, 1);
            }
        }
        long[] values = distinct.toLongArray();
        for (int i = 0; i < values.length; i++) {
            if (values[i] < 0 || values[i] >= bound) {
                String position = index.rank() <= 1 ? String.valueOf(i)
                        : Arrays.toString(distinct.shape().unravel(i));
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

    /** A 0-d tensor holding {@code value} exactly (INT64 beyond 2^53 too), converted to {@code dtype}. */
    public static Tensor scalar(Backend backend, DType dtype, long value) {
        if (dtype != DType.INT64) {
            return scalar(backend, dtype, (double) value);
        }
        return INTERNALS.fromStorage(backend.fromLongs(new long[] {value}), Layout.contiguous(Shape.scalar()), backend);
    }

    /** An output its kernel writes in full: contents unspecified until then (reused memory is not cleared). */
    static Tensor empty(Backend backend, DType dtype, Shape shape) {
        return INTERNALS.fromStorage(backend.allocateForOverwrite(dtype, shape.numel()), Layout.contiguous(shape),
                backend);
    }

    /** A zero-filled output, for results that are zeros without any kernel running. */
    static Tensor zeros(Backend backend, DType dtype, Shape shape) {
        return INTERNALS.fromStorage(backend.allocate(dtype, shape.numel()), Layout.contiguous(shape), backend);
    }

    /**
     * An output in {@code layout}, which covers positions 0 to numel - 1 of its storage (a permuted dense
     * layout), its contents unspecified until written.
     */
    static Tensor empty(Backend backend, DType dtype, Layout layout) {
        return INTERNALS.fromStorage(backend.allocateForOverwrite(dtype, layout.numel()), layout, backend);
    }

    /** Zeros in {@code layout}, which covers positions 0 to numel - 1 of its storage (a permuted dense layout). */
    static Tensor zeros(Backend backend, DType dtype, Layout layout) {
        return INTERNALS.fromStorage(backend.allocate(dtype, layout.numel()), layout, backend);
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

    /**
     * {@code x} in the dtype {@code kernel} computes in: itself for floating tensors and for integer ones
     * where the op has an exact rule, else FLOAT32 (as torch computes exp of an integer tensor). The
     * exact ops are refused on BOOL, as in PyTorch.
     */
    static Tensor promoted(String op, UnaryOp kernel, Tensor x) {
        if (x.dtype().isFloatingPoint()) {
            return x;
        }
        if (!kernel.hasExact()) {
            return convert(x, DType.DEFAULT_FLOATING);
        }
        if (x.dtype() == DType.BOOL) {
            throw new DTypeMismatchException(op + ": not defined for a BOOL tensor (shape " + x.shape()
                    + ")" + (kernel == UnaryOp.NEG ? "; to invert a mask use logicalNot()" : "; convert with toType(...)"));
        }
        return x;
    }

    static Tensor unary(String op, UnaryOp kernel, Tensor x) {
        x = promoted(op, kernel, x);
        Tensor out = emptyInOrder(x.backend(), x.dtype(), x.shape(), permutedOrder(x.layout()));
        if (out.numel() == 0) {
            return out;
        }
        x.backend().unary(kernel, x.storage(), x.layout(), out.storage(), out.layout());
        return out;
    }

    /** {@code a (kernel) b} in their promoted dtype ({@link #promoted}); a comparison's output is BOOL. */
    static Tensor binary(String op, BinaryOp kernel, Tensor a, Tensor b) {
        Tensor[] operands = promoted(op, kernel, a, b);
        a = operands[0];
        b = operands[1];
        Shape shape = Shape.broadcast(op, a.shape(), b.shape());
        DType dtype = kernel.isComparison() ? DType.BOOL : a.dtype();
        boolean sameOrder = a.shape().equals(shape) && b.shape().equals(shape) && a.layout().hasStridesOf(b.layout());
        Tensor out = emptyInOrder(a.backend(), dtype, shape, sameOrder ? permutedOrder(a.layout()) : null);
        if (out.numel() == 0) {
            return out;
        }
        a.backend().binary(kernel, a.storage(), a.layout().broadcastTo(shape), b.storage(),
                b.layout().broadcastTo(shape), out.storage(), out.layout());
        return out;
    }

    /**
     * {@code layout} when it is a permutation of a dense layout other than the row-major one (a transposed
     * weight's gradient), else null. An elementwise result of operands in that one order takes it too,
     * as PyTorch's elementwise results keep their inputs' memory order: the kernel then reads and writes
     * one dense run, and a sum built up from such operands ({@code add_} of each gradient in turn) stays
     * in their order.
     */
    private static Layout permutedOrder(Layout layout) {
        return !layout.isContiguous() && layout.isDensePermutation() ? layout : null;
    }

    /** An uninitialised result of {@code shape} with {@code order}'s strides, or row-major when it is null. */
    private static Tensor emptyInOrder(Backend backend, DType dtype, Shape shape, Layout order) {
        return order == null ? empty(backend, dtype, shape) : empty(backend, dtype, new Layout(shape, order.strides(), 0));
    }

    /**
     * {@code a} and {@code b} promoted to their {@link #resultType} (only bool and integer tensors are
     * converted), the mask as BOOL: a mask of another dtype counts its non-zero elements as true.
     */
    static Tensor[] whereOperands(Tensor mask, Tensor a, Tensor b) {
        checkSameBackend("where", a, b);
        checkSameBackend("where", mask, a);
        DType common = resultType("where", a, b);
        return new Tensor[] {mask.dtype() == DType.BOOL ? mask : convert(mask, DType.BOOL),
                a.dtype() == common ? a : convert(a, common), b.dtype() == common ? b : convert(b, common)};
    }

    /** {@code mask ? a : b}, broadcasting all three; the operands as {@link #whereOperands} gives them. */
    static Tensor where(Tensor mask, Tensor a, Tensor b) {
        Tensor[] operands = whereOperands(mask, a, b);
        mask = operands[0];
        a = operands[1];
        b = operands[2];
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
    /** The SUM of BOOL and integer tensors is INT64 (torch.sum); the other reductions keep x's dtype. */
    static Tensor reduceKeepDim(String op, ReduceOp kernel, Tensor x, boolean[] reduced) {
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
        DType outType = kernel == ReduceOp.SUM && !x.dtype().isFloatingPoint() ? DType.INT64 : x.dtype();
        if (x.numel() == 0) {
            // Only sums get here over an empty dimension: zeros are the empty sums.
            return zeros(x.backend(), outType, Shape.of(outDims));
        }
        Tensor out = empty(x.backend(), outType, Shape.of(outDims));
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
        if (a.numel() == 0 || b.numel() == 0) {
            // Nothing to multiply: every element is an empty sum (zero) or there are none.
            return zeros(a.backend(), a.dtype(), outShape);
        }
        Tensor out = empty(a.backend(), a.dtype(), outShape);
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

    /** {@code zeros(shape).scatterAdd(dim, index, src)}, the sums added to freshly allocated zeros. */
    static Tensor scatterAddIntoZeros(Shape shape, int dim, Tensor index, Tensor src) {
        Tensor out = zeros(src.backend(), src.dtype(), shape);
        if (index.numel() > 0) {
            src.backend().scatterAdd(out.storage(), out.layout(), dim, index.storage(), index.layout(),
                    src.storage(), src.layout());
        }
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
        // Zeros: kernels may add each column into its pixels rather than write each pixel once.
        Tensor out = zeros(cols.backend(), cols.dtype(),
                Shape.of(cols.size(0), channels, window.height(), window.width()));
        cols.backend().fold(cols.storage(), cols.layout(), window, out.storage(), out.layout());
        return out;
    }

    /** A convolution without bias of {@code x} ({@code [N, C, H, W]}) and {@code w} ({@code [O, C / groups, kH, kW]}). */
    static Tensor conv2d(Tensor x, Tensor w, Window2d window, int groups) {
        Shape outShape = Shape.of(x.size(0), w.size(0), window.outH(), window.outW());
        if (x.numel() == 0 || w.numel() == 0) {
            // Nothing to sum over: the zeros are the result.
            return zeros(x.backend(), x.dtype(), outShape);
        }
        Tensor out = empty(x.backend(), x.dtype(), outShape);
        if (out.numel() == 0) {
            return out;
        }
        Tensor xs = dense(x);
        Tensor ws = dense(w);
        x.backend().conv2d(xs.storage(), xs.layout(), ws.storage(), ws.layout(), window, groups, out.storage(),
                out.layout());
        return out;
    }

    /** {@link #conv2d} plus {@code bias} ({@code [O]}) on every output channel. */
    static Tensor conv2d(Tensor x, Tensor w, Tensor bias, Window2d window, int groups) {
        Shape outShape = Shape.of(x.size(0), w.size(0), window.outH(), window.outW());
        // The [O] bias along the output's channels, stride 0 along the batch and the positions.
        Layout channelBias = new Layout(outShape, new int[] {0, bias.layout().stride(0), 0, 0}, bias.layout().offset());
        Backend backend = x.backend();
        if (x.numel() == 0 || w.numel() == 0) {
            // Nothing to sum over: the bias alone.
            Tensor out = zeros(backend, x.dtype(), outShape);
            if (out.numel() > 0) {
                backend.binary(BinaryOp.ADD, out.storage(), out.layout(), bias.storage(), channelBias,
                        out.storage(), out.layout());
            }
            return out;
        }
        Tensor out = empty(backend, x.dtype(), outShape);
        if (out.numel() == 0) {
            return out;
        }
        Tensor xs = dense(x);
        Tensor ws = dense(w);
        backend.conv2dBiased(xs.storage(), xs.layout(), ws.storage(), ws.layout(), bias.storage(), channelBias,
                window, groups, out.storage(), out.layout());
        return out;
    }

    /** The input gradient of {@link #conv2d}: {@code [N, w.size(1) * groups, height, width]}. */
    static Tensor conv2dInputGrad(Tensor grad, Tensor w, Window2d window, int groups) {
        Shape inputShape = Shape.of(grad.size(0), w.size(1) * groups, window.height(), window.width());
        if (grad.numel() == 0 || w.numel() == 0) {
            // Nothing to sum over: the zeros are the result.
            return zeros(grad.backend(), grad.dtype(), inputShape);
        }
        Tensor out = empty(grad.backend(), grad.dtype(), inputShape);
        if (out.numel() == 0) {
            return out;
        }
        Tensor gs = dense(grad);
        Tensor ws = dense(w);
        grad.backend().conv2dInputGrad(gs.storage(), gs.layout(), ws.storage(), ws.layout(), window, groups,
                out.storage(), out.layout());
        return out;
    }

    /** The weight gradient of {@link #conv2d}, of shape {@code weightShape}. */
    static Tensor conv2dWeightGrad(Tensor x, Tensor grad, Window2d window, int groups, Shape weightShape) {
        if (x.numel() == 0 || grad.numel() == 0) {
            // Nothing to sum over: the zeros are the result.
            return zeros(x.backend(), x.dtype(), weightShape);
        }
        Tensor out = empty(x.backend(), x.dtype(), weightShape);
        if (out.numel() == 0) {
            return out;
        }
        Tensor xs = dense(x);
        Tensor gs = dense(grad);
        x.backend().conv2dWeightGrad(xs.storage(), xs.layout(), gs.storage(), gs.layout(), window, groups,
                out.storage(), out.layout());
        return out;
    }

    private static Tensor dense(Tensor t) {
        return t.isContiguous() ? t : contiguousCopy(t);
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
        Tensor out = zeros(grad.backend(), grad.dtype(), Shape.of(n, c, window.height() * window.width()));
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
