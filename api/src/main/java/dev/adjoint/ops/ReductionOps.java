package dev.adjoint.ops;

import dev.adjoint.DType;
import dev.adjoint.Shape;
import dev.adjoint.Tensor;
import dev.adjoint.TensorShapeException;
import dev.adjoint.autograd.Graph;
import dev.adjoint.spi.Layout;
import dev.adjoint.spi.ReduceOp;

import java.util.Arrays;

import static dev.adjoint.ops.ElementwiseOps.of;

/** Reductions and logSumExp, the numerically stable composite built on them. */
public final class ReductionOps {
    private static final Tensor[] NOTHING = new Tensor[0];

    private ReductionOps() {
    }

    public static Tensor sum(Tensor x, int[] dims, boolean keepDim) {
        boolean[] reduced = reducedDims("sum", x.shape(), dims);
        Tensor kept = Dispatch.reduceKeepDim("sum", ReduceOp.SUM, x, reduced);
        Shape inShape = x.shape();
        Shape keptShape = kept.shape();
        Tensor out = keepDim ? kept : Dispatch.view(kept, Layout.contiguous(dropDims(keptShape, reduced)));
        // Each input element contributed once: the gradient is the output gradient broadcast back.
        return Graph.record("SumBackward", out, of(x), NOTHING,
                (g, c) -> of(g.reshape(keptShape.toArray()).expand(inShape.toArray())),
                (t, in, y) -> sum(t[0], dims, keepDim));
    }

    public static Tensor mean(Tensor x, int[] dims, boolean keepDim) {
        // Named here: an INT64 x would otherwise fail in the division, as "div".
        Dispatch.checkFloating("mean", x);
        boolean[] reduced = reducedDims("mean", x.shape(), dims);
        long count = 1;
        for (int d = 0; d < reduced.length; d++) {
            if (reduced[d]) {
                count *= x.shape().dim(d);
            }
        }
        return sum(x, dims, keepDim).div((double) count);
    }

    /**
     * torch.var: the mean squared deviation from the mean over {@code dims}, divided by
     * {@code N - correction} (1: the unbiased estimate; 0: the population variance); inf or NaN when
     * that is not positive, as in PyTorch. Two passes (the mean, then the squared deviations), which
     * stays accurate where the one-pass {@code E[x^2] - E[x]^2} cancels.
     */
    public static Tensor var(Tensor x, int[] dims, int correction, boolean keepDim) {
        Dispatch.checkFloating("var", x);
        boolean[] reduced = reducedDims("var", x.shape(), dims);
        long count = 1;
        for (int d = 0; d < reduced.length; d++) {
            if (reduced[d]) {
                count *= x.shape().dim(d);
            }
        }
        int[] reducedList = indicesOf(reduced);
        Tensor centered = x.sub(x.mean(reducedList, true));
        return centered.square().sum(reducedList, keepDim).div((double) Math.max(0, count - correction));
    }

    /**
     * torch.std: the square root of {@link #var}, as a node whose gradient and tangent are 0 where the
     * deviation is 0 (a constant slice), as PyTorch's {@code std_backward} masks them: the composite
     * {@code var.sqrt()} would give the zero gradient of the variance times sqrt's infinite slope, NaN.
     */
    public static Tensor std(Tensor x, int[] dims, int correction, boolean keepDim) {
        Dispatch.checkFloating("std", x);
        Tensor variance = var(x, dims, correction, keepDim);
        Tensor out;
        try (var scope = Tensor.noGrad()) {
            out = variance.detach().sqrt();
        }
        return Graph.record("StdBackward", out, of(variance), NOTHING,
                (g, c) -> of(overTwiceRoot(g, c.output())),
                (t, in, y) -> overTwiceRoot(t[0], y));
    }

    /** {@code v / (2 root)}, and 0 where the root is 0, computed without an inf or NaN in either branch. */
    private static Tensor overTwiceRoot(Tensor v, Tensor root) {
        Tensor isZero = root.eq(0.0);
        Tensor safe = Tensor.where(isZero, root.onesLike(), root);
        return Tensor.where(isZero, Dispatch.scalar(v.backend(), v.dtype(), 0.0), v.div(safe.mul(2.0)));
    }

