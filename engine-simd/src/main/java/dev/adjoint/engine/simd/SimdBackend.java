package dev.adjoint.engine.simd;

import dev.adjoint.DType;
import dev.adjoint.spi.Availability;
import dev.adjoint.spi.BinaryOp;
import dev.adjoint.spi.FusedKernels;
import dev.adjoint.spi.Layout;
import dev.adjoint.spi.ReduceOp;
import dev.adjoint.spi.RowWalk;
import dev.adjoint.spi.Storage;
import dev.adjoint.spi.UnaryOp;
import dev.adjoint.spi.Window2d;
import dev.adjoint.spi.heap.HeapBackend;
import dev.adjoint.spi.heap.HeapFusedKernels;
import dev.adjoint.spi.heap.HeapStorage;
import dev.adjoint.spi.heap.StridedKernels;
import dev.adjoint.spi.heap.WindowKernels;

import java.util.Arrays;
import java.util.EnumSet;
import java.util.Set;

/**
 * Heap arrays with {@code jdk.incubator.vector} kernels. Elementwise calls walk the rows of their
 * output ({@link RowWalk}) with each operand dense or repeated along the row, copying a permuted
 * operand dense in tiles first; reductions over any dims walk x in the order of its strides; the
 * plain strided loops of {@link StridedKernels} remain for integer and BOOL data (comparisons and
 * where masks aside), outputs whose rows are not dense, and the elementwise ops without a vector
 * kernel. This class decides which path a call takes from
 * the layouts alone and never names a Vector API type itself, so
 * {@link java.util.ServiceLoader} can instantiate it in a JVM without the incubator module and it
 * then reports itself unavailable.
 */
public final class SimdBackend extends HeapBackend {
    public static final String NAME = "simd";

    /** Without the incubator module every call takes the strided loops (and the backend says it is unavailable). */
    private static final boolean VECTORS = VectorModule.PRESENT;

    /** The elementwise primitives FloatKernels and DoubleKernels have vector loops for; the others run the
     *  reference function in the strided loop. */
    private static final Set<UnaryOp> VECTOR_UNARY = EnumSet.of(UnaryOp.NEG, UnaryOp.EXP, UnaryOp.LOG, UnaryOp.LOG1P,
            UnaryOp.SQRT, UnaryOp.SQUARE, UnaryOp.ABS, UnaryOp.SIGN, UnaryOp.SIN, UnaryOp.COS, UnaryOp.TANH,
            UnaryOp.SIGMOID, UnaryOp.RELU, UnaryOp.ERF, UnaryOp.GELU, UnaryOp.GELU_DERIVATIVE, UnaryOp.GELU_TANH,
            UnaryOp.GELU_TANH_DERIVATIVE, UnaryOp.TANH_DERIVATIVE, UnaryOp.SIGMOID_DERIVATIVE, UnaryOp.SILU,
            UnaryOp.SILU_DERIVATIVE, UnaryOp.SOFTPLUS, UnaryOp.LOG_SIGMOID, UnaryOp.EXPM1, UnaryOp.FLOOR, UnaryOp.CEIL,
            UnaryOp.ROUND, UnaryOp.TRUNC, UnaryOp.SINH, UnaryOp.COSH,
            UnaryOp.TAN, UnaryOp.ASINH, UnaryOp.ACOSH, UnaryOp.ATANH, UnaryOp.ASIN, UnaryOp.ACOS, UnaryOp.ATAN);
    /** Floating ops with a vector kernel; comparisons (into BOOL) have their own, integer operands take the strided loops. */
    private static final Set<BinaryOp> VECTOR_BINARY = EnumSet.of(BinaryOp.ADD, BinaryOp.SUB, BinaryOp.MUL,
            BinaryOp.DIV, BinaryOp.MAX, BinaryOp.MIN, BinaryOp.POW);

    @Override
    public String name() {
        return NAME;
    }

    /** Above the scalar reference backend (0): chosen automatically when the Vector API is present. */
    @Override
    public int priority() {
        return 100;
    }

    @Override
    public Availability availability() {
        return VectorModule.availability(VectorModule.PRESENT);
    }

    /** Vector loops for the elementwise ops in the sets above, reductions, matmul and copies; the strided loops otherwise. */
    @Override
    public boolean runsNatively(String kernel, Enum<?> primitive) {
        return switch (kernel) {
            case "unary" -> VECTOR_UNARY.contains(primitive);
            case "binary" -> VECTOR_BINARY.contains(primitive) || ((BinaryOp) primitive).isComparison();
            case "fill", "copy", "scaledAdd", "where", "reduce", "matmul", "linear", "softmax", "softmaxBackward",
                 "layerNorm", "layerNormBackward", "batchNorm", "batchNormBackward", "conv2d", "conv2dBiased",
                 "conv2dInputGrad", "conv2dWeightGrad", "sgdStep", "adamStep", "attention", "attentionBackward",
                 "dropoutMask" -> true;
            default -> false;
        };
    }

    /**
     * One-pass softmax and layer norm with vector rows, batch norm with vector channels (the composites cost
     * 5-20 passes); plain loops without the Vector API.
     */
    private static final FusedKernels FUSED = VECTORS ? new SimdFusedKernels() : new HeapFusedKernels();

    @Override
    public FusedKernels fused() {
        return FUSED;
    }

    // ---- kernels ----------------------------------------------------------------------------------

    @Override
    public void fill(Storage out, Layout outLayout, double value) {
        HeapStorage o = (HeapStorage) out;
        if (outLayout.isContiguous() && floating(o)) {
            int from = outLayout.offset();
            int to = from + outLayout.numel();
            if (o.dtype == DType.FLOAT32) {
                Arrays.fill(o.f32, from, to, (float) value);
            } else {
                Arrays.fill(o.f64, from, to, value);
            }
            return;
        }
        StridedKernels.fill(o, outLayout, value);
    }

    @Override
    public void copy(Storage src, Layout srcLayout, Storage dst, Layout dstLayout) {
        HeapStorage s = (HeapStorage) src;
        HeapStorage d = (HeapStorage) dst;
        if (s.dtype == d.dtype && srcLayout.isContiguous() && dstLayout.isContiguous()) {
            Object from = array(s);
            Object to = array(d);
            int n = srcLayout.numel();
            int so = srcLayout.offset();
            int dOff = dstLayout.offset();
            if (n <= RUN_PIECE) {
                System.arraycopy(from, so, to, dOff, n);
                return;
            }
            RowThreads.inPieces(n, (at, length) -> System.arraycopy(from, so + at, to, dOff + at, length));
            return;
        }
        if (s.dtype == d.dtype && floating(d) && dstLayout.numel() > 0 && copyRows(s, srcLayout, d, dstLayout)) {
            return;
        }
        if (TiledCopy.applies(s, srcLayout, d, dstLayout)) {
            TiledCopy.copy(s, srcLayout, d, dstLayout);
            return;
        }
        StridedKernels.copy(s, srcLayout, d, dstLayout);
    }

