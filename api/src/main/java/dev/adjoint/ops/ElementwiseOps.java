package dev.adjoint.ops;

import dev.adjoint.DType;
import dev.adjoint.Tensor;
import dev.adjoint.autograd.Derivative;
import dev.adjoint.autograd.ForwardAD;
import dev.adjoint.autograd.GradMode;
import dev.adjoint.autograd.Graph;
import dev.adjoint.spi.BinaryOp;
import dev.adjoint.spi.FusedKernels;
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
        // Bool and integer inputs of ops without an exact rule compute in FLOAT32; they carry no gradient.
        x = Dispatch.promoted(op.opName(), op, x);
        Tensor out = Dispatch.unary(op.opName(), op, x);
        Derivative d = op.derivative();
        boolean readsInput = d.readsInputs();
        boolean readsOutput = d.readsOutput();
        return Graph.record(op.nodeName(), out, of(x), readsInput ? of(x) : NOTHING,
                (g, c) -> of(d.times(g, readsInput ? c.saved(0) : null, null, readsOutput ? c.output() : null)),
                (t, in, y) -> d.times(t[0], in[0], null, y));
    }

    /**
     * {@code v * derivative(x)}: the derivative primitive's kernel, then the product written into its
     * fresh output ({@link #binaryIntoFresh}; {@code derivative(x) * v}, the same product). The VJP and
     * JVP of an elementwise op whose derivative is a primitive of its own (GELU, tanh, sigmoid, SiLU).
     */
    public static Tensor timesUnary(Tensor v, UnaryOp derivative, Tensor x) {
        return binaryIntoFresh(BinaryOp.MUL, unary(derivative, x), v);
    }

    /**
     * ReLU's VJP and JVP from its output: {@code v} where {@code y > 0}, else 0 (a select, as torch's
     * {@code threshold_backward}: an infinite or NaN {@code v} where {@code y <= 0} gives 0). One pass
     * ({@link FusedKernels#reluBackward}) where the backend offers it and nothing is recorded (the
     * backward of a training step); otherwise the differentiable composite {@code where(y > 0, v, 0)},
     * a comparison and a select, which also serves double backward and forward mode.
     */
    public static Tensor reluTimes(Tensor v, Tensor y) {
        FusedKernels fused = FusedKernels.offered(v.backend(), FusedKernels.Kernel.RELU_BACKWARD, v.dtype());
        if (fused != null && v.dtype().isFloatingPoint() && y.dtype() == v.dtype() && y.backend() == v.backend()
                && v.isContiguous() && y.isContiguous() && v.shape().equals(y.shape())
                && NormalizationOps.plain(v, y)) {
            Tensor out = Dispatch.empty(v.backend(), v.dtype(), v.shape());
            if (out.numel() > 0) {
                fused.reluBackward(v.storage(), v.layout().offset(), y.storage(), y.layout().offset(), out.storage(),
                        out.layout().offset(), out.numel());
            }
            return out;
        }
        return Tensor.where(y.gt(0.0), v, Dispatch.scalar(v.backend(), v.dtype(), 0.0));
    }

    /**
     * {@code fresh (op) other}, written into {@code fresh} itself when nothing is being recorded (no
     * graph, no dual level) and the result has fresh's dense shape and dtype; the ordinary op
     * otherwise. {@code fresh} must be a tensor the caller has just created and holds alone, as a
     * backward formula's factor in {@code v * f'(x)}: the product then costs no second buffer of the
     * gradient's size. The kernel computes {@code fresh (op) other} in that operand order.
     */
    public static Tensor binaryIntoFresh(BinaryOp op, Tensor fresh, Tensor other) {
        if (GradMode.isEnabled() || ForwardAD.isDualLevelOpen() || op.isComparison() || !fresh.isContiguous()
                || fresh.dtype() != other.dtype() || fresh.backend() != other.backend()
                || fresh.storage() == other.storage() || !other.shape().equals(fresh.shape())) {
            return binary(op, fresh, other);
        }
        if (fresh.numel() > 0) {
            fresh.backend().binary(op, fresh.storage(), fresh.layout(), other.storage(), other.layout(),
                    fresh.storage(), fresh.layout());
        }
        return fresh;
    }

    public static Tensor binary(BinaryOp op, Tensor a, Tensor b) {
        // Promotion converts only bool and integer operands, which carry no gradient: the converted
        // tensors stand for the inputs in the graph and in the derivative formulas.
        Tensor[] operands = Dispatch.promoted(op.opName(), op, a, b);
        a = operands[0];
        b = operands[1];
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
        // An integer base computes in FLOAT32, as torch.pow of an integer tensor and a float exponent.
        x = Dispatch.promoted("pow", BinaryOp.POW, x, x.dtype().isFloatingPoint() ? x
                : Dispatch.scalar(x.backend(), DType.DEFAULT_FLOATING, exponent))[0];
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

    /** {@code x} itself for BOOL, else whether each element is non-zero (NaN counts), as torch.logical_*. */
    static Tensor asBool(Tensor x) {
        return x.dtype() == DType.BOOL ? x : Dispatch.convert(x, DType.BOOL);
    }

    /**
     * torch.logical_and / or / xor: both operands read as BOOL (non-zero is true), the result BOOL.
     * On 0/1 elements and is min, or is max and xor is ne, so they run those kernels.
     */
    public static Tensor logical(String op, BinaryOp kernel, Tensor a, Tensor b) {
        return Dispatch.binary(op, kernel, asBool(a), asBool(b));
    }

    /** torch.logical_not: true where {@code x} is zero. */
    public static Tensor logicalNot(Tensor x) {
        return Dispatch.binary("logicalNot", BinaryOp.EQ, asBool(x), Dispatch.scalar(x.backend(), DType.BOOL, 0.0));
    }

    /**
     * torch.clamp: {@code min(max(x, min), max)}, in that order, so a {@code min} above {@code max}
     * gives {@code max} everywhere and a NaN bound NaN everywhere, as in PyTorch (not an error).
     */
    public static Tensor clamp(Tensor x, double min, double max) {
        if (!x.dtype().isFloatingPoint()) {
            for (double bound : new double[] {min, max}) {
                // PyTorch promotes an integer tensor clamped to a fraction or NaN to floating point; in the
                // tensor's own dtype the bound would be rounded (NaN to 0), a silently different result.
                if (bound != Math.rint(bound)) {
                    throw new IllegalArgumentException("clamp: the bound " + bound + " is not a whole number, so it "
                            + "cannot clamp a tensor of dtype " + x.dtype() + " (shape " + x.shape() + ") without "
                            + "rounding; convert the tensor first with toType(DType.FLOAT32) or toType(DType.FLOAT64)");
                }
            }
        }
        Tensor lower = Dispatch.binary("clamp", BinaryOp.MAX, x, Dispatch.scalar(x.backend(), x.dtype(), min));
        Tensor out = Dispatch.binary("clamp", BinaryOp.MIN, lower, Dispatch.scalar(x.backend(), x.dtype(), max));
        // The derivative passes where min <= x <= max, as in PyTorch (including at the bounds): nowhere
        // when min > max or a bound is NaN.
        return Graph.record("ClampBackward", out, of(x), of(x),
                (g, c) -> of(g.mul(inRange(c.saved(0), min, max))),
                (t, in, y) -> t[0].mul(inRange(in[0], min, max)));
    }

    private static Tensor inRange(Tensor x, double min, double max) {
        return x.ge(min).logicalAnd(x.le(max)).toType(x.dtype());
    }

    /**
     * {@code mask ? a : b}; the mask is not differentiated. {@code a} and {@code b} are promoted as a
     * binary op's operands; a mask that is not BOOL counts its non-zero elements as true.
     */
    public static Tensor where(Tensor maskArgument, Tensor first, Tensor second) {
        Tensor[] operands = Dispatch.whereOperands(maskArgument, first, second);
        Tensor mask = operands[0];
        Tensor a = operands[1];
        Tensor b = operands[2];
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