    /**
     * torch.norm / torch.linalg.vector_norm: {@code (sum |x|^p)^(1/p)} over {@code dims}; p = inf and -inf
     * are the largest and smallest |x|, p = 0 counts the non-zero elements. p = 1, +-inf and 0 are the
     * compositions (abs, then sum, amax, amin or a count), whose gradients are PyTorch's. Other p, 2
     * among them, are a node of their own: the composite {@code sqrt(sum(x^2))} would give 0 * inf = NaN
     * as the gradient of a zero vector, where PyTorch gives 0.
     */
    public static Tensor norm(Tensor x, double p, int[] dims, boolean keepDim) {
        Dispatch.checkFloating("norm", x);
        if (Double.isNaN(p)) {
            throw new IllegalArgumentException("norm: p must be a number, got NaN (shape " + x.shape() + ")");
        }
        boolean[] reduced = reducedDims("norm", x.shape(), dims);
        int[] reducedList = indicesOf(reduced);
        if (p == Double.POSITIVE_INFINITY) {
            return x.abs().amax(reducedList, keepDim);
        }
        if (p == Double.NEGATIVE_INFINITY) {
            return x.abs().amin(reducedList, keepDim);
        }
        if (p == 0) {
            // sign(|x|) is 1 for every non-zero element and has a zero gradient, as the count has in PyTorch.
            return x.abs().sign().sum(reducedList, keepDim);
        }
        if (p == 1) {
            return x.abs().sum(reducedList, keepDim);
        }
        Tensor out;
        Tensor v = x.detach();
        try (var scope = Tensor.noGrad()) {
            out = p == 2 ? v.square().sum(reducedList, keepDim).sqrt()
                    : v.abs().pow(p).sum(reducedList, keepDim).pow(1.0 / p);
        }
        int[] kept = x.shape().toArray();
        for (int d : reducedList) {
            kept[d] = 1;
        }
        return Graph.record("NormBackward", out, of(x), of(x),
                (g, c) -> of(normScaledInput(c.saved(0), p).mul(overNormPower(g.reshape(kept), c.output().reshape(kept), p))),
                (t, in, y) -> overNormPower(normScaledInput(in[0], p).mul(t[0]).sum(reducedList, true), y.reshape(kept), p)
                        .reshape(y.shape().toArray()));
    }

    /**
     * {@code d ||x||_p^p / dx / p = sign(x) |x|^(p-1)}, written as PyTorch writes it for each range of p.
     * Below p = 1 the power is infinite at 0, and PyTorch takes the term there as 0: |x| is replaced by
     * 1 at the zeros, where sign(x) then gives the 0, so no inf or NaN arises in either derivative.
     */
    private static Tensor normScaledInput(Tensor x, double p) {
        if (p == 2) {
            return x;
        }
        if (p < 1) {
            Tensor abs = x.abs();
            return x.sign().mul(Tensor.where(x.eq(0.0), abs.onesLike(), abs).pow(p - 1));
        }
        return p < 2 ? x.sign().mul(x.abs().pow(p - 1)) : x.mul(x.abs().pow(p - 2));
    }

    /**
     * {@code v / norm^(p-1)}, and 0 where the norm is 0 (PyTorch's choice there); the division runs on a
     * norm with those zeros replaced by 1, so no inf or NaN arises even in the branch where() discards.
     */
    private static Tensor overNormPower(Tensor v, Tensor norm, double p) {
        Tensor isZero = norm.eq(0.0);
        Tensor safe = Tensor.where(isZero, norm.onesLike(), norm);
        Tensor scaled = v.div(p == 2 ? safe : safe.pow(p - 1));
        return Tensor.where(isZero, Dispatch.scalar(v.backend(), v.dtype(), 0.0), scaled);
    }

