package dev.adjoint.engine.nd4j;

import dev.adjoint.DType;
import dev.adjoint.spi.BinaryOp;
import dev.adjoint.spi.Layout;
import dev.adjoint.spi.RowWalk;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;

/**
 * Primitives whose libnd4j op is far slower than one pass over memory, as Java loops over the native
 * buffers themselves (NIO views, no copy), one innermost row at a time ({@link RowWalk}). libnd4j's
 * {@code Select}, the op behind {@code where}, takes about 110 ns per element on FLOAT32 (180 ms for
 * a [64, 32, 28, 28] ReLU gradient on an Intel Xeon, contiguous or not), where a loop over the
 * buffers takes a few ns. Its FLOAT32 add, sub, mul and div with an operand repeated along a
 * dimension (a bias, a per-channel scale, a scalar) take about 10x the loop's time, while on two
 * dense operands they run at memory speed and stay with libnd4j (as FLOAT64 does: one loop per
 * element type would be a second copy of each kernel). Long FLOAT32 sums accumulate in double here
 * rather than through a double copy of the whole input (a cast, then libnd4j's sum: two extra passes
 * and a temporary twice the input's size).
 */
final class BufferLoops {
    private BufferLoops() {
    }

    /** {@code out = cond ? a : b} for floating-point {@code a}, {@code b} and {@code out}; {@code cond} is BOOL. */
    static void where(Nd4jStorage cond, Layout condLayout, Nd4jStorage a, Layout aLayout, Nd4jStorage b,
                      Layout bLayout, Nd4jStorage out, Layout outLayout) {
        RowWalk w = RowWalk.over(outLayout, condLayout, aLayout, bLayout);
        int n = w.rowLength();
        int rows = w.rows();
        ByteBuffer c = bytes(cond);
        int so = w.rowStride(0);
        int sc = w.rowStride(1);
        int sa = w.rowStride(2);
        int sb = w.rowStride(3);
        if (out.dtype() == DType.FLOAT32) {
            FloatBuffer x = bytes(a).asFloatBuffer();
            FloatBuffer y = bytes(b).asFloatBuffer();
            FloatBuffer z = bytes(out).asFloatBuffer();
            for (int r = 0; r < rows; r++, w.next()) {
                whereRow(c, w.at[1], sc, x, w.at[2], sa, y, w.at[3], sb, z, w.at[0], so, n);
            }
        } else {
            DoubleBuffer x = bytes(a).asDoubleBuffer();
            DoubleBuffer y = bytes(b).asDoubleBuffer();
            DoubleBuffer z = bytes(out).asDoubleBuffer();
            for (int r = 0; r < rows; r++, w.next()) {
                whereRow(c, w.at[1], sc, x, w.at[2], sa, y, w.at[3], sb, z, w.at[0], so, n);
            }
        }
    }

    private static void whereRow(ByteBuffer c, int ci, int sc, FloatBuffer x, int xi, int sx, FloatBuffer y, int yi,
                                 int sy, FloatBuffer z, int zi, int sz, int n) {
        for (int i = 0; i < n; i++, ci += sc, xi += sx, yi += sy, zi += sz) {
            z.put(zi, c.get(ci) != 0 ? x.get(xi) : y.get(yi));
        }
    }

    private static void whereRow(ByteBuffer c, int ci, int sc, DoubleBuffer x, int xi, int sx, DoubleBuffer y,
                                 int yi, int sy, DoubleBuffer z, int zi, int sz, int n) {
        for (int i = 0; i < n; i++, ci += sc, xi += sx, yi += sy, zi += sz) {
            z.put(zi, c.get(ci) != 0 ? x.get(xi) : y.get(yi));
        }
    }

    /**
     * Whether {@code a (op) b} is FLOAT32 add, sub, mul or div with an operand repeated along some
     * dimension (stride 0 where the size is not 1), which {@link #broadcastArithmetic} computes.
     */
    static boolean isBroadcastArithmetic(BinaryOp op, DType dtype, Layout a, Layout b) {
        return dtype == DType.FLOAT32
                && (op == BinaryOp.ADD || op == BinaryOp.SUB || op == BinaryOp.MUL || op == BinaryOp.DIV)
                && (repeats(a) || repeats(b));
    }

