package dev.adjoint.ops;

import dev.adjoint.Shape;
import dev.adjoint.Tensor;
import dev.adjoint.TensorShapeException;
import dev.adjoint.autograd.ForwardAD;
import dev.adjoint.autograd.Graph;
import dev.adjoint.spi.BinaryOp;
import dev.adjoint.spi.Layout;

/**
 * PyTorch's in-place arithmetic ({@code add_}, {@code mul_}, ...): the result is written into the
 * target's own storage through the same backend kernels the out-of-place ops use, so an optimizer
 * step costs one pass over the parameters per op and allocates nothing of parameter size.
 *
 * <p>The tape does not record in-place ops, so they are refused where a graph would be recorded:
 * the same rule as {@code copyFrom}, which is why optimizers run inside {@code Tensor.noGrad()}.
 */
public final class InPlaceOps {
    private InPlaceOps() {
    }

    /** {@code target = target (kernel) source}, with {@code source} broadcast to the target's shape. */
    public static Tensor apply(String op, BinaryOp kernel, Tensor target, Tensor source) {
        source = checkedOperand(op, target, source);
        Layout operand = source.layout().broadcastTo(target.shape());
        Layout out = target.layout();
        if (target.numel() > 0) {
            target.backend().binary(kernel, target.storage(), out, source.storage(), operand, target.storage(), out);
        }
        Dispatch.markModifiedInPlace(target);
        return target;
    }

    /** {@code target = target + alpha * source} in one pass (torch's {@code add_(other, alpha=...)}). */
    public static Tensor addScaled(String op, Tensor target, Tensor source, double alpha) {
        source = checkedOperand(op, target, source);
        Layout operand = source.layout().broadcastTo(target.shape());
        Layout out = target.layout();
        if (target.numel() > 0) {
            target.backend().scaledAdd(1, target.storage(), out, alpha, source.storage(), operand, target.storage(),
                    out);
        }
        Dispatch.markModifiedInPlace(target);
        return target;
    }

    /** Checks an in-place binary op; returns the operand to read (see {@link #readable}). */
    private static Tensor checkedOperand(String op, Tensor target, Tensor source) {
        checkTarget(op, target, source);
        Dispatch.checkSameDType(op, target, source);
        Dispatch.checkFloating(op, target);
        Shape shape = target.shape();
        if (!Shape.broadcast(op, shape, source.shape()).equals(shape)) {
            throw new TensorShapeException(op + ": the operand of shape " + source.shape()
                    + " does not broadcast to the in-place target's shape " + shape);
        }
        return readable(target, source);
    }

    /**
     * The operand itself, or a snapshot when it reads the target's storage through another layout:
     * x.add_(x.t()) would otherwise read elements the same call has already overwritten and give
     * neither the old nor the new answer.
     */
    private static Tensor readable(Tensor target, Tensor source) {
        if (source.storage() == target.storage() && !source.layout().equals(target.layout())) {
            return Dispatch.contiguousCopy(source);
        }
        return source;
    }

    /** Every element of {@code target} set to {@code value}. */
    public static Tensor fill(Tensor target, double value) {
        checkTarget("fill_", target, target);
        if (target.numel() > 0) {
            target.backend().fill(target.storage(), target.layout(), value);
        }
        Dispatch.markModifiedInPlace(target);
        return target;
    }

    private static void checkTarget(String op, Tensor target, Tensor source) {
        Dispatch.checkSameBackend(op, target, source);
        checkUpdatable(op, target, source);
        int[] strides = target.layout().strides();
        for (int d = 0; d < strides.length; d++) {
            if (strides[d] == 0 && target.size(d) > 1) {
                throw new IllegalStateException(op + ": the target of shape " + target.shape()
                        + " is an expanded view whose elements share memory (stride 0 in dimension " + d
                        + "); call contiguous() or clone() first");
            }
        }
    }

    /**
     * The rule every in-place write (these ops and {@code copyFrom}) follows: no graph may be recorded
     * for the target or the source, and the target has no history of its own.
     */
    static void checkUpdatable(String op, Tensor target, Tensor source) {
        if (Graph.needsGraph(target, source)) {
            throw new IllegalStateException(op + ": in-place update of a tensor of shape " + target.shape()
                    + " while gradients are recorded for it; do it inside Tensor.noGrad() or on a detach()ed tensor");
        }
        if (ForwardAD.tangentOf(target) != null || ForwardAD.tangentOf(source) != null) {
            throw new IllegalStateException(op + ": in-place update of a tensor of shape " + target.shape()
                    + " that carries a forward-mode tangent (or from one); in-place ops do not propagate tangents, "
                    + "use the out-of-place op");
        }
        if (!target.isLeaf()) {
            throw new IllegalStateException(op + ": the target (shape " + target.shape() + ") was computed by "
                    + target.gradFn().name() + "; only leaves and tensors without history can be updated in place");
        }
    }
}
