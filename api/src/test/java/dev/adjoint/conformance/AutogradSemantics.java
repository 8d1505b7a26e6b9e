package dev.adjoint.conformance;

import dev.adjoint.BackendMismatchException;
import dev.adjoint.BackendUnavailableException;
import dev.adjoint.DType;
import dev.adjoint.DTypeMismatchException;
import dev.adjoint.Tensor;
import dev.adjoint.TensorFactory;
import dev.adjoint.TensorShapeException;
import dev.adjoint.autograd.Autograd;
import dev.adjoint.autograd.GraphFreedException;
import dev.adjoint.autograd.RemovableHandle;
import dev.adjoint.backend.Backends;
import dev.adjoint.check.GradCheck;
import dev.adjoint.spi.Backend;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.function.Executable;

import java.lang.ref.WeakReference;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.DynamicTest.dynamicTest;

/** The autograd behaviour users rely on, one test each, run on the backend under test. */
public final class AutogradSemantics {
    private final Backend backend;
    private final TensorFactory f;

    private AutogradSemantics(Backend backend) {
        this.backend = backend;
        this.f = Tensor.on(backend);
    }

    public static Stream<DynamicNode> tests(Backend backend) {
        AutogradSemantics s = new AutogradSemantics(backend);
        List<DynamicNode> tests = new ArrayList<>();
        add(tests, "requiresGrad is contagious and gradFn is named as in PyTorch", s::contagion);
        add(tests, "backward on a scalar", s::scalarBackward);
        add(tests, "backward with an explicit gradient", s::explicitGradient);
        add(tests, "backward on a non-scalar without a gradient fails clearly", s::nonScalarNeedsGradient);
        add(tests, "gradients accumulate across backward calls", s::accumulatesAcrossCalls);
        add(tests, "gradients accumulate at branches (a tensor used twice)", s::accumulatesAtBranches);
        add(tests, "a transposed weight used at every step of a recurrence sums its gradients in its own order "
                + "(elementwise results keep a permuted dense order)",
                s::transposedWeightAcrossSteps);
        add(tests, "summing gradients at a branch leaves the gradients handed to other branches intact",
                s::branchSumsLeaveSharedGradientsIntact);
        add(tests, "leaves' gradients share no memory with each other or with the caller's gradient",
                s::leafGradientsAreTheirOwn);
        add(tests, "zeroGrad clears the gradient", s::zeroGrad);
        add(tests, "backward passes on two threads into one leaf lose no addition", s::concurrentAccumulation);
        add(tests, "zeroGrad(false) zeroes the gradient in place and leaves a missing one missing",
                s::zeroGradInPlace);
        add(tests, "saved tensors are freed after backward unless retainGraph", s::graphFreed);
        add(tests, "detach shares data and cuts history", s::detach);
        add(tests, "noGrad records nothing and restores the previous mode", s::noGrad);
        add(tests, "noGrad is confined to the current thread", s::noGradIsThreadConfined);
        add(tests, "grad-mode scopes closed out of order fail and leave the mode from before them",
                s::scopesClosedOutOfOrder);
        add(tests, "a grad-mode scope closed on another thread fails and changes nothing", s::scopeClosedOnAnotherThread);
        add(tests, "graphs built on different threads are independent", s::threadsIndependent);
        add(tests, "createGraph gives Hessian-vector products", s::hessianVectorProduct);
        add(tests, "createGraph through matmul, softmax and a loss", s::doubleBackwardComposite);
        add(tests, "Autograd.grad checks its arguments", s::gradArguments);
        add(tests, "hooks see and may replace gradients", s::hooks);
        add(tests, "a hook's handle removes that hook only", s::hookHandles);
        add(tests, "retainGrad keeps a non-leaf gradient", s::retainGrad);
        add(tests, "a retained gradient accumulates as a leaf's, in memory of its own, recorded under createGraph",
                s::retainedGradientAccumulates);
        add(tests, "setGrad refuses a gradient of another dtype, shape or backend", s::setGradChecks);
        add(tests, "a dropped forward pass leaves nothing behind", s::droppedGraphIsCollected);
        add(tests, "requiresGrad is only for floating leaves", s::requiresGradRules);
        add(tests, "ops across backends fail naming both", s::backendMismatch);
        add(tests, "shape checks run before any kernel", s::validationBeforeKernels);
        add(tests, "to(backend) and toType copy values", s::transfers);
        add(tests, "to(backend) is differentiable: gradients flow back to the source backend", s::transferGradients);
        add(tests, "copyFrom updates a parameter in place, only outside recording", s::copyFrom);
        add(tests, "add_, mul_ and friends update in place, with broadcasting, both dtypes", s::inPlaceArithmetic);
        add(tests, "in-place ops refuse recording, expanded targets and bad shapes", s::inPlaceRefusals);
        add(tests, "an in-place op reading its own storage through another view", s::inPlaceAliasing);
        add(tests, "backward refuses a saved tensor that was modified in place", s::versionCounter);
        add(tests, "the weight grad of x @ W^T is dense and right, and so is grad of grad", s::transposedWeightGrad);
        add(tests, "slices narrowed from one input (overlapping, of a permuted view, beside whole uses) sum into its gradient",
                s::narrowedSlicesSum);
        add(tests, "argmax and argmin: first of ties, NaN as the extreme, INT64, no grad", s::argExtremes);
        add(tests, "item, arrays and creation", s::creationAndReading);
        add(tests, "empty tensors go through every kind of op, and backward", s::emptyTensors);
        add(tests, "Backends lists what is available and why not", s::backendListing);
        return tests.stream();
    }

    private static void add(List<DynamicNode> tests, String name, Executable body) {
        tests.add(dynamicTest(name, body));
    }

    private Tensor vec(double... values) {
        return f.fromArray(values, values.length);
    }

    void contagion() {
        Tensor a = vec(1, 2, 3).requiresGrad(true);
        Tensor b = vec(4, 5, 6);
        Tensor c = a.add(b);
        assertTrue(c.requiresGrad());
        assertFalse(c.isLeaf());
        assertEquals("AddBackward", c.gradFn().name());
        assertEquals("MulBackward", a.mul(b).gradFn().name());
        assertEquals("SumBackward", a.sum().gradFn().name());
        assertEquals("MmBackward", a.reshape(1, 3).matmul(b.reshape(3, 1)).gradFn().name());
        Tensor d = b.mul(b);
        assertFalse(d.requiresGrad());
        assertNull(d.gradFn());
        assertTrue(d.isLeaf());
        // A leaf's gradient flows into its AccumulateGrad node, as torch's next_functions show.
        assertSame(a, ((dev.adjoint.autograd.AccumulateGrad) c.gradFn().nextFunctions().get(0)).leaf());
        assertNull(c.gradFn().nextFunctions().get(1));
    }

    void scalarBackward() {
        Tensor x = vec(1, -2, 3).requiresGrad(true);
        x.mul(x).sum().backward();
        assertArrayEquals(new double[] {2, -4, 6}, x.grad().toDoubleArray(), 0);
        assertFalse(x.grad().requiresGrad());
    }

    void explicitGradient() {
        Tensor x = f.fromArray(new double[] {1, 2, 3, 4, 5, 6}, 2, 3).requiresGrad(true);
        Tensor y = x.mul(3.0);
        y.backward(f.fromArray(new double[] {1, 0, 2, 0, 1, -1}, 2, 3));
        assertArrayEquals(new double[] {3, 0, 6, 0, 3, -3}, x.grad().toDoubleArray(), 0);
        TensorShapeException e = assertThrows(TensorShapeException.class, () -> x.mul(2.0).backward(vec(1, 2)));
        assertTrue(e.getMessage().contains("gradient has shape [2] but the output has shape [2, 3]"), e.getMessage());
    }

