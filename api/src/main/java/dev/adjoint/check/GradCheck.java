package dev.adjoint.check;

import dev.adjoint.DType;
import dev.adjoint.Generator;
import dev.adjoint.Shape;
import dev.adjoint.Tensor;
import dev.adjoint.autograd.Autograd;
import dev.adjoint.autograd.ForwardAD;
import dev.adjoint.autograd.GradMode;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;
import java.util.function.IntFunction;

/**
 * Checks reverse-mode gradients against finite differences, like {@code torch.autograd.gradcheck}
 * and {@code gradgradcheck}. Works on any backend: perturbed inputs are built from the inputs'
 * values with {@code Tensor.on(input.backend()).fromArray(...)}, in each input's own dtype.
 *
 * <p>The function under test maps a list of tensors to one tensor of any shape. Only inputs with
 * {@link Tensor#requiresGrad()} are differentiated; the others (INT64 indices, masks, constants) are
 * passed through unchanged. Analytic gradients come from {@link Autograd#grad}, never from
 * {@code backward()}, so the inputs' {@code grad} fields are left untouched. The function is
 * evaluated with grad mode on (also for finite differences), so it may itself differentiate.
 *
 * <p>An analytic entry {@code a} matches its finite-difference estimate {@code n} when
 * {@code |a - n| <= atol + rtol * |n|}.
 *
 * <p><b>Why central differences, and why {@code eps = 1e-6} in FLOAT64.</b> A finite difference has
 * two errors. Truncation: the forward difference {@code (f(x+h) - f(x)) / h} is off by about
 * {@code |f''| h / 2}, the central difference {@code (f(x+h) - f(x-h)) / 2h} only by
 * {@code |f'''| h^2 / 6}, because the even terms of the Taylor series cancel. Rounding: each
 * evaluation of {@code f} carries a relative error of a few ulp (2.2e-16 in FLOAT64), which the
 * division by {@code h} amplifies to about {@code |f| ulp / h}. The total is smallest near
 * {@code h ~ ulp^(1/3) ~ 6e-6} for central differences; with {@code h = 1e-6} truncation is about
 * 1e-12 and rounding about 1e-10 per unit of {@code |f|}, five orders below the default
 * {@code atol = 1e-5}, which leaves room for composite ops whose own rounding is many ulp. A forward
 * difference cannot do better than about {@code sqrt(ulp) ~ 1e-8}, and at {@code h = 1e-6} it is off
 * by {@code 5e-7 |f''|}: close enough to the tolerance to make checks flaky. In FLOAT32
 * ({@code ulp ~ 1.2e-7}) use {@code eps ~ 1e-3} and tolerances around 1e-2.
 */
public final class GradCheck {
    /**
     * Above this many Jacobian entries a failed directional check does not compute the full
     * Jacobian of the failing input to name the wrong entry: fast mode exists for inputs where that
     * would take too long.
     */
    private static final long LOCATE_LIMIT = 1L << 16;

    private GradCheck() {
    }

    /** How {@link #numericalJacobian} differences: forward has error O(eps), central O(eps^2). */
    public enum Difference { FORWARD, CENTRAL }

    /**
     * Step, tolerances and seed of a check.
     *
     * @param eps      finite-difference step (in the input's own units)
     * @param atol     absolute tolerance
     * @param rtol     tolerance relative to the finite-difference value
     * @param seed     seeds the random directions, cotangents and second-order {@code v}
     * @param fastMode whether {@link #gradcheck} runs the directional check instead of the full Jacobian
     */
    public record Options(double eps, double atol, double rtol, long seed, boolean fastMode) {
        public Options {
            if (!(eps > 0) || Double.isInfinite(eps)) {
                throw new IllegalArgumentException("GradCheck.Options: eps must be positive and finite, got " + eps);
            }
            if (!(atol >= 0) || Double.isInfinite(atol)) {
                throw new IllegalArgumentException("GradCheck.Options: atol must be >= 0 and finite, got " + atol);
            }
            if (!(rtol >= 0) || Double.isInfinite(rtol)) {
                throw new IllegalArgumentException("GradCheck.Options: rtol must be >= 0 and finite, got " + rtol);
            }
        }

        /** eps 1e-6, atol 1e-5, rtol 1e-3, seed 0, full Jacobian: suited to FLOAT64 inputs. */
        public static Options defaults() {
            return new Options(1e-6, 1e-5, 1e-3, 0L, false);
        }

        public Options withEps(double newEps) {
            return new Options(newEps, atol, rtol, seed, fastMode);
        }

        public Options withAtol(double newAtol) {
            return new Options(eps, newAtol, rtol, seed, fastMode);
        }

