package dev.adjoint.ops;

import dev.adjoint.Tensor;
import dev.adjoint.autograd.Graph;
import dev.adjoint.spi.BinaryOp;
import dev.adjoint.spi.UnaryOp;

/**
 * Elementwise ops. Each method computes its forward through {@link Dispatch} and, right beside it,
 * records its vector-Jacobian product written with differentiable Tensor ops (so double backward
 * works). Broadcast inputs need no special care: the engine sums gradients back to input shapes.
 */
public final class ElementwiseOps {
    private static final Tensor[] NOTHING = new Tensor[0];

    private ElementwiseOps() {
    }

    static Tensor[] of(Tensor... tensors) {
        return tensors;
    }

    // ---- unary ------------------------------------------------------------------------------------

    public static Tensor neg(Tensor x) {
        Tensor out = Dispatch.unary("neg", UnaryOp.NEG, x);
        return Graph.record("NegBackward", out, of(x), NOTHING, (g, c) -> of(g.neg()));
    }

    public static Tensor exp(Tensor x) {
        Tensor out = Dispatch.unary("exp", UnaryOp.EXP, x);
        return Graph.record("ExpBackward", out, of(x), NOTHING, (g, c) -> of(g.mul(c.output())));
    }

    public static Tensor log(Tensor x) {
        Tensor out = Dispatch.unary("log", UnaryOp.LOG, x);
        return Graph.record("LogBackward", out, of(x), of(x), (g, c) -> of(g.div(c.saved(0))));
    }

    public static Tensor log1p(Tensor x) {
        Tensor out = Dispatch.unary("log1p", UnaryOp.LOG1P, x);
        return Graph.record("Log1PBackward", out, of(x), of(x), (g, c) -> of(g.div(c.saved(0).add(1.0))));
    }

    public static Tensor sqrt(Tensor x) {
        Tensor out = Dispatch.unary("sqrt", UnaryOp.SQRT, x);
        // d sqrt(x) = 1 / (2 sqrt(x)): reuse the output rather than recomputing the root.
        return Graph.record("SqrtBackward", out, of(x), NOTHING, (g, c) -> of(g.div(c.output().mul(2.0))));
    }

    public static Tensor square(Tensor x) {
        Tensor out = Dispatch.unary("square", UnaryOp.SQUARE, x);
        return Graph.record("PowBackward", out, of(x), of(x), (g, c) -> of(g.mul(c.saved(0).mul(2.0))));
    }

    public static Tensor abs(Tensor x) {
        Tensor out = Dispatch.unary("abs", UnaryOp.ABS, x);
        // sign(0) = 0: the subgradient PyTorch uses at the kink.
        return Graph.record("AbsBackward", out, of(x), of(x), (g, c) -> of(g.mul(c.saved(0).sign())));
    }

    public static Tensor sign(Tensor x) {
        Tensor out = Dispatch.unary("sign", UnaryOp.SIGN, x);
        return Graph.record("SignBackward", out, of(x), NOTHING, (g, c) -> of(g.zerosLike()));
    }

    public static Tensor sin(Tensor x) {
        Tensor out = Dispatch.unary("sin", UnaryOp.SIN, x);
        return Graph.record("SinBackward", out, of(x), of(x), (g, c) -> of(g.mul(c.saved(0).cos())));
    }

    public static Tensor cos(Tensor x) {
        Tensor out = Dispatch.unary("cos", UnaryOp.COS, x);
        return Graph.record("CosBackward", out, of(x), of(x), (g, c) -> of(g.mul(c.saved(0).sin().neg())));
    }

    public static Tensor tanh(Tensor x) {
        Tensor out = Dispatch.unary("tanh", UnaryOp.TANH, x);
        // 1 - tanh^2 from the output, as PyTorch does; it stays differentiable through the output.
        return Graph.record("TanhBackward", out, of(x), NOTHING,
                (g, c) -> of(g.mul(c.output().square().neg().add(1.0))));
    }

    public static Tensor sigmoid(Tensor x) {
        Tensor out = Dispatch.unary("sigmoid", UnaryOp.SIGMOID, x);
        return Graph.record("SigmoidBackward", out, of(x), NOTHING, (g, c) -> {
            Tensor s = c.output();
            return of(g.mul(s.mul(s.neg().add(1.0))));
        });
    }

    public static Tensor erf(Tensor x) {
        Tensor out = Dispatch.unary("erf", UnaryOp.ERF, x);
        // d erf(x) = 2/sqrt(pi) exp(-x^2)
        return Graph.record("ErfBackward", out, of(x), of(x),
                (g, c) -> of(g.mul(c.saved(0).square().neg().exp().mul(2.0 / Math.sqrt(Math.PI)))));
    }

    public static Tensor relu(Tensor x) {
        Tensor out = Dispatch.unary("relu", UnaryOp.RELU, x);
        return Graph.record("ReluBackward", out, of(x), NOTHING, (g, c) -> of(g.mul(c.output().gt(0.0))));
    }

