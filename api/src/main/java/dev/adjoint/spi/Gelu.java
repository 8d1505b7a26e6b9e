package dev.adjoint.spi;

import dev.adjoint.Tensor;
import dev.adjoint.ops.ElementwiseOps;

/**
 * The Gaussian error linear unit in its two forms, as PyTorch computes them, with the derivatives that
 * {@link UnaryOp#GELU}, {@link UnaryOp#GELU_TANH} and their derivative primitives describe:
 * <ul>
 *   <li>exact: {@code gelu(x) = x Phi(x) = x/2 (1 + erf(x / sqrt 2))}, {@code gelu'(x) = Phi(x) + x phi(x)},
 *       {@code gelu''(x) = phi(x) (2 - x^2)}, phi the standard normal density;</li>
 *   <li>tanh: {@code x/2 (1 + tanh(u))} with {@code u = sqrt(2/pi) (x + 0.044715 x^3)},
 *       derivative {@code (1 + t)/2 + x/2 (1 - t^2) u'} with {@code t = tanh(u)},
 *       second derivative {@code (1 - t^2) (u' - x t u'^2 + x u''/2)}.</li>
 * </ul>
 * The first derivative is a primitive of its own ({@link UnaryOp#GELU_DERIVATIVE}), so a backward pass
 * through GELU is one kernel and one product instead of nine elementwise passes, and stays
 * differentiable through that primitive's own derivative.
 */
public final class Gelu {
    static final double INV_SQRT2 = 1.0 / Math.sqrt(2.0);
    static final double INV_SQRT_2PI = 1.0 / Math.sqrt(2.0 * Math.PI);
    static final double SQRT_2_OVER_PI = Math.sqrt(2.0 / Math.PI);
    static final double CUBIC = 0.044715;

    private Gelu() {
    }

    /** {@code x * 0.5 * (1 + erf(x / sqrt 2))}, PyTorch's order of operations. */
    public static double exact(double x) {
        return x * 0.5 * (1.0 + Erf.erf(x * INV_SQRT2));
    }

    public static double exactDerivative(double x) {
        double cdf = 0.5 * (1.0 + Erf.erf(x * INV_SQRT2));
        return cdf + x * INV_SQRT_2PI * Math.exp(-0.5 * x * x);
    }

    public static double tanhForm(double x) {
        double inner = SQRT_2_OVER_PI * (x + CUBIC * x * x * x);
        return 0.5 * x * (1.0 + Math.tanh(inner));
    }

    public static double tanhFormDerivative(double x) {
        double x2 = x * x;
        double t = Math.tanh(SQRT_2_OVER_PI * (x + CUBIC * x2 * x));
        double du = SQRT_2_OVER_PI * (1.0 + 3.0 * CUBIC * x2);
        return 0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * du;
    }

    /** {@code v * gelu'(x)}: the VJP and the JVP of the exact form. */
    static Tensor exactTimes(Tensor v, Tensor x) {
        return ElementwiseOps.timesUnary(v, UnaryOp.GELU_DERIVATIVE, x);
    }

    /** {@code v * gelu''(x)} of the exact form, composed: it is only reached by second derivatives. */
    static Tensor exactDerivativeTimes(Tensor v, Tensor x) {
        Tensor x2 = x.square();
        return v.mul(x2.mul(-0.5).exp().mul(INV_SQRT_2PI).mul(x2.neg().add(2.0)));
    }

    static Tensor tanhFormTimes(Tensor v, Tensor x) {
        return ElementwiseOps.timesUnary(v, UnaryOp.GELU_TANH_DERIVATIVE, x);
    }

    static Tensor tanhFormDerivativeTimes(Tensor v, Tensor x) {
        Tensor x2 = x.square();
        Tensor t = x.add(x2.mul(x).mul(CUBIC)).mul(SQRT_2_OVER_PI).tanh();
        Tensor du = x2.mul(3.0 * CUBIC).add(1.0).mul(SQRT_2_OVER_PI);
        Tensor ddu = x.mul(6.0 * CUBIC * SQRT_2_OVER_PI);
        Tensor bracket = du.sub(x.mul(t).mul(du.square())).add(x.mul(ddu).mul(0.5));
        return v.mul(t.square().neg().add(1.0).mul(bracket));
    }
}
