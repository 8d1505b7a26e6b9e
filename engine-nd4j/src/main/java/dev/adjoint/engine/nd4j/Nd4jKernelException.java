package dev.adjoint.engine.nd4j;

/**
 * ND4J failed inside a kernel. The api has validated shapes and dtypes before dispatch, so this
 * means a case ND4J does not handle; the message names the kernel and every operand's layout, and
 * ND4J's own exception is the cause.
 */
public final class Nd4jKernelException extends RuntimeException {
    Nd4jKernelException(String message, Throwable cause) {
        super(message, cause);
    }
}
