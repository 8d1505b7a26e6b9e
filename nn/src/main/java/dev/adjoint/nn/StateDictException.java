package dev.adjoint.nn;

/**
 * A state dict that does not fit the module or optimizer it is loaded into: a missing or unexpected
 * key, or a value of the wrong shape or dtype. Thrown before anything is changed.
 */
public final class StateDictException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    public StateDictException(String message) {
        super(message);
    }
}
