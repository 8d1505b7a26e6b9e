package dev.adjoint.spi;

/** Elementwise primitives of one input. Each maps a floating-point element to one of the same dtype. */
public enum UnaryOp {
    NEG, EXP, LOG, LOG1P, SQRT, SQUARE, ABS, SIGN, SIN, COS, TANH, SIGMOID, RELU, ERF
}
