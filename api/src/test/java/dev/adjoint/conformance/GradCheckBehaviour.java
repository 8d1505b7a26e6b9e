package dev.adjoint.conformance;

import dev.adjoint.DType;
import dev.adjoint.Tensor;
import dev.adjoint.autograd.Graph;
import dev.adjoint.check.GradCheck;
import dev.adjoint.check.GradCheck.Difference;
import dev.adjoint.check.GradCheck.Options;
import dev.adjoint.check.GradCheckException;
import dev.adjoint.spi.Backend;
import org.junit.jupiter.api.DynamicNode;

import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.DynamicContainer.dynamicContainer;
import static org.junit.jupiter.api.DynamicTest.dynamicTest;

/**
 * What users of {@link GradCheck} rely on, on one backend: the finite-difference Jacobian is the
 * Jacobian (to the accuracy its difference scheme promises), correct gradients pass, wrong ones fail
 * with a message that says where, second-order errors are caught, and results depend only on the seed.
 */
public final class GradCheckBehaviour {
    private static final Options DEFAULTS = Options.defaults();
    private static final Pattern VALUES = Pattern.compile("analytic (\\S+), numerical (\\S+) ");

    private GradCheckBehaviour() {
    }

    public static Stream<DynamicNode> tests(Backend backend) {
        Fixtures t = new Fixtures(backend);
        return Stream.of(
                dynamicContainer("numericalJacobian", Stream.of(
                        dynamicTest("of x*x is diag(2x) and exactly zero off the diagonal", () -> numericalSquare(t)),
                        dynamicTest("of X @ A (constant A) has A's entries in [output][input] row-major layout",
                                () -> numericalMatmul(t)),
                        dynamicTest("forward error is O(eps), central O(eps^2) and much smaller",
                                () -> differenceOrders(t)))),
                dynamicContainer("analyticalJacobian", Stream.of(
                        dynamicTest("of X @ A matches the exact Jacobian and leaves .grad untouched",
                                () -> analyticalMatmul(t)),
                        dynamicTest("of an input the output does not use is all zeros", () -> unusedInput(t)))),
                dynamicContainer("gradcheck", Stream.of(
                        dynamicTest("passes on mul, exp, tanh, matmul, x*sin(x) and broadcast sums",
                                () -> gradcheckPassesOnCorrectOps(t)),
                        dynamicTest("ignores inputs without requiresGrad (INT64 gather index, FLOAT64 mask)",
                                () -> nonDifferentiableInputs(t)),
                        dynamicTest("fails on a wrong backward, naming op, input, element and both values",
                                () -> gradcheckFailsOnWrongCube(t)),
                        dynamicTest("fails when backward is not reproducible", () -> nonReproducibleBackward(t)),
                        dynamicTest("works inside a noGrad scope", () -> insideNoGrad(t)),
                        dynamicTest("handles FLOAT32 inputs with a FLOAT32-sized eps", () -> float32Inputs(t)),
                        dynamicTest("rejects a call where no input requires grad", () -> nothingToCheck(t)))),
                dynamicContainer("directionalCheck", Stream.of(
                        dynamicTest("passes on correct ops", () -> directionalPasses(t)),
                        dynamicTest("fails on a wrong backward and locates the wrong entry", () -> directionalFails(t)),
                        dynamicTest("is what gradcheck runs in fastMode", () -> fastModeIsDirectional(t)))),
                dynamicContainer("gradgradcheck", Stream.of(
                        dynamicTest("passes on tanh, x*sin(x), mul, exp and matmul", () -> gradgradPasses(t)),
                        dynamicTest("fails on a backward that detaches its saved input (first order still passes)",
                                () -> gradgradFailsOnDetachedBackward(t)),
                        dynamicTest("fastMode passes on tanh and fails on the detached backward",
                                () -> gradgradFastMode(t)))),
                dynamicContainer("determinism", Stream.of(
                        dynamicTest("the same seed gives the same result, another seed another one",
                                () -> seededResults(t)))),
                dynamicContainer("Options", Stream.of(
                        dynamicTest("defaults and withers", GradCheckBehaviour::optionValues))));
    }

