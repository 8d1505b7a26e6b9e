package dev.adjoint.conformance;

import dev.adjoint.DType;
import dev.adjoint.Tensor;
import dev.adjoint.TensorFactory;
import dev.adjoint.TensorShapeException;
import dev.adjoint.autograd.AnomalyException;
import dev.adjoint.autograd.Autograd;
import dev.adjoint.autograd.ForwardAD;
import dev.adjoint.autograd.Function;
import dev.adjoint.autograd.FunctionContext;
import dev.adjoint.check.GradCheck;
import dev.adjoint.check.GradCheckException;
import dev.adjoint.func.Transforms;
import dev.adjoint.spi.Backend;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.function.Executable;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.DynamicTest.dynamicTest;

/**
 * Forward mode, the function transforms, custom Functions, anomaly detection and pruned
 * Autograd.grad, as a user meets them, on one backend.
 */
public final class ForwardModeSemantics {
    private final TensorFactory f;

    private ForwardModeSemantics(Backend backend) {
        this.f = Tensor.on(backend);
    }

    public static java.util.stream.Stream<DynamicNode> tests(Backend backend) {
        ForwardModeSemantics s = new ForwardModeSemantics(backend);
        List<DynamicNode> tests = new ArrayList<>();
        add(tests, "a dual tensor carries J v through a program", s::dualNumbers);
        add(tests, "tangents live only inside their dual level", s::levels);
        add(tests, "makeDual checks its arguments; levels do not nest", s::dualErrors);
        add(tests, "forward over reverse gives Hessian-vector products", s::forwardOverReverse);
        add(tests, "transforms: jvp, vjp, grad, jacfwd, jacrev, hessian, hvp", s::transforms);
        add(tests, "transforms touch no .grad and compose", s::transformsCompose);
        add(tests, "a custom Function: backward, jvp, gradcheck, gradgradcheck, jvpcheck", s::customFunction);
        add(tests, "a custom Function with several outputs, a non-differentiable one and a dirty input",
                s::multiOutputFunction);
        add(tests, "a custom Function may save an input it modifies in place, unless that input is a leaf that "
                + "requires grad", s::dirtyInputSaved);
        add(tests, "a custom Function without jvp fails in forward mode naming itself", s::functionWithoutJvp);
        add(tests, "jvpcheck catches a wrong JVP and a JVP that disagrees with the VJP", s::jvpcheckCatches);
        add(tests, "detectAnomaly names the node, the input and the call site", s::anomaly);
        add(tests, "Autograd.grad runs only what leads to its inputs", s::pruning);
        add(tests, "checkpoint: same gradients bit for bit, dropout replayed, nothing kept inside", s::checkpoint);
        return tests.stream();
    }

    private static void add(List<DynamicNode> tests, String name, Executable body) {
        tests.add(dynamicTest(name, body));
    }

    private Tensor vec(double... values) {
        return f.fromArray(values, values.length);
    }

    private static void close(double[] expected, Tensor actual) {
        Compare.assertClose("value", expected, actual.toDoubleArray(), 1e-12, 1e-10);
    }

    void dualNumbers() {
        Tensor x = vec(0.5, -1.0, 2.0);
        Tensor v = vec(1.0, 2.0, -0.5);
        try (var level = ForwardAD.dualLevel()) {
            Tensor dual = ForwardAD.makeDual(x, v);
            Tensor y = dual.sin().mul(dual).add(dual.exp().sum());
            ForwardAD.Dual out = ForwardAD.unpackDual(y);
            double[] xs = x.toDoubleArray();
            double[] vs = v.toDoubleArray();
            double dsum = 0;
            for (int i = 0; i < 3; i++) {
                dsum += Math.exp(xs[i]) * vs[i];
            }
            double[] expected = new double[3];
            for (int i = 0; i < 3; i++) {
                expected[i] = (Math.cos(xs[i]) * xs[i] + Math.sin(xs[i])) * vs[i] + dsum;
            }
            close(expected, out.tangent());
            assertNull(ForwardAD.unpackDual(out.primal()).tangent(), "the unpacked primal has no tangent");
            // Broadcasting: a tangent of a [3] input reaches a [2, 3] output with the output's shape.
            Tensor wide = dual.add(f.ones(DType.FLOAT64, 2, 3));
            assertArrayEquals(new int[] {2, 3}, ForwardAD.unpackDual(wide).tangent().shape().toArray());
            // Ops on tensors without tangents inside a level cost nothing and carry none.
            assertNull(ForwardAD.unpackDual(x.mul(2.0)).tangent());
        }
    }

