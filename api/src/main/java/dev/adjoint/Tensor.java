package dev.adjoint;

import dev.adjoint.autograd.AccumulateGrad;
import dev.adjoint.autograd.Autograd;
import dev.adjoint.autograd.ForwardAD;
import dev.adjoint.autograd.ForwardGrad;
import dev.adjoint.autograd.GradMode;
import dev.adjoint.autograd.Graph;
import dev.adjoint.autograd.Node;
import dev.adjoint.autograd.RemovableHandle;
import dev.adjoint.backend.Backends;
import dev.adjoint.internal.GradAccumulation;
import dev.adjoint.internal.TensorInternals;
import dev.adjoint.ops.CumulativeOps;
import dev.adjoint.ops.Dispatch;
import dev.adjoint.ops.ElementwiseOps;
import dev.adjoint.ops.InPlaceOps;
import dev.adjoint.ops.LinalgOps;
import dev.adjoint.ops.MaskingOps;
import dev.adjoint.ops.NormalizationOps;
import dev.adjoint.ops.PartitionOps;
import dev.adjoint.ops.RearrangeOps;
import dev.adjoint.ops.ReductionOps;
import dev.adjoint.ops.ShapeOps;
import dev.adjoint.ops.SortOps;
import dev.adjoint.spi.Backend;
import dev.adjoint.spi.BinaryOp;
import dev.adjoint.spi.Layout;
import dev.adjoint.spi.ScopedStorage;
import dev.adjoint.spi.Storage;
import dev.adjoint.spi.UnaryOp;

import java.util.List;
import java.util.function.UnaryOperator;

/**
 * An n-dimensional array on one backend, with PyTorch's autograd semantics: set
 * {@link #requiresGrad(boolean)} on leaves, compute, call {@link #backward()}, read {@link #grad()}.
 *
 * <p>A tensor is a strided view ({@link Layout}) over a {@link Storage} owned by its backend, so
 * {@code transpose}, {@code narrow}, {@code expand} and friends are free. Tensors are immutable
 * except for their autograd state ({@code grad}, hooks).
 */
public final class Tensor {
    private final Storage storage;
    private final Layout layout;
    private final Backend backend;
    /**
     * How many in-place writes the storage has seen, shared by every view and detach() of it (as
     * PyTorch's version counter): a backward formula that reads a saved tensor checks it is still at
     * the version it was saved at, so an in-place update in between fails loudly instead of giving a
     * wrong gradient.
     */
    private final int[] version;

    private boolean requiresGrad;
    /** The tangent of forward-mode AD, with the dual level it belongs to; see {@link ForwardAD}. */
    private ForwardGrad forwardGrad;
    private Node gradFn;
    /** Which output of {@link #gradFn} this tensor is (ops with several outputs: custom functions). */
    private int outputSlot;
    private volatile AccumulateGrad gradAccumulator;
    private Tensor grad;
    /**
     * Whether {@link #grad} is a gradient the backward pass stored (a buffer of its own, see
     * AccumulateGrad), which {@link #zeroGrad} may give back to a {@link MemoryScope}; false for one
     * set by {@link #setGrad}, which may be anybody's memory.
     */
    private boolean gradFromBackward;
    /** Whether {@link #retainGrad} has registered the hook that keeps this non-leaf's gradient. */
    private boolean retainsGrad;

    static {
        TensorInternals.install(new TensorInternals() {
            @Override
            public ForwardGrad forwardGrad(Tensor t) {
                return t.forwardGrad;
            }

            @Override
            public void setForwardGrad(Tensor t, ForwardGrad grad) {
                t.forwardGrad = grad;
            }

            @Override
            public Tensor dropoutMask(Backend backend, DType dtype, Shape shape, double p, Generator generator) {
                return Sampling.dropoutMask(backend, dtype, shape, p, generator);
            }

            @Override
            public Tensor fromStorage(Storage storage, Layout layout, Backend backend) {
                return Tensor.fromStorage(storage, layout, backend);
            }

            @Override
            public Tensor viewAs(Tensor t, Layout layout) {
                return new Tensor(t.storage, layout, t.backend, t.version);
            }

            @Override
            public void markModifiedInPlace(Tensor t) {
                t.version[0]++;
            }

            @Override
            public Node gradEdge(Tensor t) {
                return t.gradEdge();
            }

            @Override
            public int outputSlot(Tensor t) {
                return t.outputSlot;
            }

            @Override
            public void storeBackwardGrad(Tensor leaf, Tensor grad) {
                leaf.setGrad(grad);
                leaf.gradFromBackward = true;
            }

            @Override
            public void attachGradFn(Tensor t, Node node, int slot) {
                if (t.gradFn != null || t.requiresGrad) {
                    throw new IllegalStateException("attachGradFn: tensor already has autograd state ("
                            + (t.gradFn != null ? t.gradFn.name() : "a leaf that requires grad") + ")");
                }
                t.gradFn = node;
                t.outputSlot = slot;
                t.requiresGrad = true;
            }
        });
    }

    private Tensor(Storage storage, Layout layout, Backend backend, int[] version) {
        this.storage = storage;
        this.layout = layout;
        this.backend = backend;
        this.version = version;
    }

    // ---- creation ----------------------------------------------------------------------------

    /** Creation on a given backend; the static methods below use {@link Backends#defaultBackend()}. */
    public static TensorFactory on(Backend backend) {
        return new TensorFactory(backend);
    }

    /** Creation on the backend named {@code name} (e.g. "scalar"). */
    public static TensorFactory on(String backendName) {
        return new TensorFactory(Backends.get(backendName));
    }

    private static TensorFactory defaults() {
        return new TensorFactory(Backends.defaultBackend());
    }

    public static Tensor zeros(int... shape) {
        return defaults().zeros(DType.FLOAT32, shape);
    }

    public static Tensor zeros(DType dtype, int... shape) {
        return defaults().zeros(dtype, shape);
    }

    public static Tensor ones(int... shape) {
        return defaults().ones(DType.FLOAT32, shape);
    }

    public static Tensor ones(DType dtype, int... shape) {
        return defaults().ones(dtype, shape);
    }

    public static Tensor full(double value, DType dtype, int... shape) {
        return defaults().full(value, dtype, shape);
    }

    public static Tensor scalar(double value, DType dtype) {
        return defaults().scalar(value, dtype);
    }

    /** A FLOAT64 tensor holding {@code data} (row-major) with the given shape. */
    public static Tensor fromArray(double[] data, int... shape) {
        return defaults().fromArray(data, shape);
    }

    /** A FLOAT32 tensor holding {@code data} (row-major) with the given shape. */
    public static Tensor fromArray(float[] data, int... shape) {
        return defaults().fromArray(data, shape);
    }

