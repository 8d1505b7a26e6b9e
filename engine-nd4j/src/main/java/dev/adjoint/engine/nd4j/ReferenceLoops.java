package dev.adjoint.engine.nd4j;

import dev.adjoint.DType;
import dev.adjoint.spi.BinaryOp;
import dev.adjoint.spi.ReduceOp;
import dev.adjoint.spi.Layout;
import dev.adjoint.spi.StridedCursor;
import dev.adjoint.spi.UnaryOp;
import org.nd4j.linalg.api.buffer.DataBuffer;

/**
 * Elementwise primitives libnd4j has no kernel for, or none that agrees with the reference (see
 * {@code Nd4jBackend.unary}): the primitive's reference function, element by element over the native
 * buffers, each element computed in double and rounded once to the output dtype (by the buffer's put),
 * as the scalar backend does. Bool and integer operands are read and written as longs
 * ({@link #getLong}, {@link #putLong}) and follow the exact rules of {@link BinaryOp#applyExact}: there
 * libnd4j's integer kernels would be exact for add and mul, but not for floor division and remainder
 * with torch's sign rules, and one loop for every integer op keeps the semantics in one place.
 */
final class ReferenceLoops {
    private ReferenceLoops() {
    }

    static void unary(UnaryOp op, Nd4jStorage x, Layout xLayout, Nd4jStorage out, Layout outLayout) {
        DataBuffer in = x.buffer();
        DataBuffer o = out.buffer();
        int n = outLayout.numel();
        StridedCursor c = StridedCursor.over(outLayout.shape(), xLayout, outLayout);
        for (int i = 0; i < n; i++, c.advance()) {
            double v = op.apply(in.getDouble(c.position[0]));
            o.put(c.position[1], v);
        }
    }

    static void binary(BinaryOp op, Nd4jStorage a, Layout aLayout, Nd4jStorage b, Layout bLayout, Nd4jStorage out,
                       Layout outLayout) {
        DataBuffer sa = a.buffer();
        DataBuffer sb = b.buffer();
        DataBuffer o = out.buffer();
        int n = outLayout.numel();
        StridedCursor c = StridedCursor.over(outLayout.shape(), aLayout, bLayout, outLayout);
        for (int i = 0; i < n; i++, c.advance()) {
            double v = op.apply(sa.getDouble(c.position[0]), sb.getDouble(c.position[1]));
            o.put(c.position[2], v);
        }
    }

    static void unaryExact(UnaryOp op, Nd4jStorage x, Layout xLayout, Nd4jStorage out, Layout outLayout) {
        DataBuffer in = x.buffer();
        DataBuffer o = out.buffer();
        int n = outLayout.numel();
        StridedCursor c = StridedCursor.over(outLayout.shape(), xLayout, outLayout);
        for (int i = 0; i < n; i++, c.advance()) {
            putLong(o, out.dtype(), c.position[1], op.applyExact(getLong(in, x.dtype(), c.position[0])));
        }
    }

    /** Integer or bool operands; the output has their dtype, or BOOL for a comparison. */
    static void binaryExact(BinaryOp op, Nd4jStorage a, Layout aLayout, Nd4jStorage b, Layout bLayout,
                            Nd4jStorage out, Layout outLayout) {
        DataBuffer sa = a.buffer();
        DataBuffer sb = b.buffer();
        DataBuffer o = out.buffer();
        int n = outLayout.numel();
        StridedCursor c = StridedCursor.over(outLayout.shape(), aLayout, bLayout, outLayout);
        for (int i = 0; i < n; i++, c.advance()) {
            long v = op.applyExact(getLong(sa, a.dtype(), c.position[0]), getLong(sb, b.dtype(), c.position[1]));
            putLong(o, out.dtype(), c.position[2], v);
        }
    }

    /** {@code out = cond ? a : b} for integer or bool {@code a} and {@code b}, element by element. */
    static void whereExact(Nd4jStorage cond, Layout condLayout, Nd4jStorage a, Layout aLayout, Nd4jStorage b,
                           Layout bLayout, Nd4jStorage out, Layout outLayout) {
        DataBuffer sc = cond.buffer();
        DataBuffer sa = a.buffer();
        DataBuffer sb = b.buffer();
        DataBuffer o = out.buffer();
        int n = outLayout.numel();
        StridedCursor c = StridedCursor.over(outLayout.shape(), condLayout, aLayout, bLayout, outLayout);
        for (int i = 0; i < n; i++, c.advance()) {
            long v = getLong(sc, cond.dtype(), c.position[0]) != 0 ? getLong(sa, a.dtype(), c.position[1])
                    : getLong(sb, b.dtype(), c.position[2]);
            putLong(o, out.dtype(), c.position[3], v);
        }
    }

    /** Integer or bool reductions in long: the sum wrapping as torch's, into the output's dtype (INT64 for sums). */
    static void reduceExact(ReduceOp op, Nd4jStorage x, Layout xLayout, Nd4jStorage out, Layout outLayout) {
        long[] acc = new long[outLayout.numel()];
        java.util.Arrays.fill(acc, switch (op) {
            case SUM -> 0L;
            case MAX -> Long.MIN_VALUE;
            case MIN -> Long.MAX_VALUE;
        });
        Layout accLayout = Layout.contiguous(outLayout.shape()).broadcastTo(xLayout.shape());
        DataBuffer in = x.buffer();
        int n = xLayout.numel();
        StridedCursor c = StridedCursor.over(xLayout.shape(), xLayout, accLayout);
        for (int i = 0; i < n; i++, c.advance()) {
            int slot = c.position[1];
            long v = getLong(in, x.dtype(), c.position[0]);
            acc[slot] = switch (op) {
                case SUM -> acc[slot] + v;
                case MAX -> Math.max(acc[slot], v);
                case MIN -> Math.min(acc[slot], v);
            };
        }
        DataBuffer o = out.buffer();
        StridedCursor w = StridedCursor.over(outLayout.shape(), outLayout);
        for (int i = 0; i < acc.length; i++, w.advance()) {
            putLong(o, out.dtype(), w.position[0], acc[i]);
        }
    }

    /** Element {@code i} of a bool or integer buffer, exactly. */
    static long getLong(DataBuffer buffer, DType dtype, long i) {
        return dtype == DType.BOOL ? (buffer.getNumber(i).doubleValue() != 0 ? 1 : 0) : buffer.getLong(i);
    }

    /** Stores {@code v} into a bool or integer buffer: INT32 keeps the low 32 bits, BOOL whether it is non-zero. */
    static void putLong(DataBuffer buffer, DType dtype, long i, long v) {
        switch (dtype) {
            case BOOL -> buffer.put(i, v != 0);
            case INT32 -> buffer.put(i, (int) v);
            case INT64 -> buffer.put(i, v);
            case FLOAT32, FLOAT64 -> buffer.put(i, (double) v);
        }
    }
}
