package dev.adjoint.ops;

import dev.adjoint.Tensor;
import dev.adjoint.autograd.Graph;
import dev.adjoint.spi.BinaryOp;
import dev.adjoint.spi.UnaryOp;

import static dev.adjoint.ops.ElementwiseOps.of;

/**
 * The activations of torch.nn.functional beyond relu, sigmoid and tanh. Those without parameters
 * (silu, logSigmoid) are primitives ({@link UnaryOp}); the parametrised ones are compositions of
 * primitives with {@code where}, which routes the gradient to the branch that produced each element
 * exactly as PyTorch's own backward does at the branch points (x = 0 for elu and leakyRelu, the
 * threshold for softplus), and never reads the unused branch's gradient, so an overflow there cannot
 * leak a NaN. hardtanh is the exception: it is clamp with PyTorch's other convention at the bounds, a
 * node of its own.
 */
public final class ActivationOps {
    private ActivationOps() {
    }

    /**
     * {@code log(1 + e^(beta x)) / beta}, and {@code x} itself where {@code beta x > threshold} (PyTorch's
     * switch to the linear function, exact there, with gradient 1).
     */
    public static Tensor softplus(Tensor x, double beta, double threshold) {
        Dispatch.checkFloating("softplus", x);
        if (beta == 0 || Double.isNaN(beta)) {
            throw new IllegalArgumentException("softplus: beta must be a non-zero number, got " + beta
                    + " (shape " + x.shape() + ")");
        }
        Tensor scaled = beta == 1 ? x : x.mul(beta);
        Tensor smooth = ElementwiseOps.unary(UnaryOp.SOFTPLUS, scaled);
        if (beta != 1) {
            smooth = smooth.div(beta);
        }
        return Tensor.where(scaled.gt(threshold), x, smooth);
    }

    /**
     * {@code x} for {@code x > 0}, else {@code alpha (e^x - 1)}. The negative branch reads
     * {@code where(x > 0, 0, x)} rather than x, so its exponential stays at most 1 everywhere.
     */
    public static Tensor elu(Tensor x, double alpha) {
        Dispatch.checkFloating("elu", x);
        Tensor positive = x.gt(0.0);
        Tensor zero = Dispatch.scalar(x.backend(), x.dtype(), 0.0);
        Tensor negativePart = Tensor.where(positive, zero, x);
        return Tensor.where(positive, x, negativePart.expm1().mul(alpha));
    }

    /** {@code x} for {@code x > 0}, else {@code slope * x}; the gradient at 0 is {@code slope}, as PyTorch. */
    public static Tensor leakyRelu(Tensor x, double slope) {
        Dispatch.checkFloating("leakyRelu", x);
        return Tensor.where(x.gt(0.0), x, x.mul(slope));
    }

    /**
     * {@code x} clamped to {@code [min, max]}. Unlike {@link Tensor#clamp}, whose gradient passes at the
     * bounds, hardtanh's is zero there (PyTorch's hardtanh_backward tests {@code min < x < max}).
     */
    public static Tensor hardtanh(Tensor x, double min, double max) {
        Dispatch.checkFloating("hardtanh", x);
        if (Double.isNaN(min) || Double.isNaN(max) || min > max) {
            throw new IllegalArgumentException("hardtanh: need min <= max, got min=" + min + " max=" + max
                    + " (shape " + x.shape() + ")");
        }
        Tensor lower = Dispatch.binary("hardtanh", BinaryOp.MAX, x, Dispatch.scalar(x.backend(), x.dtype(), min));
        Tensor out = Dispatch.binary("hardtanh", BinaryOp.MIN, lower, Dispatch.scalar(x.backend(), x.dtype(), max));
        return Graph.record("HardtanhBackward", out, of(x), of(x),
                (g, c) -> of(g.mul(strictlyInside(c.saved(0), min, max))),
                (t, in, y) -> t[0].mul(strictlyInside(in[0], min, max)));
    }

    private static Tensor strictlyInside(Tensor x, double min, double max) {
        return x.gt(min).mul(x.lt(max));
    }
}