    /**
     * Rows dense in both (a copy per row) or a source repeated along the row (a fill per row); false
     * for anything else, a transpose above all, which {@link TiledCopy} does in tiles.
     */
    private static boolean copyRows(HeapStorage s, Layout srcLayout, HeapStorage d, Layout dstLayout) {
        RowWalk w = RowWalk.over(dstLayout, srcLayout);
        int step = w.rowStride(1);
        if (w.rowStride(0) != 1 || (step != 1 && step != 0)) {
            return false;
        }
        int len = w.rowLength();
        RowThreads.forRows(w.rows(), len, (first, last, part) -> {
            RowWalk p = w.from(first);
            for (int r = first; r < last; r++, p.next()) {
                int to = p.at[0];
                int from = p.at[1];
                if (step == 1) {
                    System.arraycopy(array(s), from, array(d), to, len);
                } else if (d.dtype == DType.FLOAT32) {
                    Arrays.fill(d.f32, to, to + len, s.f32[from]);
                } else {
                    Arrays.fill(d.f64, to, to + len, s.f64[from]);
                }
            }
        });
        return true;
    }

    /**
     * A dense copy of a view whose rows are not dense (a permuted or transposed operand, or one
     * repeated along the row where the kernel has no repeated form), made with the tiled copy so that
     * the row kernels can then read it in order: one pass over the operand instead of a walk element
     * by element.
     */
    private HeapStorage dense(HeapStorage s, Layout layout) {
        HeapStorage d = HeapStorage.allocate(s.dtype, layout.numel());
        copy(s, layout, d, Layout.contiguous(layout.shape()));
        return d;
    }

    /** Whether a row stride lets the row kernels read the operand: dense, or repeated where allowed. */
    private static boolean readable(int rowStride, boolean repeatAllowed) {
        return rowStride == 1 || (repeatAllowed && rowStride == 0);
    }

    @Override
    public void unary(UnaryOp op, Storage x, Layout xLayout, Storage out, Layout outLayout) {
        HeapStorage in = (HeapStorage) x;
        HeapStorage o = (HeapStorage) out;
        int n = outLayout.numel();
        if (VECTORS && VECTOR_UNARY.contains(op) && floating(o) && in.dtype == o.dtype && n > 0) {
            // Both contiguous, or both the same permutation of a dense block: one run in memory order.
            if (xLayout.isContiguous() && outLayout.isContiguous()
                    || xLayout.hasStridesOf(outLayout) && outLayout.isDensePermutation()) {
                int xo = xLayout.offset();
                int oo = outLayout.offset();
                if (n <= RUN_PIECE) {
                    unaryRun(op, in, xo, o, oo, n);
                    return;
                }
                // In pieces of RUN_PIECE, the pieces split over threads when there are enough.
                RowThreads.inPieces(n, (at, length) -> unaryRun(op, in, xo + at, o, oo + at, length));
                return;
            }
            RowWalk w = RowWalk.over(outLayout, xLayout);
            if (w.rowStride(0) == 1) {
                if (!readable(w.rowStride(1), false)) {
                    unary(op, dense(in, xLayout), Layout.contiguous(xLayout.shape()), o, outLayout);
                    return;
                }
                int len = w.rowLength();
                RowThreads.forRows(w.rows(), len, (from, to, part) -> {
                    RowWalk p = w.from(from);
                    for (int r = from; r < to; r++, p.next()) {
                        unaryRun(op, in, p.at[1], o, p.at[0], len);
                    }
                });
                return;
            }
            // Any other view (a transpose): gathered into the output, then the vector kernel in place.
            // The strided loop would run the double-precision reference, whose last bit differs from
            // the vector formulas, so x.t().exp() would not be x.exp().t().
            StridedKernels.copy(in, xLayout, o, outLayout);
            unaryRun(op, o, outLayout.offset(), o, outLayout.offset(), outLayout.numel());
            return;
        }
        StridedKernels.unary(op, in, xLayout, o, outLayout);
    }

    /**
     * Long runs reach the kernels in pieces of at most this many elements. A kernel whose first calls
     * are on 10^7-element arrays would otherwise spend them in one loop long enough for HotSpot to
     * compile that loop on its own (on-stack replacement) before the method is compiled, and a process
     * that calls the op a few hundred times keeps the OSR code: for the f64 sum it measured half the
     * speed of the normal compile (17 against 35-40 GB/s at 10^7). Short loops per call get the whole
     * method compiled within the first large call; a call per 2^14 elements costs nothing measurable.
     * A multiple of every vector length, so only the last piece has a tail.
     */
    static final int RUN_PIECE = 1 << 14;

    /** How many pieces of {@link #RUN_PIECE} a run of {@code n} elements is. */
    static int pieces(int n) {
        return (n + RUN_PIECE - 1) / RUN_PIECE;
    }

    private static void unaryRun(UnaryOp op, HeapStorage x, int xo, HeapStorage o, int oo, int n) {
        for (int at = 0; at < n; at += RUN_PIECE) {
            int len = Math.min(RUN_PIECE, n - at);
            if (FloatActivations.covers(op)) {
                if (o.dtype == DType.FLOAT32) {
                    FloatActivations.unary(op, x.f32, xo + at, o.f32, oo + at, len);
                } else {
                    DoubleActivations.unary(op, x.f64, xo + at, o.f64, oo + at, len);
                }
            } else if (o.dtype == DType.FLOAT32) {
                FloatKernels.unary(op, x.f32, xo + at, o.f32, oo + at, len);
            } else {
                DoubleKernels.unary(op, x.f64, xo + at, o.f64, oo + at, len);
            }
        }
    }

