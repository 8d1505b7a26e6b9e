package dev.adjoint.spi;

/**
 * The reference semantics of every elementwise primitive, in double: what the scalar backend
 * computes, and what any backend's scalar fallbacks and vector tails should use so that all of them
 * agree on the edge cases the conformance suite pins (NaN through relu, maximum and minimum; signed
 * zeros; erf, which {@link Math} lacks).
 */
public final class ElementMath {
    private ElementMath() {
    }

    public static double unary(UnaryOp op, double x) {
        return switch (op) {
            case NEG -> -x;
            case EXP -> Math.exp(x);
            case LOG -> Math.log(x);
            case LOG1P -> Math.log1p(x);
            case SQRT -> Math.sqrt(x);
            case SQUARE -> x * x;
            case ABS -> Math.abs(x);
            case SIGN -> Math.signum(x);
            case SIN -> Math.sin(x);
            case COS -> Math.cos(x);
            case TANH -> Math.tanh(x);
            case SIGMOID -> sigmoid(x);
            // relu(NaN) is NaN: x > 0 is false for NaN, so test the zero branch instead.
            case RELU -> x <= 0 ? 0.0 : x;
            case ERF -> Erf.erf(x);
        };
    }

    /** 1 / (1 + e^-x) for x >= 0 and e^x / (1 + e^x) below, so neither branch overflows. */
    public static double sigmoid(double x) {
        if (x >= 0) {
            return 1.0 / (1.0 + Math.exp(-x));
        }
        double e = Math.exp(x);
        return e / (1.0 + e);
    }

    public static double binary(BinaryOp op, double a, double b) {
        return switch (op) {
            case ADD -> a + b;
            case SUB -> a - b;
            case MUL -> a * b;
            case DIV -> a / b;
            // Math.max/min propagate NaN, as PyTorch's maximum/minimum do.
            case MAX -> Math.max(a, b);
            case MIN -> Math.min(a, b);
            case POW -> Math.pow(a, b);
            case GT -> a > b ? 1.0 : 0.0;
            case LT -> a < b ? 1.0 : 0.0;
            case GE -> a >= b ? 1.0 : 0.0;
            case LE -> a <= b ? 1.0 : 0.0;
            case EQ -> a == b ? 1.0 : 0.0;
        };
    }

    /** A comparison of two INT64 elements, exact at any magnitude: 1 where it holds, else 0. */
    public static long compare(BinaryOp op, long a, long b) {
        boolean holds = switch (op) {
            case GT -> a > b;
            case LT -> a < b;
            case GE -> a >= b;
            case LE -> a <= b;
            case EQ -> a == b;
            default -> throw new IllegalArgumentException(op + " is not a comparison");
        };
        return holds ? 1 : 0;
    }
}
