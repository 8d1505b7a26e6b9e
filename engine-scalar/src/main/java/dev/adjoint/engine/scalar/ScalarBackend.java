package dev.adjoint.engine.scalar;

import dev.adjoint.DType;
import dev.adjoint.Shape;
import dev.adjoint.spi.Availability;
import dev.adjoint.spi.BinaryOp;
import dev.adjoint.spi.Layout;
import dev.adjoint.spi.ReduceOp;
import dev.adjoint.spi.Storage;
import dev.adjoint.spi.UnaryOp;
import dev.adjoint.spi.Window2d;
import dev.adjoint.spi.heap.HeapBackend;
import dev.adjoint.spi.heap.HeapStorage;
import dev.adjoint.spi.StridedCursor;
import dev.adjoint.spi.heap.StridedKernels;
import dev.adjoint.spi.heap.WindowKernels;

import java.util.function.DoubleBinaryOperator;
import java.util.function.DoubleUnaryOperator;

/**
 * The reference backend: plain loops over heap arrays. Every element is computed in double and
 * rounded once to the storage dtype, and every sum accumulates in double, so its FLOAT32 results
 * are as accurate as FLOAT32 can hold and its FLOAT64 results are the suite's reference values.
 * Clarity over speed: the arithmetic is {@link StridedKernels}'s; contiguous unary and binary ops take
 * a short path here because the tape benchmarks run on this backend.
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
        StridedKernels.fill((HeapStorage) out, outLayout, value);
    }

    @Override
    public void copy(Storage src, Layout srcLayout, Storage dst, Layout dstLayout) {
        StridedKernels.copy((HeapStorage) src, srcLayout, (HeapStorage) dst, dstLayout);
    }

    @Override
    public void unary(UnaryOp op, Storage x, Layout xLayout, Storage out, Layout outLayout) {
        HeapStorage in = (HeapStorage) x;
        HeapStorage o = (HeapStorage) out;
        if (in.dtype.isFloatingPoint() && xLayout.isContiguous() && outLayout.isContiguous()) {
            DoubleUnaryOperator f = unaryFunction(op);
            int n = outLayout.numel();
            int xo = xLayout.offset();
            int oo = outLayout.offset();
            for (int i = 0; i < n; i++) {
                o.set(oo + i, f.applyAsDouble(in.get(xo + i)));
            }
            return;
        }
        StridedKernels.unary(op, in, xLayout, o, outLayout);
    }

    @Override
    public void binary(BinaryOp op, Storage a, Layout aLayout, Storage b, Layout bLayout, Storage out,
                       Layout outLayout) {
        HeapStorage sa = (HeapStorage) a;
        HeapStorage sb = (HeapStorage) b;
        HeapStorage o = (HeapStorage) out;
        int n = outLayout.numel();
        if (!sa.dtype.isFloatingPoint() || op.isComparison()) {
            // Integers in long, never through double; comparisons write BOOL.
            StridedKernels.binary(op, sa, aLayout, sb, bLayout, o, outLayout);
            return;
        }
        if (aLayout.isContiguous() && bLayout.isContiguous() && outLayout.isContiguous()) {
            DoubleBinaryOperator f = binaryFunction(op);
            int ao = aLayout.offset();
            int bo = bLayout.offset();
            int oo = outLayout.offset();
            for (int i = 0; i < n; i++) {
                o.set(oo + i, f.applyAsDouble(sa.get(ao + i), sb.get(bo + i)));
            }
            return;
        }
        // x.add(1.0) and friends: a contiguous tensor with a broadcast scalar, common in backward formulas.
        if (aLayout.isContiguous() && bLayout.isBroadcastScalar() && outLayout.isContiguous()) {
            DoubleBinaryOperator f = binaryFunction(op);
            int ao = aLayout.offset();
            double scalar = sb.get(bLayout.offset());
            int oo = outLayout.offset();
            for (int i = 0; i < n; i++) {
                o.set(oo + i, f.applyAsDouble(sa.get(ao + i), scalar));
            }
            return;
        }
        StridedKernels.binary(op, sa, aLayout, sb, bLayout, o, outLayout);
    }

    @Override
    public void scaledAdd(double scale, Storage a, Layout aLayout, double alpha, Storage b, Layout bLayout,
                          Storage out, Layout outLayout) {
        StridedKernels.scaledAdd(scale, (HeapStorage) a, aLayout, alpha, (HeapStorage) b, bLayout, (HeapStorage) out,
                outLayout);
    }

    @Override
    public void where(Storage cond, Layout condLayout, Storage a, Layout aLayout, Storage b, Layout bLayout,
                      Storage out, Layout outLayout) {
        StridedKernels.where((HeapStorage) cond, condLayout, (HeapStorage) a, aLayout, (HeapStorage) b, bLayout,
                (HeapStorage) out, outLayout);
    }

    @Override
    public void reduce(ReduceOp op, Storage x, Layout xLayout, Storage out, Layout outLayout) {
        StridedKernels.reduce(op, (HeapStorage) x, xLayout, (HeapStorage) out, outLayout);
    }

    @Override
    public void matmul(Storage a, Layout aLayout, Storage b, Layout bLayout, Storage out, Layout outLayout) {
        int rank = outLayout.rank();
        int m = outLayout.shape().dim(rank - 2);
        int n = outLayout.shape().dim(rank - 1);
        int k = aLayout.shape().dim(rank - 1);
        Shape batch = Shape.of(java.util.Arrays.copyOf(outLayout.shape().toArray(), rank - 2));
        StridedCursor c = StridedCursor.over(batch, aLayout, bLayout, outLayout);
        int batches = batch.numel();
        for (int t = 0; t < batches; t++, c.advance()) {
            StridedKernels.matmul((HeapStorage) a, c.position[0], aLayout.stride(rank - 2), aLayout.stride(rank - 1),
                    (HeapStorage) b, c.position[1], bLayout.stride(rank - 2), bLayout.stride(rank - 1),
                    (HeapStorage) out, c.position[2], outLayout.stride(rank - 2), m, n, k);
        }
    }

    @Override
    public void gather(Storage src, Layout srcLayout, int dim, Storage index, Layout indexLayout, Storage out,
                       Layout outLayout) {
        StridedKernels.gather((HeapStorage) src, srcLayout, dim, (HeapStorage) index, indexLayout, (HeapStorage) out,
                outLayout);
    }

    @Override
    public void scatterAdd(Storage dst, Layout dstLayout, int dim, Storage index, Layout indexLayout, Storage src,
                           Layout srcLayout) {
        StridedKernels.scatterAdd((HeapStorage) dst, dstLayout, dim, (HeapStorage) index, indexLayout,
                (HeapStorage) src, srcLayout);
    }

    @Override
    public void unfold(Storage x, Layout xLayout, Window2d window, Storage out, Layout outLayout) {
        WindowKernels.unfold((HeapStorage) x, xLayout, window, (HeapStorage) out, outLayout);
    }

    @Override
    public void fold(Storage cols, Layout colsLayout, Window2d window, Storage out, Layout outLayout) {
        WindowKernels.fold((HeapStorage) cols, colsLayout, window, (HeapStorage) out, outLayout);
    }

    @Override
    public void maxPool2d(Storage x, Layout xLayout, Window2d window, Storage out, Layout outLayout, Storage indices,
                          Layout indicesLayout) {
        WindowKernels.maxPool2d((HeapStorage) x, xLayout, window, (HeapStorage) out, outLayout, (HeapStorage) indices,
                indicesLayout);
    }

    // ---- element functions ---------------------------------------------------------------------------

    /** One lambda per op, so the element loops make no per-element switch; semantics from UnaryOp/BinaryOp.apply. */
    static DoubleUnaryOperator unaryFunction(UnaryOp op) {
        return switch (op) {
            case NEG -> x -> -x;
            case EXP -> Math::exp;
            case LOG -> Math::log;
            case LOG1P -> Math::log1p;
            case SQRT -> Math::sqrt;
            case SQUARE -> x -> x * x;
            case ABS -> Math::abs;
            default -> op::apply;
        };
    }

    static DoubleBinaryOperator binaryFunction(BinaryOp op) {
        return switch (op) {
            case ADD -> Double::sum;
            case SUB -> (a, b) -> a - b;
            case MUL -> (a, b) -> a * b;
            case DIV -> (a, b) -> a / b;
            default -> op::apply;
        };
    }
}