    /**
     * Any broadcast or view: the dims are merged where all three are contiguous, and the vector
     * kernel runs along each row of the output with each operand dense or repeated along it (a bias
     * row, a column broadcast across rows, a scalar); an operand permuted across the row (its row
     * stride neither 0 nor 1) is first copied dense in tiles.
     */
    @Override
    public void binary(BinaryOp op, Storage a, Layout aLayout, Storage b, Layout bLayout, Storage out,
                       Layout outLayout) {
        HeapStorage sa = (HeapStorage) a;
        HeapStorage sb = (HeapStorage) b;
        HeapStorage o = (HeapStorage) out;
        int n = outLayout.numel();
        // n > 0: a repeated operand of an empty output may sit in an empty storage, with nothing to read.
        if (VECTORS && op.isComparison() && floating(sa) && outLayout.isContiguous() && n > 0
                && (aLayout.isContiguous() || isRepeated(aLayout)) && (bLayout.isContiguous() || isRepeated(bLayout))) {
            // A BOOL mask of dense or repeated operands (x.gt(0.0), a.eq(b): ReLU's gradient asks for one
            // over each activation), in pieces over threads as denseRun.
            boolean aRepeated = !aLayout.isContiguous();
            boolean bRepeated = !bLayout.isContiguous();
            int ao = aLayout.offset();
            int bo = bLayout.offset();
            int oo = outLayout.offset();
            if (n <= RUN_PIECE) {
                compareRun(op, sa, ao, aRepeated, sb, bo, bRepeated, o, oo, n);
                return;
            }
            RowThreads.inPieces(n, (at, length) -> compareRun(op, sa, aRepeated ? ao : ao + at, aRepeated, sb,
                    bRepeated ? bo : bo + at, bRepeated, o, oo + at, length));
            return;
        }
        if (VECTORS && VECTOR_BINARY.contains(op) && floating(o) && sa.dtype == o.dtype && sb.dtype == o.dtype
                && n > 0) {
            if (outLayout.isContiguous() && (aLayout.isContiguous() || isRepeated(aLayout))
                    && (bLayout.isContiguous() || isRepeated(bLayout))) {
                // Same shape, each operand dense or one value repeated (a scalar broadcast either side): the
                // one run the walk below would find, without building the walk (its arrays and the lambda
                // are most of a small op's cost).
                denseRun(op, sa, aLayout.offset(), !aLayout.isContiguous(), sb, bLayout.offset(),
                        !bLayout.isContiguous(), o, outLayout.offset(), n);
                return;
            }
            if (outLayout.hasStridesOf(aLayout) && outLayout.hasStridesOf(bLayout) && outLayout.isDensePermutation()) {
                // All three the same permutation of a dense block (gradients of a transposed weight summed
                // in its order): element by element the same positions, so one dense run in memory order.
                denseRun(op, sa, aLayout.offset(), false, sb, bLayout.offset(), false, o, outLayout.offset(), n);
                return;
            }
            RowWalk w = RowWalk.over(outLayout, aLayout, bLayout);
            if (w.rowStride(0) == 1) {
                if (!readable(w.rowStride(1), true)) {
                    binary(op, dense(sa, aLayout), Layout.contiguous(aLayout.shape()), sb, bLayout, o, outLayout);
                    return;
                }
                if (!readable(w.rowStride(2), true)) {
                    binary(op, sa, aLayout, dense(sb, bLayout), Layout.contiguous(bLayout.shape()), o, outLayout);
                    return;
                }
                boolean aRepeated = w.rowStride(1) == 0;
                boolean bRepeated = w.rowStride(2) == 0;
                int len = w.rowLength();
                if (w.rows() == 1) {
                    // One run (dense operands, or a scalar against a dense one): its pieces over threads.
                    int ao = w.at[1];
                    int bo = w.at[2];
                    int oo = w.at[0];
                    RowThreads.inPieces(len, (at, length) -> binaryRun(op, sa, aRepeated ? ao : ao + at, aRepeated,
                            sb, bRepeated ? bo : bo + at, bRepeated, o, oo + at, length));
                    return;
                }
                RowThreads.forRows(w.rows(), len, (from, to, part) -> {
                    RowWalk p = w.from(from);
                    for (int r = from; r < to; r++, p.next()) {
                        binaryRun(op, sa, p.at[1], aRepeated, sb, p.at[2], bRepeated, o, p.at[0], len);
                    }
                });
                return;
            }
        }
        StridedKernels.binary(op, sa, aLayout, sb, bLayout, o, outLayout);
    }

    /** Dense operands of {@code n} elements: one piece on this thread, more in pieces over threads. */
    private static void denseRun(BinaryOp op, HeapStorage a, int ao, boolean aRepeated, HeapStorage b, int bo,
                                 boolean bRepeated, HeapStorage o, int oo, int n) {
        if (n <= RUN_PIECE) {
            binaryRun(op, a, ao, aRepeated, b, bo, bRepeated, o, oo, n);
            return;
        }
        RowThreads.inPieces(n, (at, length) -> binaryRun(op, a, aRepeated ? ao : ao + at, aRepeated, b,
                bRepeated ? bo : bo + at, bRepeated, o, oo + at, length));
    }

    /** In pieces of {@link #RUN_PIECE}; a repeated operand stays at its one element. */
    private static void binaryRun(BinaryOp op, HeapStorage a, int ao, boolean aRepeated, HeapStorage b, int bo,
                                  boolean bRepeated, HeapStorage o, int oo, int n) {
        for (int at = 0; at < n; at += RUN_PIECE) {
            int len = Math.min(RUN_PIECE, n - at);
            int ai = aRepeated ? ao : ao + at;
            int bi = bRepeated ? bo : bo + at;
            if (o.dtype == DType.FLOAT32) {
                FloatKernels.binary(op, a.f32, ai, aRepeated, b.f32, bi, bRepeated, o.f32, oo + at, len);
            } else {
                DoubleKernels.binary(op, a.f64, ai, aRepeated, b.f64, bi, bRepeated, o.f64, oo + at, len);
            }
        }
    }

    /** In pieces of {@link #RUN_PIECE}, as binaryRun. */
    private static void compareRun(BinaryOp op, HeapStorage a, int ao, boolean aRepeated, HeapStorage b, int bo,
                                   boolean bRepeated, HeapStorage o, int oo, int n) {
        for (int at = 0; at < n; at += RUN_PIECE) {
            int len = Math.min(RUN_PIECE, n - at);
            int ai = aRepeated ? ao : ao + at;
            int bi = bRepeated ? bo : bo + at;
            if (a.dtype == DType.FLOAT32) {
                FloatMasks.compare(op, a.f32, ai, aRepeated, b.f32, bi, bRepeated, o.bool, oo + at, len);
            } else {
                DoubleMasks.compare(op, a.f64, ai, aRepeated, b.f64, bi, bRepeated, o.bool, oo + at, len);
            }
        }
    }

    /** As {@link #binary}; the kernel has no repeated form, so an operand not dense along the rows is copied dense. */
    @Override
    public void scaledAdd(double scale, Storage a, Layout aLayout, double alpha, Storage b, Layout bLayout,
                          Storage out, Layout outLayout) {
        HeapStorage sa = (HeapStorage) a;
        HeapStorage sb = (HeapStorage) b;
        HeapStorage o = (HeapStorage) out;
        int n = outLayout.numel();
        if (VECTORS && floating(o) && sa.dtype == o.dtype && sb.dtype == o.dtype && n > 0) {
            RowWalk w = RowWalk.over(outLayout, aLayout, bLayout);
            if (w.rowStride(0) == 1) {
                if (!readable(w.rowStride(1), false)) {
                    scaledAdd(scale, dense(sa, aLayout), Layout.contiguous(aLayout.shape()), alpha, sb, bLayout, o,
                            outLayout);
                    return;
                }
                if (!readable(w.rowStride(2), false)) {
                    scaledAdd(scale, sa, aLayout, alpha, dense(sb, bLayout), Layout.contiguous(bLayout.shape()), o,
                            outLayout);
                    return;
                }
                int len = w.rowLength();
                if (w.rows() == 1) {
                    // One run (an optimizer's update of a parameter): its pieces over threads.
                    int ao = w.at[1];
                    int bo = w.at[2];
                    int oo = w.at[0];
                    RowThreads.inPieces(len, (at, length) -> scaledAddRun(scale, sa, ao + at, alpha, sb, bo + at, o,
                            oo + at, length));
                    return;
                }
                RowThreads.forRows(w.rows(), len, (from, to, part) -> {
                    RowWalk p = w.from(from);
                    for (int r = from; r < to; r++, p.next()) {
                        scaledAddRun(scale, sa, p.at[1], alpha, sb, p.at[2], o, p.at[0], len);
                    }
                });
                return;
            }
        }
        StridedKernels.scaledAdd(scale, sa, aLayout, alpha, sb, bLayout, o, outLayout);
    }

