package dev.adjoint.autograd;

/**
 * Whether ops on the current thread record a graph. State is per thread, so graphs built on
 * different threads never interfere; {@link Scope} restores the previous state when closed:
 * <pre>{@code
 * try (var scope = GradMode.disable()) {
 *     ... // nothing recorded here
 * }
 * }</pre>
 * Scopes nest: each thread keeps its open scopes as a stack, and a scope must be closed on the thread
 * that opened it, innermost first (try-with-resources does both). Anything else would leave the
 * thread's grad mode wrong without a sign, so it fails instead (see {@link Scope#close()}).
 */
public final class GradMode {
    /** One thread's grad mode and its innermost open scope (the top of its stack of scopes). */
    private static final class State {
        final Thread owner = Thread.currentThread();
        boolean enabled = true;
        Scope innermost;
    }

    private static final ThreadLocal<State> STATE = ThreadLocal.withInitial(State::new);

    private GradMode() {
    }

    public static boolean isEnabled() {
        return STATE.get().enabled;
    }

    /** Stops recording on this thread until the returned scope is closed. */
    public static Scope disable() {
        return set(false);
    }

    /** Records on this thread until the returned scope is closed (e.g. inside a {@code noGrad} block). */
    public static Scope enable() {
        return set(true);
    }

    public static Scope set(boolean enabled) {
        State state = STATE.get();
        Scope scope = new Scope(state, enabled);
        state.enabled = enabled;
        state.innermost = scope;
        return scope;
    }

    /** Restores the grad mode that was in force when it was opened. Close it on the same thread. */
    public static final class Scope implements AutoCloseable {
        private final State state;
        private final boolean mode;
        private final boolean previous;
        private final Scope outer;
        private boolean closed;

        private Scope(State state, boolean mode) {
            this.state = state;
            this.mode = mode;
            this.previous = state.enabled;
            this.outer = state.innermost;
        }

        /**
         * Restores the grad mode from before this scope. Closing it again does nothing.
         *
         * @throws IllegalStateException when called on another thread than the one that opened the
         *         scope (neither thread's grad mode changes; the scope stays open for its own thread to
         *         close), or while a scope opened after this one on the same thread is still open (both
         *         are closed: the grad mode is the one from before this scope, and closing the inner one
         *         later does nothing)
         */
        @Override
        public void close() {
            if (closed) {
                return;
            }
            Thread current = Thread.currentThread();
            if (current != state.owner) {
                throw new IllegalStateException("GradMode: " + describe() + " opened on thread '"
                        + state.owner.getName() + "' was closed on thread '" + current.getName() + "'. Grad mode "
                        + "is per thread: close a scope on the thread that opened it. Neither thread's grad mode "
                        + "changed, and the scope is still open.");
            }
            if (state.innermost != this) {
                int inner = 0;
                for (Scope s = state.innermost; s != this; s = s.outer) {
                    s.closed = true;
                    inner++;
                }
                restore();
                throw new IllegalStateException("GradMode: scopes closed out of order: " + describe() + " was closed "
                        + "while " + inner + (inner == 1 ? " scope" : " scopes") + " opened after it on thread '"
                        + current.getName() + "' " + (inner == 1 ? "was" : "were") + " still open. Those are closed "
                        + "with it and grad mode is " + (previous ? "enabled" : "disabled") + " again, as before "
                        + "this scope. Close scopes innermost first, e.g. with try-with-resources.");
            }
            restore();
        }

        private void restore() {
            closed = true;
            state.innermost = outer;
            state.enabled = previous;
        }

        private String describe() {
            return "the scope that " + (mode ? "enabled" : "disabled") + " grad mode";
        }
    }
}
