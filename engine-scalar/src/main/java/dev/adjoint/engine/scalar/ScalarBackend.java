package dev.adjoint.engine.scalar;

import dev.adjoint.DType;
import dev.adjoint.Shape;
import dev.adjoint.spi.Availability;
import dev.adjoint.spi.BinaryOp;
import dev.adjoint.spi.ElementMath;
import dev.adjoint.spi.Layout;
import dev.adjoint.spi.ReduceOp;
import dev.adjoint.spi.Storage;
import dev.adjoint.spi.UnaryOp;
import dev.adjoint.spi.heap.HeapBackend;
import dev.adjoint.spi.heap.HeapStorage;
import dev.adjoint.spi.heap.StridedCursor;

import java.util.function.DoubleBinaryOperator;
import java.util.function.DoubleUnaryOperator;

/**
 * The reference backend: plain loops over heap arrays. Every element is computed in double and
 * rounded once to the storage dtype, and every sum accumulates in double, so its FLOAT32 results
 * are as accurate as FLOAT32 can hold and its FLOAT64 results are the suite's reference values.
 * Clarity over speed; contiguous operands take a short path because the tape benchmarks run here.
 */
public final class ScalarBackend extends HeapBackend {
    public static final String NAME = "scalar";

    @Override
    public String name() {
        return NAME;
    }

    /** Lowest priority: chosen automatically only when no faster backend is available. */
    @Override
    public int priority() {
        return 0;
    }

    @Override
    public Availability availability() {
        return Availability.ok();
    }

    // ---- kernels ----------------------------------------------------------------------------------

    @Override
    public void fill(Storage out, Layout outLayout, double value) {
        HeapStorage o = (HeapStorage) out;
        int n = outLayout.numel();
        StridedCursor c = StridedCursor.over(outLayout.shape(), outLayout);
        for (int i = 0; i < n; i++, c.advance()) {
            o.set(c.position[0], value);
        }
    }

