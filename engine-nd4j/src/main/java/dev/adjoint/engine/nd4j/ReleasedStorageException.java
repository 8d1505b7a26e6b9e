package dev.adjoint.engine.nd4j;

/** A tensor's storage was used after the {@link Nd4jScope} it was allocated in closed and freed it. */
public final class ReleasedStorageException extends IllegalStateException {
    ReleasedStorageException(String message) {
        super(message);
    }
}