    /**
     * torch.argmax / argmin along {@code dim}: the INT64 index of the first largest (smallest)
     * element, NaN counting as the extreme as in torch. Indices have no gradient, so this is a
     * composite of existing kernels under noGrad rather than a kernel of its own: the extreme, a
     * mask of where it is hit, and the smallest position under the mask.
     */
    public static Tensor argExtremum(String op, Tensor x, int dim, boolean keepDim, boolean max) {
        int d = x.shape().normalizeDimOrScalarDim(dim, op);
        if (x.rank() == 0) {
            return Dispatch.scalar(x.backend(), DType.INT64, 0L);
        }
        int n = x.size(d);
        if (n == 0) {
            throw new TensorShapeException(op + ": cannot reduce over dimension " + d + " of size 0 (shape "
                    + x.shape() + ")");
        }
        try (var scope = Tensor.noGrad()) {
            Tensor v = x.detach();
            Tensor extreme = max ? v.amax(d, true) : v.amin(d, true);
            // Only NaN differs from itself; integer tensors have none.
            Tensor hit = v.dtype().isFloatingPoint() ? v.eq(extreme).logicalOr(v.ne(v)) : v.eq(extreme);
            int[] positionShape = new int[x.rank()];
            Arrays.fill(positionShape, 1);
            positionShape[d] = n;
            // Floating positions are exact in FLOAT32 up to 2^24, far beyond any dimension a tensor here
            // can have; integer and BOOL tensors take INT64 positions.
            DType positionType = x.dtype().isFloatingPoint() ? x.dtype() : DType.INT64;
            Tensor positions = Tensor.on(x.backend()).arange(0, n, 1, positionType).reshape(positionShape);
            Tensor candidates = Tensor.where(hit, positions, Dispatch.scalar(x.backend(), positionType, n));
            return candidates.amin(d, keepDim).toType(DType.INT64);
        }
    }

    /** argmax / argmin of the flattened tensor, as torch.argmax(x) without dim. */
    public static Tensor argExtremumFlat(String op, Tensor x, boolean max) {
        try (var scope = Tensor.noGrad()) {
            return argExtremum(op, x.detach().reshape(-1), 0, false, max);
        }
    }

    public static Tensor amax(Tensor x, int[] dims, boolean keepDim) {
        return extremum("amax", "AmaxBackward", ReduceOp.MAX, x, dims, keepDim, false);
    }

    public static Tensor amin(Tensor x, int[] dims, boolean keepDim) {
        return extremum("amin", "AminBackward", ReduceOp.MIN, x, dims, keepDim, false);
    }

    /**
     * torch.max(x) / torch.min(x) over every element: amax's value, but a NaN result is attained by
     * the NaN elements, which share the gradient (PyTorch's evenly_distribute_backward), where amax's
     * comparison finds no element equal to NaN and gives NaN everywhere, as torch.amax does.
     */
    public static Tensor extremumOfAll(Tensor x, boolean max) {
        // No dims: every dim, as reducedDims reads an empty list.
        int[] every = new int[0];
        return max ? extremum("max", "MaxBackward", ReduceOp.MAX, x, every, false, true)
                : extremum("min", "MinBackward", ReduceOp.MIN, x, every, false, true);
    }

    private static Tensor extremum(String op, String node, ReduceOp kernel, Tensor x, int[] dims, boolean keepDim,
                                   boolean nanAttains) {
        boolean[] reduced = reducedDims(op, x.shape(), dims);
        Tensor kept = Dispatch.reduceKeepDim(op, kernel, x, reduced);
        Shape keptShape = kept.shape();
        Tensor out = keepDim ? kept : Dispatch.view(kept, Layout.contiguous(dropDims(keptShape, reduced)));
        int[] reducedList = indicesOf(reduced);
        // The gradient is shared evenly between all elements that attain the extremum (PyTorch's amax rule).
        Tensor extreme = kept.detach();
        return Graph.record(node, out, of(x), of(x, extreme), (g, c) -> {
            Tensor attained = attained(c.saved(0), c.saved(1), nanAttains);
            Tensor ties = attained.sum(reducedList, true);
            return of(g.reshape(keptShape.toArray()).mul(attained).div(ties));
        }, (t, in, y) -> {
            // The mean of the tangent over the elements that attain the extremum.
            Tensor attained = attained(in[0], extreme, nanAttains);
            Tensor ties = attained.sum(reducedList, true);
            return t[0].mul(attained).sum(reducedList, true).div(ties).reshape(y.shape().toArray());
        });
    }

    /** Where {@code x} equals its {@code extreme}, and with {@code nanAttains} also where both are NaN. */
    private static Tensor attained(Tensor x, Tensor extreme, boolean nanAttains) {
        Tensor equal = x.eq(extreme);
        return nanAttains ? equal.logicalOr(x.ne(x).logicalAnd(extreme.ne(extreme))) : equal;
    }

