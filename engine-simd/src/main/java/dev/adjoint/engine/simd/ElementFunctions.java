package dev.adjoint.engine.simd;

import dev.adjoint.spi.BinaryOp;
import dev.adjoint.spi.UnaryOp;

/**
 * The element functions in double, one switch per element. The strided fallback uses them for every
 * element and the vector kernels for the tail that does not fill a whole vector, so both agree with
 * the reference backend's semantics (NaN handling of relu, maximum and minimum in particular).
 */
final class ElementFunctions {
    private ElementFunctions() {
    }

    static double unary(UnaryOp op, double x) {
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
        };
    }

    /** 1 / (1 + e^-x) for x >= 0 and e^x / (1 + e^x) below, so neither branch overflows. */
    static double sigmoid(double x) {
        if (x >= 0) {
            return 1.0 / (1.0 + Math.exp(-x));
        }
        double e = Math.exp(x);
        return e / (1.0 + e);
    }

    static double binary(BinaryOp op, double a, double b) {
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
}