    // ---- numericalJacobian ---------------------------------------------------------------------------------

    private static void numericalSquare(Fixtures t) {
        double[] x = {0.5, -1.2, 2.0};
        for (Difference difference : Difference.values()) {
            double[][][] j = GradCheck.numericalJacobian(in -> in.get(0).mul(in.get(0)), List.of(t.leaf(x, 3)),
                    1e-6, difference);
            for (int k = 0; k < 3; k++) {
                for (int i = 0; i < 3; i++) {
                    if (k == i) {
                        // Forward: truncation eps * f''/2 = 1e-6; central: exact for a quadratic.
                        double tolerance = difference == Difference.FORWARD ? 2e-6 : 1e-8;
                        assertEquals(2 * x[i], j[0][k][i], tolerance, difference + " d(x*x)/dx at " + i);
                    } else {
                        assertEquals(0.0, j[0][k][i], difference + " off-diagonal [" + k + "][" + i + "]");
                    }
                }
            }
        }
    }

    private static void numericalMatmul(Fixtures t) {
        double[] a = {1.0, -2.0, 0.5, 3.0, -1.5, 2.5};
        Tensor x = t.leaf(new double[] {0.1, 0.2, -0.3, 0.4, -0.5, 0.6}, 2, 3);
        Tensor constant = t.constant(a, 3, 2);
        double[][][] j = GradCheck.numericalJacobian(in -> in.get(0).matmul(in.get(1)), List.of(x, constant),
                1e-6, Difference.CENTRAL);
        assertNull(j[1], "an input without requiresGrad has no Jacobian");
        assertEquals(4, j[0].length, "rows: numel of the [2, 2] output");
        assertEquals(6, j[0][0].length, "columns: numel of the [2, 3] input");
        assertMatrixEquals(matmulJacobian(a), j[0], 1e-8, "d(X @ A)/dX");
    }

    private static void differenceOrders(Fixtures t) {
        double[] x = {0.3, -0.7, 1.1};
        double eps = 1e-2;
        double forward = relativeDiagonalError(t, x, eps, Difference.FORWARD);
        double forwardHalf = relativeDiagonalError(t, x, eps / 2, Difference.FORWARD);
        double central = relativeDiagonalError(t, x, eps, Difference.CENTRAL);
        double centralHalf = relativeDiagonalError(t, x, eps / 2, Difference.CENTRAL);
        // For exp the relative errors are known exactly: forward (e^h - 1)/h - 1 ~ h/2,
        // central sinh(h)/h - 1 ~ h^2/6. eps is large enough that rounding (~1e-14) plays no part.
        assertTrue(forward > 0.45 * eps && forward < 0.55 * eps, "forward relative error " + forward
                + " should be about eps/2 = " + eps / 2);
        assertTrue(central > 0.15 * eps * eps && central < 0.18 * eps * eps, "central relative error " + central
                + " should be about eps^2/6 = " + eps * eps / 6);
        assertTrue(central * 100 < forward, "central (" + central + ") should be far below forward (" + forward + ")");
        double forwardRatio = forward / forwardHalf;
        double centralRatio = central / centralHalf;
        assertTrue(forwardRatio > 1.9 && forwardRatio < 2.1, "halving eps should halve the forward error, ratio "
                + forwardRatio);
        assertTrue(centralRatio > 3.8 && centralRatio < 4.2, "halving eps should quarter the central error, ratio "
                + centralRatio);
    }

