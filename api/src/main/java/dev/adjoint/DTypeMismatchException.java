package dev.adjoint;

/** An op was given tensors of element types it does not accept together. */
public class DTypeMismatchException extends IllegalArgumentException {
    public DTypeMismatchException(String message) {
        super(message);
    }
}