        public Options withRtol(double newRtol) {
            return new Options(eps, atol, newRtol, seed, fastMode);
        }

        public Options withSeed(long newSeed) {
            return new Options(eps, atol, rtol, newSeed, fastMode);
        }

        public Options withFastMode(boolean newFastMode) {
            return new Options(eps, atol, rtol, seed, newFastMode);
        }

        private String describe(String method) {
            return "eps=" + eps + " (" + method + "), atol=" + atol + ", rtol=" + rtol;
        }
    }

    // ---- Jacobians ------------------------------------------------------------------------------

    /**
     * The Jacobian by finite differences: {@code result[i]} is a matrix
     * {@code [numel(output)][numel(input i)]} for each input that requires grad, {@code null} for the
     * others. Row-major element order on both sides.
     */
    public static double[][][] numericalJacobian(Function<List<Tensor>, Tensor> f, List<Tensor> inputs,
                                                 double eps, Difference difference) {
        Objects.requireNonNull(f, "numericalJacobian: f");
        Objects.requireNonNull(inputs, "numericalJacobian: inputs");
        Objects.requireNonNull(difference, "numericalJacobian: difference");
        if (!(eps > 0) || Double.isInfinite(eps)) {
            throw new IllegalArgumentException("numericalJacobian: eps must be positive and finite, got " + eps);
        }
        return numericalJacobian(Subject.of("numericalJacobian", "f", inputs), f, inputs, eps, difference,
                differentiable(inputs));
    }

    /**
     * The Jacobian from reverse mode, in the layout of {@link #numericalJacobian}: one
     * {@link Autograd#grad} per output element, with a one-hot cotangent and {@code retainGraph}.
     * An input the output does not depend on gets a zero matrix.
     */
    public static double[][][] analyticalJacobian(Function<List<Tensor>, Tensor> f, List<Tensor> inputs) {
        Objects.requireNonNull(f, "analyticalJacobian: f");
        Objects.requireNonNull(inputs, "analyticalJacobian: inputs");
        return analyticalJacobian(Subject.of("analyticalJacobian", "f", inputs), f, inputs, differentiable(inputs))
                .entries();
    }

    // ---- checks ---------------------------------------------------------------------------------------

    /**
     * Compares the analytic Jacobian of every input that requires grad with central finite
     * differences (or runs {@link #directionalCheck} when {@code options.fastMode()}). Also checks
     * that two backward passes give the same Jacobian. Returns normally on success.
     *
     * @throws GradCheckException naming the input, the Jacobian entry and both values on a mismatch
     */
    public static void gradcheck(String name, Function<List<Tensor>, Tensor> f, List<Tensor> inputs,
                                 Options options) {
        Subject subject = Subject.of("gradcheck", name, inputs);
        validate(subject, f, inputs, options);
        if (options.fastMode()) {
            directional(subject, f, inputs, options);
        } else {
            fullJacobian(subject, f, inputs, options);
        }
    }

    /**
     * The fast check: for each input that requires grad, a direction {@code delta} of unit length
     * and a random unit output cotangent {@code u} (both seeded); compares {@code u^T J delta}
     * computed as {@code <vjp(u), delta>} with
     * {@code (u . f(x + eps delta) - u . f(x - eps delta)) / (2 eps)}. Costs one backward and two
     * forwards per input instead of one backward per output element and two forwards per input
     * element. On a mismatch of a small enough input it computes that input's full Jacobian to
     * name the wrong entry.
     *
     * <p>The direction is drawn uniformly from the unit sphere, the surface of the unit ball: a
     * radius near zero, likely for the solid ball in low dimensions, would shrink both sides below
     * {@code atol} and let a wrong gradient pass.
     */
    public static void directionalCheck(String name, Function<List<Tensor>, Tensor> f, List<Tensor> inputs,
                                        Options options) {
        Subject subject = Subject.of("directionalCheck", name, inputs);
        validate(subject, f, inputs, options);
        directional(subject, f, inputs, options);
    }

