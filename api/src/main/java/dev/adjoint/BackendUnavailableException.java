package dev.adjoint;

/** A backend was asked for by name but is unknown or cannot run in this JVM; the message says why. */
public class BackendUnavailableException extends IllegalStateException {
    public BackendUnavailableException(String message) {
        super(message);
    }
}
