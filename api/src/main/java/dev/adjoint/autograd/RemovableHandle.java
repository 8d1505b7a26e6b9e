package dev.adjoint.autograd;

/**
 * Unregisters the hook it was returned for, as PyTorch's {@code RemovableHandle}. Removing twice is
 * harmless. It is {@link AutoCloseable}, so a hook can be scoped:
 * {@code try (var h = t.registerHook(g -> ...)) { loss.backward(); }}.
 */
@FunctionalInterface
public interface RemovableHandle extends AutoCloseable {
    void remove();

    /** The same as {@link #remove()}. */
    @Override
    default void close() {
        remove();
    }
}