    void levels() {
        Tensor dual;
        try (var level = ForwardAD.dualLevel()) {
            dual = ForwardAD.makeDual(vec(1, 2), vec(3, 4));
            assertTrue(ForwardAD.isDualLevelOpen());
        }
        assertFalse(ForwardAD.isDualLevelOpen());
        assertNull(ForwardAD.tangentOf(dual), "closing the level drops its tangents");
        try (var level = ForwardAD.dualLevel()) {
            assertNull(ForwardAD.tangentOf(dual), "a new level does not see the old one's tangents");
            assertNull(ForwardAD.unpackDual(dual.mul(2.0)).tangent());
        }
    }

    void dualErrors() {
        assertThrows(IllegalStateException.class, () -> ForwardAD.makeDual(vec(1), vec(1)));
        try (var level = ForwardAD.dualLevel()) {
            TensorShapeException e = assertThrows(TensorShapeException.class,
                    () -> ForwardAD.makeDual(vec(1, 2), vec(1, 2, 3)));
            assertTrue(e.getMessage().contains("makeDual: tangent shape [3] does not match primal shape [2]"),
                    e.getMessage());
            IllegalStateException nested = assertThrows(IllegalStateException.class, ForwardAD::dualLevel);
            assertTrue(nested.getMessage().contains("already open"), nested.getMessage());
            Tensor dual = ForwardAD.makeDual(vec(1, 2), vec(1, 1));
            assertThrows(IllegalStateException.class, () -> ForwardAD.makeDual(dual, vec(1, 1)));
            // In-place ops do not propagate tangents, so they refuse dual tensors rather than drop one.
            Tensor target = vec(0, 0);
            assertThrows(IllegalStateException.class, () -> target.add_(dual));
        }
    }

    void forwardOverReverse() {
        // f = sum(x^3): Hessian diag(6x), so H v = 6 x v.
        Tensor x = vec(0.5, -1.5, 2.0).requiresGrad(true);
        Tensor v = vec(1.0, 0.5, -2.0);
        Tensor hv;
        try (var level = ForwardAD.dualLevel()) {
            Tensor dual = ForwardAD.makeDual(x, v);
            Tensor y = dual.pow(3.0).sum();
            Tensor g = Autograd.grad(List.of(y), List.of(x), null, false, false, false).get(0);
            close(new double[] {0.75, 6.75, 12.0}, g);
            hv = ForwardAD.unpackDual(g).tangent();
        }
        close(new double[] {3.0, -4.5, -24.0}, hv);
        assertNull(x.grad());
    }

