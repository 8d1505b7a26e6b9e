package dev.adjoint.autograd;

/**
 * Thrown under {@link Autograd#detectAnomaly()} when a backward node produces a NaN or infinite
 * gradient: the message names the node, the input, and where the op was called in the forward pass.
 */
public class AnomalyException extends ArithmeticException {
    public AnomalyException(String message) {
        super(message);
    }
}
