package dev.adjoint.engine.simd;

import dev.adjoint.DType;
import dev.adjoint.Generator;
import dev.adjoint.MemoryScope;
import dev.adjoint.ReleasedTensorException;
import dev.adjoint.Tensor;
import dev.adjoint.engine.scalar.ScalarBackend;
import dev.adjoint.spi.Backend;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.lang.management.ManagementFactory;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * MemoryScope on the heap backends: a training step inside scopes reuses the previous step's arrays
 * and gives the same bits as without, what must survive a scope survives, and everything else fails
 * loudly when used after the scope closed.
 */
class MemoryScopeTest {

    static List<Backend> backends() {
        return List.of(new SimdBackend(), new ScalarBackend());
    }

    /** Parameters and an input of a two-layer step large enough that its arrays are pooled. */
    private record Model(Tensor w1, Tensor w2, Tensor x) {
        static Model of(Backend backend) {
            Generator g = new Generator(7);
            return new Model(Tensor.on(backend).randn(g, DType.FLOAT32, 96, 160).requiresGrad(true),
                    Tensor.on(backend).randn(g, DType.FLOAT32, 160, 48).requiresGrad(true),
                    Tensor.on(backend).randn(g, DType.FLOAT32, 64, 96));
        }

        /** One step: gradients from scratch, then SGD on the parameters in place; the loss. */
        double step() {
            w1.zeroGrad();
            w2.zeroGrad();
            Tensor loss = x.matmul(w1).relu().matmul(w2).softmax(1).square().mean();
            loss.backward();
            try (var noGrad = Tensor.noGrad()) {
                w1.sub_(w1.grad(), 0.1);
                w2.sub_(w2.grad(), 0.1);
            }
            return loss.item();
        }
    }

    @ParameterizedTest
    @MethodSource("backends")
    void stepsInScopesGiveTheSameBitsAsWithout(Backend backend) {
        Model plain = Model.of(backend);
        Model scoped = Model.of(backend);
        for (int step = 0; step < 4; step++) {
            double expected = plain.step();
            double loss;
            try (MemoryScope scope = MemoryScope.open()) {
                loss = scoped.step();
            }
            assertEquals(expected, loss, 0.0, "loss of step " + step);
            // Leaves' gradients outlive the scope: they are state across steps.
            assertArrayEquals(plain.w1.grad().toFloatArray(), scoped.w1.grad().toFloatArray(), "w1.grad, step " + step);
            assertArrayEquals(plain.w2.toFloatArray(), scoped.w2.toFloatArray(), "w2 after step " + step);
        }
    }

    @Test
    void aStepInAScopeReusesThePreviousStepsArrays() {
        // The scalar backend: interpreted or cold vector code boxes vectors, which would drown the arrays.
        Model model = Model.of(new ScalarBackend());
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long unscoped = 0;
        for (int round = 0; round < 4; round++) {
            // Steps outside a scope may take arrays pooled by earlier tests on this thread, never give any
            // back: the largest of several is a step on fresh arrays.
            long before = threads.getCurrentThreadAllocatedBytes();
            model.step();
            unscoped = Math.max(unscoped, threads.getCurrentThreadAllocatedBytes() - before);
        }
        long scoped = Long.MAX_VALUE;
        for (int round = 0; round < 4; round++) {
            long before = threads.getCurrentThreadAllocatedBytes();
            try (MemoryScope scope = MemoryScope.open()) {
                model.step();
            }
            scoped = Math.min(scoped, threads.getCurrentThreadAllocatedBytes() - before);
        }
        // The step's activations and gradients (~0.4 MB) come from the pool, the leaves' gradients too
        // (zeroGrad in the scope gives the previous step's back); what is left is the tape and the
        // tensors' small objects.
        assertTrue(scoped * 2 < unscoped, "a scoped step allocated " + scoped + " bytes, an unscoped one " + unscoped);
    }

    @Test
    void aBackwardPassInAScopeReusesTheMemoryOfGradientsItIsDoneWith() {
        // A chain of 24 ops on a shape no other test uses, so the pool has no arrays of its size: in a
        // scope each op's gradient is given back once the op before it has its own, and the pass's
        // next tensor reuses its array. (The formulas' own temporaries stay until the scope closes.)
        Tensor x = Tensor.on(new ScalarBackend()).randn(new Generator(5), DType.FLOAT64, 173, 191).requiresGrad(true);
        double arrayBytes = 173.0 * 191 * Double.BYTES;
        double unscoped = chainBackwardBytes(x) / arrayBytes;
        double scoped;
        try (MemoryScope scope = MemoryScope.open()) {
            scoped = chainBackwardBytes(x) / arrayBytes;
        }
        assertTrue(unscoped - scoped > 20, "the backward pass allocated " + scoped + " arrays in a scope, "
                + unscoped + " without");
    }

    private static long chainBackwardBytes(Tensor x) {
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        Tensor y = x;
        for (int i = 0; i < 12; i++) {
            y = y.tanh().mul(1.5);
        }
        Tensor loss = y.sum();
        x.zeroGrad();
        long before = threads.getCurrentThreadAllocatedBytes();
        loss.backward();
        return threads.getCurrentThreadAllocatedBytes() - before;
    }

    @ParameterizedTest
    @MethodSource("backends")
    void gradientsSomethingElseHoldsSurviveTheBackwardPassInAScope(Backend backend) {
        // A residual (add hands one gradient to both inputs), a retained gradient, a hook that keeps
        // what it sees, a view passed through, and autograd.grad's results: the same values in a scope
        // as without, each readable after the pass.
        float[][] plain = residualGradients(backend);
        float[][] scoped;
        try (MemoryScope scope = MemoryScope.open()) {
            scoped = residualGradients(backend);
        }
        for (int i = 0; i < plain.length; i++) {
            assertArrayEquals(plain[i], scoped[i], "gradient " + i);
        }
    }