    void transforms() {
        Tensor x = vec(0.3, -0.7, 1.1);
        Tensor v = vec(1.0, -2.0, 0.5);
        // g(x) = [x0 x1, sin(x2), x0 + x1 x2]
        java.util.function.UnaryOperator<Tensor> g = t -> Tensor.stack(List.of(
                t.narrow(0, 0, 1).mul(t.narrow(0, 1, 1)).squeeze(0),
                t.narrow(0, 2, 1).sin().squeeze(0),
                t.narrow(0, 0, 1).add(t.narrow(0, 1, 1).mul(t.narrow(0, 2, 1))).squeeze(0)), 0);
        double x0 = 0.3, x1 = -0.7, x2 = 1.1;
        double[] jacobian = {x1, x0, 0, 0, 0, Math.cos(x2), 1, x2, x1};
        close(jacobian, Transforms.jacfwd(g, x));
        close(jacobian, Transforms.jacrev(g, x));
        assertArrayEquals(new int[] {3, 3}, Transforms.jacrev(g, x).shape().toArray());
        Transforms.JvpResult jvp = Transforms.jvp(g, x, v);
        close(new double[] {x1 * 1 + x0 * -2, Math.cos(x2) * 0.5, 1 + x2 * -2 + x1 * 0.5}, jvp.tangent());
        close(g.apply(x).toDoubleArray(), jvp.output());
        Transforms.VjpResult vjp = Transforms.vjp(g, x);
        Tensor u = vec(1, 2, 3);
        double[] expected = {x1 + 3, x0 + 3 * x2, 2 * Math.cos(x2) + 3 * x1};
        close(expected, vjp.pullback(u));
        close(expected, vjp.pullback(u)); // callable again
        // s(x) = sum(x^2 sin(x)): gradient, Hessian (diagonal), Hessian-vector product.
        java.util.function.UnaryOperator<Tensor> s = t -> t.square().mul(t.sin()).sum();
        double[] xs = x.toDoubleArray();
        double[] grad = new double[3];
        double[] hessian = new double[9];
        double[] hvp = new double[3];
        for (int i = 0; i < 3; i++) {
            double a = xs[i];
            grad[i] = 2 * a * Math.sin(a) + a * a * Math.cos(a);
            hessian[i * 3 + i] = 2 * Math.sin(a) + 4 * a * Math.cos(a) - a * a * Math.sin(a);
            hvp[i] = hessian[i * 3 + i] * v.toDoubleArray()[i];
        }
        close(grad, Transforms.grad(s).apply(x));
        close(hessian, Transforms.hessian(s, x));
        close(hvp, Transforms.hvp(s, x, v));
        // A matrix input: the Jacobian has shape out.shape ++ in.shape.
        Tensor m = f.fromArray(new double[] {1, 2, 3, 4, 5, 6}, 2, 3);
        assertArrayEquals(new int[] {2, 2, 3}, Transforms.jacfwd(t -> t.tanh().sum(1, false), m).shape().toArray());
        TensorShapeException notScalar = assertThrows(TensorShapeException.class,
                () -> Transforms.grad(t -> t.mul(2.0)).apply(x));
        assertTrue(notScalar.getMessage().contains("grad: the function must return a one-element tensor"));
    }

    void transformsCompose() {
        Tensor x = vec(0.4, -0.2).requiresGrad(true);
        java.util.function.UnaryOperator<Tensor> s = t -> t.pow(4.0).sum();
        Tensor viaRev = Transforms.jacrev(Transforms.grad(s), x.detach());
        Tensor viaFwd = Transforms.hessian(s, x.detach());
        close(new double[] {12 * 0.16, 0, 0, 12 * 0.04}, viaRev);
        close(viaRev.toDoubleArray(), viaFwd);
        // grad of grad for a scalar function of one variable: d^2/dx^2 x^4 = 12 x^2.
        Tensor a = f.scalar(0.5, DType.FLOAT64);
        java.util.function.UnaryOperator<Tensor> second = Transforms.grad(Transforms.grad(t -> t.pow(4.0)));
        assertEquals(3.0, second.apply(a).item(), 1e-12);
        // The caller's tensor keeps requiresGrad and gets no .grad; a result stays differentiable in x.
        Tensor g = Transforms.grad(s).apply(x);
        assertNull(x.grad());
        assertTrue(x.requiresGrad());
        g.sum().backward();
        close(new double[] {12 * 0.16, 12 * 0.04}, x.grad());
    }

    /** softplus(x) = max(x, 0) + log1p(exp(-|x|)), with its derivative sigmoid(x). */
    static final class Softplus extends Function {
        @Override
        protected Tensor[] forward(FunctionContext ctx, Tensor... in) {
            Tensor x = in[0];
            ctx.saveForBackward(x);
            return new Tensor[] {x.relu().add(x.abs().neg().exp().log1p())};
        }

        @Override
        protected Tensor[] backward(FunctionContext ctx, Tensor... grad) {
            return new Tensor[] {grad[0].mul(ctx.savedTensors().get(0).sigmoid())};
        }