    /** The largest |J_ii - e^x_i| / e^x_i of the finite-difference Jacobian of exp. */
    private static double relativeDiagonalError(Fixtures t, double[] x, double eps, Difference difference) {
        double[][][] j = GradCheck.numericalJacobian(in -> in.get(0).exp(), List.of(t.leaf(x, x.length)), eps,
                difference);
        double worst = 0;
        for (int i = 0; i < x.length; i++) {
            worst = Math.max(worst, Math.abs(j[0][i][i] - Math.exp(x[i])) / Math.exp(x[i]));
        }
        return worst;
    }

    // ---- analyticalJacobian ------------------------------------------------------------------------------

    private static void analyticalMatmul(Fixtures t) {
        double[] a = {1.0, -2.0, 0.5, 3.0, -1.5, 2.5};
        Tensor x = t.leaf(new double[] {0.1, 0.2, -0.3, 0.4, -0.5, 0.6}, 2, 3);
        Tensor constant = t.constant(a, 3, 2);
        double[][][] j = GradCheck.analyticalJacobian(in -> in.get(0).matmul(in.get(1)), List.of(x, constant));
        assertNull(j[1], "an input without requiresGrad has no Jacobian");
        assertMatrixEquals(matmulJacobian(a), j[0], 1e-12, "d(X @ A)/dX by reverse mode");
        assertNull(x.grad(), "analyticalJacobian must not accumulate into .grad");
    }

    private static void unusedInput(Fixtures t) {
        Tensor x = t.leaf(new double[] {0.5, -0.25}, 2);
        Tensor unused = t.leaf(new double[] {1.0, 2.0, 3.0}, 3);
        Function<List<Tensor>, Tensor> f = in -> in.get(0).exp();
        double[][][] j = GradCheck.analyticalJacobian(f, List.of(x, unused));
        assertMatrixEquals(new double[2][3], j[1], 0.0, "Jacobian of an unused input");
        assertDoesNotThrow(() -> GradCheck.gradcheck("exp ignoring y", f, List.of(x, unused), DEFAULTS));
    }

    // ---- gradcheck ---------------------------------------------------------------------------------------

    private static void gradcheckPassesOnCorrectOps(Fixtures t) {
        Tensor x = t.leaf(new double[] {0.3, -1.2, 0.8, 1.5, -0.4, 0.9}, 2, 3);
        Tensor row = t.leaf(new double[] {0.7, -0.2, 1.3}, 3);
        Tensor row2d = t.leaf(new double[] {-0.6, 0.4, 1.1}, 1, 3);
        Tensor w = t.leaf(new double[] {0.2, -0.5, 1.0, 0.3, 0.8, -1.1, 0.6, 0.1, -0.9, 0.4, 0.5, -0.3}, 3, 4);
        List<Case> cases = List.of(
                new Case("mul broadcast [2, 3] * [3]", in -> in.get(0).mul(in.get(1)), List.of(x, row)),
                new Case("exp", in -> in.get(0).exp(), List.of(x)),
                new Case("tanh", in -> in.get(0).tanh(), List.of(x)),
                new Case("matmul [2, 3] @ [3, 4]", in -> in.get(0).matmul(in.get(1)), List.of(x, w)),
                new Case("x * sin(x)", in -> in.get(0).mul(in.get(0).sin()), List.of(x)),
                new Case("sum over dim 1 of [2, 3] + [1, 3]", in -> in.get(0).add(in.get(1)).sum(1, false),
                        List.of(x, row2d)),
                new Case("sum of [2, 3] * [3]", in -> in.get(0).mul(in.get(1)).sum(), List.of(x, row)));
        for (Case c : cases) {
            assertDoesNotThrow(() -> GradCheck.gradcheck(c.name(), c.f(), c.inputs(), DEFAULTS), c.name());
        }
        assertNull(x.grad(), "gradcheck must not accumulate into .grad");
        assertNull(w.grad(), "gradcheck must not accumulate into .grad");
    }

