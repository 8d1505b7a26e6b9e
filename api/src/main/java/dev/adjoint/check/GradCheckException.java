package dev.adjoint.check;

/**
 * A gradient check found an analytic derivative that disagrees with finite differences (or one that
 * changes between two identical backward passes). It is an {@link AssertionError} so that test
 * frameworks report it as a failed assertion rather than as an error in the test itself. The
 * message names the check, the op, the input (index and shape), the Jacobian entry, both values
 * and the step and tolerances used.
 */
public class GradCheckException extends AssertionError {
    public GradCheckException(String message) {
        super(message, null);
    }
}
