package dev.adjoint.func;

import dev.adjoint.Shape;
import dev.adjoint.Tensor;
import dev.adjoint.TensorShapeException;
import dev.adjoint.autograd.Autograd;
import dev.adjoint.autograd.ForwardAD;
import dev.adjoint.autograd.GradMode;
import dev.adjoint.ops.ShapeOps;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Function;
import java.util.function.UnaryOperator;

/**
 * Function transforms, as {@code torch.func}: derivatives of functions rather than of tensors.
 * {@code jvp} and {@code jacfwd} push tangents forward ({@link ForwardAD}); {@code vjp}, {@code grad}
 * and {@code jacrev} pull cotangents back (reverse mode); {@code hessian} and {@code hvp} combine the
 * two, forward over reverse. A full Jacobian of f: R^n -> R^m costs n forward passes with
 * {@code jacfwd} and m backward passes with {@code jacrev}: pick the one with the smaller count.
 *
 * <p>None of them reads or writes the {@code grad} of any tensor, and none changes whether the
 * caller's tensors require grad. When an argument is itself being differentiated by an enclosing
 * computation (it requires grad, or carries a tangent), the result stays differentiable with respect
 * to it, so the transforms compose: {@code grad(grad(f))}, {@code jacrev(grad(f))},
 * {@code jacfwd(grad(f))}. Forward mode allows one dual level per thread, so {@code jvp} and
 * {@code jacfwd} do not nest inside each other.
 */
public final class Transforms {
    private Transforms() {
    }

    /** The outputs of a function and their tangents (J v). */
    public record JvpResult(List<Tensor> outputs, List<Tensor> tangents) {
        /** The first (for single-output functions, the only) output. */
        public Tensor output() {
            return outputs.get(0);
        }

        /** The tangent of the first output. */
        public Tensor tangent() {
            return tangents.get(0);
        }
    }

    /** The outputs of a function and its pullback, which maps output cotangents u to input cotangents u^T J. */
    public record VjpResult(List<Tensor> outputs, Function<List<Tensor>, List<Tensor>> pullback) {
        public Tensor output() {
            return outputs.get(0);
        }

        /** The pullback of a single-input, single-output function. */
        public Tensor pullback(Tensor cotangent) {
            return pullback.apply(List.of(cotangent)).get(0);
        }
    }

    // ---- jvp ---------------------------------------------------------------------------------------------

    /** {@code f(primals)} and the directional derivative of f at {@code primals} along {@code tangents}. */
    public static JvpResult jvp(TensorFunction f, List<Tensor> primals, List<Tensor> tangents) {
        if (primals.size() != tangents.size()) {
            throw new IllegalArgumentException("jvp: " + primals.size() + " primals but " + tangents.size()
                    + " tangents; pass one tangent per primal");
        }
        try (var level = ForwardAD.dualLevel(); var grad = GradMode.enable()) {
            List<Tensor> duals = new ArrayList<>(primals.size());
            for (int i = 0; i < primals.size(); i++) {
                duals.add(ForwardAD.makeDual(primals.get(i), tangents.get(i)));
            }
            List<Tensor> outs = f.apply(duals);
            List<Tensor> values = new ArrayList<>(outs.size());
            List<Tensor> outTangents = new ArrayList<>(outs.size());
            for (Tensor out : outs) {
                ForwardAD.Dual dual = ForwardAD.unpackDual(out);
                values.add(dual.primal());
                // An output that does not depend on the inputs has a zero tangent.
                outTangents.add(dual.tangent() != null ? dual.tangent() : out.zerosLike());
            }
            return new JvpResult(values, outTangents);
        }
    }

    public static JvpResult jvp(UnaryOperator<Tensor> f, Tensor primal, Tensor tangent) {
        return jvp(single(f), List.of(primal), List.of(tangent));
    }

    // ---- vjp and grad ---------------------------------------------------------------------------------------

