package dev.adjoint.spi;

import dev.adjoint.Tensor;
import dev.adjoint.autograd.Derivative;

import java.util.function.DoubleBinaryOperator;

import static dev.adjoint.autograd.Derivative.linear;
import static dev.adjoint.autograd.Derivative.ofInputs;
import static dev.adjoint.autograd.Derivative.ofInputsAndOutput;

/**
 * Elementwise primitives of two inputs of the same dtype, each described once: name, the reference
 * function every backend agrees with (in double), and the partial derivative with respect to each
 * input — each one formula serving as JVP and VJP (see {@link Derivative}); gradients of broadcast
 * inputs are summed back to their shapes by the engine. Comparisons write 1 where the relation holds
 * and 0 elsewhere, in the inputs' dtype, and have no derivative; they also take INT64 inputs, which
 * they compare exactly as longs (not through double, which would merge neighbours above 2^53). The
 * other ops take floating inputs only. {@code MAX}/{@code MIN} propagate NaN as PyTorch's
 * {@code maximum}/{@code minimum} do.
 */
public enum BinaryOp {
    //    name       node               reference                  d/da                              d/db
    ADD("add", "AddBackward", Double::sum, linear(v -> v), linear(v -> v)),
    SUB("sub", "SubBackward", (a, b) -> a - b, linear(v -> v), linear(Tensor::neg)),
    MUL("mul", "MulBackward", (a, b) -> a * b, ofInputs((v, a, b) -> v.mul(b)), ofInputs((v, a, b) -> v.mul(a))),
    // d(a/b)/db = -a / b^2
    DIV("div", "DivBackward", (a, b) -> a / b, ofInputs((v, a, b) -> v.div(b)),
            ofInputs((v, a, b) -> v.mul(a).div(b.square()).neg())),
    // Math.max/min propagate NaN. The gradient goes to whichever input won and is halved on ties; an
    // input loses only to a strictly better one, so with a NaN both get it (PyTorch's rule).
    MAX("maximum", "MaximumBackward", Math::max, ofInputs((v, a, b) -> v.mul(share(a.lt(b), a.eq(b)))),
            ofInputs((v, a, b) -> v.mul(share(a.gt(b), a.eq(b))))),
    MIN("minimum", "MinimumBackward", Math::min, ofInputs((v, a, b) -> v.mul(share(a.gt(b), a.eq(b)))),
            ofInputs((v, a, b) -> v.mul(share(a.lt(b), a.eq(b))))),
    // d a^b / da = b a^(b-1), taken as 0 where b = 0 (not 0 * a^-1, NaN at a = 0); d a^b / db = a^b log a,
    // taken as 0 where a = 0 and b >= 0 (the limit), as PyTorch does.
    POW("pow", "PowBackward", Math::pow,
            ofInputs((v, a, b) -> v.mul(Tensor.where(b.eq(0.0), b.zerosLike(), b.mul(a.pow(b.sub(1.0)))))),
            ofInputsAndOutput((v, a, b, y) -> v.mul(Tensor.where(a.eq(0.0).mul(b.ge(0.0)), a.zerosLike(),
                    y.mul(a.log()))))),
    // atan2(a, b) is the angle of the point (b, a); d/da = b / (a^2 + b^2), d/db = -a / (a^2 + b^2).
    ATAN2("atan2", "Atan2Backward", Math::atan2, ofInputs((v, a, b) -> v.mul(b).div(a.square().add(b.square()))),
            ofInputs((v, a, b) -> v.mul(a).div(a.square().add(b.square())).neg())),
    // PyTorch's remainder takes the divisor's sign (Python's %), unlike Java's % (fmod): the fmod
    // result is shifted by b where the signs differ. d/db = -floor(a / b), as PyTorch.
    REMAINDER("remainder", "RemainderBackward", BinaryOp::remainder, linear(v -> v),
            ofInputs((v, a, b) -> v.mul(a.div(b).floor()).neg())),
    GT("gt", null, (a, b) -> a > b ? 1.0 : 0.0, null, null),
    LT("lt", null, (a, b) -> a < b ? 1.0 : 0.0, null, null),
    GE("ge", null, (a, b) -> a >= b ? 1.0 : 0.0, null, null),
    LE("le", null, (a, b) -> a <= b ? 1.0 : 0.0, null, null),
    EQ("eq", null, (a, b) -> a == b ? 1.0 : 0.0, null, null);

    private final String opName;
    private final String nodeName;
    private final DoubleBinaryOperator reference;
    private final Derivative first;
    private final Derivative second;

    BinaryOp(String opName, String nodeName, DoubleBinaryOperator reference, Derivative first, Derivative second) {
        this.opName = opName;
        this.nodeName = nodeName;
        this.reference = reference;
        this.first = first;
        this.second = second;
    }

    public boolean isComparison() {
        return ordinal() >= GT.ordinal();
    }

    /** The user-facing name, as in error messages: {@code "maximum"}. */
    public String opName() {
        return opName;
    }

    /** PyTorch's name of the backward node, {@code null} for comparisons. */
    public String nodeName() {
        return nodeName;
    }

    public double apply(double a, double b) {
        return reference.applyAsDouble(a, b);
    }

    public DoubleBinaryOperator reference() {
        return reference;
    }

    /** The partial derivative with respect to the first input ({@code null} for comparisons). */
    public Derivative first() {
        return first;
    }

    /** The partial derivative with respect to the second input ({@code null} for comparisons). */
    public Derivative second() {
        return second;
    }

    /** {@code a mod b} with the sign of {@code b}, computed from the exact fmod as torch.remainder does. */
    public static double remainder(double a, double b) {
        double m = a % b;
        if (m != 0 && (b < 0) != (m < 0)) {
            m += b;
        }
        return m;
    }

    /** 1 for the winner, 1/2 on a tie, 0 for the strict loser. */
    private static Tensor share(Tensor loses, Tensor ties) {
        return loses.add(ties.mul(0.5)).neg().add(1.0);
    }
}