    private static void nonDifferentiableInputs(Fixtures t) {
        Tensor x = t.leaf(new double[] {0.3, -1.2, 0.8, 1.5, -0.4, 0.9}, 2, 3);
        Tensor index = Tensor.on(t.backend()).fromArray(new long[] {0, 2, 1, 1}, 2, 2);
        Function<List<Tensor>, Tensor> gather = in -> in.get(0).gather(1, in.get(1));
        assertDoesNotThrow(() -> GradCheck.gradcheck("gather", gather, List.of(x, index), DEFAULTS));
        assertDoesNotThrow(() -> GradCheck.gradgradcheck("gather", gather, List.of(x, index), DEFAULTS));
        assertNull(GradCheck.numericalJacobian(gather, List.of(x, index), 1e-6, Difference.CENTRAL)[1],
                "the INT64 index has no Jacobian");
        assertArrayEquals(new long[] {0, 2, 1, 1}, index.toLongArray(), "the index is passed through unchanged");

        Tensor mask = t.constant(new double[] {1, 0, 1, 0, 1, 1}, 2, 3);
        Function<List<Tensor>, Tensor> masked = in -> in.get(0).mul(in.get(1)).exp();
        assertDoesNotThrow(() -> GradCheck.gradcheck("masked exp", masked, List.of(x, mask), DEFAULTS));
        assertNull(GradCheck.analyticalJacobian(masked, List.of(x, mask))[1], "the mask has no Jacobian");
    }

    private static void gradcheckFailsOnWrongCube(Fixtures t) {
        Tensor x = t.leaf(new double[] {1.0, 2.0, -0.5, 1.5}, 2, 2);
        GradCheckException e = assertThrows(GradCheckException.class,
                () -> GradCheck.gradcheck("cube", in -> wrongCube(in.get(0)), List.of(x), DEFAULTS));
        String m = e.getMessage();
        assertTrue(m.contains("'cube'"), "names the op: " + m);
        assertTrue(m.contains("input 0 (shape [2, 2], FLOAT64)"), "names the input and its shape: " + m);
        // The worst entry is x = 2: analytic 2x = 4, numerical 3x^2 = 12.
        assertTrue(m.contains("input element [0, 1], output element [0, 1]"), "names the Jacobian entry: " + m);
        double[] values = analyticAndNumerical(m);
        assertEquals(4.0, values[0], 1e-12, "analytic value in: " + m);
        assertEquals(12.0, values[1], 1e-6, "numerical value in: " + m);
        assertTrue(m.contains("eps=1.0E-6") && m.contains("atol=1.0E-5") && m.contains("rtol=0.001"),
                "names eps and tolerances: " + m);
        assertTrue(m.contains("4 of 16"), "counts the wrong entries (the diagonal): " + m);
    }

    private static void nonReproducibleBackward(Fixtures t) {
        AtomicInteger calls = new AtomicInteger();
        Function<List<Tensor>, Tensor> drifting = in -> {
            Tensor x = in.get(0);
            Tensor d = x.detach();
            return Graph.record("DriftingSquareBackward", d.mul(d), new Tensor[] {x}, new Tensor[] {x},
                    (g, c) -> new Tensor[] {g.mul(c.saved(0).mul(2.0).add(0.1 * calls.incrementAndGet()))});
        };
        GradCheckException e = assertThrows(GradCheckException.class, () -> GradCheck.gradcheck("drifting square",
                drifting, List.of(t.leaf(new double[] {0.5, 1.5}, 2)), DEFAULTS));
        assertTrue(e.getMessage().contains("'drifting square'") && e.getMessage().contains("not reproducible"),
                e.getMessage());
    }

    private static void insideNoGrad(Fixtures t) {
        Tensor x = t.leaf(new double[] {0.3, -0.6}, 2);
        try (var scope = Tensor.noGrad()) {
            assertDoesNotThrow(() -> GradCheck.gradcheck("exp in noGrad", in -> in.get(0).exp(), List.of(x),
                    DEFAULTS));
            assertThrows(GradCheckException.class, () -> GradCheck.gradcheck("cube in noGrad",
                    in -> wrongCube(in.get(0)), List.of(x), DEFAULTS));
        }
    }

