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
}