    /** {@code f(primals)} and its pullback; the pullback may be called any number of times. */
    public static VjpResult vjp(TensorFunction f, List<Tensor> primals) {
        List<Tensor> tracked = track(primals);
        boolean higher = differentiated(primals);
        List<Tensor> outs;
        try (var grad = GradMode.enable()) {
            outs = f.apply(tracked);
        }
        List<Tensor> outputs = List.copyOf(outs);
        Function<List<Tensor>, List<Tensor>> pullback = cotangents -> {
            if (cotangents.size() != outputs.size()) {
                throw new IllegalArgumentException("vjp: the pullback got " + cotangents.size()
                        + " cotangents for " + outputs.size() + " outputs");
            }
            return reverse("vjp", outputs, tracked, cotangents, higher, true);
        };
        return new VjpResult(outputs, pullback);
    }

    public static VjpResult vjp(UnaryOperator<Tensor> f, Tensor primal) {
        return vjp(single(f), List.of(primal));
    }

    /** The gradient of a function with one-element output, as a function: {@code grad(f).apply(x)}. */
    public static UnaryOperator<Tensor> grad(UnaryOperator<Tensor> f) {
        return x -> gradAll(single(f)).apply(List.of(x)).get(0);
    }

    /** The gradients with respect to every input of a function whose (first) output has one element. */
    public static TensorFunction gradAll(TensorFunction f) {
        return inputs -> {
            List<Tensor> tracked = track(inputs);
            Tensor out;
            try (var grad = GradMode.enable()) {
                out = f.apply(tracked).get(0);
            }
            if (out.numel() != 1) {
                throw new TensorShapeException("grad: the function must return a one-element tensor, got shape "
                        + out.shape() + "; use vjp or jacrev for other outputs");
            }
            return reverse("grad", List.of(out), tracked, List.of(out.onesLike()), differentiated(inputs), false);
        };
    }

    // ---- Jacobians and Hessians -------------------------------------------------------------------------------

    /** The Jacobian of f at x by reverse mode, of shape {@code f(x).shape ++ x.shape}: one backward pass per output element. */
    public static Tensor jacrev(UnaryOperator<Tensor> f, Tensor x) {
        Tensor tracked = track(List.of(x)).get(0);
        Tensor y;
        try (var grad = GradMode.enable()) {
            y = f.apply(tracked);
        }
        boolean higher = differentiated(List.of(x));
        int m = y.numel();
        List<Tensor> rows = new ArrayList<>(m);
        for (int i = 0; i < m; i++) {
            Tensor seed = basis(y, i);
            rows.add(reverse("jacrev", List.of(y), List.of(tracked), List.of(seed), higher, true).get(0));
        }
        return assemble(rows, y.shape(), x.shape(), false);
    }

    /** The Jacobian of f at x by forward mode, of shape {@code f(x).shape ++ x.shape}: one forward pass per input element. */
    public static Tensor jacfwd(UnaryOperator<Tensor> f, Tensor x) {
        int n = x.numel();
        List<Tensor> columns = new ArrayList<>(n);
        Shape outShape = null;
        for (int j = 0; j < n; j++) {
            JvpResult r = jvp(f, x, basis(x, j));
            outShape = r.output().shape();
            columns.add(r.tangent());
        }
        if (n == 0) {
            outShape = f.apply(x).shape();
        }
        return assemble(columns, outShape, x.shape(), true);
    }

    /**
     * The Hessian of a function with one-element output, of shape {@code x.shape ++ x.shape}, as the
     * forward-mode Jacobian of its gradient (forward over reverse): one forward-and-backward pass per
     * input element, each yielding one column.
     */
    public static Tensor hessian(UnaryOperator<Tensor> f, Tensor x) {
        return jacfwd(grad(f), x);
    }

    /** The Hessian of f at x times v, by forward over reverse, without forming the Hessian. */
    public static Tensor hvp(UnaryOperator<Tensor> f, Tensor x, Tensor v) {
        return jvp(grad(f), x, v).tangent();
    }

    // ---- plumbing ------------------------------------------------------------------------------------------------

    private static TensorFunction single(UnaryOperator<Tensor> f) {
        return inputs -> List.of(f.apply(inputs.get(0)));
    }

