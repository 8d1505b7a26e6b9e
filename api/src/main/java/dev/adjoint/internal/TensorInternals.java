package dev.adjoint.internal;

import dev.adjoint.DType;
import dev.adjoint.Generator;
import dev.adjoint.Shape;
import dev.adjoint.Tensor;
import dev.adjoint.autograd.ForwardGrad;
import dev.adjoint.autograd.Node;
import dev.adjoint.spi.Backend;
import dev.adjoint.spi.Layout;
import dev.adjoint.spi.Storage;

/**
 * What the api's own packages (autograd, ops) may do to a tensor and users may not: the plumbing
 * stays off {@link Tensor}'s public surface. {@link Tensor} installs the one implementation when it is
 * initialised, the way the JDK's SharedSecrets work.
 */
public abstract class TensorInternals {
    private static volatile TensorInternals instance;

    protected TensorInternals() {
    }

    /** Called once by {@link Tensor}'s static initialiser. */
    public static void install(TensorInternals internals) {
        if (instance != null) {
            throw new IllegalStateException("TensorInternals installed twice");
        }
        instance = internals;
    }

    public static TensorInternals get() {
        TensorInternals i = instance;
        if (i == null) {
            // Initialising Tensor installs it.
            try {
                Class.forName(Tensor.class.getName(), true, Tensor.class.getClassLoader());
            } catch (ClassNotFoundException e) {
                throw new IllegalStateException(e);
            }
            i = instance;
        }
        return i;
    }

    /**
     * The multipliers of inverted dropout for a tensor of {@code shape}: 0, or {@code 1 / (1 - p)} where
     * kept, drawn from {@code generator} as {@code Functional.dropout} draws them (for {@code 0 < p < 1}),
     * for ops that drop inside their own kernels.
     */
    public abstract Tensor dropoutMask(Backend backend, DType dtype, Shape shape, double p, Generator generator);

    /** A backend's storage as a tensor with no autograd history. */
    public abstract Tensor fromStorage(Storage storage, Layout layout, Backend backend);

    /** Another view of {@code t}'s storage, with no autograd history, sharing its version counter. */
    public abstract Tensor viewAs(Tensor t, Layout layout);

    /** Records an in-place write to {@code t}'s storage (every view of it sees the new version). */
    public abstract void markModifiedInPlace(Tensor t);

    /** The node gradients of {@code t} flow into: its gradFn, or for a leaf its accumulator; null if none. */
    public abstract Node gradEdge(Tensor t);

    /** The tangent record of {@code t} (any level, possibly closed), or {@code null}. */
    public abstract ForwardGrad forwardGrad(Tensor t);

    public abstract void setForwardGrad(Tensor t, ForwardGrad grad);

    /** Which output slot of its {@code gradFn} the tensor is (0 for single-output ops and leaves). */
    public abstract int outputSlot(Tensor t);

    /**
     * Stores {@code grad} as {@code leaf}'s gradient on behalf of the backward pass, which made it and
     * holds it nowhere else: {@link Tensor#zeroGrad} may give its memory back to an open MemoryScope.
     */
    public abstract void storeBackwardGrad(Tensor leaf, Tensor grad);

    /** Gives a freshly computed tensor the node (and output slot of it) that produced it. */
    public abstract void attachGradFn(Tensor t, Node node, int slot);
}