    private static void float32Inputs(Fixtures t) {
        Tensor x = Tensor.on(t.backend()).fromArray(new double[] {0.5, -1.25, 2.0}, DType.FLOAT32, 3)
                .requiresGrad(true);
        Options float32 = DEFAULTS.withEps(1e-3).withAtol(1e-2).withRtol(1e-2);
        Function<List<Tensor>, Tensor> f = in -> in.get(0).mul(in.get(0)).add(in.get(0).sin());
        assertDoesNotThrow(() -> GradCheck.gradcheck("x*x + sin(x) in FLOAT32", f, List.of(x), float32));
        assertThrows(GradCheckException.class, () -> GradCheck.gradcheck("cube in FLOAT32",
                in -> wrongCube(in.get(0)), List.of(x), float32));
    }

    private static void nothingToCheck(Fixtures t) {
        Tensor constant = t.constant(new double[] {1.0, 2.0}, 2);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> GradCheck.gradcheck("exp",
                in -> in.get(0).exp(), List.of(constant), DEFAULTS));
        assertTrue(e.getMessage().contains("no input requires grad"), e.getMessage());
    }

    // ---- directionalCheck ------------------------------------------------------------------------------

    private static void directionalPasses(Fixtures t) {
        Tensor x = t.leaf(new double[] {0.3, -1.2, 0.8, 1.5, -0.4, 0.9}, 2, 3);
        Tensor w = t.leaf(new double[] {0.2, -0.5, 1.0, 0.3, 0.8, -1.1}, 3, 2);
        assertDoesNotThrow(() -> GradCheck.directionalCheck("mul", in -> in.get(0).mul(in.get(0)), List.of(x),
                DEFAULTS));
        assertDoesNotThrow(() -> GradCheck.directionalCheck("matmul", in -> in.get(0).matmul(in.get(1)),
                List.of(x, w), DEFAULTS));
        assertDoesNotThrow(() -> GradCheck.directionalCheck("tanh", in -> in.get(0).tanh(), List.of(x), DEFAULTS));
        assertNull(x.grad(), "directionalCheck must not accumulate into .grad");
    }

    private static void directionalFails(Fixtures t) {
        Tensor x = t.leaf(new double[] {1.0, 2.0, -0.5, 1.5}, 2, 2);
        GradCheckException e = assertThrows(GradCheckException.class, () -> GradCheck.directionalCheck("cube",
                in -> wrongCube(in.get(0)), List.of(x), DEFAULTS));
        String m = e.getMessage();
        assertTrue(m.contains("directionalCheck of 'cube'"), m);
        assertTrue(m.contains("input 0 (shape [2, 2], FLOAT64)"), m);
        assertTrue(m.contains("u^T J delta"), "gives the directional values: " + m);
        assertTrue(m.contains("input element [0, 1], output element [0, 1]"), "locates the worst entry: " + m);
    }

    private static void fastModeIsDirectional(Fixtures t) {
        Tensor x = t.leaf(new double[] {1.0, 2.0, -0.5, 1.5}, 2, 2);
        Options fast = DEFAULTS.withFastMode(true);
        assertDoesNotThrow(() -> GradCheck.gradcheck("exp", in -> in.get(0).exp(), List.of(x), fast));
        GradCheckException e = assertThrows(GradCheckException.class,
                () -> GradCheck.gradcheck("cube", in -> wrongCube(in.get(0)), List.of(x), fast));
        assertTrue(e.getMessage().contains("random unit direction"), e.getMessage());
    }

    // ---- gradgradcheck ---------------------------------------------------------------------------------

    private static void gradgradPasses(Fixtures t) {
        Tensor x = t.leaf(new double[] {0.3, -1.2, 0.8, 1.5, -0.4, 0.9}, 2, 3);
        Tensor y = t.leaf(new double[] {0.7, -0.2, 1.3}, 3);
        Tensor w = t.leaf(new double[] {0.2, -0.5, 1.0, 0.3, 0.8, -1.1}, 3, 2);
        List<Case> cases = List.of(
                new Case("tanh", in -> in.get(0).tanh(), List.of(x)),
                new Case("x * sin(x)", in -> in.get(0).mul(in.get(0).sin()), List.of(x)),
                new Case("mul broadcast [2, 3] * [3]", in -> in.get(0).mul(in.get(1)), List.of(x, y)),
                new Case("exp", in -> in.get(0).exp(), List.of(x)),
                new Case("matmul [2, 3] @ [3, 2]", in -> in.get(0).matmul(in.get(1)), List.of(x, w)));
        for (Case c : cases) {
            assertDoesNotThrow(() -> GradCheck.gradgradcheck(c.name(), c.f(), c.inputs(), DEFAULTS), c.name());
        }
        assertNull(x.grad(), "gradgradcheck must not accumulate into .grad");
    }

    private static void gradgradFailsOnDetachedBackward(Fixtures t) {
        Tensor x = t.leaf(new double[] {1.0, 2.0, -0.5}, 3);
        Function<List<Tensor>, Tensor> cube = in -> detachedBackwardCube(in.get(0));
        assertDoesNotThrow(() -> GradCheck.gradcheck("cube", cube, List.of(x), DEFAULTS),
                "the first derivative 3x^2 is right");
        GradCheckException e = assertThrows(GradCheckException.class,
                () -> GradCheck.gradgradcheck("cube", cube, List.of(x), DEFAULTS));
        String m = e.getMessage();
        assertTrue(m.contains("gradgradcheck of 'cube'") && m.contains("second-order"), m);
        // d/dx of v * 3x^2 is 6xv; the detached formula gives 0, so input 0 (x) is wrong, not v.
        assertTrue(m.contains("input 0 (shape [3], FLOAT64)"), m);
        assertTrue(m.contains("the vjp's gradient for input 0"), m);
        assertEquals(0.0, analyticAndNumerical(m)[0], "the detached formula has no second derivative: " + m);
    }

    private static void gradgradFastMode(Fixtures t) {
        Tensor x = t.leaf(new double[] {1.0, 2.0, -0.5}, 3);
        Options fast = DEFAULTS.withFastMode(true);
        assertDoesNotThrow(() -> GradCheck.gradgradcheck("tanh", in -> in.get(0).tanh(), List.of(x), fast));
        GradCheckException e = assertThrows(GradCheckException.class, () -> GradCheck.gradgradcheck("cube",
                in -> detachedBackwardCube(in.get(0)), List.of(x), fast));
        assertTrue(e.getMessage().contains("second-order"), e.getMessage());
    }

    // ---- determinism ---------------------------------------------------------------------------------------

    private static void seededResults(Fixtures t) {
        Tensor x = t.leaf(new double[] {1.0, 2.0, -0.5, 1.5}, 2, 2);
        Function<List<Tensor>, Tensor> broken = in -> detachedBackwardCube(in.get(0));
        String first = failure(() -> GradCheck.gradgradcheck("cube", broken, List.of(x), DEFAULTS.withSeed(3)));
        String again = failure(() -> GradCheck.gradgradcheck("cube", broken, List.of(x), DEFAULTS.withSeed(3)));
        String other = failure(() -> GradCheck.gradgradcheck("cube", broken, List.of(x), DEFAULTS.withSeed(4)));
        assertEquals(first, again, "the same seed must give the same v and the same report");
        assertNotEquals(first, other, "another seed draws another v");

        Function<List<Tensor>, Tensor> wrong = in -> wrongCube(in.get(0));
        Options fast = DEFAULTS.withFastMode(true).withSeed(11);
        assertEquals(failure(() -> GradCheck.gradcheck("cube", wrong, List.of(x), fast)),
                failure(() -> GradCheck.gradcheck("cube", wrong, List.of(x), fast)),
                "the directional check draws the same directions for the same seed");
    }

    // ---- Options -----------------------------------------------------------------------------------------

    private static void optionValues() {
        Options d = Options.defaults();
        assertEquals(new Options(1e-6, 1e-5, 1e-3, 0L, false), d);
        Options changed = d.withEps(1e-3).withAtol(1e-2).withRtol(2e-2).withSeed(42).withFastMode(true);
        assertEquals(new Options(1e-3, 1e-2, 2e-2, 42L, true), changed);
        assertEquals(new Options(1e-6, 1e-5, 1e-3, 0L, false), d, "withers leave the original unchanged");
        assertThrows(IllegalArgumentException.class, () -> d.withEps(0));
        assertThrows(IllegalArgumentException.class, () -> d.withAtol(-1));
        assertThrows(IllegalArgumentException.class, () -> d.withRtol(Double.NaN));
    }

    // ---- deliberately wrong ops ------------------------------------------------------------------------

    /** x^3 whose backward claims 2x: the first derivative is wrong. */
    private static Tensor wrongCube(Tensor x) {
        Tensor d = x.detach();
        return Graph.record("WrongCubeBackward", d.mul(d).mul(d), new Tensor[] {x}, new Tensor[] {x},
                (g, c) -> new Tensor[] {g.mul(c.saved(0).mul(2.0))});
    }

    /**
     * x^3 with the right first derivative 3x^2, but computed from a detached copy of x: under
     * createGraph the vjp does not depend on x, so its derivative (the second derivative) is lost.
     */
    private static Tensor detachedBackwardCube(Tensor x) {
        Tensor d = x.detach();
        return Graph.record("DetachedCubeBackward", d.mul(d).mul(d), new Tensor[] {x}, new Tensor[] {x},
                (g, c) -> new Tensor[] {g.mul(c.saved(0).detach().square().mul(3.0))});
    }

    // ---- helpers -------------------------------------------------------------------------------------------

    private record Case(String name, Function<List<Tensor>, Tensor> f, List<Tensor> inputs) {
    }

    private record Fixtures(Backend backend) {
        Tensor leaf(double[] values, int... shape) {
            return constant(values, shape).requiresGrad(true);
        }

        Tensor constant(double[] values, int... shape) {
            return Tensor.on(backend).fromArray(values, DType.FLOAT64, shape);
        }
    }

    /** d(X @ A)/dX for X [2, 3], A [3, 2]: entry [p*2 + q][s*3 + r] = (p == s) * A[r][q]. */
    private static double[][] matmulJacobian(double[] a) {
        double[][] expected = new double[4][6];
        for (int p = 0; p < 2; p++) {
            for (int q = 0; q < 2; q++) {
                for (int r = 0; r < 3; r++) {
                    expected[p * 2 + q][p * 3 + r] = a[r * 2 + q];
                }
            }
        }
        return expected;
    }

    private static void assertMatrixEquals(double[][] expected, double[][] actual, double tolerance, String what) {
        assertNotNull(actual, what);
        assertEquals(expected.length, actual.length, what + ": rows");
        for (int k = 0; k < expected.length; k++) {
            assertEquals(expected[k].length, actual[k].length, what + ": columns of row " + k);
            for (int j = 0; j < expected[k].length; j++) {
                assertEquals(expected[k][j], actual[k][j], tolerance, what + " [" + k + "][" + j + "]");
            }
        }
    }

    private static double[] analyticAndNumerical(String message) {
        Matcher m = VALUES.matcher(message);
        assertTrue(m.find(), "the message gives 'analytic A, numerical N': " + message);
        return new double[] {Double.parseDouble(m.group(1)), Double.parseDouble(m.group(2))};
    }

    private static String failure(Runnable check) {
        return assertThrows(GradCheckException.class, check::run).getMessage();
    }
}
