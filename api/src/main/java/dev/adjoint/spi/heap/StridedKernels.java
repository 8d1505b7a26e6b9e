package dev.adjoint.spi.heap;

import dev.adjoint.DType;
import dev.adjoint.Shape;
import dev.adjoint.spi.BinaryOp;
import dev.adjoint.spi.Layout;
import dev.adjoint.spi.ReduceOp;
import dev.adjoint.spi.StridedCursor;
import dev.adjoint.spi.UnaryOp;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Every kernel as plain loops over {@link HeapStorage}: any strided, offset or broadcast layout and
 * every dtype. Floating elements are computed in double and rounded once to the output dtype; sums and
 * matmul rows accumulate in double. Bool and integer elements are computed in long
 * ({@link HeapStorage#getLong}, {@link BinaryOp#applyExact}), never through double. This is the scalar reference backend's arithmetic, and the
 * fallback of faster heap backends for layouts their fast paths do not take.
 */
public final class StridedKernels {
    /** The calls of this thread's open {@link #callsDuring}, or null: one thread-local read per kernel call. */
    private static final ThreadLocal<List<String>> WATCHED = new ThreadLocal<>();

    private StridedKernels() {
    }

    /**
     * Runs {@code work} and returns the kernel calls it made here on this thread, each as the kernel's
     * name and its layouts: for a backend with vector kernels of its own, each is a call that fell
     * back to these element-at-a-time loops, which its tests can require to be none on a model's hot
     * path. The index kernels (gather, scatterAdd) are not counted: they have no other form.
     */
    public static List<String> callsDuring(Runnable work) {
        List<String> outer = WATCHED.get();
        List<String> calls = new ArrayList<>();
        WATCHED.set(calls);
        try {
            work.run();
        } finally {
            WATCHED.set(outer);
        }
        if (outer != null) {
            outer.addAll(calls);
        }
        return calls;
    }

    private static boolean watching() {
        return WATCHED.get() != null;
    }

    private static void noteCall(String kernel, Object... layouts) {
        WATCHED.get().add(kernel + " " + Arrays.toString(layouts));
    }

    public static void fill(HeapStorage o, Layout layout, double value) {
        if (watching()) {
            noteCall("fill", layout);
        }
        int n = layout.numel();
        StridedCursor c = StridedCursor.over(layout.shape(), layout);
        for (int i = 0; i < n; i++, c.advance()) {
            o.set(c.position[0], value);
        }
    }

    public static void copy(HeapStorage s, Layout sl, HeapStorage d, Layout dl) {
        if (watching()) {
            noteCall("copy " + s.dtype + " to " + d.dtype, sl, dl);
        }
        int n = sl.numel();
        if (sl.isContiguous() && dl.isContiguous()) {
            // A dtype conversion of a whole tensor (a mask to FLOAT32, INT64 to FLOAT32) without a cursor.
            int so = sl.offset();
            int dO = dl.offset();
            if (!s.dtype.isFloatingPoint()) {
                for (int i = 0; i < n; i++) {
                    d.setLong(dO + i, s.getLong(so + i));
                }
            } else {
                for (int i = 0; i < n; i++) {
                    d.set(dO + i, s.get(so + i));
                }
            }
            return;
        }
        StridedCursor c = StridedCursor.over(sl.shape(), sl, dl);
        if (!s.dtype.isFloatingPoint()) {
            // Through double would lose INT64 values above 2^53.
            for (int i = 0; i < n; i++, c.advance()) {
                d.setLong(c.position[1], s.getLong(c.position[0]));
            }
            return;
        }
        // Floating into an integer dtype truncates toward zero, into BOOL tests for non-zero (HeapStorage.set).
        for (int i = 0; i < n; i++, c.advance()) {
            d.set(c.position[1], s.get(c.position[0]));
        }
    }

    public static void unary(UnaryOp op, HeapStorage x, Layout xl, HeapStorage o, Layout ol) {
        if (watching()) {
            noteCall(op.name(), xl, ol);
        }
        int n = ol.numel();
        StridedCursor c = StridedCursor.over(ol.shape(), xl, ol);
        if (!x.dtype.isFloatingPoint()) {
            for (int i = 0; i < n; i++, c.advance()) {
                o.setLong(c.position[1], op.applyExact(x.getLong(c.position[0])));
            }
            return;
        }
        for (int i = 0; i < n; i++, c.advance()) {
            o.set(c.position[1], op.apply(x.get(c.position[0])));
        }
    }

    /**
     * Any dtype: {@code a} and {@code b} share one, {@code o} has it too or is BOOL (comparisons). A
     * contiguous output whose operands are each dense or one repeated element (a comparison with a
     * number, a mask of a whole tensor) is walked by index arithmetic instead of a cursor.
     */
    public static void binary(BinaryOp op, HeapStorage a, Layout al, HeapStorage b, Layout bl, HeapStorage o, Layout ol) {
        if (watching()) {
            noteCall(op.name(), al, bl, ol);
        }
        int n = ol.numel();
        boolean exact = !a.dtype.isFloatingPoint();
        if (ol.isContiguous() && denseOrRepeated(al) && denseOrRepeated(bl)) {
            int ao = al.offset();
            int bo = bl.offset();
            int oo = ol.offset();
            int as = al.isContiguous() ? 1 : 0;
            int bs = bl.isContiguous() ? 1 : 0;
            if (exact) {
                for (int i = 0; i < n; i++) {
                    o.setLong(oo + i, op.applyExact(a.getLong(ao + i * as), b.getLong(bo + i * bs)));
                }
            } else {
                for (int i = 0; i < n; i++) {
                    o.set(oo + i, op.apply(a.get(ao + i * as), b.get(bo + i * bs)));
                }
            }
            return;
        }
        StridedCursor c = StridedCursor.over(ol.shape(), al, bl, ol);
        if (exact) {
            for (int i = 0; i < n; i++, c.advance()) {
                o.setLong(c.position[2], op.applyExact(a.getLong(c.position[0]), b.getLong(c.position[1])));
            }
            return;
        }
        for (int i = 0; i < n; i++, c.advance()) {
            o.set(c.position[2], op.apply(a.get(c.position[0]), b.get(c.position[1])));
        }
    }

    /**
     * {@code o = scale * a + alpha * b}. For FLOAT32 the scalars and each product are rounded to float
     * before the sum, so the result is the one {@code mul} then {@code add} would give, not a fused one.
     */
    public static void scaledAdd(double scale, HeapStorage a, Layout al, double alpha, HeapStorage b, Layout bl,
                                 HeapStorage o, Layout ol) {
        if (watching()) {
            noteCall("scaledAdd", al, bl, ol);
        }
        boolean f32 = o.dtype == DType.FLOAT32;
        double s = f32 ? (float) scale : scale;
        double t = f32 ? (float) alpha : alpha;
        int n = ol.numel();
        StridedCursor c = StridedCursor.over(ol.shape(), al, bl, ol);
        for (int i = 0; i < n; i++, c.advance()) {
            double x = s * a.get(c.position[0]);
            double y = t * b.get(c.position[1]);
            o.set(c.position[2], f32 ? (float) x + (float) y : x + y);
        }
    }

    /** {@code cond} is BOOL; {@code a}, {@code b} and {@code o} share any dtype. */
    public static void where(HeapStorage cond, Layout cl, HeapStorage a, Layout al, HeapStorage b, Layout bl,
                      HeapStorage o, Layout ol) {
        if (watching()) {
            noteCall("where", cl, al, bl, ol);
        }
        int n = ol.numel();
        if (cond.dtype == DType.BOOL && o.dtype.isFloatingPoint() && ol.isContiguous() && denseOrRepeated(cl)
                && denseOrRepeated(al) && denseOrRepeated(bl)) {
            // The common case (a mask from a comparison, a tensor or a number on each side) without a cursor.
            int co = cl.offset();
            int ao = al.offset();
            int bo = bl.offset();
            int oo = ol.offset();
            int cs = cl.isContiguous() ? 1 : 0;
            int as = al.isContiguous() ? 1 : 0;
            int bs = bl.isContiguous() ? 1 : 0;
            if (o.dtype == DType.FLOAT32) {
                for (int i = 0; i < n; i++) {
                    o.f32[oo + i] = cond.bool[co + i * cs] ? a.f32[ao + i * as] : b.f32[bo + i * bs];
                }
            } else {
                for (int i = 0; i < n; i++) {
                    o.f64[oo + i] = cond.bool[co + i * cs] ? a.f64[ao + i * as] : b.f64[bo + i * bs];
                }
            }
            return;
        }
        StridedCursor c = StridedCursor.over(ol.shape(), cl, al, bl, ol);
        boolean exact = !o.dtype.isFloatingPoint();
        for (int i = 0; i < n; i++, c.advance()) {
            boolean pick = cond.get(c.position[0]) != 0.0;
            if (exact) {
                o.setLong(c.position[3], pick ? a.getLong(c.position[1]) : b.getLong(c.position[2]));
            } else {
                o.set(c.position[3], pick ? a.get(c.position[1]) : b.get(c.position[2]));
            }
        }
    }

    public static void reduce(ReduceOp op, HeapStorage x, Layout xl, HeapStorage o, Layout ol) {
        if (watching()) {
            noteCall(op.name(), xl, ol);
        }
        if (!x.dtype.isFloatingPoint()) {
            reduceExact(op, x, xl, o, ol);
            return;
        }
        // Accumulate in double whatever the dtype: f32 sums keep their low bits.
        double[] acc = new double[ol.numel()];
        Arrays.fill(acc, identity(op));
        // The output viewed with the input's shape: stride 0 along reduced dims maps every input
        // element onto the accumulator slot it reduces into.
        Layout accLayout = Layout.contiguous(ol.shape()).broadcastTo(xl.shape());
        int n = xl.numel();
        StridedCursor c = StridedCursor.over(xl.shape(), xl, accLayout);
        for (int i = 0; i < n; i++, c.advance()) {
            int slot = c.position[1];
            acc[slot] = combine(op, acc[slot], x.get(c.position[0]));
        }
        for (int i = 0; i < acc.length; i++) {
            o.set(ol.offset() + i, acc[i]);
        }
    }

    /**
     * Bool and integer reductions in long: the sum exact and wrapping on overflow as torch's int64 sum
     * (into an INT64 output, whatever the input's integer dtype), max and min exact.
     */
    private static void reduceExact(ReduceOp op, HeapStorage x, Layout xl, HeapStorage o, Layout ol) {
        long[] acc = new long[ol.numel()];
        Arrays.fill(acc, switch (op) {
            case SUM -> 0L;
            case MAX -> Long.MIN_VALUE;
            case MIN -> Long.MAX_VALUE;
        });
        Layout accLayout = Layout.contiguous(ol.shape()).broadcastTo(xl.shape());
        int n = xl.numel();
        StridedCursor c = StridedCursor.over(xl.shape(), xl, accLayout);
        for (int i = 0; i < n; i++, c.advance()) {
            int slot = c.position[1];
            long v = x.getLong(c.position[0]);
            acc[slot] = switch (op) {
                case SUM -> acc[slot] + v;
                case MAX -> Math.max(acc[slot], v);
                case MIN -> Math.min(acc[slot], v);
            };
        }
        for (int i = 0; i < acc.length; i++) {
            o.setLong(ol.offset() + i, acc[i]);
        }
    }

    /** Contiguous, or one element repeated over the whole view: walked by {@code offset + i * (0 or 1)}. */
    private static boolean denseOrRepeated(Layout layout) {
        return layout.isContiguous() || layout.isBroadcastScalar();
    }

    public static double identity(ReduceOp op) {
        return switch (op) {
            case SUM -> 0.0;
            case MAX -> Double.NEGATIVE_INFINITY;
            case MIN -> Double.POSITIVE_INFINITY;
        };
    }

    /** One reduction step; NaN wins, as in PyTorch's amax/amin (once NaN, the comparisons keep it). */
    public static double combine(ReduceOp op, double acc, double v) {
        return switch (op) {
            case SUM -> acc + v;
            case MAX -> v > acc || Double.isNaN(v) ? v : acc;
            case MIN -> v < acc || Double.isNaN(v) ? v : acc;
        };
    }

    /** One matrix of a batched matmul, any strides; i-p-j order with a double row accumulator. */
    public static void matmul(HeapStorage a, int aOff, int aRow, int aCol, HeapStorage b, int bOff, int bRow, int bCol,
                       HeapStorage o, int oOff, int oRow, int m, int n, int k) {
        if (watching()) {
            noteCall("matmul", m + "x" + k + "x" + n);
        }
        double[] row = new double[n];
        for (int i = 0; i < m; i++) {
            Arrays.fill(row, 0.0);
            for (int p = 0; p < k; p++) {
                double aip = a.get(aOff + i * aRow + p * aCol);
                int bp = bOff + p * bRow;
                for (int j = 0; j < n; j++) {
                    row[j] += aip * b.get(bp + j * bCol);
                }
            }
            for (int j = 0; j < n; j++) {
                o.set(oOff + i * oRow + j, row[j]);
            }
        }
    }

    public static void gather(HeapStorage src, Layout sl, int dim, HeapStorage index, Layout il, HeapStorage o, Layout ol) {
        Shape shape = il.shape();
        int dimStride = sl.stride(dim);
        int n = shape.numel();
        StridedCursor c = StridedCursor.over(shape, il, sl.pinnedAlong(dim, shape), ol);
        boolean exact = !src.dtype.isFloatingPoint();
        for (int i = 0; i < n; i++, c.advance()) {
            int at = c.position[1] + (int) index.i64[c.position[0]] * dimStride;
            if (exact) {
                o.setLong(c.position[2], src.getLong(at));
            } else {
                o.set(c.position[2], src.get(at));
            }
        }
    }

    public static void scatterAdd(HeapStorage dst, Layout dl, int dim, HeapStorage index, Layout il, HeapStorage src,
                           Layout sl) {
        Shape shape = il.shape();
        int dimStride = dl.stride(dim);
        int n = shape.numel();
        StridedCursor c = StridedCursor.over(shape, il, sl, dl.pinnedAlong(dim, shape));
        boolean exact = !dst.dtype.isFloatingPoint();
        for (int i = 0; i < n; i++, c.advance()) {
            int pos = c.position[2] + (int) index.i64[c.position[0]] * dimStride;
            if (exact) {
                dst.setLong(pos, dst.getLong(pos) + src.getLong(c.position[1]));
            } else {
                dst.set(pos, dst.get(pos) + src.get(c.position[1]));
            }
        }
    }
}
