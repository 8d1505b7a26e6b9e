package dev.adjoint.autograd;

import dev.adjoint.BackendMismatchException;
import dev.adjoint.DTypeMismatchException;
import dev.adjoint.Tensor;
import dev.adjoint.TensorShapeException;
import dev.adjoint.internal.TensorInternals;

/**
 * Forward-mode automatic differentiation with dual tensors, as {@code torch.autograd.forward_ad}.
 * Inside a dual level, a tensor made with {@link #makeDual} carries a tangent, and every op computes
 * its output's tangent from its inputs' tangents with the op's JVP rule (kept beside its VJP):
 * <pre>{@code
 * try (var level = ForwardAD.dualLevel()) {
 *     Tensor x = ForwardAD.makeDual(primal, direction);
 *     Tensor y = f(x);
 *     Tensor jv = ForwardAD.unpackDual(y).tangent();   // J(primal) . direction, in one pass
 * }
 * }</pre>
 * One pass gives one Jacobian-vector product, so a full Jacobian costs one pass per input dimension,
 * against one per output dimension in reverse mode. Forward mode composes with reverse mode: the
 * backward pass of a graph recorded inside a level propagates tangents too, which is how
 * Hessian-vector products are computed (forward-over-reverse).
 *
 * <p>One level may be open per thread at a time. Closing it makes every tangent attached inside it
 * disappear. Tangents are not visible to JVP rules while they run, so a rule computes with primal
 * values only.
 */
public final class ForwardAD {
    private static final TensorInternals INTERNALS = TensorInternals.get();
    private static final ThreadLocal<State> STATE = ThreadLocal.withInitial(State::new);

    private ForwardAD() {
    }

    private static final class State {
        DualLevel open;
        /** Above 0 while a JVP rule runs: ops inside it compute primal values only. */
        int suspended;
    }

    /** The scope of a set of tangents; close it on the thread that opened it. */
    public static final class DualLevel implements AutoCloseable {
        private final Thread thread = Thread.currentThread();
        private boolean closed;

        private DualLevel() {
        }

        @Override
        public void close() {
            if (closed) {
                return;
            }
            if (Thread.currentThread() != thread) {
                throw new IllegalStateException("dualLevel: closed on thread " + Thread.currentThread().getName()
                        + " but opened on " + thread.getName() + "; close it where it was opened");
            }
            closed = true;
            STATE.get().open = null;
        }
    }

    /** A tensor's primal value and its tangent ({@code null} when it has none at the open level). */
    public record Dual(Tensor primal, Tensor tangent) {
    }

    /** Opens a dual level on this thread until the returned scope is closed. */
    public static DualLevel dualLevel() {
        State state = STATE.get();
        if (state.open != null) {
            throw new IllegalStateException("dualLevel: a dual level is already open on this thread; nested levels "
                    + "are not supported (for second derivatives, combine forward mode with reverse mode, as "
                    + "Transforms.hessian does)");
        }
        DualLevel level = new DualLevel();
        state.open = level;
        return level;
    }

    /** Whether a dual level is open on this thread. */
    public static boolean isDualLevelOpen() {
        return STATE.get().open != null;
    }

    /**
     * A tensor with {@code primal}'s values (sharing its storage) that carries {@code tangent} at the open
     * level. Gradients of reverse mode flow through it to {@code primal}.
     */
    public static Tensor makeDual(Tensor primal, Tensor tangent) {
        State state = STATE.get();
        if (state.open == null) {
            throw new IllegalStateException("makeDual: no dual level is open; call it inside "
                    + "try (var level = ForwardAD.dualLevel()) { ... }");
        }
        if (!primal.dtype().isFloatingPoint()) {
            throw new DTypeMismatchException("makeDual: the primal must be FLOAT32 or FLOAT64, got " + primal.dtype()
                    + " with shape " + primal.shape());
        }
        if (!tangent.shape().equals(primal.shape())) {
            throw new TensorShapeException("makeDual: tangent shape " + tangent.shape()
                    + " does not match primal shape " + primal.shape());
        }
        if (tangent.dtype() != primal.dtype()) {
            throw new DTypeMismatchException("makeDual: tangent dtype " + tangent.dtype()
                    + " does not match primal dtype " + primal.dtype() + " (shape " + primal.shape() + ")");
        }
        if (tangent.backend() != primal.backend()) {
            throw new BackendMismatchException("makeDual: the primal (shape " + primal.shape() + ") is on '"
                    + primal.backend().name() + "' but the tangent is on '" + tangent.backend().name() + "'");
        }
        if (visibleTangent(primal, state) != null) {
            throw new IllegalStateException("makeDual: the primal (shape " + primal.shape()
                    + ") already has a tangent at this level; use unpackDual(t).primal() to get its primal");
        }
        Tensor dual = alias(primal, "MakeDualBackward");
        INTERNALS.setForwardGrad(dual, new ForwardGrad(state.open, tangent));
        return dual;
    }

