package dev.adjoint.ops;

import dev.adjoint.Tensor;
import dev.adjoint.autograd.Derivative;
import dev.adjoint.autograd.Graph;
import dev.adjoint.spi.BinaryOp;
import dev.adjoint.spi.UnaryOp;

/**
 * Elementwise ops. The primitives are described in {@link UnaryOp} and {@link BinaryOp} (reference
 * function and derivative side by side); the two methods here run any of them: the forward through
 * {@link Dispatch}, then the derivative recorded as the op's VJP and JVP at once. Broadcast inputs
 * need no special care: the engine sums gradients back to input shapes and expands tangents to the
 * output's.
 */
public final class ElementwiseOps {
    private static final Tensor[] NOTHING = new Tensor[0];

    private ElementwiseOps() {
    }

    static Tensor[] of(Tensor... tensors) {
        return tensors;
    }

    // ---- the primitives ----------------------------------------------------------------------------

    public static Tensor unary(UnaryOp op, Tensor x) {
        Tensor out = Dispatch.unary(op.opName(), op, x);
        Derivative d = op.derivative();
        boolean readsInput = d.readsInputs();
        boolean readsOutput = d.readsOutput();
        return Graph.record(op.nodeName(), out, of(x), readsInput ? of(x) : NOTHING,
                (g, c) -> of(d.times(g, readsInput ? c.saved(0) : null, null, readsOutput ? c.output() : null)),
                (t, in, y) -> d.times(t[0], in[0], null, y));
    }

    public static Tensor binary(BinaryOp op, Tensor a, Tensor b) {
        Tensor out = Dispatch.binary(op.opName(), op, a, b);
        if (op.isComparison()) {
            return out;
        }
        Derivative da = op.first();
        Derivative db = op.second();
        boolean readsInputs = da.readsInputs() || db.readsInputs();
        boolean readsOutput = da.readsOutput() || db.readsOutput();
        return Graph.record(op.nodeName(), out, of(a, b), readsInputs ? of(a, b) : NOTHING, (g, c) -> {
            Tensor sa = readsInputs ? c.saved(0) : null;
            Tensor sb = readsInputs ? c.saved(1) : null;
            Tensor y = readsOutput ? c.output() : null;
            return of(c.needsInputGrad(0) ? da.times(g, sa, sb, y) : null,
                    c.needsInputGrad(1) ? db.times(g, sa, sb, y) : null);
        }, (t, in, y) -> {
            Tensor ta = t[0] == null ? null : da.times(t[0], in[0], in[1], y);
            Tensor tb = t[1] == null ? null : db.times(t[1], in[0], in[1], y);
            return ta == null ? tb : tb == null ? ta : ta.add(tb);
        });
    }

    // ---- composites with rules of their own ------------------------------------------------------------

    /** {@code x^exponent} for a constant exponent: one kernel call, and a derivative without log(x). */
    public static Tensor pow(Tensor x, double exponent) {
        Tensor out = Dispatch.binary("pow", BinaryOp.POW, x, Dispatch.scalar(x.backend(), x.dtype(), exponent));
        return Graph.record("PowBackward", out, of(x), of(x),
                (g, c) -> of(powDerivative(g, c.saved(0), exponent)),
                (t, in, y) -> powDerivative(t[0], in[0], exponent));
    }

    private static Tensor powDerivative(Tensor v, Tensor x, double exponent) {
        if (exponent == 0.0) {
            return v.zerosLike();
        }
        return v.mul(x.pow(exponent - 1.0).mul(exponent));
    }

    public static Tensor clamp(Tensor x, double min, double max) {
        if (Double.isNaN(min) || Double.isNaN(max) || min > max) {
            throw new IllegalArgumentException("clamp: need min <= max, got min=" + min + " max=" + max
                    + " (shape " + x.shape() + ")");
        }
        Tensor lower = Dispatch.binary("clamp", BinaryOp.MAX, x, Dispatch.scalar(x.backend(), x.dtype(), min));
        Tensor out = Dispatch.binary("clamp", BinaryOp.MIN, lower, Dispatch.scalar(x.backend(), x.dtype(), max));
        // The derivative passes where min <= x <= max, as in PyTorch (including at the bounds).
        return Graph.record("ClampBackward", out, of(x), of(x),
                (g, c) -> of(g.mul(inRange(c.saved(0), min, max))),
                (t, in, y) -> t[0].mul(inRange(in[0], min, max)));
    }

    private static Tensor inRange(Tensor x, double min, double max) {
        return x.ge(min).mul(x.le(max));
    }

    /** {@code mask != 0 ? a : b}; the mask is not differentiated. */
    public static Tensor where(Tensor mask, Tensor a, Tensor b) {
        Tensor out = Dispatch.where(mask, a, b);
        return Graph.record("WhereBackward", out, of(a, b), of(mask.detach()), (g, c) -> {
            Tensor condition = c.saved(0);
            Tensor zero = Dispatch.scalar(g.backend(), g.dtype(), 0.0);
            // where() rather than multiplication by the mask, so an inf or NaN gradient in the
            // unselected branch cannot leak into the selected one.
            return of(c.needsInputGrad(0) ? where(condition, g, zero) : null,
                    c.needsInputGrad(1) ? where(condition, zero, g) : null);
        }, (t, in, y) -> {
            Tensor zero = Dispatch.scalar(y.backend(), y.dtype(), 0.0);
            return where(mask, t[0] == null ? zero : t[0], t[1] == null ? zero : t[1]);
        });
    }
}
