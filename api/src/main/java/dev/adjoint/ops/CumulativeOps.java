package dev.adjoint.ops;

import dev.adjoint.Tensor;
import dev.adjoint.TensorShapeException;
import dev.adjoint.autograd.GradMode;
import dev.adjoint.autograd.Graph;
import dev.adjoint.spi.ScanOp;

import java.util.List;

import static dev.adjoint.ops.ElementwiseOps.of;

/** Running sums and products along a dimension (one scan kernel), and prod, read off the running product. */
public final class CumulativeOps {
    private static final Tensor[] NOTHING = new Tensor[0];

    private CumulativeOps() {
    }

    public static Tensor cumsum(Tensor x, int dim) {
        Dispatch.checkFloating("cumsum", x);
        if (x.rank() == 0) {
            checkScalarDim("cumsum", x, dim);
            return x.reshape(1).cumsum(0).reshape();
        }
        return sumScan(x, x.shape().normalizeDim(dim, "cumsum"), false);
    }

    /**
     * The running sum from the first element (or, {@code reverse}, from the last). Linear, so its VJP
     * is the running sum the other way and its JVP itself.
     */
    private static Tensor sumScan(Tensor x, int d, boolean reverse) {
        Tensor out = Dispatch.scan("cumsum", ScanOp.SUM, reverse, x, d);
        return Graph.record("CumsumBackward", out, of(x), NOTHING, (g, c) -> of(sumScan(g, d, !reverse)),
                (t, in, y) -> sumScan(t[0], d, reverse));
    }

    /**
     * The running product. Its gradient {@code dy_k/dx_i = prod_{j <= k, j != i} x_j} is
     * {@code y_k / x_i} only where {@code x_i != 0}; zeros take PyTorch's route (see {@link #cumprodVjp}).
     */
    public static Tensor cumprod(Tensor x, int dim) {
        Dispatch.checkFloating("cumprod", x);
        if (x.rank() == 0) {
            checkScalarDim("cumprod", x, dim);
            return x.reshape(1).cumprod(0).reshape();
        }
        int d = x.shape().normalizeDim(dim, "cumprod");
        Tensor out = Dispatch.scan("cumprod", ScanOp.PROD, false, x, d);
        return Graph.record("CumprodBackward", out, of(x), of(x), (g, c) -> of(cumprodVjp(g, c.saved(0), c.output(), d)),
                (t, in, y) -> cumprodJvp(t[0], in[0], y, d));
    }

    /**
     * {@code grad_i = sum_{k >= i} g_k prod_{j <= k, j != i} x_j}. Without zeros that is
     * {@code reverse_cumsum(g * y)_i / x_i}. With zeros, per slice along the dim, with z the first zero:
     * before z the same formula holds (every {@code y_k} from z on is 0, as those terms should be); at z
     * it is {@code reverse_cumsum(g * y')_z} with {@code y'} the running product of x with {@code x_z}
     * replaced by 1; after z every term contains {@code x_z}, so it is 0. A backward being recorded
     * (to be differentiated again) takes {@link #cumprodVjpByRecurrence} instead, with or without zeros.
     */
    private static Tensor cumprodVjp(Tensor g, Tensor x, Tensor y, int d) {
        if (GradMode.isEnabled()) {
            return cumprodVjpByRecurrence(g, x, d);
        }
        if (!hasZero(x)) {
            return sumScan(g.mul(y), d, true).div(x);
        }
        ZeroRegions r = new ZeroRegions(x, d);
        Tensor beforeZero = sumScan(g.mul(y), d, true).div(r.nonZero);
        Tensor atZero = sumScan(g.mul(cumprod(r.firstZeroAsOne, d)), d, true);
        return Tensor.where(r.beforeFirstZero, beforeZero, Tensor.where(r.firstZero, atZero, r.zero));
    }