    @Override
    public void copy(Storage src, Layout srcLayout, Storage dst, Layout dstLayout) {
        HeapStorage s = (HeapStorage) src;
        HeapStorage d = (HeapStorage) dst;
        int n = srcLayout.numel();
        StridedCursor c = StridedCursor.over(srcLayout.shape(), srcLayout, dstLayout);
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

    @Override
    public void unary(UnaryOp op, Storage x, Layout xLayout, Storage out, Layout outLayout) {
        HeapStorage in = (HeapStorage) x;
        HeapStorage o = (HeapStorage) out;
        DoubleUnaryOperator f = unaryFunction(op);
        int n = outLayout.numel();
        if (xLayout.isContiguous() && outLayout.isContiguous()) {
            int xo = xLayout.offset();
            for (int i = 0; i < n; i++) {
                o.set(i, f.applyAsDouble(in.get(xo + i)));
            }
            return;
        }
        StridedCursor c = StridedCursor.over(outLayout.shape(), xLayout, outLayout);
        for (int i = 0; i < n; i++, c.advance()) {
            o.set(c.position[1], f.applyAsDouble(in.get(c.position[0])));
        }
    }

    @Override
    public void binary(BinaryOp op, Storage a, Layout aLayout, Storage b, Layout bLayout, Storage out,
                       Layout outLayout) {
        HeapStorage sa = (HeapStorage) a;
        HeapStorage sb = (HeapStorage) b;
        HeapStorage o = (HeapStorage) out;
        DoubleBinaryOperator f = binaryFunction(op);
        int n = outLayout.numel();
        if (aLayout.isContiguous() && bLayout.isContiguous() && outLayout.isContiguous()) {
            int ao = aLayout.offset();
            int bo = bLayout.offset();
            for (int i = 0; i < n; i++) {
                o.set(i, f.applyAsDouble(sa.get(ao + i), sb.get(bo + i)));
            }
            return;
        }
        // x.add(1.0) and friends: a contiguous tensor with a broadcast scalar, common in backward formulas.
        if (aLayout.isContiguous() && bLayout.isBroadcastScalar() && outLayout.isContiguous()) {
            int ao = aLayout.offset();
            double scalar = sb.get(bLayout.offset());
            for (int i = 0; i < n; i++) {
                o.set(i, f.applyAsDouble(sa.get(ao + i), scalar));
            }
            return;
        }
        StridedCursor c = StridedCursor.over(outLayout.shape(), aLayout, bLayout, outLayout);
        for (int i = 0; i < n; i++, c.advance()) {
            o.set(c.position[2], f.applyAsDouble(sa.get(c.position[0]), sb.get(c.position[1])));
        }
    }

    @Override
    public void where(Storage cond, Layout condLayout, Storage a, Layout aLayout, Storage b, Layout bLayout,
                      Storage out, Layout outLayout) {
        HeapStorage sc = (HeapStorage) cond;
        HeapStorage sa = (HeapStorage) a;
        HeapStorage sb = (HeapStorage) b;
        HeapStorage o = (HeapStorage) out;
        int n = outLayout.numel();
        StridedCursor c = StridedCursor.over(outLayout.shape(), condLayout, aLayout, bLayout, outLayout);
        for (int i = 0; i < n; i++, c.advance()) {
            boolean pick = sc.get(c.position[0]) != 0.0;
            o.set(c.position[3], pick ? sa.get(c.position[1]) : sb.get(c.position[2]));
        }
    }

    @Override
    public void reduce(ReduceOp op, Storage x, Layout xLayout, Storage out, Layout outLayout) {
        HeapStorage in = (HeapStorage) x;
        HeapStorage o = (HeapStorage) out;
        // Accumulate in double whatever the dtype: f32 sums keep their low bits.
        double[] acc = new double[outLayout.numel()];
        double init = switch (op) {
            case SUM -> 0.0;
            case MAX -> Double.NEGATIVE_INFINITY;
            case MIN -> Double.POSITIVE_INFINITY;
        };
        java.util.Arrays.fill(acc, init);
        // The output viewed with the input's shape: stride 0 along reduced dims maps every input
        // element onto the accumulator slot it reduces into.
        Layout accLayout = Layout.contiguous(outLayout.shape()).broadcastTo(xLayout.shape());
        int n = xLayout.numel();
        StridedCursor c = StridedCursor.over(xLayout.shape(), xLayout, accLayout);
        for (int i = 0; i < n; i++, c.advance()) {
            double v = in.get(c.position[0]);
            int slot = c.position[1];
            switch (op) {
                case SUM -> acc[slot] += v;
                // NaN wins, as in PyTorch's amax/amin; once NaN, comparisons keep it.
                case MAX -> {
                    if (v > acc[slot] || Double.isNaN(v)) {
                        acc[slot] = v;
                    }
                }
                case MIN -> {
                    if (v < acc[slot] || Double.isNaN(v)) {
                        acc[slot] = v;
                    }
                }
            }
        }
        for (int i = 0; i < acc.length; i++) {
            o.set(outLayout.offset() + i, acc[i]);
        }
    }

    @Override
    public void matmul(Storage a, Layout aLayout, Storage b, Layout bLayout, Storage out, Layout outLayout) {
        HeapStorage sa = (HeapStorage) a;
        HeapStorage sb = (HeapStorage) b;
        HeapStorage o = (HeapStorage) out;
        int rank = outLayout.rank();
        int m = outLayout.shape().dim(rank - 2);
        int n = outLayout.shape().dim(rank - 1);
        int k = aLayout.shape().dim(rank - 1);
        int aRow = aLayout.stride(rank - 2);
        int aCol = aLayout.stride(rank - 1);
        int bRow = bLayout.stride(rank - 2);
        int bCol = bLayout.stride(rank - 1);
        int oRow = outLayout.stride(rank - 2);
        int oCol = outLayout.stride(rank - 1);
        Shape batch = Shape.of(java.util.Arrays.copyOf(outLayout.shape().toArray(), rank - 2));
        StridedCursor c = new StridedCursor(batch.toArray(),
                new int[][] {batchStrides(aLayout), batchStrides(bLayout), batchStrides(outLayout)},
                new int[] {aLayout.offset(), bLayout.offset(), outLayout.offset()});
        double[] row = new double[n];
        int batches = batch.numel();
        for (int t = 0; t < batches; t++, c.advance()) {
            int aBase = c.position[0];
            int bBase = c.position[1];
            int oBase = c.position[2];
            for (int i = 0; i < m; i++) {
                java.util.Arrays.fill(row, 0.0);
                // i-p-j order streams rows of b; the double row accumulator keeps f32 products exact-ish.
                for (int p = 0; p < k; p++) {
                    double aip = sa.get(aBase + i * aRow + p * aCol);
                    int bp = bBase + p * bRow;
                    for (int j = 0; j < n; j++) {
                        row[j] += aip * sb.get(bp + j * bCol);
                    }
                }
                for (int j = 0; j < n; j++) {
                    o.set(oBase + i * oRow + j * oCol, row[j]);
                }
            }
        }
    }

    @Override
    public void gather(Storage src, Layout srcLayout, int dim, Storage index, Layout indexLayout, Storage out,
                       Layout outLayout) {
        HeapStorage s = (HeapStorage) src;
        HeapStorage idx = (HeapStorage) index;
        HeapStorage o = (HeapStorage) out;
        Shape shape = indexLayout.shape();
        int dimStride = srcLayout.stride(dim);
        int n = shape.numel();
        StridedCursor c = StridedCursor.over(shape, indexLayout, alongIndex(srcLayout, shape, dim), outLayout);
        for (int i = 0; i < n; i++, c.advance()) {
            int along = (int) idx.i64[c.position[0]];
            o.set(c.position[2], s.get(c.position[1] + along * dimStride));
        }
    }

    @Override
    public void scatterAdd(Storage dst, Layout dstLayout, int dim, Storage index, Layout indexLayout, Storage src,
                           Layout srcLayout) {
        HeapStorage d = (HeapStorage) dst;
        HeapStorage idx = (HeapStorage) index;
        HeapStorage s = (HeapStorage) src;
        Shape shape = indexLayout.shape();
        int dimStride = dstLayout.stride(dim);
        int n = shape.numel();
        StridedCursor c = StridedCursor.over(shape, indexLayout, srcLayout, alongIndex(dstLayout, shape, dim));
        for (int i = 0; i < n; i++, c.advance()) {
            int pos = c.position[2] + (int) idx.i64[c.position[0]] * dimStride;
            d.set(pos, d.get(pos) + s.get(c.position[1]));
        }
    }

    // ---- element functions ---------------------------------------------------------------------------

    /** One lambda per op, so the element loops make no per-element switch; semantics from ElementMath. */
    static DoubleUnaryOperator unaryFunction(UnaryOp op) {
        return switch (op) {
            case NEG -> x -> -x;
            case EXP -> Math::exp;
            case LOG -> Math::log;
            case LOG1P -> Math::log1p;
            case SQRT -> Math::sqrt;
            case SQUARE -> x -> x * x;
            case ABS -> Math::abs;
            default -> x -> ElementMath.unary(op, x);
        };
    }

    static DoubleBinaryOperator binaryFunction(BinaryOp op) {
        return switch (op) {
            case ADD -> Double::sum;
            case SUB -> (a, b) -> a - b;
            case MUL -> (a, b) -> a * b;
            case DIV -> (a, b) -> a / b;
            default -> (a, b) -> ElementMath.binary(op, a, b);
        };
    }

    // ---- layout helpers ---------------------------------------------------------------------------------

    /** {@code layout} walked over the index's shape with the indexed dim pinned (stride 0); the index
     *  value then picks the position along that dim. */
    private static Layout alongIndex(Layout layout, Shape indexShape, int dim) {
        int[] strides = layout.strides();
        strides[dim] = 0;
        return new Layout(indexShape, strides, layout.offset());
    }

    private static int[] batchStrides(Layout layout) {
        return java.util.Arrays.copyOf(layout.strides(), layout.rank() - 2);
    }
}
