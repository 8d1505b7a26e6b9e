package dev.adjoint.spi;

/**
 * Running reductions along the last dimension ({@link Backend#scan}): element {@code k} of a row is
 * the sum ({@code SUM}) or product ({@code PROD}) of its elements {@code 0..k}, or {@code k..n-1} when
 * reversed. Floating dtypes; FLOAT32 should accumulate in double, as the reference does.
 */
public enum ScanOp {
    SUM, PROD
}
