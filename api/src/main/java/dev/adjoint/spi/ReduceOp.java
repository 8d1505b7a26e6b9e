package dev.adjoint.spi;

/**
 * Reductions along a set of axes. {@code SUM} of FLOAT32 accumulates in double; {@code SUM} also takes
 * INT64 input (a count of a comparison's 0/1 result) and sums it exactly, in long arithmetic that wraps
 * on overflow as torch's int64 sum does. {@code MAX} and {@code MIN} take floating input only.
 */
public enum ReduceOp {
    SUM, MAX, MIN
}