    /** An INT64 (index) tensor holding {@code data} (row-major) with the given shape. */
    public static Tensor fromArray(long[] data, int... shape) {
        return defaults().fromArray(data, shape);
    }

    /** An INT32 tensor holding {@code data} (row-major) with the given shape. */
    public static Tensor fromArray(int[] data, int... shape) {
        return defaults().fromArray(data, shape);
    }

    /** A BOOL tensor holding {@code data} (row-major) with the given shape. */
    public static Tensor fromArray(boolean[] data, int... shape) {
        return defaults().fromArray(data, shape);
    }

    /** INT64 {@code [0, 1, ..., end-1]}. */
    public static Tensor arange(long end) {
        return defaults().arange(end);
    }

    /** {@code [start, start+step, ...)} below {@code end}, in {@code dtype}. */
    public static Tensor arange(double start, double end, double step, DType dtype) {
        return defaults().arange(start, end, step, dtype);
    }

    /** Uniform in [0, 1). */
    public static Tensor rand(Generator generator, DType dtype, int... shape) {
        return defaults().rand(generator, dtype, shape);
    }

    /** Standard normal. */
    public static Tensor randn(Generator generator, DType dtype, int... shape) {
        return defaults().randn(generator, dtype, shape);
    }

    /** INT64 integers uniform in {@code [low, high)}. */
    public static Tensor randint(long low, long high, Generator generator, int... shape) {
        return defaults().randint(low, high, generator, shape);
    }

    /** The FLOAT32 {@code n x n} identity. */
    public static Tensor eye(int n) {
        return defaults().eye(n, n, DType.FLOAT32);
    }

    /** {@code n x m}, ones on the diagonal. */
    public static Tensor eye(int n, int m, DType dtype) {
        return defaults().eye(n, m, dtype);
    }

    /** {@code steps} evenly spaced values from {@code start} to {@code end}, both included, as torch.linspace. */
    public static Tensor linspace(double start, double end, int steps, DType dtype) {
        return defaults().linspace(start, end, steps, dtype);
    }

    /** A backend's storage as a tensor with no autograd history (op plumbing: {@link TensorInternals}). */
    static Tensor fromStorage(Storage storage, Layout layout, Backend backend) {
        return new Tensor(storage, layout, backend, new int[1]);
    }

    /**
     * The number of in-place writes to this tensor's storage through it or any view of it
     * ({@code add_}, {@code copyFrom}, ...), as torch's {@code _version}.
     */
    public int version() {
        return version[0];
    }


    public Tensor zerosLike() {
        return on(backend).zeros(dtype(), shape().toArray());
    }

    public Tensor onesLike() {
        return on(backend).ones(dtype(), shape().toArray());
    }

    public Tensor fullLike(double value) {
        return on(backend).full(value, dtype(), shape().toArray());
    }

    // ---- metadata ------------------------------------------------------------------------------

    public Shape shape() {
        return layout.shape();
    }

    /** Size of dimension {@code dim} (negative counts from the end). */
    public int size(int dim) {
        return layout.shape().dim(dim);
    }

    public int rank() {
        return layout.rank();
    }

    public int numel() {
        return layout.numel();
    }

    public DType dtype() {
        return storage.dtype();
    }

    public Backend backend() {
        return backend;
    }

    public Storage storage() {
        if (storage instanceof ScopedStorage scoped && scoped.isReleased()) {
            throw new ReleasedTensorException("a " + dtype() + " tensor of shape " + shape() + " was used after the"
                    + " MemoryScope it was allocated in closed; keep a result with scope.keep(tensor), and mark state"
                    + " that lives across steps with tensor.backend().markLongLived(tensor.storage())");
        }
        return storage;
    }

    public Layout layout() {
        return layout;
    }

    public boolean isContiguous() {
        return layout.isContiguous();
    }

    // ---- reading values ---------------------------------------------------------------------------

    /** The value of a one-element tensor. */
    public double item() {
        if (numel() != 1) {
            throw new TensorShapeException("item: only one-element tensors can be converted to a scalar, got shape "
                    + shape());
        }
        return backend.toDoubles(storage(), layout)[0];
    }

    /** The elements in row-major order, as doubles. */
    public double[] toDoubleArray() {
        return backend.toDoubles(storage(), layout);
    }

    /** The elements in row-major order, as floats. */
    public float[] toFloatArray() {
        return backend.toFloats(storage(), layout);
    }

    /** The elements in row-major order, as longs (exact for integer and BOOL tensors; floating values truncate toward zero). */
    public long[] toLongArray() {
        return backend.toLongs(storage(), layout);
    }

    /** The elements in row-major order, as ints (INT64 values wrap to their low 32 bits; floating values truncate). */
    public int[] toIntArray() {
        long[] values = toLongArray();
        int[] out = new int[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = (int) values[i];
        }
        return out;
    }

    /** The elements in row-major order, each true where it is non-zero (NaN too), as a BOOL tensor holds them. */
    public boolean[] toBooleanArray() {
        long[] values = (dtype().isFloatingPoint() ? toType(DType.BOOL) : this).toLongArray();
        boolean[] out = new boolean[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = values[i] != 0;
        }
        return out;
    }

    /**
     * The same values, dtype and shape on another backend ({@code this} itself when it is this
     * backend). Differentiable, as PyTorch's {@code .to(device)}: the copy's gradient flows back to
     * this tensor, moved to this tensor's backend.
     */
    public Tensor to(Backend target) {
        if (target == backend) {
            return this;
        }
        TensorFactory there = on(target);
        int[] dims = shape().toArray();
        Tensor copy = switch (dtype()) {
            case FLOAT32 -> there.fromArray(toFloatArray(), dims);
            case FLOAT64 -> there.fromArray(toDoubleArray(), dims);
            case INT64 -> there.fromArray(toLongArray(), dims);
            case INT32 -> there.fromArray(toIntArray(), dims);
            case BOOL -> there.fromArray(toBooleanArray(), dims);
        };
        Backend source = backend;
        return Graph.record("ToCopyBackward", copy, new Tensor[] {this}, new Tensor[0],
                (g, c) -> new Tensor[] {g.to(source)}, (t, in, y) -> t[0].to(target));
    }

    /**
     * Overwrites this tensor's elements with {@code source}'s (same shape; converted to this dtype), in
     * place, and returns this. For parameter updates in optimizers: it must run where no graph is being
     * recorded for this tensor (inside {@link #noGrad()}, or on a tensor that does not require grad).
     * Any tensor sharing this storage (views, {@code detach()}) sees the new values.
     */
    public Tensor copyFrom(Tensor source) {
        ShapeOps.copyInto(this, source);
        return this;
    }

