package dev.adjoint.autograd;

/** A backward pass reached a node whose saved tensors were freed by an earlier backward. */
public class GraphFreedException extends IllegalStateException {
    public GraphFreedException(String message) {
        super(message);
    }
}