        @Override
        protected Tensor[] jvp(FunctionContext ctx, Tensor... tangent) {
            return new Tensor[] {tangent[0].mul(ctx.savedTensors().get(0).sigmoid())};
        }
    }

    void customFunction() {
        Tensor x = vec(-30, -1.5, 0.2, 40).requiresGrad(true);
        Tensor y = new Softplus().applyOne(x);
        assertEquals("SoftplusBackward", y.gradFn().name());
        double[] xs = x.toDoubleArray();
        double[] expected = new double[4];
        for (int i = 0; i < 4; i++) {
            expected[i] = Math.max(xs[i], 0) + Math.log1p(Math.exp(-Math.abs(xs[i])));
        }
        close(expected, y);
        y.sum().backward();
        double[] sig = new double[4];
        for (int i = 0; i < 4; i++) {
            sig[i] = 1 / (1 + Math.exp(-xs[i]));
        }
        close(sig, x.grad());
        List<Tensor> inputs = List.of(vec(-1.5, 0.2, 0.9).requiresGrad(true));
        java.util.function.Function<List<Tensor>, Tensor> fn = in -> new Softplus().applyOne(in.get(0));
        GradCheck.gradcheck("softplus", fn, inputs, GradCheck.Options.defaults());
        GradCheck.gradgradcheck("softplus", fn, inputs, GradCheck.Options.defaults());
        GradCheck.jvpcheck("softplus", fn, inputs, GradCheck.Options.defaults());
    }

    /** (a * b, a + b, argmax-like indices) with an in-place scaled copy of c. */
    static final class ProductAndSum extends Function {
        @Override
        protected Tensor[] forward(FunctionContext ctx, Tensor... in) {
            ctx.saveForBackward(in[0], in[1]);
            Tensor index = in[0].gt(in[1]).toType(DType.INT64);
            ctx.markNonDifferentiable(index);
            return new Tensor[] {in[0].mul(in[1]), in[0].add(in[1]), index};
        }

        @Override
        protected Tensor[] backward(FunctionContext ctx, Tensor... grad) {
            Tensor a = ctx.savedTensors().get(0);
            Tensor b = ctx.savedTensors().get(1);
            return new Tensor[] {
                    ctx.needsInputGrad(0) ? grad[0].mul(b).add(grad[1]) : null,
                    ctx.needsInputGrad(1) ? grad[0].mul(a).add(grad[1]) : null};
        }

        @Override
        protected Tensor[] jvp(FunctionContext ctx, Tensor... t) {
            Tensor a = ctx.savedTensors().get(0);
            Tensor b = ctx.savedTensors().get(1);
            return new Tensor[] {t[0].mul(b).add(a.mul(t[1])), t[0].add(t[1]), null};
        }
    }

    /** Scales its input in place and returns it. */
    static final class ScaleInPlace extends Function {
        @Override
        protected Tensor[] forward(FunctionContext ctx, Tensor... in) {
            in[0].mul_(3.0);
            ctx.markDirty(in[0]);
            return new Tensor[] {in[0]};
        }

        @Override
        protected Tensor[] backward(FunctionContext ctx, Tensor... grad) {
            return new Tensor[] {grad[0].mul(3.0)};
        }
    }

