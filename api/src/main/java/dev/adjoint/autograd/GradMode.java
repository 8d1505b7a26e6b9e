package dev.adjoint.autograd;

/**
 * Whether ops on the current thread record a graph. State is per thread, so graphs built on
 * different threads never interfere; {@link Scope} restores the previous state when closed:
 * <pre>{@code
 * try (var scope = GradMode.disable()) {
 *     ... // nothing recorded here
 * }
 * }</pre>
 */
public final class GradMode {
    // A one-element array so that reads and writes cost a single ThreadLocal lookup.
    private static final ThreadLocal<boolean[]> ENABLED = ThreadLocal.withInitial(() -> new boolean[] {true});

    private GradMode() {
    }

    public static boolean isEnabled() {
        return ENABLED.get()[0];
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
        boolean[] state = ENABLED.get();
        Scope scope = new Scope(state, state[0]);
        state[0] = enabled;
        return scope;
    }

    /** Restores the grad mode that was in force when it was opened. Close it on the same thread. */
    public static final class Scope implements AutoCloseable {
        private final boolean[] state;
        private final boolean previous;

        private Scope(boolean[] state, boolean previous) {
            this.state = state;
            this.previous = previous;
        }

        @Override
        public void close() {
            state[0] = previous;
        }
    }
}
