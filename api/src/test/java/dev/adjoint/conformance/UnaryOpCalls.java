package dev.adjoint.conformance;

import dev.adjoint.Functional;
import dev.adjoint.Tensor;
import dev.adjoint.ops.ElementwiseOps;
import dev.adjoint.spi.UnaryOp;

import java.util.function.UnaryOperator;

/**
 * Each elementwise primitive as the call a user makes to reach it. An exhaustive switch, so a new
 * {@link UnaryOp} does not compile until the checks that run every op ({@link UnaryPositionIndependence},
 * {@link JitDeterminism}) run it too.
 */
final class UnaryOpCalls {
    private UnaryOpCalls() {
    }

    static UnaryOperator<Tensor> of(UnaryOp op) {
        return switch (op) {
            case NEG -> Tensor::neg;
            case EXP -> Tensor::exp;
            case LOG -> Tensor::log;
            case LOG1P -> Tensor::log1p;
            case SQRT -> Tensor::sqrt;
            case SQUARE -> Tensor::square;
            case ABS -> Tensor::abs;
            case SIGN -> Tensor::sign;
            case SIN -> Tensor::sin;
            case COS -> Tensor::cos;
            case TANH -> Tensor::tanh;
            case SIGMOID -> Tensor::sigmoid;
            case RELU -> Tensor::relu;
            case ERF -> Tensor::erf;
            case EXPM1 -> Tensor::expm1;
            case TAN -> Tensor::tan;
            case ASIN -> Tensor::asin;
            case ACOS -> Tensor::acos;
            case ATAN -> Tensor::atan;
            case SINH -> Tensor::sinh;
            case COSH -> Tensor::cosh;
            case ASINH -> Tensor::asinh;
            case ACOSH -> Tensor::acosh;
            case ATANH -> Tensor::atanh;
            case FLOOR -> Tensor::floor;
            case CEIL -> Tensor::ceil;
            case ROUND -> Tensor::round;
            case TRUNC -> Tensor::trunc;
            case SILU -> Functional::silu;
            case LOG_SIGMOID -> Functional::logSigmoid;
            // Functional.softplus takes x itself above its threshold of 20 and SOFTPLUS below.
            case SOFTPLUS -> Functional::softplus;
            case GELU -> Functional::gelu;
            case GELU_TANH -> x -> Functional.gelu(x, "tanh");
            // Reached through gelu's backward; called directly here so the checks see the kernel alone.
            case GELU_DERIVATIVE -> x -> ElementwiseOps.unary(UnaryOp.GELU_DERIVATIVE, x);
            case GELU_TANH_DERIVATIVE -> x -> ElementwiseOps.unary(UnaryOp.GELU_TANH_DERIVATIVE, x);
            // Reached through tanh's and sigmoid's backward.
            case TANH_DERIVATIVE -> y -> ElementwiseOps.unary(UnaryOp.TANH_DERIVATIVE, y);
            case SIGMOID_DERIVATIVE -> y -> ElementwiseOps.unary(UnaryOp.SIGMOID_DERIVATIVE, y);
            case SILU_DERIVATIVE -> x -> ElementwiseOps.unary(UnaryOp.SILU_DERIVATIVE, x);
        };
    }

    /** Where the op is defined and finite for most inputs: the interval inputs are drawn from. */
    static double[] domain(UnaryOp op) {
        return switch (op) {
            case LOG, SQRT -> new double[] {0.01, 5};
            case LOG1P -> new double[] {-0.9, 5};
            case ASIN, ACOS, ATANH -> new double[] {-0.99, 0.99};
            case ACOSH -> new double[] {1, 6};
            default -> new double[] {-6, 6};
        };
    }
}
