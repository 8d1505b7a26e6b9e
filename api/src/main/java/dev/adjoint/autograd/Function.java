package dev.adjoint.autograd;

import dev.adjoint.DType;
import dev.adjoint.Shape;
import dev.adjoint.Tensor;

import dev.adjoint.internal.TensorInternals;
import dev.adjoint.spi.Backend;

import java.util.Arrays;

/**
 * A differentiable operation defined by the user, as {@code torch.autograd.Function}: a forward that
 * computes its outputs with any tensor ops (nothing inside it is recorded), a backward that maps the
 * outputs' gradients to the inputs', and optionally a JVP for forward mode. Several inputs and outputs
 * are allowed.
 * <pre>{@code
 * // softplus(x) = log(1 + e^x), computed stably as max(x, 0) + log1p(e^-|x|)
 * final class Softplus extends Function {
 *     protected Tensor[] forward(FunctionContext ctx, Tensor... in) {
 *         Tensor x = in[0];
 *         ctx.saveForBackward(x);
 *         return new Tensor[] {x.relu().add(x.abs().neg().exp().log1p())};
 *     }
 *     protected Tensor[] backward(FunctionContext ctx, Tensor... grad) {
 *         Tensor x = ctx.savedTensors().get(0);
 *         return new Tensor[] {grad[0].mul(x.sigmoid())};
 *     }
 *     protected Tensor[] jvp(FunctionContext ctx, Tensor... tangent) {
 *         return new Tensor[] {tangent[0].mul(ctx.savedTensors().get(0).sigmoid())};
 *     }
 * }
 * Tensor y = new Softplus().apply(x)[0];   // or applyOne(x)
 * }</pre>
 * Backward is written with ordinary tensor ops; when the backward pass is recorded
 * ({@code createGraph}), it is differentiated like any other code, so second derivatives work if its
 * formulas are right. {@link dev.adjoint.check.GradCheck} checks a Function like any other function.
 */
public abstract class Function {
    private static final TensorInternals INTERNALS = TensorInternals.get();

    /**
     * Computes the outputs. Runs with gradient recording off and tangents hidden; save what backward
     * needs on {@code ctx}.
     */
    protected abstract Tensor[] forward(FunctionContext ctx, Tensor... inputs);

    /**
     * The gradients of the inputs (one per input, {@code null} where none is needed or defined) from
     * the gradients of the outputs (one per output; zeros for outputs that received none).
     */
    protected abstract Tensor[] backward(FunctionContext ctx, Tensor... gradOutputs);

    /**
     * The outputs' tangents from the inputs' tangents (one per input, zeros where an input has none),
     * for forward mode. Without an override, forward mode through this function fails with a message
     * naming it.
     */
    protected Tensor[] jvp(FunctionContext ctx, Tensor... tangents) {
        throw new UnsupportedOperationException(name() + ": a tangent reached this Function but it does not "
                + "override jvp(ctx, tangents)");
    }

    /** The name of the backward node, {@code <ClassName>Backward} unless overridden. */
    protected String name() {
        String simple = getClass().getSimpleName();
        return (simple.isEmpty() ? "Function" : simple) + "Backward";
    }

    /** Runs the function, recording it for backward (and forward mode) where its inputs need it. */
    public final Tensor[] apply(Tensor... inputs) {
        FunctionContext ctx = new FunctionContext();
        ctx.setName(name());
        boolean[] needs = new boolean[inputs.length];
        for (int i = 0; i < inputs.length; i++) {
            needs[i] = inputs[i].requiresGrad() && GradMode.isEnabled();
        }
        ctx.setNeedsInputGrad(needs);
        Tensor[] tangents = ForwardAD.visibleTangents(inputs);
        Tensor[] outputs;
        try (var noGrad = GradMode.disable(); var hidden = ForwardAD.hideTangents()) {
            outputs = forward(ctx, inputs);
        }
        if (outputs == null || outputs.length == 0) {
            throw new IllegalStateException(name() + ": forward must return at least one tensor");
        }
        outputs = outputs.clone();
        for (int k = 0; k < outputs.length; k++) {
            Tensor out = outputs[k];
            if (out == null) {
                throw new IllegalStateException(name() + ": forward returned null as output " + k);
            }
            if (isInput(out, inputs)) {
                if (ctx.isDirty(out)) {
                    checkDirtyInput(out);
                    INTERNALS.markModifiedInPlace(out);
                }
                // A tensor object carries one history: an input returned as output gets a view of its own.
                outputs[k] = INTERNALS.viewAs(out, out.layout());
                if (ctx.isNonDifferentiable(out)) {
                    ctx.markNonDifferentiable(outputs[k]);
                }
            } else if (out.requiresGrad() || out.gradFn() != null) {
                // Made under noGrad, so this can only be a tensor created outside the forward.
                outputs[k] = INTERNALS.viewAs(out, out.layout());
            }
        }
        ctx.recordSavedVersions();
        if (tangents != null) {
            attachTangents(ctx, inputs, outputs, tangents);
        }
        if (Graph.needsGraph(inputs)) {
            record(ctx, inputs, outputs);
        }
        return outputs;
    }

