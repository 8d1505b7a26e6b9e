package dev.adjoint.spi.heap;

import dev.adjoint.DType;
import dev.adjoint.Shape;
import dev.adjoint.spi.BinaryOp;
import dev.adjoint.spi.ElementMath;
import dev.adjoint.spi.Layout;
import dev.adjoint.spi.ReduceOp;
import dev.adjoint.spi.StridedCursor;
import dev.adjoint.spi.UnaryOp;

import java.util.Arrays;

/**
 * Every kernel as plain loops over {@link HeapStorage}: any strided, offset or broadcast layout and
 * every dtype. Each element is computed in double and rounded once to the output dtype; sums and
 * matmul rows accumulate in double. This is the scalar reference backend's arithmetic, and the
 * fallback of faster heap backends for layouts their fast paths do not take.
 */
public final class StridedKernels {
    private StridedKernels() {
    }

    public static void fill(HeapStorage o, Layout layout, double value) {
        int n = layout.numel();
        StridedCursor c = StridedCursor.over(layout.shape(), layout);
        for (int i = 0; i < n; i++, c.advance()) {
            o.set(c.position[0], value);
        }
    }

    public static void copy(HeapStorage s, Layout sl, HeapStorage d, Layout dl) {
        int n = sl.numel();
        StridedCursor c = StridedCursor.over(sl.shape(), sl, dl);
        boolean longs = s.dtype == DType.INT64 && d.dtype == DType.INT64;
        for (int i = 0; i < n; i++, c.advance()) {
            if (longs) {
                // Through double would lose index values above 2^53.
                d.i64[c.position[1]] = s.i64[c.position[0]];
            } else {
                d.set(c.position[1], s.get(c.position[0]));
            }
        }
    }

    public static void unary(UnaryOp op, HeapStorage x, Layout xl, HeapStorage o, Layout ol) {
        int n = ol.numel();
        StridedCursor c = StridedCursor.over(ol.shape(), xl, ol);
        for (int i = 0; i < n; i++, c.advance()) {
            o.set(c.position[1], ElementMath.unary(op, x.get(c.position[0])));
        }
    }

    public static void binary(BinaryOp op, HeapStorage a, Layout al, HeapStorage b, Layout bl, HeapStorage o, Layout ol) {
        int n = ol.numel();
        StridedCursor c = StridedCursor.over(ol.shape(), al, bl, ol);
        if (a.dtype == DType.INT64) {
            // Only comparisons reach here with INT64 (the api checks), compared as longs.
            for (int i = 0; i < n; i++, c.advance()) {
                o.i64[c.position[2]] = ElementMath.compare(op, a.i64[c.position[0]], b.i64[c.position[1]]);
            }
            return;
        }
        for (int i = 0; i < n; i++, c.advance()) {
            o.set(c.position[2], ElementMath.binary(op, a.get(c.position[0]), b.get(c.position[1])));
        }
    }

    /**
     * {@code o = scale * a + alpha * b}. For FLOAT32 the scalars and each product are rounded to float
     * before the sum, so the result is the one {@code mul} then {@code add} would give, not a fused one.
     */
    public static void scaledAdd(double scale, HeapStorage a, Layout al, double alpha, HeapStorage b, Layout bl,
                                 HeapStorage o, Layout ol) {
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

    public static void where(HeapStorage cond, Layout cl, HeapStorage a, Layout al, HeapStorage b, Layout bl,
                      HeapStorage o, Layout ol) {
        int n = ol.numel();
        StridedCursor c = StridedCursor.over(ol.shape(), cl, al, bl, ol);
        for (int i = 0; i < n; i++, c.advance()) {
            boolean pick = cond.get(c.position[0]) != 0.0;
            o.set(c.position[3], pick ? a.get(c.position[1]) : b.get(c.position[2]));
        }
    }

    public static void reduce(ReduceOp op, HeapStorage x, Layout xl, HeapStorage o, Layout ol) {
        if (x.dtype == DType.INT64) {
            sumLongs(x, xl, o, ol);
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

    /** The INT64 sum (the only INT64 reduction): exact, wrapping on overflow as torch's int64 sum. */
    private static void sumLongs(HeapStorage x, Layout xl, HeapStorage o, Layout ol) {
        long[] acc = new long[ol.numel()];
        Layout accLayout = Layout.contiguous(ol.shape()).broadcastTo(xl.shape());
        int n = xl.numel();
        StridedCursor c = StridedCursor.over(xl.shape(), xl, accLayout);
        for (int i = 0; i < n; i++, c.advance()) {
            acc[c.position[1]] += x.i64[c.position[0]];
        }
        System.arraycopy(acc, 0, o.i64, ol.offset(), acc.length);
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
        for (int i = 0; i < n; i++, c.advance()) {
            int along = (int) index.i64[c.position[0]];
            o.set(c.position[2], src.get(c.position[1] + along * dimStride));
        }
    }

    public static void scatterAdd(HeapStorage dst, Layout dl, int dim, HeapStorage index, Layout il, HeapStorage src,
                           Layout sl) {
        Shape shape = il.shape();
        int dimStride = dl.stride(dim);
        int n = shape.numel();
        StridedCursor c = StridedCursor.over(shape, il, sl, dl.pinnedAlong(dim, shape));
        for (int i = 0; i < n; i++, c.advance()) {
            int pos = c.position[2] + (int) index.i64[c.position[0]] * dimStride;
            dst.set(pos, dst.get(pos) + src.get(c.position[1]));
        }
    }
}
