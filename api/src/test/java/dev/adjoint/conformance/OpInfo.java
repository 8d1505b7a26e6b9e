package dev.adjoint.conformance;

import dev.adjoint.Tensor;
import dev.adjoint.TensorFactory;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.function.BiFunction;
import java.util.function.Function;
import java.util.function.UnaryOperator;

/**
 * One catalogue entry: an op, the inputs it is exercised with, its tolerances and its error cases.
 * Every generic check (forward against the reference, gradcheck, gradgradcheck, FLOAT32 against
 * FLOAT64, errors) is driven from these entries, so adding an op means adding one entry.
 */
public final class OpInfo {
    /** A set of inputs for one run of the op. */
    public record Sample(List<InputSpec> inputs) {
        /** Whether an input has {@link InputSpec#tiny()} magnitudes, so results are compared in ulps. */
        boolean tinyMagnitudes() {
            return inputs.stream().anyMatch(in -> in.tiny);
        }

        @Override
        public String toString() {
            return inputs.toString();
        }
    }

    /** Inputs that must make the op fail with {@code type} and a message containing {@code messagePart}. */
    public record ErrorCase(String description, Function<TensorFactory, Tensor> call,
                            Class<? extends Throwable> type, String messagePart) {
    }

    final String name;
    /** The op itself: what the coverage table traces. */
    final Function<List<Tensor>, Tensor> op;
    /** Applied to the op's output before the checks (see {@link #then}); null for none. */
    BiFunction<Tensor, List<Tensor>, Tensor> after;
    final Set<String> covers;
    final List<Sample> samples = new ArrayList<>();
    final List<ErrorCase> errors = new ArrayList<>();
    boolean differentiable = true;
    boolean secondOrder = true;
    double atol32 = 1e-5;
    double rtol32 = 1e-4;
    double atol64 = 1e-12;
    double rtol64 = 1e-10;

    private OpInfo(String name, Set<String> covers, Function<List<Tensor>, Tensor> op) {
        this.name = name;
        this.covers = covers;
        this.op = op;
    }

    /** An entry named {@code name} that covers the api methods of the same name. */
    public static OpInfo op(String name, Function<List<Tensor>, Tensor> op) {
        return new OpInfo(name, Set.of(name), op);
    }

    /** An entry covering api methods with other names than its own (e.g. "add(scalar)" covers "add"). */
    public static OpInfo op(String name, Set<String> covers, Function<List<Tensor>, Tensor> op) {
        return new OpInfo(name, covers, op);
    }

    /**
     * Checks {@code after(op(inputs))} rather than the op's output alone: a nonlinear function of a
     * linear op's result ({@code .square()} after a view) makes its second derivative depend on the input,
     * so gradgradcheck has something to check. The op stays separate so the coverage table sees only it.
     */
    public OpInfo then(UnaryOperator<Tensor> after) {
        return then((out, inputs) -> after.apply(out));
    }

    /** {@link #then(UnaryOperator)} with the op's inputs at hand. */
    public OpInfo then(BiFunction<Tensor, List<Tensor>, Tensor> after) {
        this.after = after;
        return this;
    }

    /** The op followed by its {@link #then} function: what every check runs. */
    Tensor apply(List<Tensor> inputs) {
        Tensor out = op.apply(inputs);
        return after == null ? out : after.apply(out, inputs);
    }

    public OpInfo sample(InputSpec... inputs) {
        samples.add(new Sample(Arrays.asList(inputs)));
        return this;
    }

    public OpInfo error(String description, Function<TensorFactory, Tensor> call, Class<? extends Throwable> type,
                        String messagePart) {
        errors.add(new ErrorCase(description, call, type, messagePart));
        return this;
    }

    /** Piecewise constant outputs (comparisons, sign): no gradient to check. */
    public OpInfo notDifferentiable() {
        differentiable = false;
        secondOrder = false;
        return this;
    }

    public OpInfo tolerance32(double atol, double rtol) {
        atol32 = atol;
        rtol32 = rtol;
        return this;
    }

    public OpInfo tolerance64(double atol, double rtol) {
        atol64 = atol;
        rtol64 = rtol;
        return this;
    }

    @Override
    public String toString() {
        return name;
    }
}