    /**
     * The second-order check: {@link #gradcheck} (full or, with {@code fastMode}, directional) of
     * {@code (inputs..., v) -> vjp of f at inputs with cotangent v}, computed with
     * {@code createGraph=true} so the backward formulas are themselves differentiated. {@code v} is a
     * seeded standard normal tensor of f's output shape and dtype that requires grad; the vjp's
     * gradients (zeros where f does not use an input) are flattened and concatenated into one output.
     */
    public static void gradgradcheck(String name, Function<List<Tensor>, Tensor> f, List<Tensor> inputs,
                                     Options options) {
        Subject first = Subject.of("gradgradcheck", name, inputs);
        validate(first, f, inputs, options);
        Tensor output;
        try (GradMode.Scope scope = GradMode.enable()) {
            output = checkedOutput(first, f.apply(inputs));
        }
        int[] positions = positions(differentiable(inputs));
        // A stream split off the seed, so v is independent of the directions the inner check draws.
        Generator generator = new Generator(options.seed()).split();
        double[] values = new double[output.numel()];
        for (int k = 0; k < values.length; k++) {
            values[k] = generator.nextGaussian();
        }
        Tensor v = Tensor.on(output.backend()).fromArray(values, output.dtype(), output.shape().toArray())
                .requiresGrad(true);
        List<Tensor> extended = new ArrayList<>(inputs);
        extended.add(v);

        Subject second = Subject.secondOrder(name, inputs, positions);
        Function<List<Tensor>, Tensor> vjp = vectorJacobianProduct(f, positions, inputs.size());
        if (options.fastMode()) {
            directional(second, vjp, extended, options);
        } else {
            fullJacobian(second, vjp, extended, options);
        }
    }

    /**
     * The forward-mode check, the counterpart of {@link #directionalCheck} for JVP rules. For a seeded
     * random direction {@code v} of unit length over all inputs that require grad, it compares
     * <ul>
     *   <li>the JVP {@code J v}, computed in one forward pass with dual tensors ({@link ForwardAD}), entry
     *       by entry with the central difference {@code (f(x + eps v) - f(x - eps v)) / (2 eps)};</li>
     *   <li>{@code <u, J v>} (forward mode) with {@code <J^T u, v>} (reverse mode) for a seeded random unit
     *       cotangent {@code u}: the two modes must be transposes of each other (the dot-product test).</li>
     * </ul>
     * A wrong JVP rule fails the first; a JVP and a VJP that disagree fail the second even where finite
     * differences are too coarse to see it.
     *
     * @throws GradCheckException naming the output element or the two inner products on a mismatch
     */
    public static void jvpcheck(String name, Function<List<Tensor>, Tensor> f, List<Tensor> inputs, Options options) {
        Subject subject = Subject.of("jvpcheck", name, inputs);
        validate(subject, f, inputs, options);
        boolean[] which = differentiable(inputs);
        int[] positions = positions(which);
        Generator generator = new Generator(options.seed());
        double eps = options.eps();

        int total = 0;
        for (int i : positions) {
            total += inputs.get(i).numel();
        }
        double[] direction = unitVector(generator, total);
        List<Tensor> plus = new ArrayList<>(inputs);
        List<Tensor> minus = new ArrayList<>(inputs);
        List<Tensor> tangents = new ArrayList<>(Collections.nCopies(inputs.size(), null));
        int at = 0;
        for (int i : positions) {
            Tensor x = inputs.get(i);
            double[] base = x.toDoubleArray();
            double[] up = new double[base.length];
            double[] down = new double[base.length];
            // The direction actually taken after rounding to the input's dtype, as in directionalCheck.
            double[] taken = new double[base.length];
            for (int j = 0; j < base.length; j++) {
                double d = direction[at + j];
                up[j] = roundTo(x.dtype(), base[j] + eps * d);
                down[j] = roundTo(x.dtype(), base[j] - eps * d);
                taken[j] = (up[j] - down[j]) / (2 * eps);
            }
            at += base.length;
            plus.set(i, perturbed(x, up));
            minus.set(i, perturbed(x, down));
            tangents.set(i, Tensor.on(x.backend()).fromArray(taken, x.dtype(), x.shape().toArray()));
        }

        Tensor output;
        double[] jvp;
        try (GradMode.Scope scope = GradMode.enable(); ForwardAD.DualLevel level = ForwardAD.dualLevel()) {
            List<Tensor> duals = new ArrayList<>(inputs);
            for (int i : positions) {
                duals.set(i, ForwardAD.makeDual(inputs.get(i), tangents.get(i)));
            }
            output = checkedOutput(subject, f.apply(duals));
            Tensor tangent = ForwardAD.unpackDual(output).tangent();
            jvp = tangent == null ? new double[output.numel()] : tangent.toDoubleArray();
            if (tangent != null && !tangent.shape().equals(output.shape())) {
                throw new GradCheckException(subject.header() + ": the tangent has shape " + tangent.shape()
                        + " but the output has shape " + output.shape());
            }
        }
        double[] up = evaluate(subject, f, plus, output.numel());
        double[] down = evaluate(subject, f, minus, output.numel());
        for (int k = 0; k < jvp.length; k++) {
            double numerical = (up[k] - down[k]) / (2 * eps);
            double difference = Math.abs(jvp[k] - numerical);
            double allowed = options.atol() + options.rtol() * Math.abs(numerical);
            if (!(difference <= allowed)) {
                throw new GradCheckException(subject.header() + ": the forward-mode tangent J v does not match "
                        + "finite differences at " + subject.outputLabel(output.shape(), k) + " along a random unit "
                        + "direction v over all inputs (seed " + options.seed() + "): JVP " + jvp[k]
                        + ", numerical (f(x + eps v) - f(x - eps v)) / (2 eps) = " + numerical + " (|difference| "
                        + difference + " > atol + rtol * |numerical| = " + allowed + "). "
                        + options.describe("central differences"));
            }
        }

        if (output.numel() == 0) {
            return;
        }
        double[] u = unitVector(generator, output.numel());
        double forward = dot(u, jvp);
        double reverse = 0;
        try (GradMode.Scope scope = GradMode.enable()) {
            Tensor y = checkedOutput(subject, f.apply(inputs));
            if (y.requiresGrad()) {
                List<Tensor> wrt = new ArrayList<>();
                for (int i : positions) {
                    wrt.add(inputs.get(i));
                }
                Tensor cotangent = Tensor.on(y.backend()).fromArray(u, y.dtype(), y.shape().toArray());
                List<Tensor> grads = Autograd.grad(List.of(y), wrt, List.of(cotangent), false, false, true);
                for (int p = 0; p < positions.length; p++) {
                    Tensor g = grads.get(p);
                    if (g != null) {
                        int i = positions[p];
                        reverse += dot(checkedGradient(subject, g, inputs.get(i), i).toDoubleArray(),
                                tangents.get(i).toDoubleArray());
                    }
                }
            }
        }
        double allowed = options.atol() + options.rtol() * Math.max(Math.abs(forward), Math.abs(reverse));
        if (!(Math.abs(forward - reverse) <= allowed)) {
            throw new GradCheckException(subject.header() + ": forward and reverse mode disagree (the dot-product "
                    + "test, seed " + options.seed() + "): <u, J v> from the JVP = " + forward + " but <J^T u, v> "
                    + "from the VJP = " + reverse + " (|difference| " + Math.abs(forward - reverse) + " > " + allowed
                    + "); one of the op's two rules is wrong. " + options.describe("central differences"));
        }
    }

