package dev.adjoint.spi;

import dev.adjoint.Tensor;
import dev.adjoint.autograd.Derivative;
import dev.adjoint.ops.ElementwiseOps;

import java.util.function.DoubleUnaryOperator;

import static dev.adjoint.autograd.Derivative.linear;
import static dev.adjoint.autograd.Derivative.ofInput;
import static dev.adjoint.autograd.Derivative.ofOutput;
import static dev.adjoint.autograd.Derivative.zero;

/**
 * Elementwise primitives of one input, each described once: its name, the reference function every
 * backend's kernel must agree with (in double; the scalar backend runs it as is, other backends use it
 * for tails and fallbacks), and its derivative — one formula that is both the JVP and the VJP, because
 * an elementwise Jacobian is diagonal (see {@link Derivative}). Each maps an element to one of the same
 * dtype. The ops with an exact integer rule ({@link #hasExact}: neg, abs, sign, square, relu and the
 * roundings) also take INT32 and INT64 elements, computed in long ({@link #applyExact}); the api
 * converts integer and bool inputs of the others to FLOAT32 first, as torch computes {@code exp} of an
 * integer tensor in its default dtype.
 *
 * <p>Adding a primitive is one line here, a method on {@link Tensor}, a catalogue entry, and a vector
 * kernel wherever a backend wants one (a backend without one falls back to {@link #apply}).
 */