    /**
     * {@code grad_i = P_i S_i}, with {@code P_i = prod_{j < i} x_j} (the running product shifted one
     * place) and {@code S_i = sum_{k >= i} g_k prod_{i < j <= k} x_j}, which satisfies
     * {@code S_i = g_i + x_{i+1} S_{i+1}}: products and sums only, so its own derivatives are right
     * wherever x is: through zeros, where the masks of {@link #cumprodVjp} hold the gradient constant,
     * and at small values, where the division form's derivative {@code -S / x^2} is terms of order
     * {@code 1 / x^2} that should cancel and do not (x of order 1e-24: a NaN Hessian-vector product in
     * FLOAT32; PyTorch, whose double backward differentiates the division, gives 2.3e15 in FLOAT32 and
     * -4.2e6 in FLOAT64 for an element whose exact value is -0.3).
     *
     * <p>The recurrence is solved as a scan of the maps {@code S -> g_i + x_{i+1} S} (Hillis and Steele):
     * round r composes each element's map with the one 2^r places on, so after log2(n) rounds each
     * element's map reaches past the end, where S is 0. A handful of whole-tensor ops per round rather
     * than a few per element: a running product over 10^5 elements differentiated twice stays a few
     * dozen ops on the tape.
     */
    private static Tensor cumprodVjpByRecurrence(Tensor g, Tensor x, int d) {
        int n = x.size(d);
        if (n <= 1) {
            // The running product of at most one element is that element.
            return g;
        }
        Tensor ones = Tensor.on(x.backend()).ones(x.dtype(), x.shape().withDim(d, 1).toArray());
        // Element i's map is S_i = b_i + a_i S_{i + span}; at first the span is 1, a_i = x_{i+1} and
        // a_{n-1} = 0 (nothing follows the last element). Elements whose map already reaches past the
        // end (a_i = 0 there) keep it.
        Tensor b = g;
        Tensor a = Tensor.cat(List.of(x.narrow(d, 1, n - 1), ones.mul(0.0)), d);
        for (int span = 1; span < n; span *= 2) {
            int head = n - span;
            Tensor bHead = b.narrow(d, 0, head).add(a.narrow(d, 0, head).mul(b.narrow(d, span, head)));
            b = Tensor.cat(List.of(bHead, b.narrow(d, head, span)), d);
            if (2 * span < n) {
                Tensor aHead = a.narrow(d, 0, head).mul(a.narrow(d, span, head));
                a = Tensor.cat(List.of(aHead, a.narrow(d, head, span)), d);
            }
        }
        Tensor before = Tensor.cat(List.of(ones, cumprod(x.narrow(d, 0, n - 1), d)), d);
        return before.mul(b);
    }

    /**
     * {@code dy_k = sum_{i <= k} t_i prod_{j <= k, j != i} x_j}: {@code y_k * cumsum(t / x)_k} before the
     * first zero; from it on, while it is the only zero so far, only its own term survives,
     * {@code t_z * y'_k}; after a second zero every term has a zero factor.
     */
    private static Tensor cumprodJvp(Tensor t, Tensor x, Tensor y, int d) {
        if (!hasZero(x)) {
            return y.mul(cumsum(t.div(x), d));
        }
        ZeroRegions r = new ZeroRegions(x, d);
        Tensor beforeZero = y.mul(cumsum(t.div(r.nonZero), d));
        Tensor tangentAtZero = t.mul(r.firstZero).sum(d, true);
        Tensor fromZero = tangentAtZero.mul(cumprod(r.firstZeroAsOne, d));
        return Tensor.where(r.beforeFirstZero, beforeZero, Tensor.where(r.zerosSoFar.eq(1.0), fromZero, r.zero));
    }

    /** Where the zeros of x are along {@code d}, for the gradients of the running product. */
    private static final class ZeroRegions {
        final Tensor zero;
        /** How many zeros up to and including each position. */
        final Tensor zerosSoFar;
        final Tensor beforeFirstZero;
        final Tensor firstZero;
        /** x with its zeros replaced by 1: a safe divisor where x is not 0. */
        final Tensor nonZero;
        /** x with the first zero of each slice replaced by 1. */
        final Tensor firstZeroAsOne;

        ZeroRegions(Tensor x, int d) {
            zero = Dispatch.scalar(x.backend(), x.dtype(), 0.0);
            Tensor one = Dispatch.scalar(x.backend(), x.dtype(), 1.0);
            // As x's dtype: the running count of zeros is a cumsum, which takes floating tensors.
            Tensor isZero = x.detach().eq(0.0).toType(x.dtype());
            zerosSoFar = cumsum(isZero, d);
            beforeFirstZero = zerosSoFar.eq(0.0);
            firstZero = isZero.mul(zerosSoFar.eq(1.0));
            nonZero = Tensor.where(isZero, one, x);
            firstZeroAsOne = Tensor.where(firstZero, one, x);
        }
    }

    private static boolean hasZero(Tensor x) {
        try (var scope = Tensor.noGrad()) {
            return x.detach().eq(0.0).sum().item() > 0;
        }
    }

    /** torch.prod along {@code dim}: the last element of the running product (1 over an empty dim). */
    public static Tensor prod(Tensor x, int dim, boolean keepDim) {
        Dispatch.checkFloating("prod", x);
        if (x.rank() == 0) {
            checkScalarDim("prod", x, dim);
            return x;
        }
        int d = x.shape().normalizeDim(dim, "prod");
        int n = x.size(d);
        if (n == 0) {
            // The empty product, with a zero gradient as PyTorch's.
            return x.sum(d, keepDim).mul(0.0).add(1.0);
        }
        Tensor last = cumprod(x, d).narrow(d, n - 1, 1);
        return keepDim ? last : last.squeeze(d);
    }

    /** torch.prod of every element, as a 0-d tensor. */
    public static Tensor prod(Tensor x) {
        Dispatch.checkFloating("prod", x);
        return prod(x.reshape(-1), 0, false);
    }

    /** A 0-d tensor has one dimension's worth of valid dims, as in PyTorch: 0 and -1. */
    private static void checkScalarDim(String op, Tensor x, int dim) {
        if (dim != 0 && dim != -1) {
            throw new TensorShapeException(op + ": dimension " + dim + " is out of range for a 0-d tensor (valid: -1, 0)");
        }
    }
}