    /**
     * log(sum(exp(x))) computed as m + log(sum(exp(x - m))) with m the (detached) maximum, so logits
     * around 1e3 neither overflow nor lose the small terms. The shift cancels in the gradient, which is
     * why m can be detached.
     */
    public static Tensor logSumExp(Tensor x, int[] dims, boolean keepDim) {
        Dispatch.checkFloating("logSumExp", x);
        boolean[] reduced = reducedDims("logSumExp", x.shape(), dims);
        Tensor shift = finiteShift(x, indicesOf(reduced));
        Tensor lse = x.sub(shift).exp().sum(indicesOf(reduced), true).log().add(shift);
        return keepDim ? lse : lse.reshape(dropDims(lse.shape(), reduced).toArray());
    }

    /**
     * The detached max along {@code dims} (keepDim). Over an empty dimension, where there is no max and
     * nothing to shift, it is 0, so logSumExp of an empty row is log(0) = -inf, as in PyTorch.
     */
    private static Tensor detachedMax(Tensor x, int[] dims) {
        for (int d : dims) {
            if (x.size(d) == 0) {
                int[] kept = x.shape().toArray();
                for (int k : dims) {
                    kept[k] = 1;
                }
                return Tensor.on(x.backend()).zeros(x.dtype(), kept);
            }
        }
        return x.detach().amax(dims, true);
    }

    /** {@link #detachedMax} with infinite maxima replaced by 0, so that rows of -inf give -inf (not NaN)
     *  from logSumExp, and a row holding +inf gives +inf, as torch.logsumexp. */
    private static Tensor finiteShift(Tensor x, int[] dims) {
        Tensor m = detachedMax(x, dims);
        Tensor finite = m.abs().lt(Double.POSITIVE_INFINITY);
        return Tensor.where(finite, m, m.zerosLike());
    }

    // ---- dimension bookkeeping ------------------------------------------------------------------------

    /**
     * Flags of the dims a reduction runs over, from its {@code dims} argument as PyTorch 1.13 reads it:
     * an empty list means every dim (x.sum(()) is x.sum()), which is what sum, mean, amax, amin, var,
     * std, norm and logSumExp do with it there. Internal callers whose computed list of dims may be
     * empty meaning "none" must not pass it to these ops (see {@link #flaggedDims}).
     */
    static boolean[] reducedDims(String op, Shape shape, int[] dims) {
        if (dims.length == 0) {
            boolean[] every = new boolean[shape.rank()];
            Arrays.fill(every, true);
            return every;
        }
        return flaggedDims(op, shape, dims);
    }

    /**
     * Flags of {@code dims}, negative dims normalised, each at most once; an empty list flags none. A
     * 0-d tensor takes dim 0 (or -1) as PyTorch does, and has no dimension to flag: reducing or flipping
     * over it leaves the one element as it is.
     */
    static boolean[] flaggedDims(String op, Shape shape, int[] dims) {
        boolean[] reduced = new boolean[shape.rank()];
        boolean scalarDimSeen = false;
        for (int dim : dims) {
            int d = shape.normalizeDimOrScalarDim(dim, op);
            if (shape.isScalar() ? scalarDimSeen : reduced[d]) {
                throw new TensorShapeException(op + ": dimension " + dim + " appears twice in " + Arrays.toString(dims)
                        + " for shape " + shape);
            }
            if (shape.isScalar()) {
                scalarDimSeen = true;
            } else {
                reduced[d] = true;
            }
        }
        return reduced;
    }

    static Shape dropDims(Shape shape, boolean[] drop) {
        int count = 0;
        for (boolean b : drop) {
            if (!b) {
                count++;
            }
        }
        int[] out = new int[count];
        int j = 0;
        for (int i = 0; i < drop.length; i++) {
            if (!drop[i]) {
                out[j++] = shape.dim(i);
            }
        }
        return Shape.of(out);
    }

    static int[] indicesOf(boolean[] flags) {
        int count = 0;
        for (boolean b : flags) {
            if (b) {
                count++;
            }
        }
        int[] out = new int[count];
        int j = 0;
        for (int i = 0; i < flags.length; i++) {
            if (flags[i]) {
                out[j++] = i;
            }
        }
        return out;
    }
}