    /** In pieces, as unaryRun: an optimizer's update of a large parameter is one long run. */
    private static void scaledAddRun(double scale, HeapStorage a, int ao, double alpha, HeapStorage b, int bo,
                                     HeapStorage o, int oo, int n) {
        for (int at = 0; at < n; at += RUN_PIECE) {
            int len = Math.min(RUN_PIECE, n - at);
            if (o.dtype == DType.FLOAT32) {
                ScaledAdd.floats((float) scale, a.f32, ao + at, (float) alpha, b.f32, bo + at, o.f32, oo + at, len);
            } else {
                ScaledAdd.doubles(scale, a.f64, ao + at, alpha, b.f64, bo + at, o.f64, oo + at, len);
            }
        }
    }

    /** As {@link #scaledAdd}: rows of the output, each operand dense along them or copied dense first. */
    @Override
    public void where(Storage cond, Layout condLayout, Storage a, Layout aLayout, Storage b, Layout bLayout,
                      Storage out, Layout outLayout) {
        HeapStorage sc = (HeapStorage) cond;
        HeapStorage sa = (HeapStorage) a;
        HeapStorage sb = (HeapStorage) b;
        HeapStorage o = (HeapStorage) out;
        int n = outLayout.numel();
        // A BOOL condition (the api converts any other mask) over dense or repeated operands.
        if (VECTORS && floating(o) && sc.dtype == DType.BOOL && condLayout.isContiguous() && outLayout.isContiguous()
                && (aLayout.isContiguous() || isRepeated(aLayout)) && (bLayout.isContiguous() || isRepeated(bLayout))
                && n > 0) {
            int co = condLayout.offset();
            int ao = aLayout.offset();
            int bo = bLayout.offset();
            int oo = outLayout.offset();
            boolean aRepeated = !aLayout.isContiguous();
            boolean bRepeated = !bLayout.isContiguous();
            RowThreads.forRows(pieces(n), RUN_PIECE, (from, to, part) -> {
                for (int piece = from; piece < to; piece++) {
                    int at = piece * RUN_PIECE;
                    int len = Math.min(RUN_PIECE, n - at);
                    int ai = aRepeated ? ao : ao + at;
                    int bi = bRepeated ? bo : bo + at;
                    if (o.dtype == DType.FLOAT32) {
                        FloatMasks.where(sc.bool, co + at, sa.f32, ai, aRepeated, sb.f32, bi, bRepeated, o.f32, oo + at,
                                len);
                    } else {
                        DoubleMasks.where(sc.bool, co + at, sa.f64, ai, aRepeated, sb.f64, bi, bRepeated, o.f64,
                                oo + at, len);
                    }
                }
            });
            return;
        }
        boolean mask = sc.dtype == DType.BOOL;
        if (VECTORS && floating(o) && (mask || sc.dtype == o.dtype) && sa.dtype == o.dtype && sb.dtype == o.dtype
                && n > 0) {
            // Broadcast or permuted views (relu's backward of a pooled gradient, v of [N, C, 1, 1]
            // expanded over H x W, is one): the walk's rows, each dense in the output and the
            // condition, each branch dense or, under a BOOL condition, whose loop takes a repeated
            // value, one value repeated along the row; an operand that is neither is copied dense first.
            RowWalk w = RowWalk.over(outLayout, condLayout, aLayout, bLayout);
            if (w.rowStride(0) == 1) {
                if (!readable(w.rowStride(1), false)) {
                    where(dense(sc, condLayout), Layout.contiguous(condLayout.shape()), sa, aLayout, sb, bLayout, o,
                            outLayout);
                    return;
                }
                if (!readable(w.rowStride(2), mask)) {
                    where(sc, condLayout, dense(sa, aLayout), Layout.contiguous(aLayout.shape()), sb, bLayout, o,
                            outLayout);
                    return;
                }
                if (!readable(w.rowStride(3), mask)) {
                    where(sc, condLayout, sa, aLayout, dense(sb, bLayout), Layout.contiguous(bLayout.shape()), o,
                            outLayout);
                    return;
                }
                int len = w.rowLength();
                boolean aRepeated = w.rowStride(2) == 0;
                boolean bRepeated = w.rowStride(3) == 0;
                RowThreads.forRows(w.rows(), len, (from, to, part) -> {
                    RowWalk p = w.from(from);
                    for (int r = from; r < to; r++, p.next()) {
                        if (!mask) {
                            whereRun(sc, p.at[1], sa, p.at[2], sb, p.at[3], o, p.at[0], len);
                        } else if (o.dtype == DType.FLOAT32) {
                            FloatMasks.where(sc.bool, p.at[1], sa.f32, p.at[2], aRepeated, sb.f32, p.at[3], bRepeated,
                                    o.f32, p.at[0], len);
                        } else {
                            DoubleMasks.where(sc.bool, p.at[1], sa.f64, p.at[2], aRepeated, sb.f64, p.at[3], bRepeated,
                                    o.f64, p.at[0], len);
                        }
                    }
                });
                return;
            }
        }
        StridedKernels.where(sc, condLayout, sa, aLayout, sb, bLayout, o, outLayout);
    }

    private static void whereRun(HeapStorage c, int co, HeapStorage a, int ao, HeapStorage b, int bo, HeapStorage o,
                                 int oo, int n) {
        for (int at = 0; at < n; at += RUN_PIECE) {
            int len = Math.min(RUN_PIECE, n - at);
            if (o.dtype == DType.FLOAT32) {
                FloatKernels.where(c.f32, co + at, a.f32, ao + at, b.f32, bo + at, o.f32, oo + at, len);
            } else {
                DoubleKernels.where(c.f64, co + at, a.f64, ao + at, b.f64, bo + at, o.f64, oo + at, len);
            }
        }
    }

    @Override
    public void reduce(ReduceOp op, Storage x, Layout xLayout, Storage out, Layout outLayout) {
        HeapStorage in = (HeapStorage) x;
        HeapStorage o = (HeapStorage) out;
        if (VECTORS && floating(in) && in.dtype == o.dtype && xLayout.numel() > 0
                && (xLayout.isContiguous() && outLayout.isContiguous() && reduceContiguous(op, in, xLayout, o, outLayout)
                || reduceRows(op, in, xLayout, o, outLayout))) {
            return;
        }
        StridedKernels.reduce(op, in, xLayout, o, outLayout);
    }