    void multiOutputFunction() {
        Tensor a = vec(1, 2, 3).requiresGrad(true);
        Tensor b = vec(4, -5, 6).requiresGrad(true);
        Tensor[] out = new ProductAndSum().apply(a, b);
        assertEquals(3, out.length);
        assertFalse(out[2].requiresGrad(), "marked non-differentiable");
        assertArrayEquals(new long[] {0, 1, 0}, out[2].toLongArray());
        // Only the sum is used: the product's gradient arrives as zeros.
        out[1].mul(2.0).sum().backward();
        close(new double[] {2, 2, 2}, a.grad());
        a.zeroGrad();
        b.zeroGrad();
        out = new ProductAndSum().apply(a, b);
        out[0].sum().add(out[1].mul(out[1]).sum()).backward();
        close(new double[] {4 + 10, -5 - 6, 6 + 18}, a.grad());
        GradCheck.gradcheck("product and sum", in -> {
            Tensor[] r = new ProductAndSum().apply(in.get(0), in.get(1));
            return r[0].mul(r[1]);
        }, List.of(vec(0.5, -1).requiresGrad(true), vec(2, 0.25).requiresGrad(true)), GradCheck.Options.defaults());
        GradCheck.jvpcheck("product and sum", in -> {
            Tensor[] r = new ProductAndSum().apply(in.get(0), in.get(1));
            return r[0].mul(r[1]);
        }, List.of(vec(0.5, -1).requiresGrad(true), vec(2, 0.25).requiresGrad(true)), GradCheck.Options.defaults());

        // markDirty: an op that saved the old values of the modified input fails in backward.
        Tensor leaf = vec(1, 2).requiresGrad(true);
        Tensor c = leaf.mul(1.0);
        Tensor saved = c.exp().detach();
        Tensor d = c.square(); // saves c
        Tensor scaled;
        try (var scope = Tensor.noGrad()) {
            scaled = new ScaleInPlace().applyOne(c.detach());
        }
        close(new double[] {3, 6}, scaled);
        assertThrows(IllegalStateException.class, () -> d.sum().backward(), "c was modified in place");
        assertEquals(2, saved.numel());
    }

    /** Doubles its input in place and returns it; saves it, and keeps what backward read of it. */
    static final class DoubleInPlace extends Function {
        double[] savedInBackward;

        @Override
        protected Tensor[] forward(FunctionContext ctx, Tensor... in) {
            in[0].detach().mul_(2.0);
            ctx.markDirty(in[0]);
            ctx.saveForBackward(in[0]);
            return new Tensor[] {in[0]};
        }

        @Override
        protected Tensor[] backward(FunctionContext ctx, Tensor... grad) {
            savedInBackward = ctx.savedTensors().get(0).toDoubleArray();
            return new Tensor[] {grad[0].mul(2.0)};
        }
    }

    void dirtyInputSaved() {
        Tensor x0 = vec(1, 2, 3).requiresGrad(true);
        Tensor x = x0.mul(1.0);
        DoubleInPlace doubling = new DoubleInPlace();
        Tensor y = doubling.applyOne(x);
        close(new double[] {2, 4, 6}, y);
        y.sum().backward();
        close(new double[] {2, 2, 2}, x0.grad());
        assertArrayEquals(new double[] {2, 4, 6}, doubling.savedInBackward, 0, "backward sees the modified input");

        // A change made after forward returned is still caught.
        Tensor y1 = new DoubleInPlace().applyOne(vec(1, 2, 3).requiresGrad(true).mul(1.0));
        try (var scope = Tensor.noGrad()) {
            y1.detach().add_(1.0);
        }
        IllegalStateException stale = assertThrows(IllegalStateException.class, () -> y1.sum().backward());
        assertTrue(stale.getMessage().contains("DoubleInPlaceBackward: saved tensor 0 (shape [3]) was modified by an "
                + "in-place operation after it was saved"), stale.getMessage());

        // A leaf that requires grad may not be modified while the graph is recorded; under noGrad it may.
        Tensor leaf = vec(1, 2, 3).requiresGrad(true);
        IllegalStateException refused = assertThrows(IllegalStateException.class,
                () -> new DoubleInPlace().applyOne(leaf));
        assertTrue(refused.getMessage().startsWith("DoubleInPlaceBackward: forward modified in place (markDirty) a "
                + "leaf that requires grad (FLOAT64 of shape [3])"), refused.getMessage());
        assertTrue(leaf.isLeaf());
        Tensor parameter = vec(1, 2, 3).requiresGrad(true);
        try (var scope = Tensor.noGrad()) {
            Tensor updated = new DoubleInPlace().applyOne(parameter);
            assertFalse(updated.requiresGrad());
        }
        close(new double[] {2, 4, 6}, parameter);
    }

    /** A Function with a backward and no jvp. */
    static final class Cube extends Function {
        @Override
        protected Tensor[] forward(FunctionContext ctx, Tensor... in) {
            ctx.saveForBackward(in[0]);
            return new Tensor[] {in[0].pow(3.0)};
        }

