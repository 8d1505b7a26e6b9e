package dev.adjoint;

/**
 * A tensor was used after the {@link MemoryScope} its memory was allocated in closed and gave that
 * memory back to its backend.
 */
public final class ReleasedTensorException extends IllegalStateException {
    ReleasedTensorException(String message) {
        super(message);
    }
}