    /**
     * Any set of reduced dims over any view. The dims are taken in the order of x's strides, largest
     * first, and merged where contiguous, so each row of the walk is x's densest run: a reduced row
     * reduces as one dense run into its output slot (row sums, {@code [N, C, H * W]} to {@code [1, C, 1]}),
     * a kept row combines lane-wise into a row of slots (sum over the batch, or over dim 0 of a
     * transposed view such as a batched weight gradient). Slots are doubles whatever the dtype, as in the
     * strided loop, kept in x's dim order and written to the output's layout at the end. The order in
     * which elements are combined depends on the layouts alone, so a result is the same from run to run.
     * An x whose densest dim is not dense (a strided slice, a broadcast) is copied dense first.
     */
    private boolean reduceRows(ReduceOp op, HeapStorage x, Layout xLayout, HeapStorage o, Layout outLayout) {
        int rank = xLayout.rank();
        int[] shape = xLayout.shape().toArray();
        int[] xStrides = xLayout.strides();
        int[] order = byStrideDescending(xStrides);
        // Slots: contiguous over the kept dims in that order, 0 along reduced ones (and size-1 dims).
        int[] slotStrides = new int[rank];
        int slots = 1;
        for (int i = rank - 1; i >= 0; i--) {
            int d = order[i];
            if (outLayout.shape().dim(d) != 1) {
                slotStrides[d] = slots;
                slots *= shape[d];
            }
        }
        RowWalk w = RowWalk.of(shape, order, new int[] {xLayout.offset(), 0}, new int[][] {xStrides, slotStrides});
        if (w.rowStride(0) != 1) {
            if (!xLayout.isContiguous()) {
                reduce(op, dense(x, xLayout), Layout.contiguous(xLayout.shape()), o, outLayout);
                return true;
            }
            return false;
        }
        double[] acc = new double[slots];
        Arrays.fill(acc, StridedKernels.identity(op));
        int len = w.rowLength();
        boolean reducedRow = w.rowStride(1) == 0;
        for (int r = 0, rows = w.rows(); r < rows; r++, w.next()) {
            int from = w.at[0];
            int slot = w.at[1];
            if (reducedRow) {
                // Math.max / Math.min as in the runs (-0.0 below 0.0), not StridedKernels.combine, which
                // keeps the first of two zeros: the result would depend on which run held which zero.
                double run = reduceRun(op, x, from, len);
                acc[slot] = switch (op) {
                    case SUM -> acc[slot] + run;
                    case MAX -> Math.max(acc[slot], run);
                    case MIN -> Math.min(acc[slot], run);
                };
                continue;
            }
            for (int at = 0; at < len; at += RUN_PIECE) {
                int piece = Math.min(RUN_PIECE, len - at);
                if (x.dtype == DType.FLOAT32) {
                    FloatKernels.reduceRows(op, x.f32, from + at, 1, piece, acc, slot + at);
                } else {
                    DoubleKernels.reduceRows(op, x.f64, from + at, 1, piece, acc, slot + at);
                }
            }
        }
        writeSlots(acc, order, outLayout, slotStrides, o);
        return true;
    }

    /** Dims from the largest stride to the smallest; equal strides keep their order. */
    private static int[] byStrideDescending(int[] strides) {
        Integer[] dims = new Integer[strides.length];
        for (int d = 0; d < dims.length; d++) {
            dims[d] = d;
        }
        Arrays.sort(dims, (p, q) -> Integer.compare(strides[q], strides[p]));
        int[] order = new int[dims.length];
        for (int d = 0; d < dims.length; d++) {
            order[d] = dims[d];
        }
        return order;
    }

    /** The slots of {@link #reduceRows} (in x's dim order) into the output, whatever its layout. */
    private static void writeSlots(double[] acc, int[] order, Layout outLayout, int[] slotStrides,
                                   HeapStorage o) {
        RowWalk w = RowWalk.of(outLayout.shape().toArray(), order, new int[] {outLayout.offset(), 0},
                new int[][] {outLayout.strides(), slotStrides});
        int len = w.rowLength();
        int outStep = w.rowStride(0);
        int slotStep = w.rowStride(1);
        for (int r = 0, rows = w.rows(); r < rows; r++, w.next()) {
            int to = w.at[0];
            int from = w.at[1];
            if (outStep == 1 && slotStep == 1) {
                // Both dense along the row (an output in x's dim order): a loop C2 vectorizes.
                writeRun(acc, from, o, to, len);
            } else if (o.dtype == DType.FLOAT32) {
                for (int j = 0; j < len; j++) {
                    o.f32[to + j * outStep] = (float) acc[from + j * slotStep];
                }
            } else {
                for (int j = 0; j < len; j++) {
                    o.f64[to + j * outStep] = acc[from + j * slotStep];
                }
            }
        }
    }

    /**
     * One dense run of {@code n > 0} elements reduced in pieces of {@link #RUN_PIECE}, the pieces'
     * results combined in double (a sum of partial sums; max and min as Math.max / Math.min, which
     * keep a NaN).
     */
    private static double reduceRun(ReduceOp op, HeapStorage x, int from, int n) {
        int pieces = pieces(n);
        if (RowThreads.parts(pieces, RUN_PIECE) > 1) {
            // The pieces over threads, their results combined below in piece order as on one thread.
            double[] results = new double[pieces];
            RowThreads.forRows(pieces, RUN_PIECE, (first, last, part) -> {
                for (int p = first; p < last; p++) {
                    results[p] = reducePiece(op, x, from + p * RUN_PIECE, Math.min(RUN_PIECE, n - p * RUN_PIECE));
                }
            });
            double result = results[0];
            for (int p = 1; p < pieces; p++) {
                result = combinePieces(op, result, results[p]);
            }
            return result;
        }
        double result = 0;
        for (int at = 0; at < n; at += RUN_PIECE) {
            double piece = reducePiece(op, x, from + at, Math.min(RUN_PIECE, n - at));
            result = at == 0 ? piece : combinePieces(op, result, piece);
        }
        return result;
    }

    private static double reducePiece(ReduceOp op, HeapStorage x, int from, int len) {
        return x.dtype == DType.FLOAT32 ? FloatKernels.reduce(op, x.f32, from, len)
                : DoubleKernels.reduce(op, x.f64, from, len);
    }

    private static double combinePieces(ReduceOp op, double result, double piece) {
        return switch (op) {
            case SUM -> result + piece;
            case MAX -> Math.max(result, piece);
            case MIN -> Math.min(result, piece);
        };
    }

