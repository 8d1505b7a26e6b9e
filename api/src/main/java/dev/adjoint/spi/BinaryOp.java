package dev.adjoint.spi;

import dev.adjoint.Tensor;
import dev.adjoint.autograd.Derivative;

import java.util.function.DoubleBinaryOperator;
import java.util.function.LongBinaryOperator;

import static dev.adjoint.autograd.Derivative.linear;
import static dev.adjoint.autograd.Derivative.ofInputs;
import static dev.adjoint.autograd.Derivative.ofInputsAndOutput;

/**
 * Elementwise primitives of two inputs of the same dtype, each described once: name, the reference
 * function every backend agrees with (in double), the exact function on integers (in long; null where
 * the op has none), and the partial derivative with respect to each input — each one formula serving
 * as JVP and VJP (see {@link Derivative}); gradients of broadcast inputs are summed back to their
 * shapes by the engine.
 *
 * <p>Dtypes: the api promotes both operands to one dtype first (see {@link dev.adjoint.DType#promote}).
 * Floating operands run {@link #apply}. INT32, INT64 and BOOL operands run {@link #applyExact} in long
 * arithmetic, never through double (which would merge INT64 neighbours above 2^53); INT32 results wrap
 * to 32 bits as PyTorch's int32 arithmetic does, and BOOL operands are 0 and 1 (the api sends BOOL only
 * to MAX, MIN and the comparisons: logical or, logical and). Ops without an exact function (div, pow,
 * atan2) receive only floating operands. Comparisons write a BOOL output whatever the inputs' dtype and
 * have no derivative. {@code MAX}/{@code MIN} propagate NaN as PyTorch's {@code maximum}/{@code minimum} do.
 */
public enum BinaryOp {
    //    name       node               reference                  d/da                              d/db
    ADD("add", "AddBackward", Double::sum, Long::sum, linear(v -> v), linear(v -> v)),
    SUB("sub", "SubBackward", (a, b) -> a - b, (a, b) -> a - b, linear(v -> v), linear(Tensor::neg)),
    MUL("mul", "MulBackward", (a, b) -> a * b, (a, b) -> a * b, ofInputs((v, a, b) -> v.mul(b)),
            ofInputs((v, a, b) -> v.mul(a))),
    // d(a/b)/db = -a / b^2. True division: the api sends integer operands here as FLOAT32, as torch.div.
    DIV("div", "DivBackward", (a, b) -> a / b, null, ofInputs((v, a, b) -> v.div(b)),
            ofInputs((v, a, b) -> v.mul(a).div(b.square()).neg())),
    // Math.max/min propagate NaN. The gradient goes to whichever input won and is halved on ties; an
    // input loses only to a strictly better one, so with a NaN both get it (PyTorch's rule).
    MAX("maximum", "MaximumBackward", Math::max, Math::max, ofInputs((v, a, b) -> share(v, a.lt(b), a.eq(b))),
            ofInputs((v, a, b) -> share(v, a.gt(b), a.eq(b)))),
    MIN("minimum", "MinimumBackward", Math::min, Math::min, ofInputs((v, a, b) -> share(v, a.gt(b), a.eq(b))),
            ofInputs((v, a, b) -> share(v, a.lt(b), a.eq(b)))),
    // d a^b / da = b a^(b-1), taken as 0 where b = 0 (not 0 * a^-1, NaN at a = 0); d a^b / db = a^b log a,
    // taken as 0 where a = 0 and b >= 0 (the limit), as PyTorch does.
    POW("pow", "PowBackward", BinaryOp::pow, null,
            ofInputs((v, a, b) -> v.mul(Tensor.where(b.eq(0.0), b.zerosLike(), b.mul(a.pow(b.sub(1.0)))))),
            ofInputsAndOutput((v, a, b, y) -> v.mul(Tensor.where(a.eq(0.0).logicalAnd(b.ge(0.0)), a.zerosLike(),
                    y.mul(a.log()))))),
    // atan2(a, b) is the angle of the point (b, a); d/da = b / (a^2 + b^2), d/db = -a / (a^2 + b^2).
    ATAN2("atan2", "Atan2Backward", Math::atan2, null, ofInputs((v, a, b) -> v.mul(b).div(a.square().add(b.square()))),
            ofInputs((v, a, b) -> v.mul(a).div(a.square().add(b.square())).neg())),
    // PyTorch's remainder takes the divisor's sign (Python's %), unlike Java's % (fmod): the fmod
    // result is shifted by b where the signs differ. d/db = -floor(a / b), as PyTorch.
    // On integers Math.floorMod is the same rule, exactly. The api rejects an integer divisor of 0.
    REMAINDER("remainder", "RemainderBackward", BinaryOp::remainder, Math::floorMod, linear(v -> v),
            ofInputs((v, a, b) -> v.mul(a.div(b).floor()).neg())),
    // a // b rounded toward -inf, as torch.floor_divide and div(rounding_mode="floor"); piecewise
    // constant, so a zero gradient (as PyTorch's). Integers: Math.floorDiv.
    FLOOR_DIVIDE("floorDivide", "DivBackward", BinaryOp::floorDivide, Math::floorDiv, Derivative.zero(),
            Derivative.zero()),
    // a / b rounded toward zero, as div(rounding_mode="trunc"); Java's integer division is that rule.
    TRUNC_DIVIDE("truncDivide", "DivBackward", (a, b) -> truncate(a / b), (a, b) -> a / b, Derivative.zero(),
            Derivative.zero()),
    GT("gt", null, (a, b) -> a > b ? 1.0 : 0.0, (a, b) -> a > b ? 1 : 0, null, null),
    LT("lt", null, (a, b) -> a < b ? 1.0 : 0.0, (a, b) -> a < b ? 1 : 0, null, null),
    GE("ge", null, (a, b) -> a >= b ? 1.0 : 0.0, (a, b) -> a >= b ? 1 : 0, null, null),
    LE("le", null, (a, b) -> a <= b ? 1.0 : 0.0, (a, b) -> a <= b ? 1 : 0, null, null),
    EQ("eq", null, (a, b) -> a == b ? 1.0 : 0.0, (a, b) -> a == b ? 1 : 0, null, null),
    // NaN != NaN holds, as in IEEE and PyTorch.
    NE("ne", null, (a, b) -> a != b ? 1.0 : 0.0, (a, b) -> a != b ? 1 : 0, null, null);

