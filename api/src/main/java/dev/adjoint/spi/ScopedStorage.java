package dev.adjoint.spi;

/**
 * A storage that a {@link dev.adjoint.MemoryScope} can take back when it closes: a backend whose
 * storages implement this registers each new one with {@link dev.adjoint.MemoryScope#adopt}, and the
 * innermost open scope on the allocating thread releases it on close unless it was kept or marked
 * long-lived ({@link Backend#markLongLived}).
 */
public interface ScopedStorage extends Storage {

    /**
     * Gives the memory back to the backend (to reuse or free). Later use of the storage must fail, never
     * read memory that now belongs to another tensor. Called at most once, never for a long-lived storage.
     */
    void release();

    /** Whether {@link #release} has run. */
    boolean isReleased();

    /** Marks it as state that lives across steps (see {@link Backend#markLongLived}): no scope releases it. */
    void markLongLived();

    /** Whether it was marked long-lived. */
    boolean isLongLived();

    /**
     * Undoes {@link #markLongLived} for state that was dropped (a gradient cleared by
     * {@link dev.adjoint.Tensor#zeroGrad} inside a scope), if the storage was allocated inside a scope
     * (memory the engine made, not a tensor the caller built outside any scope): it is then a temporary
     * again, which the scope that takes it releases when it closes. Returns whether it is. The default
     * leaves it long-lived (false), so a backend that does not implement this leaves the memory to the
     * garbage collector, as before.
     */
    default boolean unmarkLongLived() {
        return false;
    }
}