    // ---- in place ----------------------------------------------------------------------------------
    // PyTorch's trailing-underscore ops: the result overwrites this tensor's storage (any view or
    // detach() of it sees it) and this tensor is returned, so calls chain as in
    // buf.mul_(momentum).add_(grad). The tape does not record them: like copyFrom they must run where
    // no graph is recorded for this tensor, and the other operand broadcasts to this tensor's shape.

    /** {@code this += other}. */
    public Tensor add_(Tensor other) { return InPlaceOps.apply("add_", BinaryOp.ADD, this, other); }
    /** {@code this += alpha * other} (torch's {@code add_(other, alpha=...)}). */
    public Tensor add_(Tensor other, double alpha) {
        return InPlaceOps.addScaled("add_", this, other, alpha);
    }
    public Tensor add_(double other) { return InPlaceOps.apply("add_", BinaryOp.ADD, this, scalarLike(other)); }
    /** {@code this -= other}. */
    public Tensor sub_(Tensor other) { return InPlaceOps.apply("sub_", BinaryOp.SUB, this, other); }
    /** {@code this -= alpha * other}. */
    public Tensor sub_(Tensor other, double alpha) {
        return InPlaceOps.addScaled("sub_", this, other, -alpha);
    }
    public Tensor sub_(double other) { return InPlaceOps.apply("sub_", BinaryOp.SUB, this, scalarLike(other)); }
    /** {@code this *= other}. */
    public Tensor mul_(Tensor other) { return InPlaceOps.apply("mul_", BinaryOp.MUL, this, other); }
    public Tensor mul_(double other) { return InPlaceOps.apply("mul_", BinaryOp.MUL, this, scalarLike(other)); }
    /** {@code this /= other}. */
    public Tensor div_(Tensor other) { return InPlaceOps.apply("div_", BinaryOp.DIV, this, other); }
    public Tensor div_(double other) { return InPlaceOps.apply("div_", BinaryOp.DIV, this, scalarLike(other)); }
    /** Every element set to {@code value}. */
    public Tensor fill_(double value) { return InPlaceOps.fill(this, value); }
    /** Every element set to 0. */
    public Tensor zero_() { return InPlaceOps.fill(this, 0); }

    /**
     * The same values in another dtype (this tensor itself if it has it); differentiable between
     * floating types. As PyTorch converts: floating to integer truncates toward zero, anything to BOOL
     * is whether it is non-zero (NaN too), BOOL to numbers is 0 and 1; integer conversions are exact
     * (INT64 to INT32 keeps the low 32 bits).
     */
    public Tensor toType(DType target) {
        return ShapeOps.toType(this, target);
    }

    /** torch's {@code .to(dtype)}: {@link #toType(DType)}. */
    public Tensor to(DType target) {
        return ShapeOps.toType(this, target);
    }

    // ---- autograd -----------------------------------------------------------------------------------

    public boolean requiresGrad() {
        return requiresGrad;
    }

    /** Marks a leaf tensor as one whose gradient {@link #backward()} should compute. Returns this. */
    public Tensor requiresGrad(boolean requires) {
        if (gradFn != null) {
            throw new IllegalStateException("requiresGrad: only leaf tensors can change requiresGrad; this tensor "
                    + "was computed by " + gradFn.name() + " (use detach() to get a leaf)");
        }
        if (requires && !dtype().isFloatingPoint()) {
            throw new DTypeMismatchException("requiresGrad: only FLOAT32 and FLOAT64 tensors can require gradients, "
                    + "got a " + dtype() + " tensor of shape " + shape() + " (" + dtype()
                    + " tensors are never differentiable; convert with toType(DType.FLOAT32) first)");
        }
        this.requiresGrad = requires;
        return this;
    }

    /** The accumulated gradient of a leaf, or {@code null} before any backward reached it. */
    public Tensor grad() {
        return grad;
    }

    /**
     * Replaces the stored gradient ({@code null} clears it). The gradient must have this tensor's shape,
     * dtype and backend, as PyTorch checks when {@code .grad} is assigned: a mismatch accepted here would
     * surface only in the next backward, as a failure of an op the user never called.
     */
    public void setGrad(Tensor newGrad) {
        if (newGrad != null) {
            checkGradFits(newGrad);
        }
        this.grad = newGrad;
        this.gradFromBackward = false;
    }

    private void checkGradFits(Tensor newGrad) {
        String both = " (the gradient is " + newGrad.dtype() + " of shape " + newGrad.shape() + " on backend '"
                + newGrad.backend().name() + "', the tensor " + dtype() + " of shape " + shape() + " on backend '"
                + backend.name() + "')";
        if (newGrad.dtype() != dtype()) {
            throw new DTypeMismatchException("setGrad: a gradient must have the tensor's dtype" + both
                    + "; convert it with toType(DType." + dtype() + ")");
        }
        if (!newGrad.shape().equals(shape())) {
            throw new TensorShapeException("setGrad: a gradient must have the tensor's shape" + both);
        }
        if (newGrad.backend() != backend) {
            throw new BackendMismatchException("setGrad: a gradient must be on the tensor's backend" + both
                    + "; move it with to(tensor.backend())");
        }
    }

    /**
     * Clears the gradient, as {@code tensor.grad = None} in PyTorch. Inside a {@link MemoryScope}, a
     * gradient that a backward pass stored goes back to the scope, which releases it when it closes (as
     * {@code set_to_none} returns it to PyTorch's allocator): the next step's gradient of the same size
     * reuses its memory instead of a fresh zero-filled array. A reference to the cleared gradient kept
     * past that scope then fails on its next use ({@link ReleasedTensorException}).
     * {@link #zeroGrad(boolean) zeroGrad(false)} zeroes it instead.
     */
    public void zeroGrad() {
        if (grad != null && gradFromBackward && grad.storage instanceof ScopedStorage scoped) {
            MemoryScope.reclaim(scoped);
        }
        this.grad = null;
        this.gradFromBackward = false;
    }

    /**
     * With {@code setToNone} true, {@link #zeroGrad()}. With false, PyTorch 1.13's default
     * {@code zero_grad()}: an existing gradient is detached from any graph recorded for it
     * ({@code createGraph}) and filled with zeros in place, so every reference to it reads zeros and it
     * stays a gradient of zeros until a backward pass adds to it; no gradient stays no gradient. An
     * optimizer treats a zero gradient as any other, so momentum and weight decay still move a
     * parameter that the next backward pass does not reach, where a cleared gradient skips it.
     */
    public void zeroGrad(boolean setToNone) {
        if (setToNone) {
            zeroGrad();
            return;
        }
        if (grad == null) {
            return;
        }
        if (grad.gradFn != null) {
            // PyTorch's grad.detach_(): the zeroed gradient must not keep the graph of the last backward.
            grad = grad.detach();
        } else if (grad.requiresGrad) {
            grad.requiresGrad = false;
        }
        try (var scope = noGrad()) {
            grad.zero_();
        }
    }