    // ---- the checks themselves ----------------------------------------------------------------------

    private static void fullJacobian(Subject subject, Function<List<Tensor>, Tensor> f, List<Tensor> inputs,
                                     Options options) {
        boolean[] which = differentiable(inputs);
        Jacobians analytic = analyticalJacobian(subject, f, inputs, which);
        // PyTorch's nondeterminism check: a backward whose result moves by more than the tolerance
        // between two identical runs can pass or fail this check by luck, so it is reported on its own.
        Jacobians again = analyticalJacobian(subject, f, inputs, which);
        for (int i : positions(which)) {
            Mismatch m = worstMismatch(again.entries()[i], analytic.entries()[i], options);
            if (m != null) {
                throw new GradCheckException(subject.header() + ": the analytic gradient is not reproducible: two "
                        + "backward passes over the same inputs gave " + m.reference() + " and then " + m.analytic()
                        + " for " + subject.inputLabel().apply(i) + " at input element "
                        + multiIndex(inputs.get(i).shape(), m.inputElement()) + ", "
                        + subject.outputLabel(analytic.outputShape(), m.outputElement())
                        + "; " + m.count() + " of " + m.total() + " entries of this input differ by more than "
                        + "atol + rtol * |value|. " + options.describe("central differences"));
            }
        }
        double[][][] numerical = numericalJacobian(subject, f, inputs, options.eps(), Difference.CENTRAL, which);
        for (int i : positions(which)) {
            Mismatch m = worstMismatch(analytic.entries()[i], numerical[i], options);
            if (m != null) {
                throw new GradCheckException(subject.header() + ": the analytic gradient does not match finite "
                        + "differences for " + subject.inputLabel().apply(i) + " at input element "
                        + describeEntry(subject, inputs.get(i).shape(), analytic.outputShape(), m)
                        + "; " + m.count() + " of " + m.total() + " Jacobian entries of this input are outside "
                        + "the tolerance. " + options.describe("central differences"));
            }
        }
    }