    private final String opName;
    private final String nodeName;
    private final DoubleBinaryOperator reference;
    private final LongBinaryOperator exact;
    private final Derivative first;
    private final Derivative second;

    BinaryOp(String opName, String nodeName, DoubleBinaryOperator reference, LongBinaryOperator exact,
             Derivative first, Derivative second) {
        this.opName = opName;
        this.nodeName = nodeName;
        this.reference = reference;
        this.exact = exact;
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

    /** Whether the op computes on integers exactly ({@link #applyExact}); the others promote them to floating. */
    public boolean hasExact() {
        return exact != null;
    }

    /** Whether an integer divisor of 0 is an error (ZeroDivisionError in PyTorch). */
    public boolean dividesIntegers() {
        return this == REMAINDER || this == FLOOR_DIVIDE || this == TRUNC_DIVIDE;
    }

    /** The semantics on integer and bool elements (true is 1), exact; a comparison answers 1 or 0. */
    public long applyExact(long a, long b) {
        return exact.applyAsLong(a, b);
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

    /**
     * {@code a^b} as C's pow, which torch.pow follows, rather than Java's Math.pow: they differ only
     * where the base is 1, or -1 with an infinite exponent, which C takes as exactly 1 (1^NaN
     * included) and Java as NaN. Elsewhere the two agree, NaN and zero cases included.
     */
    public static double pow(double a, double b) {
        if (a == 1 || (a == -1 && Double.isInfinite(b))) {
            return 1;
        }
        return Math.pow(a, b);
    }

    /**
     * {@code floor(a / b)} as torch computes it for floating types: from the exact fmod, so the
     * quotient of two floats is the mathematically floored one even where {@code a / b} rounds up to a
     * whole number; division by 0 gives the infinity or NaN of {@code a / b}.
     */
    public static double floorDivide(double a, double b) {
        if (b == 0) {
            return a / b;
        }
        double mod = a % b;
        double div = (a - mod) / b;
        if (mod != 0 && (b < 0) != (mod < 0)) {
            div -= 1;
        }
        if (div == 0) {
            return Math.copySign(0.0, a / b);
        }
        double floor = Math.floor(div);
        return div - floor > 0.5 ? floor + 1 : floor;
    }

    private static double truncate(double x) {
        return x < 0 ? Math.ceil(x) : Math.floor(x);
    }

    /** {@code v} for the winner, {@code v / 2} on a tie, 0 for the strict loser (masks are BOOL). */
    private static Tensor share(Tensor v, Tensor loses, Tensor ties) {
        Tensor zero = dev.adjoint.ops.Dispatch.scalar(v.backend(), v.dtype(), 0.0);
        return Tensor.where(loses, zero, Tensor.where(ties, v.mul(0.5), v));
    }
}