    /** The node that computed this tensor, or {@code null} for leaves. */
    public Node gradFn() {
        return gradFn;
    }

    public boolean isLeaf() {
        return gradFn == null;
    }

    /** A tensor sharing this one's data with no history and no gradient requirement. */
    public Tensor detach() {
        return new Tensor(storage, layout, backend, version);
    }

    /** Backward from a one-element tensor. */
    public void backward() {
        Autograd.backward(this, null, false, false);
    }

    /** Backward with an explicit gradient of this tensor's shape. */
    public void backward(Tensor gradient) {
        Autograd.backward(this, gradient, false, false);
    }

    /**
     * Backward with full control. {@code retainGraph} keeps saved tensors for another backward;
     * {@code createGraph} records the backward pass so gradients can be differentiated again.
     */
    public void backward(Tensor gradient, boolean retainGraph, boolean createGraph) {
        Autograd.backward(this, gradient, retainGraph || createGraph, createGraph);
    }

    /**
     * Registers a hook called with this tensor's gradient during backward, before it is used or
     * accumulated; it may return a replacement (same shape) or {@code null} to keep the gradient.
     * {@link RemovableHandle#remove()} on the returned handle unregisters it.
     */
    public RemovableHandle registerHook(UnaryOperator<Tensor> hook) {
        if (!requiresGrad) {
            throw new IllegalStateException("registerHook: cannot register a hook on a tensor that does not require grad");
        }
        return gradEdge().registerHook(outputSlot, hook);
    }

    /**
     * Makes a non-leaf tensor keep its gradient in {@link #grad()}, accumulated over backward passes as
     * a leaf's is (a copy of the first gradient, then sums; recorded under createGraph). The gradient is
     * the one hooks registered before this call have produced, as in PyTorch 1.13. A leaf keeps its
     * gradient anyway, and a second call changes nothing.
     */
    public void retainGrad() {
        if (!requiresGrad) {
            throw new IllegalStateException("retainGrad: the tensor of shape " + shape()
                    + " does not require grad, so no gradient reaches it; call it on a tensor computed from one "
                    + "that requires grad");
        }
        if (isLeaf() || retainsGrad) {
            return;
        }
        retainsGrad = true;
        registerHook(g -> {
            // A copy of its own at first: the gradient the pass hands on may become (a view of) a leaf's
            // grad or another retained one, and an in-place update of that one must not change this.
            // The pass runs hooks in grad mode exactly when it is recorded.
            setGrad(GradAccumulation.accumulated(grad, g, GradMode.isEnabled(), true));
            return null;
        });
    }

    /** {@code try (var scope = Tensor.noGrad()) { ... }}: no graph is recorded on this thread inside. */
    public static GradMode.Scope noGrad() {
        return GradMode.disable();
    }

    /** Re-enables recording inside a {@link #noGrad()} scope. */
    public static GradMode.Scope enableGrad() {
        return GradMode.enable();
    }

    /** The node gradients of this tensor flow into: its gradFn, or for a leaf its accumulator. */
    private Node gradEdge() {
        if (gradFn != null) {
            return gradFn;
        }
        if (!requiresGrad) {
            return null;
        }
        AccumulateGrad accumulator = gradAccumulator;
        if (accumulator == null) {
            // One accumulator per leaf even when threads build graphs from it at once: it is the lock
            // that keeps their backward passes from losing each other's additions.
            synchronized (this) {
                accumulator = gradAccumulator;
                if (accumulator == null) {
                    accumulator = new AccumulateGrad(this);
                    gradAccumulator = accumulator;
                }
            }
        }
        return accumulator;
    }

    // ---- elementwise ---------------------------------------------------------------------------------

    public Tensor neg() { return ElementwiseOps.unary(UnaryOp.NEG, this); }
    public Tensor exp() { return ElementwiseOps.unary(UnaryOp.EXP, this); }
    public Tensor log() { return ElementwiseOps.unary(UnaryOp.LOG, this); }
    public Tensor log1p() { return ElementwiseOps.unary(UnaryOp.LOG1P, this); }
    public Tensor sqrt() { return ElementwiseOps.unary(UnaryOp.SQRT, this); }
    public Tensor square() { return ElementwiseOps.unary(UnaryOp.SQUARE, this); }
    public Tensor abs() { return ElementwiseOps.unary(UnaryOp.ABS, this); }
    public Tensor sign() { return ElementwiseOps.unary(UnaryOp.SIGN, this); }
    public Tensor sin() { return ElementwiseOps.unary(UnaryOp.SIN, this); }
    public Tensor cos() { return ElementwiseOps.unary(UnaryOp.COS, this); }
    public Tensor tanh() { return ElementwiseOps.unary(UnaryOp.TANH, this); }
    public Tensor sigmoid() { return ElementwiseOps.unary(UnaryOp.SIGMOID, this); }
    public Tensor relu() { return ElementwiseOps.unary(UnaryOp.RELU, this); }
    /** The Gauss error function (exact GELU is {@code x * (1 + erf(x / sqrt 2)) / 2}). */
    public Tensor erf() { return ElementwiseOps.unary(UnaryOp.ERF, this); }
    /** {@code e^x - 1}, accurate near 0 where {@code exp().sub(1)} cancels. */
    public Tensor expm1() { return ElementwiseOps.unary(UnaryOp.EXPM1, this); }
    public Tensor tan() { return ElementwiseOps.unary(UnaryOp.TAN, this); }
    public Tensor asin() { return ElementwiseOps.unary(UnaryOp.ASIN, this); }
    public Tensor acos() { return ElementwiseOps.unary(UnaryOp.ACOS, this); }
    public Tensor atan() { return ElementwiseOps.unary(UnaryOp.ATAN, this); }
    public Tensor sinh() { return ElementwiseOps.unary(UnaryOp.SINH, this); }
    public Tensor cosh() { return ElementwiseOps.unary(UnaryOp.COSH, this); }
    public Tensor asinh() { return ElementwiseOps.unary(UnaryOp.ASINH, this); }
    /** NaN below 1. */
    public Tensor acosh() { return ElementwiseOps.unary(UnaryOp.ACOSH, this); }
    /** NaN beyond [-1, 1], infinite at +-1. */
    public Tensor atanh() { return ElementwiseOps.unary(UnaryOp.ATANH, this); }
    /** Rounds down; its gradient is zero, as torch.floor's. */
    public Tensor floor() { return ElementwiseOps.unary(UnaryOp.FLOOR, this); }
    public Tensor ceil() { return ElementwiseOps.unary(UnaryOp.CEIL, this); }
    /** Rounds to the nearest integer, halves to even as torch.round: 0.5 to 0, 1.5 to 2, -2.5 to -2. */
    public Tensor round() { return ElementwiseOps.unary(UnaryOp.ROUND, this); }
    /** Rounds toward zero. */
    public Tensor trunc() { return ElementwiseOps.unary(UnaryOp.TRUNC, this); }
    public Tensor pow(double exponent) { return ElementwiseOps.pow(this, exponent); }
    /** Elementwise {@code this^exponent}, broadcasting; differentiable in both. */
    public Tensor pow(Tensor exponent) { return ElementwiseOps.binary(BinaryOp.POW, this, exponent); }
    public Tensor clamp(double min, double max) { return ElementwiseOps.clamp(this, min, max); }