public enum UnaryOp {
    //     name      node              reference             v * f'(x), from x or from y = f(x)
    NEG("neg", "NegBackward", x -> -x, linear(Tensor::neg)),
    EXP("exp", "ExpBackward", Math::exp, ofOutput((v, y) -> v.mul(y))),
    LOG("log", "LogBackward", Math::log, ofInput((v, x) -> v.div(x))),
    LOG1P("log1p", "Log1PBackward", Math::log1p, ofInput((v, x) -> v.div(x.add(1.0)))),
    // 1 / (2 sqrt(x)) from the output rather than a second root.
    SQRT("sqrt", "SqrtBackward", Math::sqrt, ofOutput((v, y) -> v.div(y.mul(2.0)))),
    SQUARE("square", "PowBackward", x -> x * x,
            ofInput((v, x) -> ElementwiseOps.binaryIntoFresh(BinaryOp.MUL, x.mul(2.0), v))),
    // sign(0) = 0: the subgradient PyTorch uses at the kink.
    ABS("abs", "AbsBackward", Math::abs, ofInput((v, x) -> v.mul(x.sign()))),
    // torch.sign is (x > 0) - (x < 0): 0 for NaN and +0 for -0, where Math.signum keeps both.
    SIGN("sign", "SignBackward", x -> x > 0 ? 1 : x < 0 ? -1 : 0, zero()),
    SIN("sin", "SinBackward", Math::sin, ofInput((v, x) -> v.mul(x.cos()))),
    COS("cos", "CosBackward", Math::cos, ofInput((v, x) -> v.mul(x.sin().neg()))),
    // 1 - tanh^2 from the output, as PyTorch does; it stays differentiable through the output. The
    // derivative is a primitive of its own (TANH_DERIVATIVE), so the backward is one kernel and a product.
    TANH("tanh", "TanhBackward", Math::tanh, ofOutput(UnaryOp::tanhTimes)),
    // sigmoid' = y (1 - y) from the output, likewise a primitive (SIGMOID_DERIVATIVE).
    SIGMOID("sigmoid", "SigmoidBackward", UnaryOp::sigmoid, ofOutput(UnaryOp::sigmoidTimes)),
    // relu(NaN) is NaN: x > 0 is false for NaN, so test the zero branch instead.
    // The gradient where y > 0, else exactly 0 (a select, as torch's threshold_backward: an inf in v
    // does not leak into the zeros); one fused pass where the backend has it (ElementwiseOps.reluTimes).
    RELU("relu", "ReluBackward", x -> x <= 0 ? 0.0 : x, ofOutput(ElementwiseOps::reluTimes)),
    // d erf(x) = 2/sqrt(pi) exp(-x^2)
    ERF("erf", "ErfBackward", Erf::erf, ofInput((v, x) -> v.mul(x.square().neg().exp().mul(2.0 / Math.sqrt(Math.PI))))),
    // e^x - 1 without the cancellation near 0 (elu's negative branch); d = e^x = y + 1, as PyTorch.
    EXPM1("expm1", "Expm1Backward", Math::expm1, ofOutput((v, y) -> v.mul(y.add(1.0)))),
    // d tan = 1 + tan^2, from the output as PyTorch.
    TAN("tan", "TanBackward", Math::tan, ofOutput((v, y) -> v.mul(y.square().add(1.0)))),
    ASIN("asin", "AsinBackward", Math::asin, ofInput((v, x) -> v.div(x.square().neg().add(1.0).sqrt()))),
    ACOS("acos", "AcosBackward", Math::acos, ofInput((v, x) -> v.div(x.square().neg().add(1.0).sqrt()).neg())),
    ATAN("atan", "AtanBackward", Math::atan, ofInput((v, x) -> v.div(x.square().add(1.0)))),
    SINH("sinh", "SinhBackward", Math::sinh, ofInput((v, x) -> v.mul(x.cosh()))),
    COSH("cosh", "CoshBackward", Math::cosh, ofInput((v, x) -> v.mul(x.sinh()))),
    ASINH("asinh", "AsinhBackward", InverseHyperbolic::asinh, ofInput((v, x) -> v.div(x.square().add(1.0).sqrt()))),
    ACOSH("acosh", "AcoshBackward", InverseHyperbolic::acosh, ofInput((v, x) -> v.div(x.square().sub(1.0).sqrt()))),
    ATANH("atanh", "AtanhBackward", InverseHyperbolic::atanh, ofInput((v, x) -> v.div(x.square().neg().add(1.0)))),
    // Piecewise constant: a zero gradient (not none), as PyTorch's floor/ceil/round/trunc.
    FLOOR("floor", "FloorBackward", Math::floor, zero()),
    CEIL("ceil", "CeilBackward", Math::ceil, zero()),
    // Halves round to even (Math.rint), as torch.round: round(0.5) = 0, round(1.5) = 2, round(-2.5) = -2.
    ROUND("round", "RoundBackward", Math::rint, zero()),
    TRUNC("trunc", "TruncBackward", x -> x < 0 ? Math.ceil(x) : Math.floor(x), zero()),
    // x * sigmoid(x) as PyTorch computes it, x / (1 + e^-x); d = s (1 + x (1 - s)) with s = sigmoid(x),
    // a primitive of its own (SILU_DERIVATIVE), so the backward is one kernel and a product.
    SILU("silu", "SiluBackward", x -> x / (1.0 + Math.exp(-x)), ofInput(UnaryOp::siluTimes)),
    // log(sigmoid(x)) = min(x, 0) - log1p(e^-|x|): neither term overflows or cancels; d = sigmoid(-x).
    LOG_SIGMOID("logSigmoid", "LogSigmoidBackward", x -> Math.min(x, 0.0) - Math.log1p(Math.exp(-Math.abs(x))),
            ofInput((v, x) -> v.mul(x.neg().sigmoid()))),
    // log(1 + e^x) = max(x, 0) + log1p(e^-|x|), finite for every finite x; d = sigmoid(x). The
    // user-facing softplus (beta, threshold) is composed on this in ActivationOps.
    SOFTPLUS("softplus", "SoftplusBackward", x -> Math.max(x, 0.0) + Math.log1p(Math.exp(-Math.abs(x))),
            ofInput((v, x) -> v.mul(x.sigmoid()))),
    // Gaussian error linear units, exact (erf) and tanh forms, as PyTorch computes them (see Gelu).
    // Each derivative is a primitive too, so the backward is one kernel and a product.
    GELU("gelu", "GeluBackward", Gelu::exact, ofInput(Gelu::exactTimes)),
    GELU_DERIVATIVE("geluDerivative", "GeluBackwardBackward", Gelu::exactDerivative,
            ofInput(Gelu::exactDerivativeTimes)),
    GELU_TANH("geluTanh", "GeluBackward", Gelu::tanhForm, ofInput(Gelu::tanhFormTimes)),
    GELU_TANH_DERIVATIVE("geluTanhDerivative", "GeluBackwardBackward", Gelu::tanhFormDerivative,
            ofInput(Gelu::tanhFormDerivativeTimes)),
    // The derivatives of tanh and sigmoid in terms of their output y, 1 - y^2 and y - y^2, each one
    // pass where the composite took three (and three temporaries), rounded once (a fused multiply-add,
    // as the vector kernels compute it). Their own derivatives, -2y and 1 - 2y, serve the gradients
    // of gradients.
    TANH_DERIVATIVE("tanhDerivative", "TanhBackwardBackward", y -> Math.fma(-y, y, 1.0),
            ofInput((v, y) -> v.mul(y.mul(-2.0)))),
    SIGMOID_DERIVATIVE("sigmoidDerivative", "SigmoidBackwardBackward", y -> Math.fma(-y, y, y),
            ofInput((v, y) -> v.mul(y.mul(-2.0).add(1.0)))),
    // silu'(x) = s (1 + x (1 - s)), s = sigmoid(x); its derivative s (1 - s) (2 + x (1 - 2s)).
    SILU_DERIVATIVE("siluDerivative", "SiluBackwardBackward", UnaryOp::siluDerivative, ofInput((v, x) -> {
        Tensor s = x.sigmoid();
        return v.mul(s.mul(s.neg().add(1.0)).mul(x.mul(s.mul(-2.0).add(1.0)).add(2.0)));
    }));