    private static void directional(Subject subject, Function<List<Tensor>, Tensor> f, List<Tensor> inputs,
                                    Options options) {
        boolean[] which = differentiable(inputs);
        int[] positions = positions(which);
        Generator generator = new Generator(options.seed());
        double eps = options.eps();

        Tensor output;
        double[] u;
        List<Tensor> grads;
        try (GradMode.Scope scope = GradMode.enable()) {
            output = checkedOutput(subject, f.apply(inputs));
            u = unitVector(generator, output.numel());
            List<Tensor> wrt = new ArrayList<>();
            for (int i : positions) {
                wrt.add(inputs.get(i));
            }
            if (output.requiresGrad() && output.numel() > 0) {
                Tensor cotangent = Tensor.on(output.backend()).fromArray(u, output.dtype(), output.shape().toArray());
                grads = Autograd.grad(List.of(output), wrt, List.of(cotangent), false, false, true);
            } else {
                // Not connected to any input in the graph: the analytic Jacobian is zero.
                grads = Collections.nCopies(positions.length, null);
            }
        }

        for (int p = 0; p < positions.length; p++) {
            int i = positions[p];
            Tensor x = inputs.get(i);
            double[] delta = unitVector(generator, x.numel());
            double[] base = x.toDoubleArray();
            double[] plus = new double[base.length];
            double[] minus = new double[base.length];
            // The direction actually taken, after rounding to the input's dtype (matters in FLOAT32):
            // the analytic side uses it too, so rounding of x +- eps delta does not count as error.
            double[] taken = new double[base.length];
            for (int j = 0; j < base.length; j++) {
                plus[j] = roundTo(x.dtype(), base[j] + eps * delta[j]);
                minus[j] = roundTo(x.dtype(), base[j] - eps * delta[j]);
                taken[j] = (plus[j] - minus[j]) / (2 * eps);
            }
            Tensor grad = grads.get(p);
            double analytic = grad == null ? 0.0 : dot(checkedGradient(subject, grad, x, i).toDoubleArray(), taken);
            double up = dot(u, evaluate(subject, f, replaced(inputs, i, perturbed(x, plus)), output.numel()));
            double down = dot(u, evaluate(subject, f, replaced(inputs, i, perturbed(x, minus)), output.numel()));
            double numerical = (up - down) / (2 * eps);

            double difference = Math.abs(analytic - numerical);
            double allowed = options.atol() + options.rtol() * Math.abs(numerical);
            if (!(difference <= allowed)) {
                throw new GradCheckException(subject.header() + ": the analytic gradient does not match finite "
                        + "differences for " + subject.inputLabel().apply(i) + " along a random unit direction "
                        + "delta with a random unit output cotangent u (seed " + options.seed() + "): analytic "
                        + "u^T J delta = <vjp(u), delta> = " + analytic + ", numerical (u.f(x + eps delta) - "
                        + "u.f(x - eps delta)) / (2 eps) = " + numerical + " (|difference| " + difference
                        + " > atol + rtol * |numerical| = " + allowed + "); " + locate(subject, f, inputs, i, output,
                        options) + " " + options.describe("directional central difference"));
            }
        }
    }

    /** Names the worst entry of input {@code i}'s full Jacobian, when that is affordable. */
    private static String locate(Subject subject, Function<List<Tensor>, Tensor> f, List<Tensor> inputs, int i,
                                 Tensor output, Options options) {
        Tensor x = inputs.get(i);
        if ((long) x.numel() * output.numel() > LOCATE_LIMIT) {
            return "the Jacobian of this input has " + (long) x.numel() * output.numel() + " entries, too many to "
                    + "locate the wrong one here: rerun with fastMode=false on smaller inputs.";
        }
        boolean[] only = new boolean[inputs.size()];
        only[i] = true;
        Jacobians analytic = analyticalJacobian(subject, f, inputs, only);
        double[][][] numerical = numericalJacobian(subject, f, inputs, options.eps(), Difference.CENTRAL, only);
        Mismatch m = worstMismatch(analytic.entries()[i], numerical[i], options);
        if (m == null) {
            return "yet every entry of the full Jacobian of this input is within the tolerance (the errors cancel "
                    + "less favourably along delta than entry by entry; loosen atol or rtol slightly).";
        }
        return "the full Jacobian of this input is worst at input element "
                + describeEntry(subject, x.shape(), analytic.outputShape(), m)
                + "; " + m.count() + " of " + m.total() + " entries are outside the tolerance.";
    }

    private static String describeEntry(Subject subject, Shape inputShape, Shape outputShape, Mismatch m) {
        return multiIndex(inputShape, m.inputElement()) + ", " + subject.outputLabel(outputShape, m.outputElement())
                + ": analytic " + m.analytic() + ", numerical " + m.reference() + " (|difference| "
                + Math.abs(m.analytic() - m.reference()) + " > atol + rtol * |numerical| = " + m.allowed() + ")";
    }

    // ---- second order -----------------------------------------------------------------------------------