    // Scalar operands follow torch's rule for Python numbers: a number never raises a tensor's dtype
    // within its category. A long keeps an integer tensor's dtype (a BOOL tensor becomes INT64); a
    // double keeps a floating tensor's dtype and makes an integer or BOOL one FLOAT32. Java picks the
    // long overload for int and long arguments: intTensor.add(2) is INT32, intTensor.add(2.0) FLOAT32.

    public Tensor add(Tensor other) { return ElementwiseOps.binary(BinaryOp.ADD, this, other); }
    public Tensor add(double other) { return ElementwiseOps.binary(BinaryOp.ADD, this, scalarFor("add", other)); }
    public Tensor add(long other) { return ElementwiseOps.binary(BinaryOp.ADD, this, scalarFor("add", other)); }
    public Tensor sub(Tensor other) { return ElementwiseOps.binary(BinaryOp.SUB, this, other); }
    public Tensor sub(double other) { return ElementwiseOps.binary(BinaryOp.SUB, this, scalarFor("sub", other)); }
    public Tensor sub(long other) { return ElementwiseOps.binary(BinaryOp.SUB, this, scalarFor("sub", other)); }
    public Tensor mul(Tensor other) { return ElementwiseOps.binary(BinaryOp.MUL, this, other); }
    public Tensor mul(double other) { return ElementwiseOps.binary(BinaryOp.MUL, this, scalarFor("mul", other)); }
    public Tensor mul(long other) { return ElementwiseOps.binary(BinaryOp.MUL, this, scalarFor("mul", other)); }
    /** True division: integer and BOOL operands give FLOAT32, as torch.div. */
    public Tensor div(Tensor other) { return ElementwiseOps.binary(BinaryOp.DIV, this, other); }
    public Tensor div(double other) { return ElementwiseOps.binary(BinaryOp.DIV, this, scalarFor("div", other)); }
    public Tensor div(long other) { return ElementwiseOps.binary(BinaryOp.DIV, this, scalarFor("div", other)); }
    /**
     * torch.div with {@code rounding_mode}: {@code null} is true division, {@code "trunc"} rounds the
     * quotient toward zero and {@code "floor"} toward -inf; the rounded forms keep integer dtypes
     * (exact; a zero integer divisor fails) and have a zero gradient.
     */
    public Tensor div(Tensor other, String roundingMode) { return ElementwiseOps.binary(roundedDivision(roundingMode), this, other); }
    public Tensor div(long other, String roundingMode) {
        return ElementwiseOps.binary(roundedDivision(roundingMode), this, scalarFor("div", other));
    }
    public Tensor div(double other, String roundingMode) {
        return ElementwiseOps.binary(roundedDivision(roundingMode), this, scalarFor("div", other));
    }
    /** {@code this // other}, rounded toward -inf (Python's //), as torch.floor_divide; integers stay integers. */
    public Tensor floorDivide(Tensor other) { return ElementwiseOps.binary(BinaryOp.FLOOR_DIVIDE, this, other); }
    public Tensor floorDivide(long other) { return ElementwiseOps.binary(BinaryOp.FLOOR_DIVIDE, this, scalarFor("floorDivide", other)); }
    public Tensor floorDivide(double other) { return ElementwiseOps.binary(BinaryOp.FLOOR_DIVIDE, this, scalarFor("floorDivide", other)); }
    public Tensor maximum(Tensor other) { return ElementwiseOps.binary(BinaryOp.MAX, this, other); }
    public Tensor maximum(double other) { return ElementwiseOps.binary(BinaryOp.MAX, this, scalarFor("maximum", other)); }
    public Tensor minimum(Tensor other) { return ElementwiseOps.binary(BinaryOp.MIN, this, other); }
    public Tensor minimum(double other) { return ElementwiseOps.binary(BinaryOp.MIN, this, scalarFor("minimum", other)); }
    /** The angle of the point {@code (other, this)} in (-pi, pi], elementwise: torch.atan2(this, other). */
    public Tensor atan2(Tensor other) { return ElementwiseOps.binary(BinaryOp.ATAN2, this, other); }
    /**
     * {@code this mod other} with the sign of {@code other} (Python's %), as torch.remainder; NaN where
     * a floating {@code other} is 0. Integers stay integers, exactly; a zero integer divisor fails.
     */
    public Tensor remainder(Tensor other) { return ElementwiseOps.binary(BinaryOp.REMAINDER, this, other); }
    public Tensor remainder(double other) { return ElementwiseOps.binary(BinaryOp.REMAINDER, this, scalarFor("remainder", other)); }
    public Tensor remainder(long other) { return ElementwiseOps.binary(BinaryOp.REMAINDER, this, scalarFor("remainder", other)); }

