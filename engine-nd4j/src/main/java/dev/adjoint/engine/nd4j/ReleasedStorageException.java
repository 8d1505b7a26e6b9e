package dev.adjoint.engine.nd4j;

/**
 * A storage was handed to a kernel after the {@link dev.adjoint.MemoryScope} it was allocated in closed
 * and freed it. Through the Tensor API the same misuse fails earlier, with
 * {@link dev.adjoint.ReleasedTensorException}; this one guards direct calls to the backend.
 */
public final class ReleasedStorageException extends IllegalStateException {
    ReleasedStorageException(String message) {
        super(message);
    }
}
