package dev.adjoint.conformance;

import dev.adjoint.DType;
import dev.adjoint.Generator;
import dev.adjoint.MemoryScope;
import dev.adjoint.Shape;
import dev.adjoint.Tensor;
import dev.adjoint.autograd.Autograd;
import dev.adjoint.backend.Backends;
import dev.adjoint.conformance.ProgramGenome.InputGene;
import dev.adjoint.conformance.ProgramGenome.StepGene;
import dev.adjoint.conformance.ProgramOps.Step;
import dev.adjoint.conformance.ProgramOps.Value;
import dev.adjoint.spi.Backend;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A random program read from a {@link ProgramGenome}: leaves seen through views, then steps, each a
 * Tensor op on earlier values; its output is the last value. {@link #check} runs it on a backend in
 * FLOAT64 and FLOAT32 and compares the output and the gradient of every leaf (a vector-Jacobian
 * product with a seeded cotangent) with the scalar backend's FLOAT64 result on the same input values.
 *
 * <p>The program is built by running it on the reference as it grows: a step whose value is not
 * finite or exceeds {@link #MAGNITUDE}, or that would make a tensor larger than {@link #MAX_NUMEL}, is
 * left out, as are steps outside their op's guard (see {@link ProgramOps}). So every program is one
 * where FLOAT32 can be held to the FLOAT64 reference at a fixed tolerance.
 */
final class Program {
    /** The largest magnitude a value may reach: keeps FLOAT32 round-off (relative 6e-8) far below the tolerance. */
    static final double MAGNITUDE = 100;
    static final int MAX_NUMEL = 1 << 16;
    private static final double LEAF_LOW = -2;
    private static final double LEAF_HIGH = 2;

    /** A leaf: the shape the program sees, the view it sees it through, and the stored leaf's values. */
    record Input(Shape shape, int view, Shape leafShape, double[] leafValues) {
        Tensor view(Tensor leaf) {
            int r = shape.rank();
            return switch (view) {
                case 1 -> leaf.transpose(-1, -2);
                case 2 -> leaf.narrow(-1, 1, shape.dim(r - 1));
                case 3 -> leaf.expand(shape.toArray());
                default -> leaf;
            };
        }

        String describe(int id) {
            String seen = "v" + id + " " + shape;
            String how = switch (view) {
                case 1 -> ", the transpose(-1, -2) of a " + leafShape + " leaf";
                case 2 -> ", narrow(-1, 1, " + shape.dim(shape.rank() - 1) + ") of a " + leafShape + " leaf";
                case 3 -> ", expand" + shape + " of a " + leafShape + " leaf";
                default -> "";
            };
            String values = leafValues.length <= 16 ? " = " + Arrays.toString(leafValues) : "";
            return seen + how + values;
        }
    }

    private final ProgramGenome genome;
    private final List<Input> inputs;
    private final List<Step> steps;
    /** The op of each step, for the summary of what the programs covered. */
    private final List<String> ops;

    private Program(ProgramGenome genome, List<Input> inputs, List<Step> steps, List<String> ops) {
        this.genome = genome;
        this.inputs = inputs;
        this.steps = steps;
        this.ops = ops;
    }

    static Program build(ProgramGenome genome) {
        Backend reference = Backends.get(OpConformance.REFERENCE);
        Generator gen = new Generator(genome.seed());
        List<Input> inputs = new ArrayList<>();
        for (InputGene gene : genome.inputs()) {
            inputs.add(input(gene, gen));
        }
        List<Value> values = new ArrayList<>();
        List<Tensor> refs = new ArrayList<>();
        for (Input in : inputs) {
            Tensor leaf = Tensor.on(reference).fromArray(in.leafValues(), DType.FLOAT64, in.leafShape().toArray());
            Tensor seen = in.view(leaf);
            values.add(new Value(values.size(), seen));
            refs.add(seen);
        }
        List<Step> steps = new ArrayList<>();
        List<String> ops = new ArrayList<>();
        for (StepGene gene : genome.steps()) {
            ProgramOps.Op op = ProgramOps.ALL.get(Math.floorMod(gene.op(), ProgramOps.ALL.size()));
            Step step = op.build(values, gene);
            if (step == null) {
                continue;
            }
            Tensor value;
            try {
                value = step.compute().apply(refs);
            } catch (RuntimeException e) {
                // The builder only builds valid calls: a refusal is a finding, reported with the program so far.
                throw new AssertionError("the reference backend refused step v" + values.size() + " = " + step.text()
                        + " of\n" + new Program(genome, inputs, steps, ops).describe() + "\n" + e, e);
            }
            if (value.numel() > MAX_NUMEL || !withinMagnitude(value)) {
                continue;
            }
            values.add(new Value(values.size(), value));
            refs.add(value);
            steps.add(step);
            ops.add(op.name());
        }
        return new Program(genome, inputs, steps, ops);
    }

    private static Input input(InputGene gene, Generator gen) {
        int rank = Math.min(gene.rank(), gene.dims().size());
        int[] dims = new int[rank];
        for (int i = 0; i < rank; i++) {
            dims[i] = gene.dims().get(i);
        }
        int view = gene.view();
        int[] leaf = dims.clone();
        if (view == 1 && rank >= 2) {
            leaf[rank - 1] = dims[rank - 2];
            leaf[rank - 2] = dims[rank - 1];
        } else if (view == 2 && rank >= 1) {
            leaf[rank - 1] = 2 * dims[rank - 1] + 1;
        } else if (view == 3 && rank >= 1) {
            // Expanded: the leaf keeps size 1 where the view has its first dim, and a leading dim of 2 is added.
            leaf[0] = 1;
            dims = concat(2, dims);
        } else {
            view = 0;
        }
        double[] values = new double[Shape.of(leaf).numel()];
        for (int i = 0; i < values.length; i++) {
            values[i] = LEAF_LOW + (LEAF_HIGH - LEAF_LOW) * gen.nextUniform();
        }
        return new Input(Shape.of(dims), view, Shape.of(leaf), values);
    }

    private static int[] concat(int first, int[] rest) {
        int[] out = new int[rest.length + 1];
        out[0] = first;
        System.arraycopy(rest, 0, out, 1, rest.length);
        return out;
    }

    private static boolean withinMagnitude(Tensor value) {
        for (double v : value.toDoubleArray()) {
            if (!(Math.abs(v) <= MAGNITUDE)) {
                return false;
            }
        }
        return true;
    }

    // ---- running ------------------------------------------------------------------------------------------

    /**
     * The output, each leaf's gradient (zeros for a leaf the output does not depend on) and, for a
     * second-order genome, each leaf's gradient of {@code sum_i <gradient_i, w_i>} (a Hessian-vector product).
     */
    record Result(Shape shape, DType dtype, double[] output, boolean requiresGrad, List<double[]> grads,
                  List<double[]> secondOrderGrads) {
    }

    /**
     * Runs the program on {@code backend} in {@code dtype}, from the leaf values rounded to FLOAT32 when
     * {@code roundToFloat}, and takes the vector-Jacobian product with the cotangent of the genome's seed.
     */
    Result run(Backend backend, DType dtype, boolean roundToFloat) {
        if ((genome.seed() & 1) != 0) {
            return compute(backend, dtype, roundToFloat);
        }
        // Half the programs run inside a MemoryScope, as a training step does: the backward pass then
        // releases each gradient it no longer holds, and later tensors of the pass reuse its memory.
        try (MemoryScope scope = MemoryScope.open()) {
            return compute(backend, dtype, roundToFloat);
        }
    }

    private Result compute(Backend backend, DType dtype, boolean roundToFloat) {
        List<Tensor> leaves = new ArrayList<>();
        List<Tensor> values = new ArrayList<>();
        for (Input in : inputs) {
            Tensor leaf = Tensor.on(backend).fromArray(rounded(in.leafValues(), roundToFloat), dtype,
                    in.leafShape().toArray()).requiresGrad(true);
            leaves.add(leaf);
            values.add(in.view(leaf));
        }
        for (Step step : steps) {
            values.add(step.compute().apply(values));
        }
        Tensor out = values.get(values.size() - 1);
        List<double[]> grads = new ArrayList<>();
        List<double[]> secondOrder = new ArrayList<>();
        if (out.requiresGrad()) {
            Generator gen = new Generator(genome.seed() ^ 0x5DEECE66DL);
            Tensor cotangent = seeded(gen, out, backend, dtype, roundToFloat);
            boolean second = genome.secondOrder();
            List<Tensor> computed = Autograd.grad(List.of(out), leaves, List.of(cotangent), second, second, true);
            Tensor directional = null;
            for (int i = 0; i < leaves.size(); i++) {
                Tensor g = checked(computed.get(i), leaves.get(i), "gradient", i);
                grads.add(g == null ? new double[leaves.get(i).numel()] : g.toDoubleArray());
                Tensor w = seeded(gen, leaves.get(i), backend, dtype, roundToFloat);
                if (second && g != null && g.requiresGrad()) {
                    Tensor term = g.mul(w).sum();
                    directional = directional == null ? term : directional.add(term);
                }
            }
            if (second) {
                List<Tensor> hvp = directional == null ? null
                        : Autograd.grad(List.of(directional), leaves, null, false, false, true);
                for (int i = 0; i < leaves.size(); i++) {
                    Tensor h = hvp == null ? null : checked(hvp.get(i), leaves.get(i), "second-order gradient", i);
                    secondOrder.add(h == null ? new double[leaves.get(i).numel()] : h.toDoubleArray());
                }
            }
        }
        return new Result(out.shape(), out.dtype(), out.toDoubleArray(), out.requiresGrad(), grads, secondOrder);
    }

    /** Uniform in [-1, 1), with {@code like}'s shape, backend and dtype (values rounded to float first if asked). */
    private static Tensor seeded(Generator gen, Tensor like, Backend backend, DType dtype, boolean roundToFloat) {
        double[] u = new double[like.numel()];
        for (int i = 0; i < u.length; i++) {
            u[i] = 2 * gen.nextUniform() - 1;
        }
        return Tensor.on(backend).fromArray(rounded(u, roundToFloat), dtype, like.shape().toArray());
    }

    /** A leaf's gradient must have the leaf's backend, dtype and shape. */
    private static Tensor checked(Tensor g, Tensor leaf, String what, int i) {
        if (g != null && (g.backend() != leaf.backend() || g.dtype() != leaf.dtype() || !g.shape().equals(leaf.shape()))) {
            throw new AssertionError("the " + what + " of v" + i + " is a " + g.dtype() + " " + g.shape() + " on '"
                    + g.backend().name() + "' for a " + leaf.dtype() + " " + leaf.shape() + " leaf on '"
                    + leaf.backend().name() + "'");
        }
        return g;
    }

    private static double[] rounded(double[] values, boolean toFloat) {
        if (!toFloat) {
            return values;
        }
        double[] out = new double[values.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = (float) values[i];
        }
        return out;
    }

    /** How many times the error of correctly rounded FLOAT32 steps a backend's FLOAT32 result may carry. */
    static final double FLOAT32_SLACK = 10;

    /**
     * Runs on {@code backend} in both dtypes against the reference. FLOAT64 differs from the reference
     * only by the order of sums: it is held to 1e-10 relative to the largest reference magnitude of
     * each compared array (a small element may be the difference of large ones). FLOAT32 is held to
     * 1e-4 of that magnitude plus {@link #FLOAT32_SLACK} times the error of the scalar backend's own
     * FLOAT32 run, whose every step is correctly rounded: a program that FLOAT32 cannot compute well
     * (a cancellation, a Hessian through {@code 1 - tanh^2} near saturation) widens its own bound, while
     * a wrong element, a lost term or a misplaced stride stays far outside it.
     */
    void check(Backend backend) {
        Backend reference = Backends.get(OpConformance.REFERENCE);
        for (DType dtype : List.of(DType.FLOAT64, DType.FLOAT32)) {
            boolean round = dtype == DType.FLOAT32;
            double tolerance = dtype == DType.FLOAT64 ? 1e-10 : 1e-4;
            Result expected = run(reference, DType.FLOAT64, round);
            Result yardstick = dtype == DType.FLOAT32 ? run(reference, DType.FLOAT32, true) : null;
            Result actual;
            try {
                actual = run(backend, dtype, round);
            } catch (RuntimeException e) {
                throw new AssertionError(dtype + " on '" + backend.name() + "' failed: " + e + "\n" + describe(), e);
            }
            String where = dtype + " on '" + backend.name() + "'";
            if (!expected.shape().equals(actual.shape()) || actual.dtype() != dtype
                    || expected.requiresGrad() != actual.requiresGrad()) {
                throw new AssertionError(where + ": the output is a " + actual.dtype() + " " + actual.shape()
                        + (actual.requiresGrad() ? " requiring grad" : "") + ", the reference a FLOAT64 "
                        + expected.shape() + (expected.requiresGrad() ? " requiring grad" : "") + "\n" + describe());
            }
            compare(where + ": the output", expected.output(), actual.output(), tolerance,
                    yardstick == null ? null : yardstick.output());
            for (int i = 0; i < expected.grads().size(); i++) {
                compare(where + ": the gradient of v" + i, expected.grads().get(i), actual.grads().get(i), tolerance,
                        yardstick == null ? null : yardstick.grads().get(i));
            }
            for (int i = 0; i < expected.secondOrderGrads().size(); i++) {
                compare(where + ": the second-order gradient (Hessian-vector product) of v" + i,
                        expected.secondOrderGrads().get(i), actual.secondOrderGrads().get(i), tolerance,
                        yardstick == null ? null : yardstick.secondOrderGrads().get(i));
            }
        }
    }

    private void compare(String what, double[] expected, double[] actual, double tolerance, double[] yardstick) {
        double scale = 1;
        for (double e : expected) {
            scale = Math.max(scale, Math.abs(e));
        }
        double roundingError = 0;
        if (yardstick != null) {
            for (int i = 0; i < expected.length; i++) {
                double error = Math.abs(yardstick[i] - expected[i]);
                // NaN or an infinity in both is an exact match; in one only, Compare reports it.
                if (Double.isFinite(error)) {
                    roundingError = Math.max(roundingError, error);
                }
            }
        }
        double atol = tolerance * scale + FLOAT32_SLACK * roundingError;
        try {
            Compare.assertClose(what, expected, actual, atol, tolerance);
        } catch (AssertionError e) {
            throw new AssertionError(e.getMessage() + (yardstick == null ? "" : " (FLOAT32 on the reference backend "
                    + "is off by up to " + roundingError + ")") + "\n" + describe(), e);
        }
    }

    // ---- description --------------------------------------------------------------------------------------

    /** The program as a user would write it, e.g. {@code v2 = v0.add(v1)}. */
    String describe() {
        StringBuilder sb = new StringBuilder("program (seed " + genome.seed() + "; leaves uniform in ["
                + LEAF_LOW + ", " + LEAF_HIGH + "), requiring grad):\n");
        for (int i = 0; i < inputs.size(); i++) {
            sb.append("  ").append(inputs.get(i).describe(i)).append('\n');
        }
        for (int i = 0; i < steps.size(); i++) {
            sb.append("  v").append(inputs.size() + i).append(" = ").append(steps.get(i).text()).append('\n');
        }
        sb.append("  output v").append(inputs.size() + steps.size() - 1)
                .append(", gradients of every leaf for a seeded cotangent")
                .append(genome.secondOrder() ? ", then their Hessian-vector products (createGraph)" : "");
        return sb.toString();
    }

    /** The op of each step. */
    List<String> ops() {
        return ops;
    }
}