    /**
     * A BOOL tensor, true where {@code this > other}; never requires grad. Operands of different dtypes
     * are compared in their promoted dtype (integers exactly, as longs): {@code logits.argmax(1,
     * false).eq(labels)} is a BOOL mask that {@code sum()} counts (INT64) and
     * {@code toType(DType.FLOAT32).mean()} turns into a fraction.
     */
    public Tensor gt(Tensor other) { return ElementwiseOps.binary(BinaryOp.GT, this, other); }
    /** An integer tensor compares with a number that is not a whole long (0.5, NaN, inf) exactly, as real numbers. */
    public Tensor gt(double other) { return compareWith(BinaryOp.GT, other); }
    /** An integer tensor compares with a long exactly. */
    public Tensor gt(long other) { return compareWith(BinaryOp.GT, other); }
    public Tensor lt(Tensor other) { return ElementwiseOps.binary(BinaryOp.LT, this, other); }
    public Tensor lt(double other) { return compareWith(BinaryOp.LT, other); }
    public Tensor lt(long other) { return compareWith(BinaryOp.LT, other); }
    public Tensor ge(Tensor other) { return ElementwiseOps.binary(BinaryOp.GE, this, other); }
    public Tensor ge(double other) { return compareWith(BinaryOp.GE, other); }
    public Tensor ge(long other) { return compareWith(BinaryOp.GE, other); }
    public Tensor le(Tensor other) { return ElementwiseOps.binary(BinaryOp.LE, this, other); }
    public Tensor le(double other) { return compareWith(BinaryOp.LE, other); }
    public Tensor le(long other) { return compareWith(BinaryOp.LE, other); }
    public Tensor eq(Tensor other) { return ElementwiseOps.binary(BinaryOp.EQ, this, other); }
    public Tensor eq(double other) { return compareWith(BinaryOp.EQ, other); }
    public Tensor eq(long other) { return compareWith(BinaryOp.EQ, other); }
    /** True where {@code this != other}; NaN differs from everything, itself included ({@code x.ne(x)} finds NaNs). */
    public Tensor ne(Tensor other) { return ElementwiseOps.binary(BinaryOp.NE, this, other); }
    public Tensor ne(double other) { return compareWith(BinaryOp.NE, other); }
    public Tensor ne(long other) { return compareWith(BinaryOp.NE, other); }

    /** torch.logical_and: BOOL, true where both are non-zero (any dtypes). */
    public Tensor logicalAnd(Tensor other) { return ElementwiseOps.logical("logicalAnd", BinaryOp.MIN, this, other); }
    /** torch.logical_or: BOOL, true where either is non-zero. */
    public Tensor logicalOr(Tensor other) { return ElementwiseOps.logical("logicalOr", BinaryOp.MAX, this, other); }
    /** torch.logical_xor: BOOL, true where exactly one is non-zero. */
    public Tensor logicalXor(Tensor other) { return ElementwiseOps.logical("logicalXor", BinaryOp.NE, this, other); }
    /** torch.logical_not: BOOL, true where this is zero. */
    public Tensor logicalNot() { return ElementwiseOps.logicalNot(this); }

    /**
     * 1 with probability {@code p} (this tensor's elements, each in [0, 1]), else 0, in this dtype: one
     * uniform draw per element from {@code generator}, in row-major order. No gradient.
     */
    public Tensor bernoulli(Generator generator) { return Sampling.bernoulli(this, generator); }
    /**
     * INT64 indices drawn from the categories of this tensor's last dim, weighted by its elements
     * (non-negative, not necessarily summing to 1): {@code [numSamples]} for a vector, {@code [rows,
     * numSamples]} for a matrix. Without {@code replacement}, a category drawn is not drawn again.
     */
    public Tensor multinomial(int numSamples, boolean replacement, Generator generator) {
        return Sampling.multinomial(this, numSamples, replacement, generator);
    }

    /**
     * Elementwise {@code mask ? a : b}, broadcasting all three; {@code a} and {@code b} are promoted as
     * in arithmetic. The mask is BOOL (a comparison's result); one of another dtype counts its non-zero
     * elements as true.
     */
    public static Tensor where(Tensor mask, Tensor a, Tensor b) { return ElementwiseOps.where(mask, a, b); }

    // ---- reductions ------------------------------------------------------------------------------------

    /** Sum of all elements (0-d). */
    public Tensor sum() { return ReductionOps.sum(this, allDims(), false); }
    public Tensor sum(int dim, boolean keepDim) { return ReductionOps.sum(this, new int[] {dim}, keepDim); }
    /**
     * The sum over {@code dims}. An empty {@code dims} sums every dim, as torch.sum(x, ()) in PyTorch
     * 1.13; so do mean, amax, amin, var, std, norm and logSumExp with an empty list.
     */
    public Tensor sum(int[] dims, boolean keepDim) { return ReductionOps.sum(this, dims, keepDim); }
    public Tensor mean() { return ReductionOps.mean(this, allDims(), false); }
    public Tensor mean(int dim, boolean keepDim) { return ReductionOps.mean(this, new int[] {dim}, keepDim); }
    public Tensor mean(int[] dims, boolean keepDim) { return ReductionOps.mean(this, dims, keepDim); }
    public Tensor amax() { return ReductionOps.amax(this, allDims(), false); }
    public Tensor amax(int dim, boolean keepDim) { return ReductionOps.amax(this, new int[] {dim}, keepDim); }
    public Tensor amax(int[] dims, boolean keepDim) { return ReductionOps.amax(this, dims, keepDim); }
    public Tensor amin() { return ReductionOps.amin(this, allDims(), false); }
    /** The INT64 index of the largest element along {@code dim} (the first one on ties; NaN is largest). */
    public Tensor argmax(int dim, boolean keepDim) { return ReductionOps.argExtremum("argmax", this, dim, keepDim, true); }
    /** The INT64 index of the largest element of the flattened tensor, as a 0-d tensor. */
    public Tensor argmax() { return ReductionOps.argExtremumFlat("argmax", this, true); }
    /** The INT64 index of the smallest element along {@code dim} (the first one on ties; NaN is smallest). */
    public Tensor argmin(int dim, boolean keepDim) { return ReductionOps.argExtremum("argmin", this, dim, keepDim, false); }
    /** The INT64 index of the smallest element of the flattened tensor, as a 0-d tensor. */
    public Tensor argmin() { return ReductionOps.argExtremumFlat("argmin", this, false); }