    /**
     * Tensors of the transform's own to differentiate with respect to, one per argument: they require
     * grad, carry the argument's tangent, and pass gradients on to the argument when something outside
     * is differentiating it.
     */
    private static List<Tensor> track(List<Tensor> args) {
        List<Tensor> tracked = new ArrayList<>(args.size());
        try (var grad = GradMode.enable()) {
            for (Tensor a : args) {
                if (a.requiresGrad()) {
                    tracked.add(ShapeOps.alias(a));
                } else {
                    Tensor leaf = a.detach().requiresGrad(true);
                    Tensor tangent = ForwardAD.tangentOf(a);
                    tracked.add(tangent == null ? leaf : ForwardAD.makeDual(leaf, tangent));
                }
            }
        }
        return tracked;
    }

    /** Whether an enclosing computation differentiates one of the arguments (so results must stay differentiable). */
    private static boolean differentiated(List<Tensor> args) {
        for (Tensor a : args) {
            if ((a.requiresGrad() && GradMode.isEnabled()) || ForwardAD.tangentOf(a) != null) {
                return true;
            }
        }
        return false;
    }

    private static List<Tensor> reverse(String op, List<Tensor> outputs, List<Tensor> inputs, List<Tensor> seeds,
                                        boolean createGraph, boolean retainGraph) {
        List<Tensor> differentiable = new ArrayList<>(outputs.size());
        List<Tensor> usedSeeds = new ArrayList<>(outputs.size());
        for (int i = 0; i < outputs.size(); i++) {
            Tensor out = outputs.get(i);
            Tensor seed = seeds.get(i);
            if (!seed.shape().equals(out.shape())) {
                throw new TensorShapeException(op + ": cotangent " + i + " has shape " + seed.shape()
                        + " but output " + i + " has shape " + out.shape());
            }
            if (out.requiresGrad()) {
                differentiable.add(out);
                usedSeeds.add(seed);
            }
        }
        List<Tensor> grads = differentiable.isEmpty() ? Arrays.asList(new Tensor[inputs.size()])
                : Autograd.grad(differentiable, inputs, usedSeeds, retainGraph, createGraph, true);
        List<Tensor> result = new ArrayList<>(inputs.size());
        for (int i = 0; i < inputs.size(); i++) {
            Tensor g = grads.get(i);
            // An input the outputs do not depend on has a zero gradient, as torch.func returns.
            result.add(g != null ? g : inputs.get(i).detach().zerosLike());
        }
        return result;
    }

    /** The one-hot tensor shaped like {@code like} with a 1 at row-major position {@code i}. */
    private static Tensor basis(Tensor like, int i) {
        double[] values = new double[like.numel()];
        values[i] = 1.0;
        Tensor flat = Tensor.on(like.backend()).fromArray(values, values.length).toType(like.dtype());
        return flat.reshape(like.shape().toArray());
    }

    /**
     * Stacks per-element results into {@code out.shape ++ in.shape}: rows of {@code in.shape} (one per output
     * element, jacrev) or columns of {@code out.shape} (one per input element, jacfwd).
     */
    private static Tensor assemble(List<Tensor> parts, Shape outShape, Shape inShape, boolean columns) {
        int[] dims = new int[outShape.rank() + inShape.rank()];
        for (int i = 0; i < outShape.rank(); i++) {
            dims[i] = outShape.dim(i);
        }
        for (int i = 0; i < inShape.rank(); i++) {
            dims[outShape.rank() + i] = inShape.dim(i);
        }
        if (parts.isEmpty()) {
            throw new TensorShapeException("jacobian: empty " + (columns ? "input" : "output") + " (shape "
                    + (columns ? inShape : outShape) + ") is not supported");
        }
        List<Tensor> flat = new ArrayList<>(parts.size());
        for (Tensor p : parts) {
            flat.add(p.reshape(-1));
        }
        Tensor stacked = Tensor.stack(flat, columns ? 1 : 0);
        return stacked.reshape(dims);
    }
}