    /**
     * {@code (inputs..., v) -> concat(flatten(dL/dx_i))} with {@code L = <f(inputs), v>}, built with
     * createGraph so that it can be differentiated once more, by gradcheck's own machinery.
     */
    private static Function<List<Tensor>, Tensor> vectorJacobianProduct(Function<List<Tensor>, Tensor> f,
                                                                       int[] positions, int inputCount) {
        return args -> {
            try (GradMode.Scope scope = GradMode.enable()) {
                List<Tensor> xs = args.subList(0, inputCount);
                Tensor v = args.get(inputCount);
                Tensor y = f.apply(xs);
                List<Tensor> wrt = new ArrayList<>();
                for (int i : positions) {
                    wrt.add(xs.get(i));
                }
                List<Tensor> grads = y.requiresGrad()
                        ? Autograd.grad(List.of(y), wrt, List.of(v), true, true, true)
                        : Collections.nCopies(positions.length, null);
                List<Tensor> pieces = new ArrayList<>();
                boolean mixed = false;
                for (int p = 0; p < positions.length; p++) {
                    Tensor x = wrt.get(p);
                    Tensor g = grads.get(p) == null ? x.zerosLike() : grads.get(p);
                    pieces.add(g.reshape(g.numel()));
                    mixed |= g.dtype() != pieces.get(0).dtype();
                }
                if (mixed) {
                    // cat needs one dtype; FLOAT64 holds every floating value exactly.
                    pieces.replaceAll(t -> t.toType(DType.FLOAT64));
                }
                return pieces.size() == 1 ? pieces.get(0) : Tensor.cat(pieces, 0);
            }
        };
    }

    // ---- Jacobian computation --------------------------------------------------------------------------

    /** An analytic Jacobian and the shape of the output it was computed for (to name output elements). */
    private record Jacobians(double[][][] entries, Shape outputShape) {
    }

    private static Jacobians analyticalJacobian(Subject subject, Function<List<Tensor>, Tensor> f,
                                                List<Tensor> inputs, boolean[] which) {
        // Forced on so that a check called inside a noGrad scope still sees a graph.
        try (GradMode.Scope scope = GradMode.enable()) {
            Tensor y = checkedOutput(subject, f.apply(inputs));
            int[] positions = positions(which);
            double[][][] jacobian = new double[inputs.size()][][];
            List<Tensor> wrt = new ArrayList<>();
            for (int i : positions) {
                jacobian[i] = new double[y.numel()][inputs.get(i).numel()];
                wrt.add(inputs.get(i));
            }
            if (wrt.isEmpty() || !y.requiresGrad()) {
                return new Jacobians(jacobian, y.shape());
            }
            double[] oneHot = new double[y.numel()];
            for (int k = 0; k < oneHot.length; k++) {
                oneHot[k] = 1.0;
                Tensor cotangent = Tensor.on(y.backend()).fromArray(oneHot, y.dtype(), y.shape().toArray());
                oneHot[k] = 0.0;
                List<Tensor> grads = Autograd.grad(List.of(y), wrt, List.of(cotangent), true, false, true);
                for (int p = 0; p < positions.length; p++) {
                    int i = positions[p];
                    Tensor g = grads.get(p);
                    if (g != null) {
                        jacobian[i][k] = checkedGradient(subject, g, inputs.get(i), i).toDoubleArray();
                    }
                }
            }
            return new Jacobians(jacobian, y.shape());
        }
    }

    private static double[][][] numericalJacobian(Subject subject, Function<List<Tensor>, Tensor> f,
                                                  List<Tensor> inputs, double eps, Difference difference,
                                                  boolean[] which) {
        double[] atX = evaluate(subject, f, inputs, -1);
        double[][][] jacobian = new double[inputs.size()][][];
        for (int i : positions(which)) {
            Tensor x = inputs.get(i);
            double[] values = x.toDoubleArray();
            double[][] matrix = new double[atX.length][values.length];
            for (int j = 0; j < values.length; j++) {
                double original = values[j];
                // Divide by the step actually taken: x + eps rounds to the input's dtype, and in
                // FLOAT32 the rounding is a sizeable fraction of eps.
                double upper = roundTo(x.dtype(), original + eps);
                double lower = difference == Difference.CENTRAL ? roundTo(x.dtype(), original - eps) : original;
                double step = upper - lower;
                if (step == 0) {
                    throw new IllegalArgumentException(subject.header() + ": eps=" + eps + " is below the resolution of "
                            + x.dtype() + " at value " + original + " (input " + i + ", shape " + x.shape()
                            + ", element " + multiIndex(x.shape(), j) + "); use a larger eps");
                }
                values[j] = upper;
                double[] fUpper = evaluate(subject, f, replaced(inputs, i, perturbed(x, values)), atX.length);
                double[] fLower = atX;
                if (difference == Difference.CENTRAL) {
                    values[j] = lower;
                    fLower = evaluate(subject, f, replaced(inputs, i, perturbed(x, values)), atX.length);
                }
                values[j] = original;
                for (int k = 0; k < atX.length; k++) {
                    matrix[k][j] = (fUpper[k] - fLower[k]) / step;
                }
            }
            jacobian[i] = matrix;
        }
        return jacobian;
    }