    /**
     * A contiguous input whose reduced dims (ignoring size-1 dims) form one block is
     * {@code [outer, reduced, inner]} in memory. With {@code inner == 1} (sum over the last axes) each
     * output element reduces one dense run; otherwise each outer slice combines its {@code reduced}
     * rows of {@code inner} elements lane-wise into an accumulator row (sum over the batch: outer 1).
     * Returns false when kept dims sit between reduced ones; the strided loop handles those.
     */
    private static boolean reduceContiguous(ReduceOp op, HeapStorage x, Layout xLayout, HeapStorage o,
                                            Layout outLayout) {
        int rank = xLayout.rank();
        int firstReduced = -1;
        int lastReduced = -1;
        for (int d = 0; d < rank; d++) {
            if (xLayout.shape().dim(d) != 1 && outLayout.shape().dim(d) == 1) {
                firstReduced = firstReduced < 0 ? d : firstReduced;
                lastReduced = d;
            }
        }
        int n = xLayout.numel();
        if (firstReduced < 0 || n == 0) {
            return false;
        }
        int outer = 1;
        int reduced = 1;
        int inner = 1;
        for (int d = 0; d < rank; d++) {
            int size = xLayout.shape().dim(d);
            boolean isReduced = outLayout.shape().dim(d) == 1;
            if (d < firstReduced) {
                outer *= size;
            } else if (d > lastReduced) {
                inner *= size;
            } else if (isReduced || size == 1) {
                reduced *= size;
            } else {
                return false;
            }
        }
        int xo = xLayout.offset();
        int oo = outLayout.offset();
        if (inner == 1) {
            reduceOuterRuns(op, x, xo, outer, reduced, o, oo);
        } else {
            reduceColumns(op, x, xo, outer, reduced, inner, o, oo);
        }
        return true;
    }

    /** {@code [outer, reduced]} to {@code [outer]}: outputs over threads; one output's run splits its pieces instead. */
    private static void reduceOuterRuns(ReduceOp op, HeapStorage x, int xo, int outer, int reduced, HeapStorage o,
                                        int oo) {
        RowThreads.forRows(outer, reduced, (first, last, part) -> {
            for (int r = first; r < last; r++) {
                o.set(oo + r, reduceRun(op, x, xo + r * reduced, reduced));
            }
        });
    }

    /**
     * {@code [outer, reduced, inner]} to {@code [outer, inner]}: rows combined lane-wise into an
     * accumulator row, in double whatever the dtype, as the strided loop does. Over threads by outer
     * slices when there are several (each slice as on one thread); a single slice (a sum over the
     * batch) by parts of its rows, each into its own accumulator row, the parts then combined in part
     * order. The parts depend on the sizes alone, so the result is the same on one thread or two.
     * (Blocks of columns instead kept every column's order but read each row in pieces: 1.7x slower
     * on one thread for {@code [1024, 1024]} to {@code [1, 1024]}.)
     */
    private static void reduceColumns(ReduceOp op, HeapStorage x, int xo, int outer, int reduced, int inner,
                                      HeapStorage o, int oo) {
        double identity = StridedKernels.identity(op);
        if (outer > 1) {
            int n = outer * inner;
            double[] acc = columnAccumulators(n);
            Arrays.fill(acc, 0, n, identity);
            RowThreads.forRows(outer, reduced * inner, (first, last, part) -> {
                for (int r = first; r < last; r++) {
                    reduceRowsInto(op, x, xo + r * reduced * inner, reduced, inner, acc, r * inner);
                }
            });
            writeRun(acc, 0, o, oo, n);
            return;
        }
        // Part p's accumulator row is acc[p * inner, (p + 1) * inner); the calling thread's scratch, so
        // a helper never keeps a row that another caller's reduction could be given.
        int parts = RowThreads.parts(reduced, inner);
        double[] acc = columnAccumulators(parts * inner);
        RowThreads.forRows(reduced, inner, (first, last, part) -> {
            Arrays.fill(acc, part * inner, (part + 1) * inner, identity);
            reduceRowsInto(op, x, xo + first * inner, last - first, inner, acc, part * inner);
        });
        for (int p = 1; p < parts; p++) {
            for (int j = 0; j < inner; j++) {
                acc[j] = combinePieces(op, acc[j], acc[p * inner + j]);
            }
        }
        writeRun(acc, 0, o, oo, inner);
    }

    /**
     * Accumulators a thread's column reductions reuse (a sum over the batch runs in every Linear's
     * backward), and the layer norm backward's weight and bias sums ({@link SimdFusedKernels}).
     */
    private static final ThreadLocal<double[][]> COLUMN_ACCUMULATORS = ThreadLocal.withInitial(() -> new double[][] {
            new double[0]});
    /**
     * Beyond this many accumulators (2 MiB) a reduction allocates its own, so that a thread does not
     * keep a huge one. A sum over a short leading dimension takes {@link RowThreads#PARTS} rows of
     * them: the language model's position-embedding gradient, [8, 128, 256] summed over the batch,
     * 8 x 32768, which a limit of 2^16 made a fresh 2 MB array every step.
     */
    private static final int KEPT_ACCUMULATORS = 1 << 18;

    /** At least {@code n} double accumulators, contents unspecified: this thread's, or fresh when many. */
    static double[] columnAccumulators(int n) {
        if (n > KEPT_ACCUMULATORS) {
            return new double[n];
        }
        double[][] kept = COLUMN_ACCUMULATORS.get();
        if (kept[0].length < n) {
            kept[0] = new double[n];
        }
        return kept[0];
    }

    /** Rows {@code [rows, cols]} dense from {@code from} combined into {@code acc[accOff, accOff + cols)}, in pieces of about RUN_PIECE elements. */
    private static void reduceRowsInto(ReduceOp op, HeapStorage x, int from, int rows, int cols, double[] acc,
                                       int accOff) {
        // Rows in pieces of about RUN_PIECE elements, as runs are (see there).
        int rowsPerPiece = Math.max(1, RUN_PIECE / cols);
        for (int row = 0; row < rows; row += rowsPerPiece) {
            int n = Math.min(rowsPerPiece, rows - row);
            if (x.dtype == DType.FLOAT32) {
                FloatKernels.reduceRows(op, x.f32, from + row * cols, n, cols, acc, accOff);
            } else {
                DoubleKernels.reduceRows(op, x.f64, from + row * cols, n, cols, acc, accOff);
            }
        }
    }

    /** {@code acc[from, from + n)} into {@code o} from {@code to}, rounded to o's dtype. */
    private static void writeRun(double[] acc, int from, HeapStorage o, int to, int n) {
        if (o.dtype == DType.FLOAT32) {
            float[] out = o.f32;
            for (int j = 0; j < n; j++) {
                out[to + j] = (float) acc[from + j];
            }
        } else {
            System.arraycopy(acc, from, o.f64, to, n);
        }
    }

