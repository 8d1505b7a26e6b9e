package dev.adjoint.engine.nd4j;

import dev.adjoint.DType;
import dev.adjoint.spi.ElementMath;
import dev.adjoint.spi.Layout;
import dev.adjoint.spi.StridedCursor;
import dev.adjoint.spi.UnaryOp;

import java.lang.ref.Reference;
import java.nio.ByteOrder;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;

/**
 * The unary ops whose libnd4j kernels lose their relative accuracy near 0: log1p, computed as
 * {@code log(1 + x)}, and tanh, computed from {@code e^2x}, both cancel (relative error about
 * eps / |x|: log1p(1e-10) off in the 8th digit, tanh(1e-8f) = 0). These run element by element in
 * Java with {@link ElementMath}, the reference semantics ({@code Math.log1p}, {@code Math.tanh}, in
 * double, rounded once to FLOAT32), reading and writing the native buffers in place.
 *
 * <p>Composing libnd4j kernels that stay accurate (tanh as sinh/cosh of the clipped input, log1p as
 * {@code log(u) - ((u - 1) - x) / u}) was measured too: four to eight ND4J ops, each with ND4J's
 * per-op cost, took 13-88x libnd4j's own kernel on 1,024 elements and 3-6x on 2^20; this loop (one
 * core) takes 1-4x in most runs. Figures in docs/nd4j.md.
 */
final class NearZero {
    private NearZero() {
    }

    static boolean handles(UnaryOp op) {
        return op == UnaryOp.TANH || op == UnaryOp.LOG1P;
    }

    /** {@code out = op(x)} over {@code x}'s layout (any strides, stride 0 included) into {@code out}'s. */
    static void apply(UnaryOp op, Nd4jStorage x, Layout xLayout, Nd4jStorage out, Layout outLayout) {
        int n = outLayout.numel();
        StridedCursor c = StridedCursor.over(outLayout.shape(), xLayout, outLayout);
        try {
            if (out.dtype() == DType.FLOAT32) {
                FloatBuffer in = x.buffer().asNio().order(ByteOrder.nativeOrder()).asFloatBuffer();
                FloatBuffer o = out.buffer().asNio().order(ByteOrder.nativeOrder()).asFloatBuffer();
                for (int i = 0; i < n; i++, c.advance()) {
                    o.put(c.position[1], (float) ElementMath.unary(op, in.get(c.position[0])));
                }
            } else {
                DoubleBuffer in = x.buffer().asNio().order(ByteOrder.nativeOrder()).asDoubleBuffer();
                DoubleBuffer o = out.buffer().asNio().order(ByteOrder.nativeOrder()).asDoubleBuffer();
                for (int i = 0; i < n; i++, c.advance()) {
                    o.put(c.position[1], ElementMath.unary(op, in.get(c.position[0])));
                }
            }
        } finally {
            // The NIO views do not keep the buffers alive; the storages do, until the loop is done.
            Reference.reachabilityFence(x);
            Reference.reachabilityFence(out);
        }
    }
}
