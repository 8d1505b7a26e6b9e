package dev.adjoint.conformance;

import dev.adjoint.DType;
import dev.adjoint.Generator;
import dev.adjoint.Tensor;
import dev.adjoint.TensorFactory;
import dev.adjoint.autograd.Autograd;
import dev.adjoint.autograd.ForwardAD;
import dev.adjoint.func.Transforms;
import dev.adjoint.backend.Backends;
import dev.adjoint.check.GradCheck;
import dev.adjoint.spi.Backend;
import org.junit.jupiter.api.DynamicContainer;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.DynamicTest;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The generic checks, run for every catalogue entry x dtype x sample on one backend:
 * forward and gradients against the scalar backend's FLOAT64 reference (on the same, dtype-rounded
 * input values), gradcheck and gradgradcheck in FLOAT64, and the entry's error inputs.
 */
public final class OpConformance {
    /** The backend every other backend is diffed against. */
    public static final String REFERENCE = "scalar";

    /**
     * How far from the reference a result of a {@link InputSpec#tiny()} sample may be, in ulps of the
     * tested dtype. The kernels of scalar, simd and nd4j are within 2 ulps there; a kernel that cancels
     * ({@code log(1 + x)}, {@code (e^2x - 1) / (e^2x + 1)}) is off by about eps / |x|, over 1,000 ulps
     * at |x| = 1e-3 and millions below.
     */
    static final double TINY_MAGNITUDE_ULPS = 8;

    /** What ran, for the summary line the suite prints. */
    public static final class Tally {
        final java.util.Set<String> opDtypeCases = ConcurrentHashMap.newKeySet();
        final AtomicInteger samples = new AtomicInteger();
        final AtomicInteger gradChecks = new AtomicInteger();
        final AtomicInteger gradGradChecks = new AtomicInteger();
        final AtomicInteger jvpChecks = new AtomicInteger();
        final AtomicInteger jacobianPairs = new AtomicInteger();
        final AtomicInteger errorCases = new AtomicInteger();

        public String summary(String backend) {
            return "conformance on '" + backend + "': " + opDtypeCases.size() + " op x dtype cases passed ("
                    + samples.get() + " samples, " + gradChecks.get() + " gradchecks, " + gradGradChecks.get()
                    + " gradgradchecks, " + jvpChecks.get() + " jvpchecks, " + jacobianPairs.get()
                    + " jacfwd = jacrev, " + errorCases.get() + " error cases)";
        }
    }

    private OpConformance() {
    }

    public static Stream<DynamicNode> tests(Backend backend, Tally tally) {
        return OpCatalogue.all().stream().map(op -> DynamicContainer.dynamicContainer(op.name, opTests(op, backend, tally)));
    }

    private static Stream<DynamicNode> opTests(OpInfo op, Backend backend, Tally tally) {
        List<DynamicNode> nodes = new ArrayList<>();
        for (DType dtype : List.of(DType.FLOAT64, DType.FLOAT32)) {
            List<DynamicNode> sampleTests = new ArrayList<>();
            AtomicInteger passed = new AtomicInteger();
            int count = op.samples.size();
            for (int s = 0; s < count; s++) {
                OpInfo.Sample sample = op.samples.get(s);
                long seed = op.name.hashCode() * 1_000_003L + s;
                sampleTests.add(DynamicTest.dynamicTest(sample.toString(), () -> {
                    checkSample(op, sample, seed, backend, dtype, tally);
                    tally.samples.incrementAndGet();
                    if (passed.incrementAndGet() == count) {
                        tally.opDtypeCases.add(op.name + "/" + dtype);
                    }
                }));
            }
            nodes.add(DynamicContainer.dynamicContainer(dtype.toString(), sampleTests));
        }
        for (OpInfo.ErrorCase error : op.errors) {
            nodes.add(DynamicTest.dynamicTest("error: " + error.description(), () -> {
                TensorFactory f = Tensor.on(backend);
                Throwable thrown = assertThrows(error.type(), () -> error.call().apply(f),
                        op.name + ": expected " + error.type().getSimpleName() + " for " + error.description());
                String message = String.valueOf(thrown.getMessage());
                assertTrue(message.contains(error.messagePart()),
                        op.name + ": message should contain \"" + error.messagePart() + "\" but was \"" + message + "\"");
                tally.errorCases.incrementAndGet();
            }));
        }
        return nodes.stream();
    }

