package dev.adjoint.spi;

/**
 * The reference semantics of every elementwise primitive, in double, as {@link UnaryOp#apply} and
 * {@link BinaryOp#apply} define them: what the scalar backend computes, and what any backend's scalar
 * fallbacks and vector tails use, so that all of them agree on the edge cases the conformance suite
 * pins (NaN through relu, maximum and minimum; signed zeros; erf, which {@link Math} lacks).
 */
public final class ElementMath {
    private ElementMath() {
    }

    public static double unary(UnaryOp op, double x) {
        return op.apply(x);
    }

    public static double sigmoid(double x) {
        return UnaryOp.sigmoid(x);
    }

    public static double binary(BinaryOp op, double a, double b) {
        return op.apply(a, b);
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