    void nonScalarNeedsGradient() {
        Tensor x = f.ones(DType.FLOAT64, 2, 3).requiresGrad(true);
        TensorShapeException e = assertThrows(TensorShapeException.class, () -> x.mul(2.0).backward());
        assertTrue(e.getMessage().contains("only for scalar outputs"), e.getMessage());
        assertTrue(e.getMessage().contains("[2, 3]"), e.getMessage());
        IllegalStateException noGraph = assertThrows(IllegalStateException.class, () -> vec(1).sum().backward());
        assertTrue(noGraph.getMessage().contains("does not require grad"), noGraph.getMessage());
    }

    void accumulatesAcrossCalls() {
        Tensor x = vec(1, 2).requiresGrad(true);
        x.mul(3.0).sum().backward();
        x.square().sum().backward();
        assertArrayEquals(new double[] {3 + 2, 3 + 4}, x.grad().toDoubleArray(), 0);
    }

    void accumulatesAtBranches() {
        Tensor x = vec(2, 3).requiresGrad(true);
        // y = x*x + x*sin(x) + x: x reaches the output along four paths.
        Tensor y = x.mul(x).add(x.mul(x.sin())).add(x).sum();
        y.backward();
        double[] g = x.grad().toDoubleArray();
        for (int i = 0; i < 2; i++) {
            double v = i == 0 ? 2 : 3;
            assertEquals(2 * v + Math.sin(v) + v * Math.cos(v) + 1, g[i], 1e-12);
        }
    }

    void transposedWeightAcrossSteps() {
        // As an RNN's h @ W_hh^T: the gradients reaching the one transposed view are transposed dense
        // blocks; their sum keeps that order (PyTorch's elementwise results keep their inputs' memory
        // order) and must equal the sum taken through a fresh contiguous copy at every step.
        double[] values = {0.3, -0.2, 0.5, 0.1, 0.4, -0.6, -0.3, 0.2, 0.7};
        Tensor w = f.fromArray(values, 3, 3).requiresGrad(true);
        Tensor copied = f.fromArray(values, 3, 3).requiresGrad(true);
        Tensor wT = w.transpose(0, 1);
        Tensor h = f.fromArray(new double[] {1, -1, 0.5, 0.25, 2, -0.5}, 2, 3);
        Tensor hCopied = h;
        for (int step = 0; step < 5; step++) {
            h = h.matmul(wT).tanh();
            hCopied = hCopied.matmul(copied.transpose(0, 1).contiguous()).tanh();
        }
        h.sum().backward();
        hCopied.sum().backward();
        assertArrayEquals(copied.grad().toDoubleArray(), w.grad().toDoubleArray(), 1e-12);

        Tensor a = f.fromArray(new double[] {1, 2, 3, 4, 5, 6}, 2, 3);
        Tensor b = f.fromArray(new double[] {10, 20, 30, 40, 50, 60}, 2, 3);
        Tensor sum = a.transpose(0, 1).add(b.transpose(0, 1));
        assertArrayEquals(a.transpose(0, 1).layout().strides(), sum.layout().strides(),
                "the sum of two transposed dense tensors keeps their order");
        assertArrayEquals(new double[] {11, 44, 22, 55, 33, 66}, sum.toDoubleArray(), 0);
        Tensor negated = a.transpose(0, 1).neg();
        assertArrayEquals(a.transpose(0, 1).layout().strides(), negated.layout().strides(),
                "a unary op on a transposed dense tensor keeps its order");
        assertArrayEquals(new double[] {-1, -4, -2, -5, -3, -6}, negated.toDoubleArray(), 0);
    }

    void branchSumsLeaveSharedGradientsIntact() {
        // The pass adds the later gradients of a slot into the sum it made itself; a's gradient is
        // such a sum, then handed to x twice (add passes one tensor to both inputs) and kept by
        // retainGrad, so an in-place add into it would change a.grad and x.grad.
        Tensor x = vec(1, 2).requiresGrad(true);
        Tensor a = x.add(x);
        a.retainGrad();
        Tensor b = a.mul(1.0);
        b.retainGrad();
        // y = sum(b + x + x + a), b = a, a = 2x: dy/db = 1, dy/da = 2, dy/dx = 2 + 2 * 2.
        b.add(x).add(x).add(a).sum().backward();
        assertArrayEquals(new double[] {1, 1}, b.grad().toDoubleArray(), 0);
        assertArrayEquals(new double[] {2, 2}, a.grad().toDoubleArray(), 0);
        assertArrayEquals(new double[] {6, 6}, x.grad().toDoubleArray(), 0);
    }

    void leafGradientsAreTheirOwn() {
        // add's backward hands one gradient to both inputs, and reshape's a view of it: stored as it
        // came, an in-place update of one leaf's gradient (clipping, say) would change the other's.
        Tensor a = vec(1, 2).requiresGrad(true);
        Tensor b = vec(3, 4).requiresGrad(true);
        Tensor c = f.fromArray(new double[] {1, 2, 3, 4}, 2, 2).requiresGrad(true);
        Tensor w = vec(5, 6);
        a.add(b).add(c.reshape(4).narrow(0, 0, 2)).mul(w).sum().backward();
        a.grad().mul_(2.0);
        assertArrayEquals(new double[] {10, 12}, a.grad().toDoubleArray(), 0);
        assertArrayEquals(new double[] {5, 6}, b.grad().toDoubleArray(), 0);
        assertArrayEquals(new double[] {5, 6, 0, 0}, c.grad().toDoubleArray(), 0);
        // A leaf that is the root keeps a copy of the gradient passed in, not the caller's tensor.
        Tensor x = vec(1, 2).requiresGrad(true);
        Tensor g = vec(7, 8);
        x.backward(g);
        g.mul_(0.0);
        assertArrayEquals(new double[] {7, 8}, x.grad().toDoubleArray(), 0);
        // And through a view of the root: y = x2.reshape(2, 1) hands back a view of g2.
        Tensor x2 = vec(1, 2).requiresGrad(true);
        Tensor g2 = f.fromArray(new double[] {3, 4}, 2, 1);
        x2.reshape(2, 1).backward(g2);
        g2.mul_(0.0);
        assertArrayEquals(new double[] {3, 4}, x2.grad().toDoubleArray(), 0);
    }