    public Tensor amin(int dim, boolean keepDim) { return ReductionOps.amin(this, new int[] {dim}, keepDim); }
    /** The largest element (0-d); tied maxima share the gradient, as torch.max(x) and amax. */
    /** The largest element, as torch.max(x): amax's value; a NaN result sends the gradient to the NaNs. */
    public Tensor max() { return ReductionOps.extremumOfAll(this, true); }
    public Tensor min() { return ReductionOps.extremumOfAll(this, false); }
    /**
     * torch.max(x, dim): the largest element along {@code dim} (NaN counts as largest; the first on ties)
     * and its INT64 index. The gradient goes to that one element, as PyTorch's.
     */
    public ValuesAndIndices max(int dim, boolean keepDim) { return SortOps.extremum("max", this, dim, keepDim, true); }
    public ValuesAndIndices min(int dim, boolean keepDim) { return SortOps.extremum("min", this, dim, keepDim, false); }
    /** The unbiased variance of all elements (0-d). */
    public Tensor var() { return ReductionOps.var(this, allDims(), 1, false); }
    /** The unbiased variance along {@code dim}. */
    public Tensor var(int dim, boolean keepDim) { return ReductionOps.var(this, new int[] {dim}, 1, keepDim); }
    /**
     * The variance over {@code dims}: squared deviations from the mean summed and divided by
     * {@code N - correction} (1 unbiased, 0 the population variance), as torch.var.
     */
    public Tensor var(int[] dims, int correction, boolean keepDim) { return ReductionOps.var(this, dims, correction, keepDim); }
    public Tensor std() { return ReductionOps.std(this, allDims(), 1, false); }
    public Tensor std(int dim, boolean keepDim) { return ReductionOps.std(this, new int[] {dim}, 1, keepDim); }
    /** The square root of {@link #var(int[], int, boolean)}. */
    public Tensor std(int[] dims, int correction, boolean keepDim) { return ReductionOps.std(this, dims, correction, keepDim); }
    /** The Euclidean norm of all elements (0-d); its gradient at a zero tensor is 0, as PyTorch's. */
    public Tensor norm() { return ReductionOps.norm(this, 2, allDims(), false); }
    /** The p-norm of all elements: {@code (sum |x|^p)^(1/p)}; p may be infinite (max or min of |x|) or 0 (a count). */
    public Tensor norm(double p) { return ReductionOps.norm(this, p, allDims(), false); }
    public Tensor norm(double p, int dim, boolean keepDim) { return ReductionOps.norm(this, p, new int[] {dim}, keepDim); }
    /** The p-norm over {@code dims}, as torch.norm(x, p, dim, keepdim) and torch.linalg.vector_norm. */
    public Tensor norm(double p, int[] dims, boolean keepDim) { return ReductionOps.norm(this, p, dims, keepDim); }
    /** The product of all elements (0-d); 1 for an empty tensor. */
    public Tensor prod() { return CumulativeOps.prod(this); }
    public Tensor prod(int dim, boolean keepDim) { return CumulativeOps.prod(this, dim, keepDim); }
    /** Running sums along {@code dim}. */
    public Tensor cumsum(int dim) { return CumulativeOps.cumsum(this, dim); }
    /** Running products along {@code dim}; the gradient is exact where elements are 0, as PyTorch's. */
    public Tensor cumprod(int dim) { return CumulativeOps.cumprod(this, dim); }
    /** Sorted along the last dimension, ascending. */
    public ValuesAndIndices sort() { return SortOps.sort(this, -1, false); }
    /**
     * Sorted along {@code dim}, stably (equal elements keep their order); NaN sorts above every number.
     * The values' gradient goes back to the elements they came from.
     */
    public ValuesAndIndices sort(int dim, boolean descending) { return SortOps.sort(this, dim, descending); }
    /** The INT64 positions that sort this tensor along {@code dim}: {@code sort(dim, descending).indices()}. */
    public Tensor argsort(int dim, boolean descending) { return SortOps.sort(this, dim, descending).indices(); }
    /** The {@code k} largest elements along the last dimension, largest first, and their indices. */
    public ValuesAndIndices topk(int k) { return SortOps.topk(this, k, -1, true); }
    /** The {@code k} largest (or, not {@code largest}, smallest) elements along {@code dim}, in sorted order. */
    public ValuesAndIndices topk(int k, int dim, boolean largest) { return SortOps.topk(this, k, dim, largest); }
    public Tensor amin(int[] dims, boolean keepDim) { return ReductionOps.amin(this, dims, keepDim); }
    public Tensor logSumExp(int dim, boolean keepDim) { return ReductionOps.logSumExp(this, new int[] {dim}, keepDim); }
    public Tensor logSumExp(int[] dims, boolean keepDim) { return ReductionOps.logSumExp(this, dims, keepDim); }
    public Tensor softmax(int dim) { return NormalizationOps.softmax(this, dim); }
    public Tensor logSoftmax(int dim) { return NormalizationOps.logSoftmax(this, dim); }

    // ---- linear algebra --------------------------------------------------------------------------------

    /** torch.matmul: dot, matrix-vector, matrix-matrix, and batched with broadcast batch dims. */
    public Tensor matmul(Tensor other) { return LinalgOps.matmul(this, other); }
    /** The outer product of two vectors: {@code [n] x [m] -> [n, m]}. */
    public Tensor outer(Tensor other) { return LinalgOps.outer(this, other); }

    // ---- shape -----------------------------------------------------------------------------------------