    private static void checkSample(OpInfo op, OpInfo.Sample sample, long seed, Backend backend, DType dtype,
                                    Tally tally) {
        Generator gen = new Generator(seed);
        List<double[]> values = new ArrayList<>();
        for (InputSpec spec : sample.inputs()) {
            double[] v = spec.leafValues(gen);
            if (dtype == DType.FLOAT32 && spec.kind != InputSpec.Kind.INDEX) {
                // The reference sees exactly the values the FLOAT32 run sees.
                for (int i = 0; i < v.length; i++) {
                    v[i] = (float) v[i];
                }
            }
            values.add(v);
        }
        Backend reference = Backends.get(REFERENCE);
        Result expected = run(op, sample, values, reference, DType.FLOAT64, seed);
        Result actual = run(op, sample, values, backend, dtype, seed);
        String where = op.name + " " + sample + " " + dtype + " on " + backend.name();
        double atol = dtype == DType.FLOAT64 ? op.atol64 : op.atol32;
        double rtol = dtype == DType.FLOAT64 ? op.rtol64 : op.rtol32;
        assertTrue(java.util.Arrays.equals(expected.shape, actual.shape),
                where + ": output shape " + java.util.Arrays.toString(actual.shape) + " but reference "
                        + java.util.Arrays.toString(expected.shape));
        boolean inUlps = sample.tinyMagnitudes();
        Compare.Check close = inUlps
                ? (what, e, a) -> Compare.assertUlps(what, e, a, dtype, TINY_MAGNITUDE_ULPS)
                : (what, e, a) -> Compare.assertClose(what, e, a, atol, rtol);
        close.check(where + " forward", expected.output, actual.output);
        for (int i = 0; i < expected.grads.size(); i++) {
            if (expected.grads.get(i) != null) {
                close.check(where + " gradient of input " + i + " " + sample.inputs().get(i),
                        expected.grads.get(i), actual.grads.get(i));
            }
        }
        if (expected.jvp != null) {
            close.check(where + " forward-mode tangent", expected.jvp, actual.jvp);
        }
        // Not for tiny magnitudes: gradcheck's finite-difference step is far wider than the inputs, so it
        // would straddle the kinks of abs and relu at 0; the ordinary samples check the same formulas.
        if (dtype == DType.FLOAT64 && op.differentiable && !inUlps) {
            List<Tensor> leaves = leaves(sample, values, backend, dtype);
            Function<List<Tensor>, Tensor> f = applyThroughViews(op, sample);
            GradCheck.gradcheck(op.name, f, leaves, GradCheck.Options.defaults());
            tally.gradChecks.incrementAndGet();
            if (op.secondOrder) {
                GradCheck.gradgradcheck(op.name, f, leaves, GradCheck.Options.defaults());
                tally.gradGradChecks.incrementAndGet();
            }
            GradCheck.jvpcheck(op.name, f, leaves, GradCheck.Options.defaults());
            tally.jvpChecks.incrementAndGet();
            if (jacobiansAgree(op, f, leaves, where)) {
                tally.jacobianPairs.incrementAndGet();
            }
        }
    }

    /** Largest Jacobian (output x input elements) compared both ways per sample; both cost a pass per row or column. */
    private static final int JACOBIAN_LIMIT = 256;

    /**
     * jacfwd and jacrev of the op with respect to each small differentiable input (the others held fixed)
     * agree: n forward passes and m backward passes must build the same matrix. Returns whether any
     * input was small enough to compare.
     */
    private static boolean jacobiansAgree(OpInfo op, Function<List<Tensor>, Tensor> f, List<Tensor> leaves,
                                          String where) {
        boolean compared = false;
        int outNumel;
        try (var scope = Tensor.noGrad()) {
            outNumel = f.apply(leaves).numel();
        }
        for (int i = 0; i < leaves.size(); i++) {
            Tensor leaf = leaves.get(i);
            if (!leaf.requiresGrad() || (long) leaf.numel() * outNumel > JACOBIAN_LIMIT || leaf.numel() == 0
                    || outNumel == 0) {
                continue;
            }
            int at = i;
            java.util.function.UnaryOperator<Tensor> g = x -> {
                List<Tensor> args = new ArrayList<>(leaves);
                args.set(at, x);
                return f.apply(args);
            };
            Tensor x = leaf.detach();
            double[] forward = Transforms.jacfwd(g, x).toDoubleArray();
            double[] reverse = Transforms.jacrev(g, x).toDoubleArray();
            Compare.assertClose(where + " jacfwd against jacrev for input " + i, reverse, forward, 1e-12, 1e-10);
            compared = true;
        }
        return compared;
    }