    private static float[][] residualGradients(Backend backend) {
        Generator g = new Generator(11);
        Tensor x = Tensor.on(backend).randn(g, DType.FLOAT32, 64, 48).requiresGrad(true);
        Tensor w = Tensor.on(backend).randn(g, DType.FLOAT32, 48, 48).requiresGrad(true);
        Tensor h = x.matmul(w).tanh();
        h.retainGrad();
        Tensor r = h.add(x.mul(0.5));
        Tensor[] seen = new Tensor[1];
        r.registerHook(grad -> {
            seen[0] = grad;
            return null;
        });
        Tensor out = r.reshape(48, 64).exp().reshape(64, 48).mul(r);
        List<Tensor> viaGrad = dev.adjoint.autograd.Autograd.grad(List.of(out.sum()), List.of(h, w), null, true, false,
                false);
        out.sum().backward();
        return new float[][] {x.grad().toFloatArray(), w.grad().toFloatArray(), h.grad().toFloatArray(),
            seen[0].toFloatArray(), viaGrad.get(0).toFloatArray(), viaGrad.get(1).toFloatArray()};
    }

    @Test
    void aTensorUsedAfterItsScopeClosedFailsLoudly() {
        Backend backend = new SimdBackend();
        Tensor a = Tensor.on(backend).randn(new Generator(1), DType.FLOAT32, 64, 64);
        Tensor b;
        Tensor view;
        try (MemoryScope scope = MemoryScope.open()) {
            b = a.mul(2.0);
            view = b.narrow(0, 1, 3);
            assertTrue(scope.size() >= 1);
        }
        ReleasedTensorException e = assertThrows(ReleasedTensorException.class, () -> b.add(1.0));
        assertTrue(e.getMessage().contains("MemoryScope") && e.getMessage().contains("[64, 64]"), e.getMessage());
        assertThrows(ReleasedTensorException.class, view::toFloatArray);
        // Tensors from before the scope are untouched.
        assertEquals(64 * 64, a.add(1.0).numel());
    }

    @Test
    void aGradientClearedInAScopeGoesBackToItAndOnlyThatOne() {
        Backend backend = new SimdBackend();
        Generator g = new Generator(3);
        Tensor w = Tensor.on(backend).randn(g, DType.FLOAT32, 48, 48).requiresGrad(true);
        Tensor x = Tensor.on(backend).randn(g, DType.FLOAT32, 32, 48);
        try (MemoryScope scope = MemoryScope.open()) {
            x.matmul(w).square().sum().backward();
        }
        Tensor previous = w.grad();
        float[] values = previous.toFloatArray();
        try (MemoryScope scope = MemoryScope.open()) {
            w.zeroGrad();
            // Still whole until the scope closes.
            assertArrayEquals(values, previous.toFloatArray());
            x.matmul(w).square().sum().backward();
        }
        // Given back when the scope closed: a reference kept past it fails instead of reading reused memory.
        assertThrows(ReleasedTensorException.class, previous::toFloatArray);
        // The new gradient is state, as before.
        assertArrayEquals(values, w.grad().toFloatArray());

        // Cleared outside any scope, a gradient is left to the garbage collector and stays readable.
        Tensor outside = w.grad();
        w.zeroGrad();
        assertArrayEquals(values, outside.toFloatArray());
        // One the caller set is the caller's memory: zeroGrad in a scope does not take it.
        Tensor mine = Tensor.on(backend).ones(DType.FLOAT32, 48, 48);
        w.setGrad(mine);
        try (MemoryScope scope = MemoryScope.open()) {
            w.zeroGrad();
        }
        assertEquals(48 * 48, mine.sum().item(), 0.0);
    }

    @Test
    void keptAndLongLivedTensorsSurviveAndKeptOnesMoveToTheEnclosingScope() {
        Backend backend = new SimdBackend();
        Tensor a = Tensor.on(backend).randn(new Generator(2), DType.FLOAT64, 40, 40);
        float[] expected;
        Tensor kept;
        Tensor longLived;
        try (MemoryScope outer = MemoryScope.open()) {
            try (MemoryScope inner = MemoryScope.open()) {
                kept = inner.keep(a.mul(3.0));
                longLived = a.add(1.0);
                backend.markLongLived(longLived.storage());
                a.sub(1.0);
            }
            assertEquals(1, outer.size());
            expected = kept.toFloatArray();
            assertArrayEquals(a.mul(3.0).toFloatArray(), expected);
        }
        assertThrows(ReleasedTensorException.class, kept::toFloatArray);
        assertArrayEquals(a.add(1.0).toDoubleArray(), longLived.toDoubleArray());
    }

    @Test
    void scopesCloseInOrderOnTheirOwnThread() throws InterruptedException, ExecutionException {
        MemoryScope outer = MemoryScope.open();
        MemoryScope inner = MemoryScope.open();
        IllegalStateException outOfOrder = assertThrows(IllegalStateException.class, outer::close);
        assertTrue(outOfOrder.getMessage().contains("out of order"), outOfOrder.getMessage());
        IllegalStateException otherThread = CompletableFuture.supplyAsync(
                () -> assertThrows(IllegalStateException.class, inner::close)).get();
        assertTrue(otherThread.getMessage().contains("opened on"), otherThread.getMessage());
        inner.close();
        outer.close();
        // Closing twice is harmless.
        outer.close();
        assertSame(IllegalStateException.class, assertThrows(IllegalStateException.class,
                () -> outer.keep(Tensor.on(new SimdBackend()).zeros(DType.FLOAT32, 2))).getClass());
    }
}