    /** {@code v * tanh'} from the output y ({@link ElementwiseOps#timesUnary}). */
    private static Tensor tanhTimes(Tensor v, Tensor y) {
        return ElementwiseOps.timesUnary(v, TANH_DERIVATIVE, y);
    }

    /** {@code v * silu'(x)}, as {@link #tanhTimes}. */
    private static Tensor siluTimes(Tensor v, Tensor x) {
        return ElementwiseOps.timesUnary(v, SILU_DERIVATIVE, x);
    }

    private static double siluDerivative(double x) {
        double s = 1.0 / (1.0 + Math.exp(-x));
        return s * (1.0 + x * (1.0 - s));
    }

    /** {@code v * sigmoid'} from the output y, as {@link #tanhTimes}. */
    private static Tensor sigmoidTimes(Tensor v, Tensor y) {
        return ElementwiseOps.timesUnary(v, SIGMOID_DERIVATIVE, y);
    }

    private final String opName;
    private final String nodeName;
    private final DoubleUnaryOperator reference;
    private final Derivative derivative;

    UnaryOp(String opName, String nodeName, DoubleUnaryOperator reference, Derivative derivative) {
        this.opName = opName;
        this.nodeName = nodeName;
        this.reference = reference;
        this.derivative = derivative;
    }

    /** The user-facing name, as in error messages: {@code "exp"}. */
    public String opName() {
        return opName;
    }

    /** PyTorch's name of the backward node: {@code "ExpBackward"}. */
    public String nodeName() {
        return nodeName;
    }

    /** The reference semantics of one element, in double. */
    public double apply(double x) {
        return reference.applyAsDouble(x);
    }

    /** Whether the op has an exact rule on integers ({@link #applyExact}). */
    public boolean hasExact() {
        return switch (this) {
            case NEG, ABS, SIGN, SQUARE, RELU, FLOOR, CEIL, ROUND, TRUNC -> true;
            default -> false;
        };
    }

    /**
     * The op on an integer element, exact in long arithmetic (wrapping as PyTorch's integer ops do:
     * the negation and absolute value of the most negative value are itself); the roundings leave
     * integers as they are.
     */
    public long applyExact(long x) {
        return switch (this) {
            case NEG -> -x;
            case ABS -> Math.abs(x);
            case SIGN -> Long.signum(x);
            case SQUARE -> x * x;
            case RELU -> Math.max(x, 0);
            case FLOOR, CEIL, ROUND, TRUNC -> x;
            default -> throw new IllegalArgumentException(opName + " has no integer rule");
        };
    }

    /** The function itself, for loops that want one call per element without a switch. */
    public DoubleUnaryOperator reference() {
        return reference;
    }

    public Derivative derivative() {
        return derivative;
    }

    /** 1 / (1 + e^-x) for x >= 0 and e^x / (1 + e^x) below, so neither branch overflows. */
    public static double sigmoid(double x) {
        if (x >= 0) {
            return 1.0 / (1.0 + Math.exp(-x));
        }
        double e = Math.exp(x);
        return e / (1.0 + e);
    }
}