    @Override
    public void matmul(Storage a, Layout aLayout, Storage b, Layout bLayout, Storage out, Layout outLayout) {
        // The first product of this JVM starts the kernel warm-up; a JVM that only discovers this
        // backend (and runs another) starts nothing.
        KernelWarmup.startOnce();
        HeapStorage sa = (HeapStorage) a;
        HeapStorage sb = (HeapStorage) b;
        HeapStorage so = (HeapStorage) out;
        int rank = outLayout.rank();
        int m = outLayout.shape().dim(rank - 2);
        int n = outLayout.shape().dim(rank - 1);
        int k = aLayout.shape().dim(rank - 1);
        int aRow = aLayout.stride(rank - 2);
        int aCol = aLayout.stride(rank - 1);
        int bRow = bLayout.stride(rank - 2);
        int bCol = bLayout.stride(rank - 1);
        int oRow = outLayout.stride(rank - 2);
        MatmulPath path = VECTORS && floating(so) && (outLayout.stride(rank - 1) == 1 || n == 1)
                ? MatmulPath.choose(m, n, k, aCol, bRow, bCol) : MatmulPath.STRIDED;
        // Each matrix's offsets are worked out from its index (a rank-2 product is a batch of one, its
        // offsets the layouts' own), so no cursor is built and a product allocates nothing here.
        int batchRank = rank - 2;
        int batches = 1;
        for (int d = 0; d < batchRank; d++) {
            batches *= outLayout.shape().dim(d);
        }
        if (path == MatmulPath.PACKED) {
            int threads = MatmulThreads.partsFor(2L * batches * m * n * k);
            if (so.dtype == DType.FLOAT32) {
                FloatGemm.multiply(sa.f32, aLayout, aRow, aCol, sb.f32, bLayout, bRow, bCol, so.f32, outLayout, oRow,
                        m, n, k, batchRank, batches, threads);
            } else {
                DoubleGemm.multiply(sa.f64, aLayout, aRow, aCol, sb.f64, bLayout, bRow, bCol, so.f64, outLayout, oRow,
                        m, n, k, batchRank, batches, threads);
            }
            return;
        }
        for (int t = 0; t < batches; t++) {
            matrix(path, sa, batchOffset(outLayout, batchRank, aLayout, t), aRow, aCol,
                    sb, batchOffset(outLayout, batchRank, bLayout, t), bRow, bCol,
                    so, batchOffset(outLayout, batchRank, outLayout, t), oRow, m, n, k);
        }
    }

    /**
     * A product the packed GEMM takes gets the bias as the epilogue of each output block's first pass
     * ({@link FloatGemm#multiply} with a bias); the small products of the unpacked kernels, and a bias
     * that is not contiguous, have it added to the finished rows.
     */
    @Override
    public void linear(Storage a, Layout aLayout, Storage b, Layout bLayout, Storage bias, Layout biasLayout,
                       Storage out, Layout outLayout) {
        KernelWarmup.startOnce();
        HeapStorage so = (HeapStorage) out;
        int m = outLayout.shape().dim(0);
        int n = outLayout.shape().dim(1);
        int k = aLayout.shape().dim(1);
        boolean packed = VECTORS && floating(so) && bias != null
                && (biasLayout.stride(0) == 1 || n == 1)
                && MatmulPath.choose(m, n, k, aLayout.stride(1), bLayout.stride(0), bLayout.stride(1)) == MatmulPath.PACKED;
        if (!packed) {
            if (bias != null && floating(so) && n < ADD_BIAS_BY_ROWS && outLayout.stride(0) == n
                    && outLayout.stride(1) == 1) {
                matmul(a, aLayout, b, bLayout, out, outLayout);
                addBiasToRows((HeapStorage) bias, biasLayout.offset(), biasLayout.stride(0), so, outLayout.offset(), m, n);
                return;
            }
            super.linear(a, aLayout, b, bLayout, bias, biasLayout, out, outLayout);
            return;
        }
        HeapStorage sa = (HeapStorage) a;
        HeapStorage sb = (HeapStorage) b;
        HeapStorage sbias = (HeapStorage) bias;
        int threads = MatmulThreads.partsFor(2L * m * n * k);
        if (so.dtype == DType.FLOAT32) {
            FloatGemm.multiply(sa.f32, aLayout, aLayout.stride(0), aLayout.stride(1), sb.f32, bLayout, bLayout.stride(0),
                    bLayout.stride(1), sbias.f32, biasLayout.offset(), so.f32, outLayout, outLayout.stride(0), m, n, k, 0, 1,
                    threads);
        } else {
            DoubleGemm.multiply(sa.f64, aLayout, aLayout.stride(0), aLayout.stride(1), sb.f64, bLayout, bLayout.stride(0),
                    bLayout.stride(1), sbias.f64, biasLayout.offset(), so.f64, outLayout, outLayout.stride(0), m, n, k, 0, 1,
                    threads);
        }
    }

    /**
     * Rows narrower than this get a small product's bias in a plain loop: the default's broadcast
     * {@code binary} ADD walks one short row per kernel call (the MLP's 64 x 10 logits: 64 calls for
     * 640 additions, several microseconds), and a row of fewer elements than a vector gains nothing
     * from one. The same additions, {@code out + bias} rounded to the dtype, so the same bits.
     */
    private static final int ADD_BIAS_BY_ROWS = 16;

    private static void addBiasToRows(HeapStorage bias, int b0, int bStride, HeapStorage out, int o0, int m, int n) {
        if (out.dtype == DType.FLOAT32) {
            FloatRows.addToRows(bias.f32, b0, bStride, out.f32, o0, m, n);
        } else {
            DoubleRows.addToRows(bias.f64, b0, bStride, out.f64, o0, m, n);
        }
    }

    /**
     * Where matrix {@code t} of a batch starts in {@code layout}: {@code t} counts row-major over the
     * leading {@code batchRank} dims of {@code outLayout}'s shape, and {@code layout} has the same
     * rank (a broadcast operand has stride 0 there).
     */
    static int batchOffset(Layout outLayout, int batchRank, Layout layout, int t) {
        int at = layout.offset();
        for (int d = batchRank - 1; d >= 0; d--) {
            int size = outLayout.shape().dim(d);
            at += t % size * layout.stride(d);
            t /= size;
        }
        return at;
    }

    /** One matrix of a matmul by one of the unpacked kernels. */
    private static void matrix(MatmulPath path, HeapStorage sa, int ab, int aRow, int aCol, HeapStorage sb, int bb,
                               int bRow, int bCol, HeapStorage so, int ob, int oRow, int m, int n, int k) {
        boolean f32 = so.dtype == DType.FLOAT32;
        switch (path) {
            case ROWS_OF_B -> {
                if (f32) {
                    FloatMatmul.rowsOfB(sa.f32, ab, aRow, aCol, sb.f32, bb, bRow, so.f32, ob, oRow, m, n, k);
                } else {
                    DoubleMatmul.rowsOfB(sa.f64, ab, aRow, aCol, sb.f64, bb, bRow, so.f64, ob, oRow, m, n, k);
                }
            }
            case DOTS -> {
                if (f32) {
                    FloatMatmul.dots(sa.f32, ab, aRow, sb.f32, bb, bCol, so.f32, ob, oRow, m, n, k);
                } else {
                    DoubleMatmul.dots(sa.f64, ab, aRow, sb.f64, bb, bCol, so.f64, ob, oRow, m, n, k);
                }
            }
            case STRIDED -> StridedKernels.matmul(sa, ab, aRow, aCol, sb, bb, bRow, bCol, so, ob, oRow, m, n, k);
            case PACKED -> throw new AssertionError("packed products are not run one matrix at a time here");
        }
    }

    /** Which kernel one matrix of a matmul takes, decided from its sizes and the strides of its last two dims. */
    enum MatmulPath {
        /** Packed, cache-blocked GEMM ({@link FloatGemm}); any strides, threads for large products. */
        PACKED,
        /** Rows of b dense: register-blocked broadcast-FMA over rows of b; a may have any strides. */
        ROWS_OF_B,
        /** Rows of a and columns of b dense (b transposed, or n == 1): dot products along k. */
        DOTS,
        /** Anything else: the strided loop. */
        STRIDED;