    private record Result(int[] shape, double[] output, List<double[]> grads, double[] jvp) {
    }

    /** Forward, then the vector-Jacobian product with a seeded cotangent, w.r.t. every floating leaf. */
    private static Result run(OpInfo op, OpInfo.Sample sample, List<double[]> values, Backend backend, DType dtype,
                              long seed) {
        List<Tensor> leaves = leaves(sample, values, backend, dtype);
        Tensor out = applyThroughViews(op, sample).apply(leaves);
        double[] output = out.toDoubleArray();
        List<double[]> grads = new ArrayList<>();
        List<Tensor> differentiable = new ArrayList<>();
        for (Tensor leaf : leaves) {
            if (leaf.requiresGrad()) {
                differentiable.add(leaf);
            }
        }
        List<Tensor> computed = null;
        if (op.differentiable && out.requiresGrad() && !differentiable.isEmpty()) {
            Generator cotangentGen = new Generator(seed ^ 0x5DEECE66DL);
            double[] u = new double[out.numel()];
            for (int i = 0; i < u.length; i++) {
                u[i] = dtype == DType.FLOAT32 ? (float) (2 * cotangentGen.nextUniform() - 1)
                        : 2 * cotangentGen.nextUniform() - 1;
            }
            Tensor cotangent = Tensor.on(backend).fromArray(u, dtype, out.shape().toArray());
            computed = Autograd.grad(List.of(out), differentiable, List.of(cotangent), false, false, true);
        }
        int k = 0;
        for (Tensor leaf : leaves) {
            if (!leaf.requiresGrad() || computed == null) {
                grads.add(null);
                continue;
            }
            Tensor g = computed.get(k++);
            grads.add(g == null ? new double[leaf.numel()] : g.toDoubleArray());
        }
        return new Result(out.shape().toArray(), output, grads,
                op.differentiable && !differentiable.isEmpty() ? tangentOf(op, sample, leaves, seed, dtype) : null);
    }

    /** The op's forward-mode tangent along a seeded direction (every differentiable leaf moves). */
    private static double[] tangentOf(OpInfo op, OpInfo.Sample sample, List<Tensor> leaves, long seed, DType dtype) {
        Generator directionGen = new Generator(seed ^ 0x7A3D5L);
        try (var level = ForwardAD.dualLevel()) {
            List<Tensor> duals = new ArrayList<>(leaves.size());
            for (Tensor leaf : leaves) {
                if (!leaf.requiresGrad()) {
                    duals.add(leaf);
                    continue;
                }
                double[] v = new double[leaf.numel()];
                for (int i = 0; i < v.length; i++) {
                    v[i] = dtype == DType.FLOAT32 ? (float) (2 * directionGen.nextUniform() - 1)
                            : 2 * directionGen.nextUniform() - 1;
                }
                Tensor tangent = Tensor.on(leaf.backend()).fromArray(v, dtype, leaf.shape().toArray());
                duals.add(ForwardAD.makeDual(leaf, tangent));
            }
            Tensor out = applyThroughViews(op, sample).apply(duals);
            Tensor tangent = ForwardAD.unpackDual(out).tangent();
            return tangent == null ? new double[out.numel()] : tangent.toDoubleArray();
        }
    }

    private static List<Tensor> leaves(OpInfo.Sample sample, List<double[]> values, Backend backend, DType dtype) {
        List<Tensor> leaves = new ArrayList<>();
        for (int i = 0; i < sample.inputs().size(); i++) {
            leaves.add(sample.inputs().get(i).leaf(values.get(i), backend, dtype));
        }
        return leaves;
    }

    private static Function<List<Tensor>, Tensor> applyThroughViews(OpInfo op, OpInfo.Sample sample) {
        return leaves -> {
            List<Tensor> viewed = new ArrayList<>(leaves.size());
            for (int i = 0; i < leaves.size(); i++) {
                viewed.add(sample.inputs().get(i).view(leaves.get(i)));
            }
            return op.apply(viewed);
        };
    }
}
