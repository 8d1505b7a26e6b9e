package dev.adjoint;

/** An op was given tensors living on different backends; move one with {@code Tensor.to(backend)}. */
public class BackendMismatchException extends IllegalArgumentException {
    public BackendMismatchException(String message) {
        super(message);
    }
}