        @Override
        protected Tensor[] backward(FunctionContext ctx, Tensor... grad) {
            return new Tensor[] {grad[0].mul(ctx.savedTensors().get(0).square().mul(3.0))};
        }
    }

    void functionWithoutJvp() {
        try (var level = ForwardAD.dualLevel()) {
            Tensor dual = ForwardAD.makeDual(vec(1, 2), vec(1, 1));
            UnsupportedOperationException e = assertThrows(UnsupportedOperationException.class,
                    () -> new Cube().applyOne(dual));
            assertTrue(e.getMessage().contains("CubeBackward"), e.getMessage());
        }
    }

    /** Right backward, JVP off by a factor (agrees with neither finite differences nor the VJP). */
    static final class WrongJvp extends Function {
        private final double factor;

        WrongJvp(double factor) {
            this.factor = factor;
        }

        @Override
        protected Tensor[] forward(FunctionContext ctx, Tensor... in) {
            ctx.saveForBackward(in[0]);
            return new Tensor[] {in[0].sin()};
        }

        @Override
        protected Tensor[] backward(FunctionContext ctx, Tensor... grad) {
            return new Tensor[] {grad[0].mul(ctx.savedTensors().get(0).cos())};
        }

        @Override
        protected Tensor[] jvp(FunctionContext ctx, Tensor... t) {
            return new Tensor[] {t[0].mul(ctx.savedTensors().get(0).cos()).mul(factor)};
        }
    }

    void jvpcheckCatches() {
        List<Tensor> inputs = List.of(vec(0.3, -1.2, 2.0).requiresGrad(true));
        GradCheck.jvpcheck("right", in -> new WrongJvp(1.0).applyOne(in.get(0)), inputs, GradCheck.Options.defaults());
        GradCheckException wrong = assertThrows(GradCheckException.class, () -> GradCheck.jvpcheck("wrong",
                in -> new WrongJvp(1.5).applyOne(in.get(0)), inputs, GradCheck.Options.defaults()));
        assertTrue(wrong.getMessage().contains("jvpcheck of 'wrong'"), wrong.getMessage());
        assertTrue(wrong.getMessage().contains("does not match finite differences"), wrong.getMessage());
    }

    void anomaly() {
        Tensor x = vec(0.0, 4.0).requiresGrad(true);
        // Without the scope: the infinite gradient of sqrt at 0 flows silently, as in PyTorch.
        x.sqrt().sum().backward();
        assertTrue(Double.isInfinite(x.grad().toDoubleArray()[0]));
        x.zeroGrad();
        try (var scope = Autograd.detectAnomaly()) {
            Tensor y = x.sqrt().sum();
            AnomalyException e = assertThrows(AnomalyException.class, y::backward);
            assertTrue(e.getMessage().startsWith("SqrtBackward returned an infinite value in its gradient for input 0"),
                    e.getMessage());
            assertTrue(e.getMessage().contains(ForwardModeSemantics.class.getName() + ".anomaly"), e.getMessage());
        }
    }

    /** Counts its backward calls. */
    static final class Counted extends Function {
        final AtomicInteger backwardCalls = new AtomicInteger();

        @Override
        protected Tensor[] forward(FunctionContext ctx, Tensor... in) {
            return new Tensor[] {in[0].mul(2.0)};
        }

        @Override
        protected Tensor[] backward(FunctionContext ctx, Tensor... grad) {
            backwardCalls.incrementAndGet();
            return new Tensor[] {grad[0].mul(2.0)};
        }
    }

