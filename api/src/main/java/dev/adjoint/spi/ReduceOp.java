package dev.adjoint.spi;

/** Reductions along a set of axes. {@code SUM} of FLOAT32 accumulates in double. */
public enum ReduceOp {
    SUM, MAX, MIN
}