    /** {@code out = a (op) b} for FLOAT32 add, sub, mul or div, each result the correctly rounded float one. */
    static void broadcastArithmetic(BinaryOp op, Nd4jStorage a, Layout aLayout, Nd4jStorage b, Layout bLayout,
                                    Nd4jStorage out, Layout outLayout) {
        RowWalk w = RowWalk.over(outLayout, aLayout, bLayout);
        int n = w.rowLength();
        int so = w.rowStride(0);
        int sa = w.rowStride(1);
        int sb = w.rowStride(2);
        FloatBuffer x = bytes(a).asFloatBuffer();
        FloatBuffer y = bytes(b).asFloatBuffer();
        FloatBuffer z = bytes(out).asFloatBuffer();
        for (int r = w.rows(); r > 0; r--, w.next()) {
            arithmeticRow(op, x, w.at[1], sa, y, w.at[2], sb, z, w.at[0], so, n);
        }
    }

    private static void arithmeticRow(BinaryOp op, FloatBuffer x, int xi, int sx, FloatBuffer y, int yi, int sy,
                                      FloatBuffer z, int zi, int sz, int n) {
        switch (op) {
            case ADD -> {
                for (int i = 0; i < n; i++, xi += sx, yi += sy, zi += sz) {
                    z.put(zi, x.get(xi) + y.get(yi));
                }
            }
            case SUB -> {
                for (int i = 0; i < n; i++, xi += sx, yi += sy, zi += sz) {
                    z.put(zi, x.get(xi) - y.get(yi));
                }
            }
            case MUL -> {
                for (int i = 0; i < n; i++, xi += sx, yi += sy, zi += sz) {
                    z.put(zi, x.get(xi) * y.get(yi));
                }
            }
            case DIV -> {
                for (int i = 0; i < n; i++, xi += sx, yi += sy, zi += sz) {
                    z.put(zi, x.get(xi) / y.get(yi));
                }
            }
            default -> throw new AssertionError(op);
        }
    }

    private static boolean repeats(Layout layout) {
        for (int d = 0; d < layout.rank(); d++) {
            if (layout.stride(d) == 0 && layout.shape().dim(d) > 1) {
                return true;
            }
        }
        return false;
    }

    /**
     * {@code out} = the FLOAT32 {@code x} summed over the dims where {@code out} has size 1, accumulated
     * in double and rounded once. Each innermost row of {@code x} is either summed into one output
     * element (the row runs along a reduced dim) or added element by element into a row of them.
     */
    static void sumFloat32(Nd4jStorage x, Layout xLayout, Nd4jStorage out, Layout outLayout) {
        double[] acc = new double[outLayout.numel()];
        Layout accLayout = Layout.contiguous(outLayout.shape()).broadcastTo(xLayout.shape());
        RowWalk w = RowWalk.over(xLayout, accLayout);
        int n = w.rowLength();
        int rows = w.rows();
        int sx = w.rowStride(0);
        int sa = w.rowStride(1);
        FloatBuffer in = bytes(x).asFloatBuffer();
        for (int r = 0; r < rows; r++, w.next()) {
            if (sa == 0) {
                acc[w.at[1]] += rowSum(in, w.at[0], sx, n);
            } else {
                addRow(in, w.at[0], sx, acc, w.at[1], sa, n);
            }
        }
        FloatBuffer o = bytes(out).asFloatBuffer();
        RowWalk ow = RowWalk.over(outLayout, Layout.contiguous(outLayout.shape()));
        int on = ow.rowLength();
        int so = ow.rowStride(0);
        for (int r = ow.rows(); r > 0; r--, ow.next()) {
            for (int i = 0, oi = ow.at[0], ai = ow.at[1]; i < on; i++, oi += so, ai++) {
                o.put(oi, (float) acc[ai]);
            }
        }
    }

    private static double rowSum(FloatBuffer x, int xi, int sx, int n) {
        double sum = 0;
        for (int i = 0; i < n; i++, xi += sx) {
            sum += x.get(xi);
        }
        return sum;
    }

    private static void addRow(FloatBuffer x, int xi, int sx, double[] acc, int ai, int sa, int n) {
        for (int i = 0; i < n; i++, xi += sx, ai += sa) {
            acc[ai] += x.get(xi);
        }
    }

    /** The storage's native buffer as bytes in the machine's order, over the same memory. */
    static ByteBuffer bytes(Nd4jStorage s) {
        return s.buffer().asNio().order(ByteOrder.nativeOrder());
    }
}