    void pruning() {
        Tensor w = vec(1, 2).requiresGrad(true);
        Tensor x = vec(3, 4).requiresGrad(true);
        Counted weightBranch = new Counted();
        Tensor y = weightBranch.applyOne(w).mul(x).sum();
        Tensor gx = Autograd.grad(List.of(y), List.of(x), null, true, false, false).get(0);
        close(new double[] {2, 4}, gx);
        assertEquals(0, weightBranch.backwardCalls.get(), "the branch to w does not lead to x");
        Autograd.grad(List.of(y), List.of(w), null, false, false, false);
        assertEquals(1, weightBranch.backwardCalls.get());
        assertNull(w.grad());

        // A non-leaf input's own gradFn leads to no input: it neither runs nor frees what it saved.
        Counted producer = new Counted();
        Tensor a = vec(0.5, 1.5).requiresGrad(true);
        Tensor h = producer.applyOne(a);
        Tensor gh = Autograd.grad(List.of(h.square().sum()), List.of(h), null, false, false, false).get(0);
        close(new double[] {2, 6}, gh);
        assertEquals(0, producer.backwardCalls.get(), "h's gradFn does not lead to h");
        Tensor s = a.sin();
        Tensor gs = Autograd.grad(List.of(s.square().sum()), List.of(s), null, false, false, false).get(0);
        close(new double[] {2 * Math.sin(0.5), 2 * Math.sin(1.5)}, gs);
        s.sum().backward();
        close(new double[] {Math.cos(0.5), Math.cos(1.5)}, a.grad());
        // With the leaf asked for too, the non-leaf's gradFn lies on the way to it and runs.
        a.zeroGrad();
        Tensor h2 = producer.applyOne(a);
        List<Tensor> both = Autograd.grad(List.of(h2.square().sum()), List.of(h2, a), null, false, false, false);
        close(new double[] {2, 6}, both.get(0));
        close(new double[] {4, 12}, both.get(1));
        assertEquals(1, producer.backwardCalls.get());
        assertNull(a.grad());
    }

    void checkpoint() {
        dev.adjoint.Generator init = new dev.adjoint.Generator(5);
        Tensor x = f.randn(init, DType.FLOAT64, 4, 6).requiresGrad(true);
        Tensor w1 = f.randn(init, DType.FLOAT64, 6, 6).requiresGrad(true);
        Tensor w2 = f.randn(init, DType.FLOAT64, 6, 6).requiresGrad(true);
        java.util.function.BiFunction<Tensor, dev.adjoint.Generator, Tensor> block = (in, gen) -> {
            Tensor h = in.matmul(w1).tanh();
            // Dropout by hand: a mask from the generator, as nn.Dropout draws it.
            Tensor mask = Tensor.on(h.backend()).rand(gen, h.dtype(), h.shape().toArray()).ge(0.3).toType(h.dtype()).mul(1 / 0.7);
            return h.mul(mask).matmul(w2).sin();
        };

        dev.adjoint.Generator plainGen = new dev.adjoint.Generator(11);
        Tensor plain = block.apply(x, plainGen).square().sum();
        List<Tensor> expected = Autograd.grad(List.of(plain), List.of(x, w1, w2), null, false, false, false);

        dev.adjoint.Generator checkpointGen = new dev.adjoint.Generator(11);
        java.util.List<java.lang.ref.WeakReference<Tensor>> inside = new ArrayList<>();
        Tensor out = Autograd.checkpoint(in -> {
            Tensor y = block.apply(in, checkpointGen);
            inside.add(new java.lang.ref.WeakReference<>(in.matmul(w1).tanh().mul(1.0)));
            return y.add(inside.get(0).get().sum().mul(0.0));
        }, x);
        // The segment's intermediates are not kept by the graph: only its inputs and output are.
        for (int i = 0; i < 20 && inside.get(0).get() != null; i++) {
            System.gc();
        }
        assertNull(inside.get(0).get(), "an intermediate of the checkpointed segment is still reachable");
        assertArrayEquals(plain.toDoubleArray(), out.square().sum().toDoubleArray());
        inside.clear();
        dev.adjoint.Generator.State afterForward = checkpointGen.state();
        List<Tensor> got = Autograd.grad(List.of(out.square().sum()), List.of(x, w1, w2), null, false, false, false);
        for (int i = 0; i < 3; i++) {
            assertArrayEquals(expected.get(i).toDoubleArray(), got.get(i).toDoubleArray(), "input " + i);
        }
        assertEquals(afterForward, checkpointGen.state(), "recomputation leaves the generator where it was");
        assertEquals(plainGen.state(), checkpointGen.state());
        assertNull(x.grad());
    }
}