    /** The primal value (without tangent, still connected to reverse mode) and the tangent of {@code t}. */
    public static Dual unpackDual(Tensor t) {
        State state = STATE.get();
        Tensor tangent = visibleTangent(t, state);
        if (tangent == null) {
            return new Dual(t, null);
        }
        return new Dual(alias(t, "UnpackDualBackward"), tangent);
    }

    /** The tangent of {@code t} at the open level, or {@code null}. */
    public static Tensor tangentOf(Tensor t) {
        return visibleTangent(t, STATE.get());
    }

    /** A new tensor over {@code t}'s storage whose gradient flows to {@code t}, with no tangent. */
    private static Tensor alias(Tensor t, String node) {
        Tensor out = INTERNALS.viewAs(t, t.layout());
        State state = STATE.get();
        state.suspended++;
        try {
            return Graph.record(node, out, new Tensor[] {t}, new Tensor[0], (g, c) -> new Tensor[] {g});
        } finally {
            state.suspended--;
        }
    }

    private static Tensor visibleTangent(Tensor t, State state) {
        ForwardGrad fg = INTERNALS.forwardGrad(t);
        if (fg == null || state.suspended > 0 || fg.level() != state.open) {
            return null;
        }
        return fg.tangent();
    }

    /** The visible tangent of each input ({@code null} entries where none), or {@code null} if none has one. */
    static Tensor[] visibleTangents(Tensor[] inputs) {
        if (!anyForwardGrad(inputs)) {
            return null;
        }
        State state = STATE.get();
        Tensor[] tangents = null;
        for (int i = 0; i < inputs.length; i++) {
            Tensor tangent = visibleTangent(inputs[i], state);
            if (tangent != null) {
                if (tangents == null) {
                    tangents = new Tensor[inputs.length];
                }
                tangents[i] = tangent;
            }
        }
        return tangents;
    }

    /** Hides every tangent on this thread until closed: what JVP rules and custom forwards run under. */
    static Hidden hideTangents() {
        State state = STATE.get();
        state.suspended++;
        return new Hidden(state);
    }

    static final class Hidden implements AutoCloseable {
        private final State state;

        private Hidden(State state) {
            this.state = state;
        }

        @Override
        public void close() {
            state.suspended--;
        }
    }

    /** Attaches {@code tangent} to {@code out} at the open level, after the checks {@link #propagate} makes. */
    static void attach(String op, Tensor out, Tensor tangent) {
        State state = STATE.get();
        if (state.open == null) {
            return;
        }
        if (!tangent.shape().equals(out.shape())) {
            try (var hidden = hideTangents()) {
                tangent = tangent.expand(out.shape().toArray());
            }
        }
        if (tangent.dtype() != out.dtype()) {
            throw new IllegalStateException(op + ": its JVP rule returned a " + tangent.dtype()
                    + " tangent for a " + out.dtype() + " output of shape " + out.shape());
        }
        INTERNALS.setForwardGrad(out, new ForwardGrad(state.open, tangent));
    }

    /** Whether any of {@code inputs} has a tangent record at all: one field read each, as cheap as it gets. */
    static boolean anyForwardGrad(Tensor[] inputs) {
        for (Tensor t : inputs) {
            if (INTERNALS.forwardGrad(t) != null) {
                return true;
            }
        }
        return false;
    }

    /** Computes and attaches {@code out}'s tangent when some input has one at the open level. */
    static void propagate(String node, Tensor out, Tensor[] inputs, JvpFormula jvp) {
        State state = STATE.get();
        Tensor[] tangents = null;
        for (int i = 0; i < inputs.length; i++) {
            Tensor tangent = visibleTangent(inputs[i], state);
            if (tangent != null) {
                if (tangents == null) {
                    tangents = new Tensor[inputs.length];
                }
                tangents[i] = tangent;
            }
        }
        if (tangents == null) {
            return;
        }
        String op = node.endsWith("Backward") ? node.substring(0, node.length() - "Backward".length()) : node;
        if (jvp == null) {
            throw new UnsupportedOperationException(op + ": a tangent reached this op but it has no forward-mode "
                    + "(JVP) rule; give it one (Function.jvp for custom functions) or compute this part outside "
                    + "the dual level");
        }
        DualLevel level = state.open;
        Tensor tangent;
        state.suspended++;
        try {
            tangent = jvp.apply(tangents, inputs, out);
            if (tangent != null && !tangent.shape().equals(out.shape())) {
                tangent = tangent.expand(out.shape().toArray());
            }
        } finally {
            state.suspended--;
        }
        if (tangent == null) {
            return;
        }
        if (tangent.dtype() != out.dtype()) {
            throw new IllegalStateException(op + ": its JVP rule returned a " + tangent.dtype()
                    + " tangent for a " + out.dtype() + " output of shape " + out.shape());
        }
        INTERNALS.setForwardGrad(out, new ForwardGrad(level, tangent));
    }
}
