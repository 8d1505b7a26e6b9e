package dev.adjoint.ops;

import dev.adjoint.DType;
import dev.adjoint.Tensor;
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
        int d = x.shape().normalizeDimOrScalarDim(dim, "cumsum");
        if (x.rank() == 0) {
            return x.reshape(1).cumsum(0).reshape();
        }
        return sumScan(x, d, false);
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
     * {@code y_k / x_i} while the running product stays a normal number; through zeros and where it
     * underflows the gradients solve the product rule's recurrence instead (see {@link #cumprodVjp}).
     */
    public static Tensor cumprod(Tensor x, int dim) {
        Dispatch.checkFloating("cumprod", x);
        int d = x.shape().normalizeDimOrScalarDim(dim, "cumprod");
        if (x.rank() == 0) {
            return x.reshape(1).cumprod(0).reshape();
        }
        Tensor out = Dispatch.scan("cumprod", ScanOp.PROD, false, x, d);
        return Graph.record("CumprodBackward", out, of(x), of(x), (g, c) -> of(cumprodVjp(g, c.saved(0), c.output(), d)),
                (t, in, y) -> cumprodJvp(t[0], in[0], y, d));
    }

    /**
     * {@code grad_i = sum_{k >= i} g_k prod_{j <= k, j != i} x_j}: {@code reverse_cumsum(g * y)_i / x_i}
     * where the division holds ({@link #divisionHolds}) and nothing is being recorded; otherwise
     * {@link #cumprodVjpByRecurrence}, which is exact through zeros (PyTorch's values there: before
     * the first zero the division's, at it the product of the others, after it 0) and where the
     * running product underflows, and whose own derivatives are right.
     */
    private static Tensor cumprodVjp(Tensor g, Tensor x, Tensor y, int d) {
        if (!GradMode.isEnabled() && divisionHolds(y)) {
            return sumScan(g.mul(y), d, true).div(x);
        }
        return cumprodVjpByRecurrence(g, x, d);
    }

    /**
     * Whether the division forms of the running product's derivatives hold: no element of y below the
     * dtype's smallest normal number in magnitude. A zero of x makes y zero from there on; an
     * underflowed {@code y_k} is 0, or has lost its digits, where the derivative's terms need not
     * have: x = [1e-30, 1e-30, 1000] in FLOAT32 has y = [1e-30, 0, 0] but dy_1 / dx_0 = 1e-30.
     */
    private static boolean divisionHolds(Tensor y) {
        double smallestNormal = y.dtype() == DType.FLOAT32 ? Float.MIN_NORMAL : Double.MIN_NORMAL;
        try (var scope = Tensor.noGrad()) {
            return y.detach().abs().lt(smallestNormal).sum().item() == 0;
        }
    }

    /**
     * {@code grad_i = P_i S_i}, with {@code P_i = prod_{j < i} x_j} (the running product shifted one
     * place) and {@code S_i = sum_{k >= i} g_k prod_{i < j <= k} x_j}, which satisfies
     * {@code S_i = g_i + x_{i+1} S_{i+1}} ({@link #linearScan}): products and sums only, so its values
     * are right through zeros and where the running product underflows, and its own derivatives
     * wherever x is: also at small values, where the division form's derivative
     * {@code -S / x^2} is terms of order {@code 1 / x^2} that should cancel and do not (x of order
     * 1e-24: a NaN Hessian-vector product in FLOAT32; PyTorch, whose double backward differentiates
     * the division, gives 2.3e15 in FLOAT32 and -4.2e6 in FLOAT64 for an element whose exact value is
     * -0.3).
     */
    private static Tensor cumprodVjpByRecurrence(Tensor g, Tensor x, int d) {
        int n = x.size(d);
        if (n <= 1) {
            // The running product of at most one element is that element.
            return g;
        }
        Tensor zeros = Tensor.on(x.backend()).zeros(x.dtype(), x.shape().withDim(d, 1).toArray());
        // a_i = x_{i+1}, and 0 for the last element: nothing follows it.
        Tensor s = linearScan(g, Tensor.cat(List.of(x.narrow(d, 1, n - 1), zeros), d), d, true);
        return runningProductBefore(x, d).mul(s);
    }

    /** {@code P_i = prod_{j < i} x_j} along {@code d}: 1, then the running product without its last element. */
    private static Tensor runningProductBefore(Tensor x, int d) {
        int n = x.size(d);
        Tensor ones = Tensor.on(x.backend()).ones(x.dtype(), x.shape().withDim(d, 1).toArray());
        return Tensor.cat(List.of(ones, cumprod(x.narrow(d, 0, n - 1), d)), d);
    }

    /**
     * The solution of {@code S_i = b_i + a_i S_{i+1}} ({@code reverse}) or {@code S_i = b_i + a_i S_{i-1}}
     * along {@code d}, for an {@code a} that is 0 at the element where the recurrence starts (the last,
     * or the first): a scan of the maps {@code S -> b_i + a_i S} (Hillis and Steele). Round r composes
     * each element's map with the one 2^r places towards the start of the recurrence, so after
     * log2(n) rounds each element's map reaches past it, where S is 0. A handful of whole-tensor ops
     * per round rather than a few per element: a running product over 10^5 elements differentiated
     * twice stays a few dozen ops on the tape. Products and sums only, so differentiable anywhere.
     */
    private static Tensor linearScan(Tensor b, Tensor a, int d, boolean reverse) {
        int n = b.size(d);
        for (int span = 1; span < n; span *= 2) {
            // The elements whose maps compose with the one span places on, and those whose maps already
            // reach past the start (a is 0 there) and stay as they are.
            int moved = n - span;
            int from = reverse ? 0 : span;
            int kept = reverse ? moved : 0;
            int other = reverse ? span : 0;
            Tensor aMoved = a.narrow(d, from, moved);
            Tensor bMoved = b.narrow(d, from, moved).add(aMoved.mul(b.narrow(d, other, moved)));
            b = reverse ? Tensor.cat(List.of(bMoved, b.narrow(d, kept, span)), d)
                    : Tensor.cat(List.of(b.narrow(d, kept, span), bMoved), d);
            if (2 * span < n) {
                Tensor aComposed = aMoved.mul(a.narrow(d, other, moved));
                a = reverse ? Tensor.cat(List.of(aComposed, a.narrow(d, kept, span)), d)
                        : Tensor.cat(List.of(a.narrow(d, kept, span), aComposed), d);
            }
        }
        return b;
    }

    /**
     * {@code dy_k = sum_{i <= k} t_i prod_{j <= k, j != i} x_j}: {@code y_k * cumsum(t / x)_k} where the
     * division holds ({@link #divisionHolds}) and gives finite values ({@code t / x} may overflow
     * where the tangent does not), else {@link #cumprodJvpByRecurrence}.
     */
    private static Tensor cumprodJvp(Tensor t, Tensor x, Tensor y, int d) {
        if (divisionHolds(y)) {
            Tensor dy = y.mul(cumsum(t.div(x), d));
            if (allFinite(dy)) {
                return dy;
            }
        }
        return cumprodJvpByRecurrence(t, x, d);
    }

    /**
     * The product rule, {@code dy_k = x_k dy_{k-1} + t_k y_{k-1}} ({@link #linearScan} with
     * {@code b = t P}, P the running product shifted one place): exact through zeros and where the
     * running product underflows.
     */
    private static Tensor cumprodJvpByRecurrence(Tensor t, Tensor x, int d) {
        int n = x.size(d);
        if (n <= 1) {
            return t;
        }
        Tensor zeros = Tensor.on(x.backend()).zeros(x.dtype(), x.shape().withDim(d, 1).toArray());
        // a_k = x_k, and 0 for the first element: nothing comes before it.
        return linearScan(t.mul(runningProductBefore(x, d)), Tensor.cat(List.of(zeros, x.narrow(d, 1, n - 1)), d), d,
                false);
    }

    /** Whether x has no infinity or NaN: its sum is finite (or overflows, which answers no, harmlessly). */
    private static boolean allFinite(Tensor x) {
        try (var scope = Tensor.noGrad()) {
            return Double.isFinite(x.detach().sum().item());
        }
    }

    /** torch.prod along {@code dim}: the last element of the running product (1 over an empty dim). */
    public static Tensor prod(Tensor x, int dim, boolean keepDim) {
        Dispatch.checkFloating("prod", x);
        int d = x.shape().normalizeDimOrScalarDim(dim, "prod");
        if (x.rank() == 0) {
            return x;
        }
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
}