    /** f at {@code args} as doubles; {@code expectedNumel < 0} accepts any size. */
    private static double[] evaluate(Subject subject, Function<List<Tensor>, Tensor> f, List<Tensor> args,
                                     int expectedNumel) {
        Tensor y = checkedOutput(subject, f.apply(args));
        if (expectedNumel >= 0 && y.numel() != expectedNumel) {
            throw new IllegalStateException(subject.header() + ": the function returned " + y.numel()
                    + " elements (shape " + y.shape() + ") at a perturbed input but " + expectedNumel
                    + " at the original inputs; its output shape must not depend on input values");
        }
        return y.toDoubleArray();
    }

    /** A fresh leaf with {@code values}, x's backend, dtype and shape, requiring grad when x does. */
    private static Tensor perturbed(Tensor x, double[] values) {
        Tensor copy = Tensor.on(x.backend()).fromArray(values, x.dtype(), x.shape().toArray());
        return x.requiresGrad() ? copy.requiresGrad(true) : copy;
    }

    private static List<Tensor> replaced(List<Tensor> inputs, int i, Tensor replacement) {
        List<Tensor> copy = new ArrayList<>(inputs);
        copy.set(i, replacement);
        return copy;
    }

    private static double roundTo(DType dtype, double value) {
        return dtype == DType.FLOAT32 ? (double) (float) value : value;
    }

    // ---- comparison ----------------------------------------------------------------------------------------

    /** The entry of largest excess over the tolerance, and how many entries exceed it. */
    private record Mismatch(int outputElement, int inputElement, double analytic, double reference, double allowed,
                            int count, long total) {
    }

    /** Compares {@code actual} with {@code reference} entry by entry; {@code null} when all match. */
    private static Mismatch worstMismatch(double[][] actual, double[][] reference, Options options) {
        Mismatch worst = null;
        double worstExcess = Double.NEGATIVE_INFINITY;
        int count = 0;
        long total = 0;
        for (int k = 0; k < reference.length; k++) {
            for (int j = 0; j < reference[k].length; j++) {
                total++;
                double a = actual[k][j];
                double n = reference[k][j];
                double allowed = options.atol() + options.rtol() * Math.abs(n);
                double difference = Math.abs(a - n);
                if (!(difference <= allowed)) {
                    count++;
                    double excess = Double.isNaN(difference) ? Double.POSITIVE_INFINITY : difference - allowed;
                    if (worst == null || excess > worstExcess) {
                        worstExcess = excess;
                        worst = new Mismatch(k, j, a, n, allowed, 0, 0);
                    }
                }
            }
        }
        return worst == null ? null : new Mismatch(worst.outputElement(), worst.inputElement(), worst.analytic(),
                worst.reference(), worst.allowed(), count, total);
    }

    private static double dot(double[] a, double[] b) {
        double sum = 0;
        for (int i = 0; i < a.length; i++) {
            sum += a[i] * b[i];
        }
        return sum;
    }

    /** Uniform on the unit sphere: normalised standard normal draws, which are rotation invariant. */
    private static double[] unitVector(Generator generator, int n) {
        double[] v = new double[n];
        if (n == 0) {
            return v;
        }
        double norm;
        do {
            for (int i = 0; i < n; i++) {
                v[i] = generator.nextGaussian();
            }
            norm = Math.sqrt(dot(v, v));
        } while (norm == 0);
        for (int i = 0; i < n; i++) {
            v[i] /= norm;
        }
        return v;
    }

    // ---- validation and naming ------------------------------------------------------------------------------

    /** What a message says about the function being checked and its inputs and output elements. */
    private record Subject(String header, IntFunction<String> inputLabel, OutputNaming outputNaming) {
        static Subject of(String check, String name, List<Tensor> inputs) {
            return new Subject(check + " of '" + name + "'", i -> describeInput(inputs, i),
                    (shape, k) -> "output element " + multiIndex(shape, k));
        }

