package dev.adjoint.autograd;

import dev.adjoint.Tensor;

import java.util.function.BiFunction;
import java.util.function.UnaryOperator;

/**
 * A partial derivative of an elementwise primitive, as the formula that multiplies a vector by it.
 * An elementwise function's Jacobian is diagonal, hence its own transpose, so this one formula is
 * both the op's JVP (applied to a tangent) and its VJP (applied to a cotangent): forward and reverse
 * mode cannot drift apart. Formulas are written with differentiable Tensor ops, so every derivative
 * can be differentiated again.
 *
 * <p>It also says what the formula reads — the inputs, the output, or neither — so the op saves only
 * that for backward (PyTorch's {@code self} / {@code result} formulas).
 */
public final class Derivative {
    /** {@code v} times the partial derivative, from the inputs {@code a}, {@code b} and output {@code y}. */
    @FunctionalInterface
    public interface Formula {
        Tensor times(Tensor v, Tensor a, Tensor b, Tensor y);
    }

    private static final Derivative ZERO = new Derivative(false, false, (v, a, b, y) -> v.zerosLike());

    private final boolean readsInputs;
    private final boolean readsOutput;
    private final Formula formula;

    private Derivative(boolean readsInputs, boolean readsOutput, Formula formula) {
        this.readsInputs = readsInputs;
        this.readsOutput = readsOutput;
        this.formula = formula;
    }

    /** A derivative that does not depend on the point (add, sub, neg): {@code v -> linear(v)}. */
    public static Derivative linear(UnaryOperator<Tensor> formula) {
        return new Derivative(false, false, (v, a, b, y) -> formula.apply(v));
    }

    /** Zero everywhere it exists (sign): the gradient and the tangent are zeros. */
    public static Derivative zero() {
        return ZERO;
    }

    /** A derivative of a unary op from its input {@code x}: {@code (v, x) -> ...}. */
    public static Derivative ofInput(BiFunction<Tensor, Tensor, Tensor> formula) {
        return new Derivative(true, false, (v, a, b, y) -> formula.apply(v, a));
    }

    /** A derivative of a unary op from its output {@code y} (exp, tanh, sigmoid): {@code (v, y) -> ...}. */
    public static Derivative ofOutput(BiFunction<Tensor, Tensor, Tensor> formula) {
        return new Derivative(false, true, (v, a, b, y) -> formula.apply(v, y));
    }

    /** A partial derivative of a binary op from both inputs: {@code (v, a, b) -> ...}. */
    public static Derivative ofInputs(TernaryFormula formula) {
        return new Derivative(true, false, (v, a, b, y) -> formula.times(v, a, b));
    }

    /** A partial derivative of a binary op from both inputs and the output: {@code (v, a, b, y) -> ...}. */
    public static Derivative ofInputsAndOutput(Formula formula) {
        return new Derivative(true, true, formula);
    }

    @FunctionalInterface
    public interface TernaryFormula {
        Tensor times(Tensor v, Tensor a, Tensor b);
    }

    public boolean readsInputs() {
        return readsInputs;
    }

    public boolean readsOutput() {
        return readsOutput;
    }

    /** {@code v} times this partial derivative at inputs {@code a} (and {@code b}) with output {@code y}. */
    public Tensor times(Tensor v, Tensor a, Tensor b, Tensor y) {
        return formula.times(v, a, b, y);
    }
}