        /**
         * Below 32^3 multiply-adds per matrix, packing costs more than it saves: the unpacked kernels
         * read each operand in place.
         */
        static final long PACKED_MIN_MNK = 32L * 32 * 32;
        /** Outputs narrower than this, with rows of a and columns of b dense, take dot products. */
        static final int NARROW_N = 16;

        static MatmulPath choose(int m, int n, int k, int aCol, int bRow, int bCol) {
            // A size-1 dim has no meaningful stride: treat it as dense.
            boolean rowsOfB = bCol == 1 || n == 1;
            boolean dots = (aCol == 1 || k == 1) && (bRow == 1 || k == 1);
            // A narrow output wastes most lanes of a row of b (and of a packed panel: 32 floats on
            // AVX-512, of which x @ w.T with 10 outputs uses 10); dot products along k use all of them.
            if (dots && n < NARROW_N) {
                return DOTS;
            }
            // With fewer than 4 rows the packed panels of A are mostly padding: read b in place instead.
            if ((long) m * n * k >= PACKED_MIN_MNK && (m >= 4 || !(rowsOfB || dots))) {
                return PACKED;
            }
            if (dots && !rowsOfB) {
                return DOTS;
            }
            return rowsOfB ? ROWS_OF_B : STRIDED;
        }
    }

    @Override
    public void gather(Storage src, Layout srcLayout, int dim, Storage index, Layout indexLayout, Storage out,
                       Layout outLayout) {
        if (VECTORS && (RowSelect.gather((HeapStorage) src, srcLayout, dim, (HeapStorage) index, indexLayout,
                (HeapStorage) out, outLayout) || SimdWindows.gather((HeapStorage) src, srcLayout, dim,
                (HeapStorage) index, indexLayout, (HeapStorage) out, outLayout))) {
            return;
        }
        StridedKernels.gather((HeapStorage) src, srcLayout, dim, (HeapStorage) index, indexLayout,
                (HeapStorage) out, outLayout);
    }

    @Override
    public void scatterAdd(Storage dst, Layout dstLayout, int dim, Storage index, Layout indexLayout, Storage src,
                           Layout srcLayout) {
        if (VECTORS && (RowSelect.scatterAdd((HeapStorage) dst, dstLayout, dim, (HeapStorage) index, indexLayout,
                (HeapStorage) src, srcLayout) || SimdWindows.scatterAdd((HeapStorage) dst, dstLayout, dim,
                (HeapStorage) index, indexLayout, (HeapStorage) src, srcLayout))) {
            return;
        }
        StridedKernels.scatterAdd((HeapStorage) dst, dstLayout, dim, (HeapStorage) index, indexLayout,
                (HeapStorage) src, srcLayout);
    }
    @Override
    public void unfold(Storage x, Layout xLayout, Window2d window, Storage out, Layout outLayout) {
        if (VECTORS && SimdWindows.unfold((HeapStorage) x, xLayout, window, (HeapStorage) out, outLayout)) {
            return;
        }
        WindowKernels.unfold((HeapStorage) x, xLayout, window, (HeapStorage) out, outLayout);
    }

    @Override
    public void fold(Storage cols, Layout colsLayout, Window2d window, Storage out, Layout outLayout) {
        if (VECTORS && SimdWindows.fold((HeapStorage) cols, colsLayout, window, (HeapStorage) out, outLayout)) {
            return;
        }
        WindowKernels.fold((HeapStorage) cols, colsLayout, window, (HeapStorage) out, outLayout);
    }

    @Override
    public void conv2d(Storage x, Layout xLayout, Storage weight, Layout weightLayout, Window2d window, int groups,
                       Storage out, Layout outLayout) {
        if (!VECTORS || !SimdConvolution.conv2d((HeapStorage) x, xLayout, (HeapStorage) weight, weightLayout, window,
                groups, (HeapStorage) out, outLayout)) {
            super.conv2d(x, xLayout, weight, weightLayout, window, groups, out, outLayout);
        }
    }

    @Override
    public void conv2dBiased(Storage x, Layout xLayout, Storage weight, Layout weightLayout, Storage bias,
                             Layout biasLayout, Window2d window, int groups, Storage out, Layout outLayout) {
        if (!VECTORS || !SimdConvolution.conv2dBiased((HeapStorage) x, xLayout, (HeapStorage) weight, weightLayout,
                (HeapStorage) bias, biasLayout, window, groups, (HeapStorage) out, outLayout)) {
            super.conv2dBiased(x, xLayout, weight, weightLayout, bias, biasLayout, window, groups, out, outLayout);
        }
    }

    @Override
    public void conv2dInputGrad(Storage grad, Layout gradLayout, Storage weight, Layout weightLayout, Window2d window,
                                int groups, Storage out, Layout outLayout) {
        if (!VECTORS || !SimdConvolution.inputGrad((HeapStorage) grad, gradLayout, (HeapStorage) weight, weightLayout,
                window, groups, (HeapStorage) out, outLayout)) {
            super.conv2dInputGrad(grad, gradLayout, weight, weightLayout, window, groups, out, outLayout);
        }
    }

    @Override
    public void conv2dWeightGrad(Storage x, Layout xLayout, Storage grad, Layout gradLayout, Window2d window,
                                 int groups, Storage out, Layout outLayout) {
        if (!VECTORS || !SimdConvolution.weightGrad((HeapStorage) x, xLayout, (HeapStorage) grad, gradLayout, window,
                groups, (HeapStorage) out, outLayout)) {
            super.conv2dWeightGrad(x, xLayout, grad, gradLayout, window, groups, out, outLayout);
        }
    }

    @Override
    public void maxPool2d(Storage x, Layout xLayout, Window2d window, Storage out, Layout outLayout, Storage indices,
                          Layout indicesLayout) {
        if (VECTORS && SimdWindows.maxPool2d((HeapStorage) x, xLayout, window, (HeapStorage) out, outLayout,
                (HeapStorage) indices, indicesLayout)) {
            return;
        }
        WindowKernels.maxPool2d((HeapStorage) x, xLayout, window, (HeapStorage) out, outLayout, (HeapStorage) indices,
                indicesLayout);
    }

    // ---- layout helpers ---------------------------------------------------------------------------------

    private static boolean floating(HeapStorage s) {
        return s.dtype.isFloatingPoint();
    }

    /** One element repeated over the whole view: every dim of size > 1 has stride 0. */
    private static boolean isRepeated(Layout layout) {
        for (int d = 0; d < layout.rank(); d++) {
            if (layout.shape().dim(d) > 1 && layout.stride(d) != 0) {
                return false;
            }
        }
        return true;
    }

    private static Object array(HeapStorage s) {
        return switch (s.dtype) {
            case FLOAT64 -> s.f64;
            case FLOAT32 -> s.f32;
            case INT64 -> s.i64;
            case INT32 -> s.i32;
            case BOOL -> s.bool;
        };
    }
}