    void concurrentAccumulation() throws Exception {
        Tensor x = f.zeros(DType.FLOAT64, 64).requiresGrad(true);
        int passes = 400;
        CountDownLatch start = new CountDownLatch(1);
        Callable<Void> worker = () -> {
            start.await();
            for (int i = 0; i < passes; i++) {
                x.mul(1.0).sum().backward();
            }
            return null;
        };
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            List<Future<Void>> done = List.of(pool.submit(worker), pool.submit(worker));
            start.countDown();
            for (Future<Void> d : done) {
                d.get();
            }
        } finally {
            pool.shutdown();
        }
        double[] expected = new double[64];
        Arrays.fill(expected, 2.0 * passes);
        assertArrayEquals(expected, x.grad().toDoubleArray(), "each of the two threads' passes adds 1 to every element");
    }

    void zeroGrad() {
        Tensor x = vec(1).requiresGrad(true);
        x.mul(2.0).sum().backward();
        assertNotNull(x.grad());
        x.zeroGrad();
        assertNull(x.grad());
        x.mul(5.0).sum().backward();
        assertEquals(5.0, x.grad().item());
    }

    /**
     * PyTorch 1.13's {@code zero_grad(set_to_none=False)}: {@code grad.detach_()} or
     * {@code grad.requires_grad_(False)}, then {@code grad.zero_()}.
     */
    void zeroGradInPlace() {
        Tensor x = vec(1, 2).requiresGrad(true);
        x.zeroGrad(false);
        assertNull(x.grad(), "no gradient yet: zeroGrad(false) must not create one");

        x.mul(3.0).sum().backward();
        Tensor grad = x.grad();
        x.zeroGrad(false);
        assertSame(grad, x.grad(), "the same gradient, zeroed in place");
        assertArrayEquals(new double[] {0, 0}, grad.toDoubleArray(), 0);
        x.mul(x).sum().backward();
        assertArrayEquals(new double[] {2, 4}, x.grad().toDoubleArray(), 0, "the next backward adds onto the zeros");

        // A gradient recorded with createGraph loses its graph, and keeps its memory.
        Tensor y = vec(1, 2).requiresGrad(true);
        y.mul(y).mul(y).sum().backward(null, false, true);
        Tensor withGraph = y.grad();
        assertNotNull(withGraph.gradFn());
        y.zeroGrad(false);
        assertNull(y.grad().gradFn());
        assertFalse(y.grad().requiresGrad());
        assertArrayEquals(new double[] {0, 0}, withGraph.detach().toDoubleArray(), 0, "zeroed in its own storage");

        // A gradient set by the user that requires grad stops requiring it, as PyTorch's requires_grad_(False).
        Tensor z = vec(1, 2).requiresGrad(true);
        Tensor given = vec(5, 6).requiresGrad(true);
        z.setGrad(given);
        z.zeroGrad(false);
        assertSame(given, z.grad());
        assertFalse(given.requiresGrad());
        assertArrayEquals(new double[] {0, 0}, given.toDoubleArray(), 0);
    }

    void graphFreed() {
        Tensor x = vec(1, 2).requiresGrad(true);
        Tensor y = x.mul(x).sum();
        y.backward();
        GraphFreedException e = assertThrows(GraphFreedException.class, y::backward);
        assertTrue(e.getMessage().contains("MulBackward"), e.getMessage());
        assertTrue(e.getMessage().contains("retainGraph"), e.getMessage());

        Tensor x2 = vec(1, 2).requiresGrad(true);
        Tensor y2 = x2.mul(x2).sum();
        y2.backward(null, true, false);
        y2.backward(null, false, false);
        assertArrayEquals(new double[] {4, 8}, x2.grad().toDoubleArray(), 0);
    }

    void detach() {
        Tensor x = vec(1, 2).requiresGrad(true);
        Tensor y = x.mul(2.0);
        Tensor d = y.detach();
        assertFalse(d.requiresGrad());
        assertTrue(d.isLeaf());
        assertSame(y.storage(), d.storage());
        assertArrayEquals(y.toDoubleArray(), d.toDoubleArray(), 0);
        Tensor z = d.mul(x).sum();
        z.backward();
        assertArrayEquals(new double[] {2, 4}, x.grad().toDoubleArray(), 0);
    }

    void noGrad() {
        Tensor x = vec(1, 2).requiresGrad(true);
        try (var outer = Tensor.noGrad()) {
            Tensor y = x.mul(2.0);
            assertFalse(y.requiresGrad());
            assertNull(y.gradFn());
            try (var inner = Tensor.enableGrad()) {
                assertTrue(x.mul(2.0).requiresGrad());
            }
            assertFalse(x.mul(2.0).requiresGrad());
        }
        assertTrue(x.mul(2.0).requiresGrad());
    }

    void noGradIsThreadConfined() throws Exception {
        CountDownLatch inside = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        Thread other = new Thread(() -> {
            try (var scope = Tensor.noGrad()) {
                inside.countDown();
                release.await(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        other.start();
        assertTrue(inside.await(10, TimeUnit.SECONDS));
        try {
            Tensor x = vec(1).requiresGrad(true);
            assertTrue(x.mul(2.0).requiresGrad(), "another thread's noGrad must not disable this thread's graph");
        } finally {
            release.countDown();
            other.join();
        }
    }

    void scopesClosedOutOfOrder() {
        Tensor x = vec(1).requiresGrad(true);
        var outer = Tensor.noGrad();
        var inner = Tensor.enableGrad();
        IllegalStateException e = assertThrows(IllegalStateException.class, outer::close);
        assertTrue(e.getMessage().contains("GradMode: scopes closed out of order: the scope that disabled grad mode "
                + "was closed while 1 scope opened after it"), e.getMessage());
        assertTrue(x.mul(2.0).requiresGrad(), "grad mode is back to what it was before the outer scope");
        inner.close();
        outer.close();
        assertTrue(x.mul(2.0).requiresGrad(), "closing them again changes nothing");

        // Nested deeper, inside a disabled region: the mode returns to disabled.
        try (var region = Tensor.noGrad()) {
            var a = Tensor.enableGrad();
            var b = Tensor.noGrad();
            var c = Tensor.enableGrad();
            IllegalStateException two = assertThrows(IllegalStateException.class, a::close);
            assertTrue(two.getMessage().contains("2 scopes opened after it"), two.getMessage());
            assertTrue(two.getMessage().contains("grad mode is disabled again"), two.getMessage());
            assertFalse(x.mul(2.0).requiresGrad());
            c.close();
            b.close();
            assertFalse(x.mul(2.0).requiresGrad());
        }
        assertTrue(x.mul(2.0).requiresGrad());

        // Closing twice in order is harmless.
        var once = Tensor.noGrad();
        once.close();
        once.close();
        assertTrue(x.mul(2.0).requiresGrad());
    }

    void scopeClosedOnAnotherThread() throws Exception {
        Tensor x = vec(1).requiresGrad(true);
        var scope = Tensor.noGrad();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        AtomicReference<Boolean> otherThreadRecords = new AtomicReference<>();
        Thread other = new Thread(() -> {
            try {
                scope.close();
            } catch (Throwable t) {
                failure.set(t);
            }
            otherThreadRecords.set(x.mul(2.0).requiresGrad());
        }, "closer");
        try {
            other.start();
            other.join(10_000);
            assertTrue(failure.get() instanceof IllegalStateException, String.valueOf(failure.get()));
            String message = failure.get().getMessage();
            assertTrue(message.contains("GradMode: the scope that disabled grad mode opened on thread '"
                    + Thread.currentThread().getName() + "' was closed on thread 'closer'"), message);
            assertTrue(otherThreadRecords.get(), "the other thread's grad mode is untouched");
            assertFalse(x.mul(2.0).requiresGrad(), "this thread is still inside its scope");
        } finally {
            scope.close();
        }
        assertTrue(x.mul(2.0).requiresGrad(), "the scope closes on its own thread");
    }

    void threadsIndependent() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            List<Future<double[]>> results = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                double scale = t + 1;
                results.add(pool.submit(() -> {
                    Tensor x = vec(1, 2, 3).requiresGrad(true);
                    for (int i = 0; i < 50; i++) {
                        x.mul(scale).tanh().sum().backward();
                    }
                    return x.grad().toDoubleArray();
                }));
            }
            for (int t = 0; t < 4; t++) {
                double scale = t + 1;
                double[] g = results.get(t).get(30, TimeUnit.SECONDS);
                for (int i = 0; i < 3; i++) {
                    double th = Math.tanh(scale * (i + 1));
                    assertEquals(50 * scale * (1 - th * th), g[i], 1e-9);
                }
            }
        } finally {
            pool.shutdownNow();
        }
    }

    void hessianVectorProduct() {
        // f(x) = sum(x^3): grad = 3x^2, Hessian = diag(6x), so H v = 6 x v.
        Tensor x = vec(1, -2, 0.5).requiresGrad(true);
        Tensor v = vec(1, 2, 3);
        Tensor y = x.pow(3).sum();
        Tensor g = Autograd.grad(List.of(y), List.of(x), null, true, true, false).get(0);
        assertTrue(g.requiresGrad(), "a gradient computed with createGraph has history");
        assertArrayEquals(new double[] {3, 12, 0.75}, g.toDoubleArray(), 1e-12);
        Tensor hv = Autograd.grad(List.of(g.mul(v).sum()), List.of(x), null, false, false, false).get(0);
        assertArrayEquals(new double[] {6, -24, 9}, hv.toDoubleArray(), 1e-12);

        // The same through backward(createGraph): x.grad keeps its history.
        Tensor x2 = vec(2).requiresGrad(true);
        x2.pow(3).sum().backward(null, false, true);
        Tensor first = x2.grad();
        assertEquals(12, first.item(), 1e-12);
        x2.zeroGrad();
        first.backward();
        assertEquals(12, x2.grad().item(), 1e-12);
    }

    void doubleBackwardComposite() {
        Tensor w = f.fromArray(new double[] {0.1, -0.2, 0.3, 0.4, 0.5, -0.6}, 3, 2).requiresGrad(true);
        Tensor x = f.fromArray(new double[] {1, 2, 3, -1, 0.5, 2}, 2, 3);
        Tensor target = f.fromArray(new long[] {1, 0}, 2);
        Tensor loss = dev.adjoint.Functional.crossEntropy(x.matmul(w), target);
        Tensor g = Autograd.grad(List.of(loss), List.of(w), null, true, true, false).get(0);
        Tensor penalty = g.square().sum();
        Tensor gg = Autograd.grad(List.of(penalty), List.of(w), null, false, false, false).get(0);
        assertEquals(6, gg.numel());
        // Finite-difference check of d(penalty)/dw on one element.
        double eps = 1e-6;
        double[] base = w.toDoubleArray();
        double[] plus = base.clone();
        double[] minus = base.clone();
        plus[4] += eps;
        minus[4] -= eps;
        double numeric = (gradPenalty(plus, x, target) - gradPenalty(minus, x, target)) / (2 * eps);
        assertEquals(numeric, gg.toDoubleArray()[4], 1e-6);
    }

    private double gradPenalty(double[] wValues, Tensor x, Tensor target) {
        Tensor w = f.fromArray(wValues, 3, 2).requiresGrad(true);
        Tensor loss = dev.adjoint.Functional.crossEntropy(x.matmul(w), target);
        Tensor g = Autograd.grad(List.of(loss), List.of(w), null, false, false, false).get(0);
        return g.square().sum().item();
    }

    void gradArguments() {
        Tensor x = vec(1, 2).requiresGrad(true);
        Tensor y = x.tanh().sum();
        IllegalArgumentException twice = assertThrows(IllegalArgumentException.class,
                () -> Autograd.grad(List.of(y), List.of(x, x), null, true, false, true));
        assertTrue(twice.getMessage().contains("inputs 0 and 1 are the same tensor"), twice.getMessage());
        IllegalArgumentException count = assertThrows(IllegalArgumentException.class,
                () -> Autograd.grad(List.of(y, y), List.of(x), List.of(vec(1)), true, false, true));
        assertTrue(count.getMessage().contains("1 gradOutputs for 2 outputs"), count.getMessage());
        // createGraph implies retainGraph (PyTorch's default): the recorded gradient can be differentiated.
        Tensor g = Autograd.grad(List.of(y), List.of(x), null, false, true, false).get(0);
        Tensor gg = Autograd.grad(List.of(g.sum()), List.of(x), null, false, false, false).get(0);
        double t = Math.tanh(1);
        assertEquals(-2 * t * (1 - t * t), gg.toDoubleArray()[0], 1e-12);
    }

    void hooks() {
        Tensor x = vec(1, 2).requiresGrad(true);
        List<double[]> seen = new ArrayList<>();
        x.registerHook(g -> g.mul(10.0));
        Tensor h = x.mul(3.0);
        h.registerHook(g -> {
            seen.add(g.toDoubleArray());
            return null;
        });
        h.sum().backward();
        assertArrayEquals(new double[] {1, 1}, seen.get(0), 0);
        assertArrayEquals(new double[] {30, 30}, x.grad().toDoubleArray(), 0);
        assertThrows(IllegalStateException.class, () -> vec(1).registerHook(g -> g));
    }

    void hookHandles() {
        Tensor x = vec(1, 2).requiresGrad(true);
        UnaryOperator<Tensor> times10 = g -> g.mul(10.0);
        RemovableHandle first = x.registerHook(times10);
        RemovableHandle second = x.registerHook(times10);
        x.mul(3.0).sum().backward();
        assertArrayEquals(new double[] {300, 300}, x.grad().toDoubleArray(), 0);
        first.remove();
        first.remove();
        x.zeroGrad();
        x.mul(3.0).sum().backward();
        assertArrayEquals(new double[] {30, 30}, x.grad().toDoubleArray(), 0, "removing twice removes one registration");
        try (second) {
            x.zeroGrad();
            x.mul(3.0).sum().backward();
            assertArrayEquals(new double[] {30, 30}, x.grad().toDoubleArray(), 0);
        }
        x.zeroGrad();
        x.mul(3.0).sum().backward();
        assertArrayEquals(new double[] {3, 3}, x.grad().toDoubleArray(), 0, "closing the handle removes the hook");
        // A hook that removes itself while the hooks run: it runs once.
        Tensor h = x.mul(1.0);
        int[] calls = {0};
        RemovableHandle[] self = new RemovableHandle[1];
        self[0] = h.registerHook(g -> {
            calls[0]++;
            self[0].remove();
            return null;
        });
        h.sum().backward(null, true, false);
        h.sum().backward(null, true, false);
        assertEquals(1, calls[0]);
    }

    void retainGrad() {
        Tensor x = vec(1, 2).requiresGrad(true);
        Tensor h = x.mul(3.0);
        h.retainGrad();
        h.square().sum().backward();
        assertArrayEquals(new double[] {6, 12}, h.grad().toDoubleArray(), 1e-12);
        assertNull(x.mul(2.0).grad(), "non-leaf tensors do not keep gradients unless asked");
    }

    void retainedGradientAccumulates() {
        // z = sum(y^2) with y = 2x: dz/dy = 2y = [4, 8, 12] per pass, and a second pass adds to it.
        Tensor x = vec(1, 2, 3).requiresGrad(true);
        Tensor y = x.mul(2.0);
        y.retainGrad();
        y.retainGrad();
        Tensor z = y.square().sum();
        z.backward(null, true, false);
        z.backward();
        assertArrayEquals(new double[] {8, 16, 24}, y.grad().toDoubleArray(), 0, "retainGrad twice retains once");
        assertArrayEquals(new double[] {16, 32, 48}, x.grad().toDoubleArray(), 0);

        // reshape's backward hands x2 a view of y2's gradient: the retained one must be a copy, or
        // an in-place update of x2.grad (gradient clipping) would change y2.grad too.
        Tensor x2 = f.fromArray(new double[] {1, 2, 3, 4}, 2, 2).requiresGrad(true);
        Tensor y2 = x2.reshape(4);
        y2.retainGrad();
        y2.mul(vec(1, 2, 3, 4)).sum().backward();
        try (var scope = Tensor.noGrad()) {
            x2.grad().mul_(0.5);
        }
        assertArrayEquals(new double[] {0.5, 1, 1.5, 2}, x2.grad().toDoubleArray(), 0);
        assertArrayEquals(new double[] {1, 2, 3, 4}, y2.grad().toDoubleArray(), 0);

        // Under createGraph it is part of the graph: y3 = 2x3, d sum(y3^3)/dy3 = 3 y3^2 = 12 x3^2,
        // whose sum has the gradient 24 x3.
        Tensor x3 = vec(1, 2).requiresGrad(true);
        Tensor y3 = x3.mul(2.0);
        y3.retainGrad();
        y3.pow(3).sum().backward(null, false, true);
        assertTrue(y3.grad().requiresGrad());
        assertArrayEquals(new double[] {12, 48}, y3.grad().toDoubleArray(), 1e-12);
        Tensor second = Autograd.grad(List.of(y3.grad().sum()), List.of(x3), null, false, false, false).get(0);
        assertArrayEquals(new double[] {24, 48}, second.toDoubleArray(), 1e-12);

        IllegalStateException untracked = assertThrows(IllegalStateException.class, () -> vec(1, 2).retainGrad());
        assertTrue(untracked.getMessage().startsWith("retainGrad: the tensor of shape [2] does not require grad"),
                untracked.getMessage());
    }

    void setGradChecks() {
        Tensor x = vec(1, 2, 3).requiresGrad(true);
        String name = backend.name();
        DTypeMismatchException dtype = assertThrows(DTypeMismatchException.class,
                () -> x.setGrad(vec(1, 1, 1).toType(DType.FLOAT32)));
        assertEquals("setGrad: a gradient must have the tensor's dtype (the gradient is FLOAT32 of shape [3] on backend '"
                + name + "', the tensor FLOAT64 of shape [3] on backend '" + name
                + "'); convert it with toType(DType.FLOAT64)", dtype.getMessage());
        assertThrows(DTypeMismatchException.class, () -> x.setGrad(f.arange(3)));
        TensorShapeException shape = assertThrows(TensorShapeException.class, () -> x.setGrad(vec(1, 1)));
        assertEquals("setGrad: a gradient must have the tensor's shape (the gradient is FLOAT64 of shape [2] on backend '"
                + name + "', the tensor FLOAT64 of shape [3] on backend '" + name + "')", shape.getMessage());
        Tensor elsewhere = Tensor.on(new RenamedBackend(backend, "other")).fromArray(new double[] {1, 1, 1}, 3);
        BackendMismatchException moved = assertThrows(BackendMismatchException.class, () -> x.setGrad(elsewhere));
        assertTrue(moved.getMessage().startsWith("setGrad: a gradient must be on the tensor's backend (the gradient "
                + "is FLOAT64 of shape [3] on backend 'other'"), moved.getMessage());
        assertNull(x.grad(), "a refused gradient is not stored");
        // An accepted one is where the next backward accumulates: 1 + 2x.
        x.setGrad(vec(1, 1, 1));
        x.mul(x).sum().backward();
        assertArrayEquals(new double[] {3, 5, 7}, x.grad().toDoubleArray(), 0);
    }

    void droppedGraphIsCollected() throws InterruptedException {
        Tensor x = vec(1, 2, 3).requiresGrad(true);
        WeakReference<Object> node = forwardAndDrop(x);
        for (int i = 0; i < 50 && node.get() != null; i++) {
            System.gc();
            Thread.sleep(10);
        }
        assertNull(node.get(), "a graph nobody references must be collectable: nothing global may hold it");
    }

    private WeakReference<Object> forwardAndDrop(Tensor x) {
        Tensor y = x.exp().mul(x).sum();
        return new WeakReference<>(y.gradFn());
    }

    void requiresGradRules() {
        Tensor x = vec(1).requiresGrad(true);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> x.mul(2.0).requiresGrad(false));
        assertTrue(e.getMessage().contains("only leaf tensors"), e.getMessage());
        DTypeMismatchException d = assertThrows(DTypeMismatchException.class, () -> f.arange(3).requiresGrad(true));
        assertTrue(d.getMessage().contains("INT64"), d.getMessage());
    }

    void backendMismatch() {
        RenamedBackend other = new RenamedBackend(backend, "other");
        Tensor a = vec(1, 2);
        Tensor b = Tensor.on(other).fromArray(new double[] {1, 2}, 2);
        BackendMismatchException e = assertThrows(BackendMismatchException.class, () -> a.add(b));
        assertTrue(e.getMessage().contains("add: tensors are on different backends ('" + backend.name()
                + "' for shape [2], 'other' for shape [2])"), e.getMessage());
        assertThrows(BackendMismatchException.class, () -> a.matmul(b));
        Tensor moved = b.to(backend);
        assertSame(backend, moved.backend());
        assertArrayEquals(new double[] {2, 4}, a.add(moved).toDoubleArray(), 0);

        // A seed gradient on another backend is refused before anything runs: the graph stays usable.
        Tensor x = vec(1, 2).requiresGrad(true);
        Tensor y = x.mul(3.0);
        Tensor seed = Tensor.on(other).fromArray(new double[] {1, 2}, 2);
        BackendMismatchException g = assertThrows(BackendMismatchException.class, () -> y.backward(seed));
        assertTrue(g.getMessage().startsWith("backward: gradient is on backend 'other'"), g.getMessage());
        assertNull(x.grad());
        y.backward(seed.to(backend));
        assertArrayEquals(new double[] {3, 6}, x.grad().toDoubleArray(), 0);
    }

    void validationBeforeKernels() {
        RenamedBackend counting = new RenamedBackend(backend, "counting");
        TensorFactory cf = Tensor.on(counting);
        Tensor a = cf.ones(DType.FLOAT64, 3, 4);
        Tensor b = cf.ones(DType.FLOAT64, 5, 2);
        int before = counting.kernelCalls.get();
        TensorShapeException e = assertThrows(TensorShapeException.class, () -> a.matmul(b));
        assertEquals("matmul: shapes [3, 4] and [5, 2] cannot be multiplied (4 != 5)", e.getMessage());
        assertThrows(TensorShapeException.class, () -> a.add(b));
        assertThrows(TensorShapeException.class, () -> a.sum(5, false));
        assertEquals(before, counting.kernelCalls.get(), "no kernel may run for an invalid call");
    }

    void transfers() {
        Tensor x = f.fromArray(new double[] {1.5, -2.25, 3}, 3);
        Tensor copy = x.clone();
        assertTrue(copy.storage() != x.storage(), "clone copies even a contiguous tensor");
        assertArrayEquals(x.toDoubleArray(), copy.toDoubleArray(), 0);
        Tensor single = x.toType(DType.FLOAT32);
        assertEquals(DType.FLOAT32, single.dtype());
        assertArrayEquals(new float[] {1.5f, -2.25f, 3f}, single.toFloatArray());
        assertArrayEquals(new long[] {1, -2, 3}, x.toLongArray());
        Tensor xr = x.requiresGrad(true);
        xr.toType(DType.FLOAT32).mul(2.0).sum().backward();
        assertEquals(DType.FLOAT64, xr.grad().dtype());
        assertArrayEquals(new double[] {2, 2, 2}, xr.grad().toDoubleArray(), 0);
    }

    void transferGradients() {
        // The reference backend, or the backend under test under another name when it is the reference.
        Backend scalar = Backends.get(OpConformance.REFERENCE);
        Backend other = scalar == backend || scalar.name().equals(backend.name())
                ? new RenamedBackend(backend, "other") : scalar;
        for (DType dtype : List.of(DType.FLOAT64, DType.FLOAT32)) {
            Tensor x = f.fromArray(new double[] {0.5, -1, 2}, dtype, 3).requiresGrad(true);
            Tensor there = x.to(other);
            assertSame(other, there.backend());
            assertEquals(dtype, there.dtype());
            assertEquals("ToCopyBackward", there.gradFn().name());
            there.sin().mul(there).sum().backward();
            assertSame(backend, x.grad().backend(), "the gradient is on the source backend");
            assertEquals(dtype, x.grad().dtype());
            double[] g = x.grad().toDoubleArray();
            double[] v = {0.5, -1, 2};
            for (int i = 0; i < 3; i++) {
                assertEquals(Math.sin(v[i]) + v[i] * Math.cos(v[i]), g[i], dtype == DType.FLOAT64 ? 1e-15 : 1e-6);
            }
        }
        // Out and back, mixed with work on both sides, once and twice differentiated.
        Tensor a = f.fromArray(new double[] {0.3, -0.7, 1.1, 0.2, -1.5, 0.9}, 2, 3).requiresGrad(true);
        Tensor b = f.fromArray(new double[] {0.4, 1.2, -0.6}, 3).requiresGrad(true);
        Function<List<Tensor>, Tensor> roundTrip = in -> {
            Tensor away = in.get(0).to(other).tanh().mul(in.get(1).to(other));
            return away.to(backend).exp().add(in.get(0).square());
        };
        GradCheck.gradcheck("to(backend)", roundTrip, List.of(a, b), GradCheck.Options.defaults());
        GradCheck.gradgradcheck("to(backend)", roundTrip, List.of(a, b), GradCheck.Options.defaults());
        // Under noGrad it records nothing, and to() of the same backend is the tensor itself.
        try (var scope = Tensor.noGrad()) {
            assertFalse(a.to(other).requiresGrad());
        }
        assertSame(a, a.to(backend));
        assertFalse(f.arange(3).to(other).requiresGrad(), "INT64 copies have no gradient");
    }

    void copyFrom() {
        Tensor w = vec(1, 2, 3).requiresGrad(true);
        Tensor alias = w.detach();
        IllegalStateException recording = assertThrows(IllegalStateException.class, () -> w.copyFrom(vec(0, 0, 0)));
        assertTrue(recording.getMessage().contains("inside Tensor.noGrad()"), recording.getMessage());
        w.mul(w).sum().backward();
        try (var scope = Tensor.noGrad()) {
            assertSame(w, w.copyFrom(w.sub(w.grad().mul(0.5))));
            TensorShapeException shape = assertThrows(TensorShapeException.class, () -> w.copyFrom(vec(1, 2)));
            assertTrue(shape.getMessage().contains("copyFrom: source shape [2] does not match target shape [3]"),
                    shape.getMessage());
        }
        assertArrayEquals(new double[] {0, 0, 0}, w.toDoubleArray(), 0);
        assertArrayEquals(new double[] {0, 0, 0}, alias.toDoubleArray(), 0, "views share the updated storage");
        assertTrue(w.requiresGrad() && w.isLeaf());
        Tensor strided = f.zeros(DType.FLOAT32, 3, 2);
        strided.transpose(0, 1).copyFrom(f.fromArray(new double[] {1, 2, 3, 4, 5, 6}, 2, 3));
        assertArrayEquals(new double[] {1, 4, 2, 5, 3, 6}, strided.toDoubleArray(), 0, "writes through a strided view");
    }

    void inPlaceArithmetic() {
        for (DType dtype : new DType[] {DType.FLOAT32, DType.FLOAT64}) {
            Tensor p = f.fromArray(new double[] {1, 2, 3, 4, 5, 6}, 2, 3).toType(dtype);
            Tensor alias = p.detach();
            Tensor row = f.fromArray(new double[] {10, 20, 30}, 3).toType(dtype);
            assertSame(p, p.add_(row), "returns the target, for chaining");
            assertArrayEquals(new double[] {11, 22, 33, 14, 25, 36}, p.toDoubleArray(), 0, dtype + " add_ broadcast");
            p.sub_(row, 0.5).mul_(2).div_(f.full(4, dtype, 2, 1)).add_(1.5).sub_(0.5);
            // ((11 - 5) * 2) / 4 + 1.5 - 0.5 = 4, and so on
            assertArrayEquals(new double[] {4, 7, 10, 5.5, 8.5, 11.5}, p.toDoubleArray(), 1e-12, dtype + " chain");
            assertArrayEquals(p.toDoubleArray(), alias.toDoubleArray(), 0, "views see in-place updates");
            p.add_(row, -0.1);
            assertArrayEquals(new double[] {3, 5, 7, 4.5, 6.5, 8.5}, p.toDoubleArray(), 1e-6, dtype + " add_ alpha");
            p.mul_(p);
            assertArrayEquals(new double[] {9, 25, 49, 20.25, 42.25, 72.25}, p.toDoubleArray(), 1e-5, "self operand");
            Tensor strided = f.zeros(dtype, 3, 2);
            strided.transpose(0, 1).add_(f.fromArray(new double[] {1, 2, 3, 4, 5, 6}, 2, 3).toType(dtype));
            assertArrayEquals(new double[] {1, 4, 2, 5, 3, 6}, strided.toDoubleArray(), 0, "writes through a strided view");
            Tensor column = f.zeros(dtype, 2, 3);
            column.narrow(1, 1, 1).fill_(7);
            assertArrayEquals(new double[] {0, 7, 0, 0, 7, 0}, column.toDoubleArray(), 0, "fill_ through a slice");
            column.zero_();
            assertArrayEquals(new double[6], column.toDoubleArray(), 0, "zero_");
            // Long enough for vector loops and a tail. add_(other, alpha) is one fused pass, and it
            // rounds exactly as add(other.mul(alpha)) does (no fused multiply-add).
            int n = 1037;
            double[] pv = new double[n];
            double[] gv = new double[n];
            for (int i = 0; i < n; i++) {
                pv[i] = Math.sin(i * 0.37) * 3;
                gv[i] = Math.cos(i * 0.11) / 7;
            }
            Tensor big = f.fromArray(pv, n).toType(dtype);
            Tensor grad = f.fromArray(gv, n).toType(dtype);
            double[] expected = big.add(grad.mul(-0.3)).toDoubleArray();
            big.add_(grad, -0.3);
            assertArrayEquals(expected, big.toDoubleArray(), 0, dtype + " add_(other, alpha) rounds as add(mul)");
            expected = big.sub(grad.mul(0.01)).toDoubleArray();
            big.sub_(grad, 0.01);
            assertArrayEquals(expected, big.toDoubleArray(), 0, dtype + " sub_(other, alpha)");
            expected = big.mul(0.9).toDoubleArray();
            big.mul_(0.9);
            assertArrayEquals(expected, big.toDoubleArray(), 0, dtype + " mul_");
        }
    }

    void inPlaceRefusals() {
        Tensor w = vec(1, 2, 3).requiresGrad(true);
        IllegalStateException recording = assertThrows(IllegalStateException.class, () -> w.mul_(2));
        assertTrue(recording.getMessage().contains("mul_: in-place update of a tensor of shape [3] while gradients are "
                + "recorded for it"), recording.getMessage());
        Tensor plain = vec(1, 2, 3);
        IllegalStateException operand = assertThrows(IllegalStateException.class, () -> plain.add_(w, 2));
        assertTrue(operand.getMessage().contains("add_: in-place update"), operand.getMessage());
        Tensor computed = w.mul(2);
        try (var scope = Tensor.noGrad()) {
            IllegalStateException history = assertThrows(IllegalStateException.class, () -> computed.add_(1));
            assertTrue(history.getMessage().contains("add_: the target (shape [3]) was computed by MulBackward"),
                    history.getMessage());
            assertSame(w, w.sub_(vec(1, 1, 1)), "a parameter updates under noGrad");
        }
        assertArrayEquals(new double[] {0, 1, 2}, w.toDoubleArray(), 0);
        assertTrue(w.requiresGrad() && w.isLeaf() && w.gradFn() == null, "the update leaves no history");
        TensorShapeException shape = assertThrows(TensorShapeException.class, () -> plain.add_(f.ones(DType.FLOAT64, 2, 3)));
        assertTrue(shape.getMessage().contains("add_: the operand of shape [2, 3] does not broadcast to the in-place "
                + "target's shape [3]"), shape.getMessage());
        Tensor expanded = vec(1, 2, 3).expand(2, 3);
        IllegalStateException overlap = assertThrows(IllegalStateException.class, () -> expanded.add_(1));
        assertTrue(overlap.getMessage().contains("add_: the target of shape [2, 3] is an expanded view"),
                overlap.getMessage());
        assertThrows(DTypeMismatchException.class, () -> plain.add_(f.ones(DType.FLOAT32, 3)));
    }

    void inPlaceAliasing() {
        // x += x^T must read the old values of x, although it overwrites them as it goes.
        Tensor x = f.fromArray(new double[] {1, 2, 3, 4}, 2, 2);
        x.add_(x.transpose(0, 1));
        assertArrayEquals(new double[] {2, 5, 5, 8}, x.toDoubleArray(), 0);
        Tensor y = f.fromArray(new double[] {1, 2, 3, 4, 5}, 5);
        y.narrow(0, 1, 4).add_(y.narrow(0, 0, 4));
        assertArrayEquals(new double[] {1, 3, 5, 7, 9}, y.toDoubleArray(), 0, "overlapping slices");
    }

    void versionCounter() {
        Tensor w = vec(1, 2, 3).requiresGrad(true);
        Tensor x = vec(4, 5, 6);
        Tensor y = w.mul(x).sum();
        Tensor view = x.narrow(0, 1, 2);
        assertEquals(0, x.version());
        try (var scope = Tensor.noGrad()) {
            view.mul_(2);
        }
        assertEquals(1, x.version(), "views share the counter");
        assertEquals(1, x.detach().version(), "and so does detach()");
        IllegalStateException stale = assertThrows(IllegalStateException.class, y::backward);
        assertTrue(stale.getMessage().contains("MulBackward: its saved tensor 1 (shape [3], FLOAT64), needed for the "
                + "gradient, was modified by an in-place operation: it is at version 1, expected version 0"),
                stale.getMessage());

        // exp saves its output; updating the output in place is caught the same way.
        Tensor e = w.exp();
        try (var scope = Tensor.noGrad()) {
            e.detach().zero_();
        }
        IllegalStateException output = assertThrows(IllegalStateException.class, () -> e.sum().backward());
        assertTrue(output.getMessage().contains("ExpBackward: its output"), output.getMessage());

        // The training loop's order is fine: backward, then update the parameter, then a new forward.
        Tensor loss = w.mul(w).sum();
        loss.backward();
        try (var scope = Tensor.noGrad()) {
            w.sub_(w.grad(), 0.25);
        }
        assertEquals(1, w.version());
        w.zeroGrad();
        w.mul(w).sum().backward();
        assertArrayEquals(new double[] {1, 2, 3}, w.grad().toDoubleArray(), 0);
    }

    void transposedWeightGrad() {
        // nn.Linear computes x @ W^T; the weight's grad must be dense, equal to g^T x, and twice
        // differentiable like every other backward formula.
        Tensor x = f.fromArray(new double[] {1, 2, 3, 4, 5, 6}, 2, 3).requiresGrad(true);
        Tensor w = f.fromArray(new double[] {0.5, -1, 2, 0, 1, -0.5, 3, 1, 1, 2, -2, 0.25}, 4, 3).requiresGrad(true);
        Tensor g = f.fromArray(new double[] {1, 0, -1, 2, 0.5, 1, 1, -1}, 2, 4);
        x.matmul(w.transpose(0, 1)).mul(g).sum().backward();
        assertTrue(w.grad().isContiguous());
        assertArrayEquals(g.transpose(0, 1).matmul(x.detach()).toDoubleArray(), w.grad().toDoubleArray(), 1e-12);
        assertArrayEquals(g.matmul(w.detach()).toDoubleArray(), x.grad().toDoubleArray(), 1e-12);
        GradCheck.gradgradcheck("x @ W^T", in -> in.get(0).matmul(in.get(1).transpose(0, 1)),
                List.of(x.detach().requiresGrad(true), w.detach().requiresGrad(true)), GradCheck.Options.defaults());
        Tensor xt = f.fromArray(new double[] {1, 2, 3, 4, 5, 6}, 3, 2).requiresGrad(true);
        xt.transpose(0, 1).matmul(w.detach().transpose(0, 1)).mul(g).sum().backward();
        assertArrayEquals(w.detach().transpose(0, 1).matmul(g.transpose(0, 1)).toDoubleArray(),
                xt.grad().toDoubleArray(), 1e-12, "grad of a transposed left operand");
    }

    void narrowedSlicesSum() {
        // An unrecorded pass puts the gradients of an input's narrowed slices into one buffer (as q, k and
        // v split from one projection); a recorded pass pads each with cat and adds them whole. Both must
        // give the same sums, whatever order the slices and the input's other gradients arrive in.
        double[] values = new double[24];
        for (int i = 0; i < values.length; i++) {
            values[i] = 0.25 * i - 2;
        }
        Tensor x = f.fromArray(values, 2, 3, 4).requiresGrad(true);
        Tensor w = f.fromArray(values, 4, 2, 3).mul(0.5).sin();
        Function<Tensor, Tensor> loss = in -> {
            Tensor heads = in.permute(2, 0, 1);                    // [4, 2, 3], not contiguous
            Tensor q = heads.narrow(0, 0, 2);
            Tensor k = heads.narrow(0, 2, 2);
            Tensor overlap = heads.narrow(0, 1, 2);
            return q.mul(w.narrow(0, 0, 2)).sum()
                    .add(in.square().sum())                          // the input used whole as well
                    .add(k.mul(k).mul(w.narrow(0, 2, 2)).sum())
                    .add(overlap.exp().sum())
                    .add(in.narrow(2, 1, 2).mul(3.0).sum());         // a slice of the input itself
        };
        Tensor unrecorded = Autograd.grad(List.of(loss.apply(x)), List.of(x), null, false, false, false).get(0);
        Tensor recorded = Autograd.grad(List.of(loss.apply(x)), List.of(x), null, false, true, false).get(0);
        assertArrayEquals(recorded.toDoubleArray(), unrecorded.toDoubleArray(), 0);
        double[] expected = new double[24];
        for (int i = 0; i < 2; i++) {
            for (int j = 0; j < 3; j++) {
                for (int h = 0; h < 4; h++) {
                    double v = values[(i * 3 + j) * 4 + h];
                    double wv = Math.sin(0.5 * values[(h * 2 + i) * 3 + j]);
                    double g = 2 * v;
                    g += h < 2 ? wv : 2 * v * wv;
                    g += h == 1 || h == 2 ? Math.exp(v) : 0;
                    g += h == 1 || h == 2 ? 3 : 0;
                    expected[(i * 3 + j) * 4 + h] = g;
                }
            }
        }
        assertArrayEquals(expected, unrecorded.toDoubleArray(), 1e-12);
        x.square().sum().add(loss.apply(x)).backward();
        assertArrayEquals(expected, x.grad().sub(x.detach().mul(2.0)).toDoubleArray(), 1e-12, "through backward() too");
        // Slices that leave gaps and nothing else: the sum is written by the slices and zeroed between
        // them (tests start reused memory as NaN, so a gap left unwritten shows).
        Function<Tensor, Tensor> gaps = in -> {
            Tensor heads = in.permute(2, 0, 1);
            return heads.narrow(0, 3, 1).mul(2.0).sum().add(heads.narrow(0, 0, 1).exp().sum());
        };
        Tensor sparse = Autograd.grad(List.of(gaps.apply(x)), List.of(x), null, false, false, false).get(0);
        Tensor sparseRecorded = Autograd.grad(List.of(gaps.apply(x)), List.of(x), null, false, true, false).get(0);
        double[] sparseExpected = new double[24];
        for (int i = 0; i < 24; i++) {
            sparseExpected[i] = i % 4 == 3 ? 2 : i % 4 == 0 ? Math.exp(values[i]) : 0;
        }
        assertArrayEquals(sparseExpected, sparse.toDoubleArray(), 1e-12, "slices with gaps");
        assertArrayEquals(sparseRecorded.toDoubleArray(), sparse.toDoubleArray(), 0, "slices with gaps, recorded");
    }

    void argExtremes() {
        Tensor x = f.fromArray(new double[] {1, 7, 7, 0, -2, 3, -2, 5, Double.NaN, 4, Double.NaN, 9}, 3, 4)
                .requiresGrad(true);
        Tensor rows = x.argmax(1, false);
        assertEquals(DType.INT64, rows.dtype());
        assertFalse(rows.requiresGrad());
        assertArrayEquals(new long[] {1, 3, 0}, rows.toLongArray(), "first of ties; NaN is the largest");
        assertArrayEquals(new long[] {3, 0, 0}, x.argmin(1, false).toLongArray(), "NaN is also the smallest");
        assertEquals(List.of(3, 1), List.of(x.argmax(1, true).size(0), x.argmax(1, true).size(1)));
        assertArrayEquals(new long[] {2, 0, 2, 2}, x.argmax(0, false).toLongArray());
        assertEquals(8, x.argmax().toLongArray()[0], "flattened, the first NaN");
        assertEquals(0, x.argmax().rank());
        assertEquals(4, f.fromArray(new double[] {3, 1, 2, 0, -1}, 5).toType(DType.FLOAT32).argmin().toLongArray()[0]);
        TensorShapeException empty = assertThrows(TensorShapeException.class,
                () -> f.zeros(DType.FLOAT64, 2, 0).argmax(1, false));
        assertTrue(empty.getMessage().contains("argmax: cannot reduce over dimension 1 of size 0 (shape [2, 0])"),
                empty.getMessage());
    }

    void creationAndReading() {
        assertArrayEquals(new double[] {0, 0, 0, 0}, f.zeros(DType.FLOAT32, 2, 2).toDoubleArray(), 0);
        assertArrayEquals(new double[] {7, 7}, f.full(7, DType.FLOAT64, 2).toDoubleArray(), 0);
        assertArrayEquals(new long[] {0, 1, 2, 3}, f.arange(4).toLongArray());
        assertArrayEquals(new double[] {0.5, 1.0, 1.5}, f.arange(0.5, 2.0, 0.5, DType.FLOAT64).toDoubleArray(), 1e-15);
        assertEquals(3.0, f.scalar(3, DType.FLOAT64).item());
        TensorShapeException item = assertThrows(TensorShapeException.class, () -> f.ones(DType.FLOAT64, 2).item());
        assertTrue(item.getMessage().contains("[2]"), item.getMessage());
        TensorShapeException fill = assertThrows(TensorShapeException.class,
                () -> f.fromArray(new double[] {1, 2, 3}, 2, 2));
        assertTrue(fill.getMessage().contains("3 values do not fill shape [2, 2]"), fill.getMessage());
        double[] r1 = f.randn(new dev.adjoint.Generator(7), DType.FLOAT64, 100).toDoubleArray();
        double[] r2 = f.randn(new dev.adjoint.Generator(7), DType.FLOAT64, 100).toDoubleArray();
        assertArrayEquals(r1, r2, 0, "the same seed gives the same tensor");
        double mean = java.util.Arrays.stream(f.rand(new dev.adjoint.Generator(1), DType.FLOAT64, 10_000).toDoubleArray())
                .average().orElseThrow();
        assertEquals(0.5, mean, 0.02);
        Tensor t = f.fromArray(new double[] {1, 2, 3, 4, 5, 6}, 2, 3).transpose(0, 1);
        assertArrayEquals(new double[] {1, 4, 2, 5, 3, 6}, t.toDoubleArray(), 0);
        assertFalse(t.isContiguous());
        assertTrue(t.toString().contains("shape=[3, 2]"), t.toString());
    }

    void emptyTensors() {
        Tensor empty = f.zeros(DType.FLOAT64, 0).requiresGrad(true);
        // The second piece of this stack starts one past the end of an empty storage.
        Tensor stacked = Tensor.stack(List.of(empty, empty.exp()), 0);
        assertArrayEquals(new int[] {2, 0}, stacked.shape().toArray());
        Tensor wide = Tensor.cat(List.of(f.zeros(DType.FLOAT64, 2, 0), f.ones(DType.FLOAT64, 2, 3)), 1);
        assertArrayEquals(new double[] {1, 1, 1, 1, 1, 1}, wide.toDoubleArray(), 0);
        assertEquals(0, empty.add(empty).mul(2.0).sigmoid().numel());
        assertEquals(0, Tensor.where(empty.gt(0.0), empty, empty).numel());
        assertArrayEquals(new double[6], f.ones(DType.FLOAT64, 3, 0).matmul(f.ones(DType.FLOAT64, 0, 2))
                .toDoubleArray(), 0, "a product over an empty inner dimension is zeros");
        assertArrayEquals(new double[] {0, 0}, f.zeros(DType.FLOAT32, 2, 0).sum(1, false).toDoubleArray(), 0);
        assertEquals(0, f.ones(DType.FLOAT64, 2, 3).gather(1, f.fromArray(new long[0], 2, 0)).numel());
        assertEquals(0, f.ones(DType.FLOAT64, 0, 3).transpose(0, 1).contiguous().numel());
        assertEquals(0, f.full(2.0, DType.FLOAT64, 0, 3).toType(DType.FLOAT32).numel());
        Tensor plain = f.zeros(DType.FLOAT64, 0, 2);
        assertSame(plain, plain.add_(1.0).fill_(3.0).mul_(f.ones(DType.FLOAT64, 2)));
        stacked.sum().backward();
        assertArrayEquals(new int[] {0}, empty.grad().shape().toArray());
    }

    void backendListing() {
        assertTrue(Backends.list().stream().anyMatch(i -> i.available() && i.name().equals(backend.name())),
                "the backend under test is listed as available: " + Backends.describe());
        for (Backends.BackendInfo info : Backends.list()) {
            if (!info.available()) {
                assertFalse(info.reason().isBlank(), "an unavailable backend says why: " + info);
            }
        }
        BackendUnavailableException e = assertThrows(BackendUnavailableException.class, () -> Backends.get("no-such"));
        assertTrue(e.getMessage().contains("no backend named 'no-such'"), e.getMessage());
        AtomicReference<Backend> chosen = new AtomicReference<>(Backends.defaultBackend());
        assertNotNull(chosen.get());
    }
}
