package dev.adjoint.nn.loss;

import dev.adjoint.Tensor;
import dev.adjoint.autograd.Function;
import dev.adjoint.autograd.FunctionContext;

/**
 * The unreduced binary cross-entropy {@code -w (y log x + (1 - y) log(1 - x))} of probabilities
 * {@code x} against targets {@code y}, with PyTorch's (1.13) clamps in both directions: each log is
 * clamped at -100, so a probability of exactly 0 or 1 gives a finite loss, and the derivative in
 * {@code x} is {@code w (x - y) / max(x (1 - x), 1e-12)} rather than that of the clamped logs (which is
 * 0/0 at x = 0 and x = 1). Composing the forward from ops would get the first right and the second wrong,
 * hence a Function with PyTorch's formulas. The derivative in {@code y} is
 * {@code w (log(1 - x) - log x)}. Inputs: x, y and the weight, already broadcast to x's shape; the
 * weight is not differentiated, as in PyTorch.
 */
final class BinaryCrossEntropy extends Function {
    /** PyTorch's floor for the logs, so that 0 * log(0) terms stay finite. */
    private static final double LOG_FLOOR = -100.0;
    /** PyTorch's floor for x (1 - x) in the derivative: EPSILON in aten's Loss.cpp, a float 1e-12. */
    private static final double DENOMINATOR_FLOOR = 1e-12f;

    @Override
    protected Tensor[] forward(FunctionContext ctx, Tensor... in) {
        Tensor x = in[0];
        Tensor y = in[1];
        Tensor w = in[2];
        ctx.saveForBackward(x, y, w);
        Tensor logX = x.log().maximum(LOG_FLOOR);
        Tensor log1mX = x.neg().log1p().maximum(LOG_FLOOR);
        // (y - 1) log(1 - x) - y log x, the order of aten's kernel.
        Tensor loss = y.sub(1.0).mul(log1mX).sub(y.mul(logX));
        return new Tensor[] {loss.mul(w)};
    }

    @Override
    protected Tensor[] backward(FunctionContext ctx, Tensor... grad) {
        Tensor x = ctx.savedTensors().get(0);
        Tensor y = ctx.savedTensors().get(1);
        Tensor w = ctx.savedTensors().get(2);
        Tensor gw = grad[0].mul(w);
        return new Tensor[] {
            ctx.needsInputGrad(0) ? dInput(x, y).mul(gw) : null,
            ctx.needsInputGrad(1) ? dTarget(x).mul(gw) : null,
            null};
    }

    @Override
    protected Tensor[] jvp(FunctionContext ctx, Tensor... tangent) {
        Tensor x = ctx.savedTensors().get(0);
        Tensor y = ctx.savedTensors().get(1);
        Tensor w = ctx.savedTensors().get(2);
        return new Tensor[] {dInput(x, y).mul(tangent[0]).add(dTarget(x).mul(tangent[1])).mul(w)};
    }

    private static Tensor dInput(Tensor x, Tensor y) {
        return x.sub(y).div(x.neg().add(1.0).mul(x).maximum(DENOMINATOR_FLOOR));
    }

    private static Tensor dTarget(Tensor x) {
        return x.neg().log1p().sub(x.log());
    }

    @Override
    protected String name() {
        return "BinaryCrossEntropyBackward";
    }
}