    /** {@link #apply} for a function with one output. */
    public final Tensor applyOne(Tensor... inputs) {
        Tensor[] outputs = apply(inputs);
        if (outputs.length != 1) {
            throw new IllegalStateException(name() + ": applyOne on a function with " + outputs.length
                    + " outputs; use apply");
        }
        return outputs[0];
    }

    /**
     * As in PyTorch: a leaf that requires grad cannot be modified in place while gradients are recorded,
     * since its gradient would belong to values it no longer holds. Under noGrad it may be (an optimizer
     * step written as a Function).
     */
    private void checkDirtyInput(Tensor input) {
        if (input.isLeaf() && input.requiresGrad() && GradMode.isEnabled()) {
            throw new IllegalStateException(name() + ": forward modified in place (markDirty) a leaf that "
                    + "requires grad (" + input.dtype() + " of shape " + input.shape() + ") while gradients are "
                    + "recorded, and its values have already changed; pass the function a copy (x.clone(), "
                    + "modified in forward through detach()), or apply it inside Tensor.noGrad()");
        }
    }

    private void attachTangents(FunctionContext ctx, Tensor[] inputs, Tensor[] outputs, Tensor[] tangents) {
        Tensor[] filled = tangents.clone();
        for (int i = 0; i < filled.length; i++) {
            if (filled[i] == null && inputs[i].dtype().isFloatingPoint()) {
                filled[i] = inputs[i].zerosLike();
            }
        }
        Tensor[] outTangents;
        try (var hidden = ForwardAD.hideTangents()) {
            outTangents = jvp(ctx, filled);
        }
        if (outTangents == null || outTangents.length != outputs.length) {
            throw new IllegalStateException(name() + ": jvp returned " + (outTangents == null ? "null" : outTangents.length
                    + " tangents") + " for " + outputs.length + " outputs");
        }
        for (int k = 0; k < outputs.length; k++) {
            if (outTangents[k] != null && !ctx.isNonDifferentiable(outputs[k])) {
                ForwardAD.attach(name(), outputs[k], outTangents[k]);
            }
        }
    }

    private void record(FunctionContext ctx, Tensor[] inputs, Tensor[] outputs) {
        Node[] next = new Node[inputs.length];
        int[] slots = new int[inputs.length];
        Shape[] shapes = new Shape[inputs.length];
        Graph.edges(inputs, next, slots, shapes);
        Shape[] outShapes = new Shape[outputs.length];
        FunctionNode node = new FunctionNode(name(), next, slots, shapes, outputs.length, ctx, outShapes,
                outputs[0].backend(), outputs[0].dtype());
        for (int k = 0; k < outputs.length; k++) {
            Tensor out = outputs[k];
            if (!out.dtype().isFloatingPoint() || ctx.isNonDifferentiable(out)) {
                continue;
            }
            Graph.attach(out, node, k);
            outShapes[k] = out.shape();
        }
    }

    /** The backward node of one application: several output slots, the user's backward as its formula. */
    private final class FunctionNode extends Node {
        private final FunctionContext ctx;
        /** The shape of each differentiable output ({@code null} for the others): a gradient that never arrives is zero. */
        private final Shape[] outShapes;
        private final Backend backend;
        private final DType dtype;

        FunctionNode(String name, Node[] next, int[] slots, Shape[] shapes, int outputs, FunctionContext ctx,
                     Shape[] outShapes, Backend backend, DType dtype) {
            super(name, next, slots, shapes, outputs);
            this.ctx = ctx;
            this.outShapes = outShapes;
            this.backend = backend;
            this.dtype = dtype;
        }

        @Override
        protected Tensor[] apply(Tensor[] gradOutputs) {
            Tensor[] grads = gradOutputs.clone();
            for (int k = 0; k < grads.length; k++) {
                if (grads[k] == null && outShapes[k] != null) {
                    grads[k] = Tensor.on(backend).zeros(dtype, outShapes[k].toArray());
                }
            }
            boolean[] needs = new boolean[nextFunctions().size()];
            for (int i = 0; i < needs.length; i++) {
                needs[i] = inputWanted(i);
            }
            ctx.setNeedsInputGrad(needs);
            Tensor[] inputGrads = Function.this.backward(ctx, grads);
            if (inputGrads == null || inputGrads.length != needs.length) {
                throw new IllegalStateException(name() + ": backward returned "
                        + (inputGrads == null ? "null" : inputGrads.length + " gradients") + " for " + needs.length
                        + " inputs; return one per input (null where there is none)");
            }
            return Arrays.copyOf(inputGrads, inputGrads.length);
        }

        @Override
        protected void release() {
            ctx.release();
        }
    }

    private static boolean isInput(Tensor t, Tensor[] inputs) {
        for (Tensor in : inputs) {
            if (in == t) {
                return true;
            }
        }
        return false;
    }
}
