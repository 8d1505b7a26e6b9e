package dev.adjoint;

/** An op was given tensors whose shapes (or dimension arguments) it cannot work with. */
public class TensorShapeException extends IllegalArgumentException {
    public TensorShapeException(String message) {
        super(message);
    }
}