    public static Tensor pow(Tensor x, double exponent) {
        Tensor out = Dispatch.binary("pow", BinaryOp.POW, x, Dispatch.scalar(x.backend(), x.dtype(), exponent));
        return Graph.record("PowBackward", out, of(x), of(x), (g, c) -> {
            if (exponent == 0.0) {
                return of(g.zerosLike());
            }
            return of(g.mul(c.saved(0).pow(exponent - 1.0).mul(exponent)));
        });
    }

    public static Tensor clamp(Tensor x, double min, double max) {
        if (Double.isNaN(min) || Double.isNaN(max) || min > max) {
            throw new IllegalArgumentException("clamp: need min <= max, got min=" + min + " max=" + max
                    + " (shape " + x.shape() + ")");
        }
        Tensor lower = Dispatch.binary("clamp", BinaryOp.MAX, x, Dispatch.scalar(x.backend(), x.dtype(), min));
        Tensor out = Dispatch.binary("clamp", BinaryOp.MIN, lower, Dispatch.scalar(x.backend(), x.dtype(), max));
        // Gradient passes where min <= x <= max, as in PyTorch (including at the bounds).
        return Graph.record("ClampBackward", out, of(x), of(x),
                (g, c) -> of(g.mul(c.saved(0).ge(min)).mul(c.saved(0).le(max))));
    }

    // ---- binary -----------------------------------------------------------------------------------

    public static Tensor add(Tensor a, Tensor b) {
        Tensor out = Dispatch.binary("add", BinaryOp.ADD, a, b);
        return Graph.record("AddBackward", out, of(a, b), NOTHING, (g, c) -> of(g, g));
    }

    public static Tensor sub(Tensor a, Tensor b) {
        Tensor out = Dispatch.binary("sub", BinaryOp.SUB, a, b);
        return Graph.record("SubBackward", out, of(a, b), NOTHING,
                (g, c) -> of(g, c.needsInputGrad(1) ? g.neg() : null));
    }

    public static Tensor mul(Tensor a, Tensor b) {
        Tensor out = Dispatch.binary("mul", BinaryOp.MUL, a, b);
        return Graph.record("MulBackward", out, of(a, b), of(a, b), (g, c) -> of(
                c.needsInputGrad(0) ? g.mul(c.saved(1)) : null,
                c.needsInputGrad(1) ? g.mul(c.saved(0)) : null));
    }

    public static Tensor div(Tensor a, Tensor b) {
        Tensor out = Dispatch.binary("div", BinaryOp.DIV, a, b);
        return Graph.record("DivBackward", out, of(a, b), of(a, b), (g, c) -> {
            Tensor denominator = c.saved(1);
            return of(
                    c.needsInputGrad(0) ? g.div(denominator) : null,
                    // d(a/b)/db = -a / b^2
                    c.needsInputGrad(1) ? g.mul(c.saved(0)).div(denominator.square()).neg() : null);
        });
    }

    public static Tensor maximum(Tensor a, Tensor b) {
        Tensor out = Dispatch.binary("maximum", BinaryOp.MAX, a, b);
        return Graph.record("MaximumBackward", out, of(a, b), of(a, b),
                (g, c) -> splitBetween(g, c.saved(0), c.saved(1)));
    }

    public static Tensor minimum(Tensor a, Tensor b) {
        Tensor out = Dispatch.binary("minimum", BinaryOp.MIN, a, b);
        return Graph.record("MinimumBackward", out, of(a, b), of(a, b),
                (g, c) -> splitBetween(g, c.saved(1), c.saved(0)));
    }

    /**
     * Routes the gradient of max(winner, loser) to whichever input won; on ties each gets half, as
     * PyTorch's maximum/minimum do.
     */
    private static Tensor[] splitBetween(Tensor g, Tensor first, Tensor second) {
        Tensor firstShare = first.gt(second).add(first.eq(second).mul(0.5));
        Tensor secondShare = firstShare.neg().add(1.0);
        return of(g.mul(firstShare), g.mul(secondShare));
    }

    // ---- comparisons and selection ------------------------------------------------------------------

    public static Tensor gt(Tensor a, Tensor b) {
        return Dispatch.binary("gt", BinaryOp.GT, a, b);
    }

    public static Tensor lt(Tensor a, Tensor b) {
        return Dispatch.binary("lt", BinaryOp.LT, a, b);
    }

    public static Tensor ge(Tensor a, Tensor b) {
        return Dispatch.binary("ge", BinaryOp.GE, a, b);
    }

    public static Tensor le(Tensor a, Tensor b) {
        return Dispatch.binary("le", BinaryOp.LE, a, b);
    }

    public static Tensor eq(Tensor a, Tensor b) {
        return Dispatch.binary("eq", BinaryOp.EQ, a, b);
    }

    public static Tensor where(Tensor mask, Tensor a, Tensor b) {
        Tensor out = Dispatch.where(mask, a, b);
        return Graph.record("WhereBackward", out, of(a, b), of(mask.detach()), (g, c) -> {
            Tensor condition = c.saved(0);
            Tensor zero = Dispatch.scalar(g.backend(), g.dtype(), 0.0);
            // where() rather than multiplication by the mask, so an inf or NaN gradient in the
            // unselected branch cannot leak into the selected one.
            return of(c.needsInputGrad(0) ? where(condition, g, zero) : null,
                    c.needsInputGrad(1) ? where(condition, zero, g) : null);
        });
    }
}