        static Subject secondOrder(String name, List<Tensor> inputs, int[] positions) {
            String header = "gradgradcheck of '" + name + "' (the second-order check: a gradcheck of (inputs..., v) "
                    + "-> vjp of '" + name + "' at the inputs with cotangent v, built with createGraph=true)";
            IntFunction<String> inputLabel = i -> i < inputs.size() ? describeInput(inputs, i)
                    : "input " + i + ", the cotangent v";
            OutputNaming outputNaming = (shape, k) -> {
                int offset = k;
                for (int i : positions) {
                    Shape s = inputs.get(i).shape();
                    if (offset < s.numel()) {
                        return "output element [" + k + "] (the vjp's gradient for input " + i + " at element "
                                + multiIndex(s, offset) + ")";
                    }
                    offset -= s.numel();
                }
                return "output element [" + k + "]";
            };
            return new Subject(header, inputLabel, outputNaming);
        }

        String outputLabel(Shape outputShape, int element) {
            return outputNaming.describe(outputShape, element);
        }
    }

    @FunctionalInterface
    private interface OutputNaming {
        String describe(Shape outputShape, int element);
    }

    private static String describeInput(List<Tensor> inputs, int i) {
        Tensor x = inputs.get(i);
        return "input " + i + " (shape " + x.shape() + ", " + x.dtype() + ")";
    }

    private static void validate(Subject subject, Function<List<Tensor>, Tensor> f, List<Tensor> inputs,
                                 Options options) {
        Objects.requireNonNull(f, () -> subject.header() + ": f is null");
        Objects.requireNonNull(inputs, () -> subject.header() + ": inputs is null");
        Objects.requireNonNull(options, () -> subject.header() + ": options is null (use Options.defaults())");
        Map<Tensor, Integer> seen = new IdentityHashMap<>();
        for (int i = 0; i < inputs.size(); i++) {
            Tensor x = Objects.requireNonNull(inputs.get(i), subject.header() + ": input " + i + " is null");
            Integer earlier = seen.put(x, i);
            if (earlier != null && x.requiresGrad()) {
                // Perturbing one position would not move the other, while autograd credits the
                // whole gradient to one tensor: the two Jacobians could never agree.
                throw new IllegalArgumentException(subject.header() + ": inputs " + earlier + " and " + i
                        + " are the same tensor (shape " + x.shape() + "); pass it once, or pass a copy");
            }
        }
        if (positions(differentiable(inputs)).length == 0) {
            throw new IllegalArgumentException(subject.header() + ": no input requires grad, so there is nothing to "
                    + "check; call requiresGrad(true) on the inputs to differentiate (inputs: " + shapes(inputs) + ")");
        }
    }

    private static Tensor checkedOutput(Subject subject, Tensor y) {
        if (y == null) {
            throw new IllegalArgumentException(subject.header() + ": the function returned null");
        }
        if (!y.dtype().isFloatingPoint()) {
            throw new IllegalArgumentException(subject.header() + ": the function returned a " + y.dtype()
                    + " tensor of shape " + y.shape() + "; only FLOAT32 or FLOAT64 outputs can be differentiated");
        }
        return y;
    }

    private static Tensor checkedGradient(Subject subject, Tensor grad, Tensor x, int i) {
        if (!grad.shape().equals(x.shape()) || grad.dtype() != x.dtype()) {
            throw new GradCheckException(subject.header() + ": the gradient of " + subject.inputLabel().apply(i)
                    + " has shape " + grad.shape() + " and dtype " + grad.dtype()
                    + "; a gradient must have its input's shape and dtype");
        }
        return grad;
    }

    private static boolean[] differentiable(List<Tensor> inputs) {
        boolean[] which = new boolean[inputs.size()];
        for (int i = 0; i < which.length; i++) {
            which[i] = inputs.get(i).requiresGrad();
        }
        return which;
    }

    private static int[] positions(boolean[] which) {
        int count = 0;
        for (boolean b : which) {
            count += b ? 1 : 0;
        }
        int[] positions = new int[count];
        int p = 0;
        for (int i = 0; i < which.length; i++) {
            if (which[i]) {
                positions[p++] = i;
            }
        }
        return positions;
    }

    private static String shapes(List<Tensor> inputs) {
        List<String> parts = new ArrayList<>();
        for (Tensor x : inputs) {
            parts.add(x.shape() + " " + x.dtype());
        }
        return String.join(", ", parts);
    }

    /** Row-major flat index to a multi-index such as {@code [1, 2]} ({@code []} for a 0-d tensor). */
    static String multiIndex(Shape shape, int flat) {
        int[] dims = shape.toArray();
        int[] index = new int[dims.length];
        for (int d = dims.length - 1; d >= 0; d--) {
            index[d] = flat % dims[d];
            flat /= dims[d];
        }
        return Arrays.toString(index);
    }
}