    /**
     * torch.reshape: the same elements, in row-major order, in a new shape; one dimension may be -1. A view
     * sharing this tensor's storage (writes through either show in the other) whenever the strides allow
     * it, as {@link #view} finds; otherwise a copy.
     */
    public Tensor reshape(int... shape) { return ShapeOps.reshape(this, shape); }
    /**
     * torch.Tensor.view: {@link #reshape} that always aliases this tensor's storage, and throws a
     * {@link TensorShapeException} where that is impossible. Possible when every run of dims being merged
     * or split is one strided run in memory (each dim's stride its inner neighbour's times that
     * neighbour's size): always for a contiguous tensor; for any split of one dim; for merges of dims that a
     * transpose or permute left adjacent and in order, or of the leading dims of a narrow of the last.
     */
    public Tensor view(int... shape) { return ShapeOps.view(this, shape); }
    public Tensor transpose(int dim0, int dim1) { return ShapeOps.transpose(this, dim0, dim1); }
    public Tensor permute(int... dims) { return ShapeOps.permute(this, dims); }
    /** Removes every size-1 dimension. */
    public Tensor squeeze() { return ShapeOps.squeeze(this); }
    public Tensor squeeze(int dim) { return ShapeOps.squeeze(this, dim); }
    public Tensor unsqueeze(int dim) { return ShapeOps.unsqueeze(this, dim); }
    /** Broadcasts to a larger shape without copying; -1 keeps a dimension. */
    public Tensor expand(int... shape) { return ShapeOps.expand(this, shape); }
    public Tensor narrow(int dim, int start, int length) { return ShapeOps.narrow(this, dim, start, length); }
    public Tensor contiguous() { return ShapeOps.contiguous(this); }
    /** torch.clone: a differentiable copy in fresh contiguous storage, even when this tensor is contiguous. */
    @Override
    public Tensor clone() { return ShapeOps.copy(this); }
    public Tensor indexSelect(int dim, Tensor index) { return ShapeOps.indexSelect(this, dim, index); }
    public Tensor gather(int dim, Tensor index) { return ShapeOps.gather(this, dim, index); }
    /** Out-of-place torch.scatter_add: this tensor plus {@code src} added at {@code index} along {@code dim}. */
    public Tensor scatterAdd(int dim, Tensor index, Tensor src) { return ShapeOps.scatterAdd(this, dim, index, src); }
    /** The elements in reverse order along each of {@code dims} (a copy, as torch.flip). */
    public Tensor flip(int... dims) { return RearrangeOps.flip(this, dims); }
    /** The flattened elements shifted by {@code shift}, wrapping around, in this tensor's shape. */
    public Tensor roll(int shift) { return RearrangeOps.roll(this, new int[] {shift}, new int[0]); }
    /** The elements shifted by {@code shift} along {@code dim}, those pushed past the end coming back at the start. */
    public Tensor roll(int shift, int dim) { return RearrangeOps.roll(this, new int[] {shift}, new int[] {dim}); }
    public Tensor roll(int[] shifts, int[] dims) { return RearrangeOps.roll(this, shifts, dims); }
    /** torch.Tensor.repeat: tiled {@code repeats[i]} times along dim i (leading dims added when there are more repeats). */
    public Tensor repeat(int... repeats) { return RearrangeOps.repeat(this, repeats); }
    /** torch.tile: {@link #repeat}, with 1s in front when {@code reps} is shorter than the rank. */
    public Tensor tile(int... reps) { return RearrangeOps.tile(this, reps); }
    /** Views of {@code size} elements along {@code dim}; the last is smaller when the size does not divide. */
    public List<Tensor> split(int size, int dim) { return PartitionOps.split(this, size, dim); }
    /** Views of the given sizes along {@code dim}, which must add up to its size. */
    public List<Tensor> split(int[] sizes, int dim) { return PartitionOps.split(this, sizes, dim); }
    /** At most {@code chunks} views of {@code ceil(size / chunks)} elements along {@code dim}, as torch.chunk. */
    public List<Tensor> chunk(int chunks, int dim) { return PartitionOps.chunk(this, chunks, dim); }
    /** The slices along {@code dim}, each a view without that dimension. */
    public List<Tensor> unbind(int dim) { return PartitionOps.unbind(this, dim); }
    /** {@code value} where {@code mask} is non-zero, this tensor elsewhere; the mask broadcasts to this shape. */
    public Tensor maskedFill(Tensor mask, double value) { return MaskingOps.maskedFill(this, mask, value); }
    /** {@link #maskedFill(Tensor, double)} with a 0-d tensor value, which receives the gradient of the filled elements. */
    public Tensor maskedFill(Tensor mask, Tensor value) { return MaskingOps.maskedFill(this, mask, value); }
    /** The lower triangle of the last two dims (element (i, j) kept where {@code j <= i}), zeros above. */
    public Tensor tril() { return MaskingOps.triangle("tril", this, 0, true); }
    /** Elements (i, j) with {@code j - i <= diagonal} kept, the others 0. */
    public Tensor tril(int diagonal) { return MaskingOps.triangle("tril", this, diagonal, true); }
    public Tensor triu() { return MaskingOps.triangle("triu", this, 0, false); }
    /** Elements (i, j) with {@code j - i >= diagonal} kept, the others 0. */
    public Tensor triu(int diagonal) { return MaskingOps.triangle("triu", this, diagonal, false); }
    public static Tensor cat(List<Tensor> tensors, int dim) { return ShapeOps.cat(tensors, dim); }
    public static Tensor stack(List<Tensor> tensors, int dim) { return ShapeOps.stack(tensors, dim); }

    // ---- helpers -----------------------------------------------------------------------------------------

    private int[] allDims() {
        int[] dims = new int[rank()];
        for (int i = 0; i < dims.length; i++) {
            dims[i] = i;
        }
        return dims;
    }

    private Tensor scalarLike(double value) {
        return Dispatch.scalar(backend, dtype(), value);
    }

    /** A double as torch wraps a Python float: this dtype if floating, else FLOAT32. */
    private Tensor scalarFor(String op, double value) {
        return Dispatch.scalar(backend, dtype().isFloatingPoint() ? dtype() : DType.DEFAULT_FLOATING, value);
    }

    /**
     * A long as torch wraps a Python int: this dtype (INT64 for a BOOL tensor). A value an INT32 tensor
     * cannot hold fails, as in PyTorch, rather than wrapping.
     */
    private Tensor scalarFor(String op, long value) {
        DType type = dtype() == DType.BOOL ? DType.DEFAULT_INTEGRAL : dtype();
        if (type == DType.INT32 && (value < Integer.MIN_VALUE || value > Integer.MAX_VALUE)) {
            throw new IllegalArgumentException(op + ": the value " + value + " cannot be converted to INT32 without "
                    + "overflow (INT32 tensor of shape " + shape() + "); convert the tensor with toType(DType.INT64)");
        }
        return Dispatch.scalar(backend, type, value);
    }

    private static BinaryOp roundedDivision(String roundingMode) {
        if (roundingMode == null) {
            return BinaryOp.DIV;
        }
        return switch (roundingMode) {
            case "trunc" -> BinaryOp.TRUNC_DIVIDE;
            case "floor" -> BinaryOp.FLOOR_DIVIDE;
            default -> throw new IllegalArgumentException("div: rounding mode must be null, \"trunc\" or \"floor\", got \""
                    + roundingMode + "\"");
        };
    }

    /** A comparison with a long: exact for integer tensors (in INT64), in this dtype for floating ones. */
    private Tensor compareWith(BinaryOp comparison, long value) {
        if (dtype().isFloatingPoint()) {
            return ElementwiseOps.binary(comparison, this, scalarLike((double) value));
        }
        Tensor self = dtype() == DType.INT64 ? this : toType(DType.INT64);
        return ElementwiseOps.binary(comparison, self, Dispatch.scalar(backend, DType.INT64, value));
    }

    /**
     * A comparison with a number. In an integer tensor's dtype the number would be truncated or
     * saturate (0.5 to 0, NaN to 0, 1e19 to Long.MAX_VALUE), so an integer or BOOL tensor meets a
     * number that is not a whole long in FLOAT64 instead, with numbers beyond the long range taken as
     * infinities (every long is below 2^63). What remains is NaN, an infinity, or a fraction below 2^52
     * in magnitude, and rounding a long to double never carries it across such a number: the comparison
     * is exact. A whole number compares as a long, exactly. The mask is BOOL either way.
     */
    private Tensor compareWith(BinaryOp comparison, double value) {
        if (dtype().isFloatingPoint()) {
            return ElementwiseOps.binary(comparison, this, scalarLike(value));
        }
        boolean inLongRange = value >= -0x1p63 && value < 0x1p63;
        if (inLongRange && value == Math.rint(value)) {
            return compareWith(comparison, (long) value);
        }
        double beyond = inLongRange || Double.isNaN(value) ? value : Math.copySign(Double.POSITIVE_INFINITY, value);
        return ElementwiseOps.binary(comparison, toType(DType.FLOAT64), Dispatch.scalar(backend, DType.FLOAT64, beyond));
    }

    @Override
    public String toString() {
        return TensorFormat.format(this);
    }
}
