package dev.adjoint.spi;

/**
 * Elementwise primitives of two inputs of the same dtype. Comparisons write 1 where the relation
 * holds and 0 elsewhere, in the inputs' dtype; they also take INT64 inputs, which they compare
 * exactly as longs (not through double, which would merge neighbours above 2^53). The other ops take
 * floating inputs only. {@code MAX}/{@code MIN} propagate NaN as PyTorch's
 * {@code maximum}/{@code minimum} do.
 */
public enum BinaryOp {
    ADD, SUB, MUL, DIV, MAX, MIN, POW, GT, LT, GE, LE, EQ;

    public boolean isComparison() {
        return ordinal() >= GT.ordinal();
    }
}
