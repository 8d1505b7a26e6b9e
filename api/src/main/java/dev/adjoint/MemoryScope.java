package dev.adjoint;

import dev.adjoint.spi.ScopedStorage;
import dev.adjoint.spi.Storage;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * Gives back, when closed, the memory of every tensor allocated on this thread while the scope was
 * open, so the next step reuses it instead of asking the JVM for fresh (zero-filled) arrays: a
 * training step's activations, gradients and temporaries are recycled at once rather than left to the
 * garbage collector.
 * <pre>{@code
 * for (int step = 0; step < steps; step++) {
 *     try (MemoryScope scope = MemoryScope.open()) {
 *         model.zeroGrad();
 *         Tensor loss = lossFunction.apply(model.forward(x), y);
 *         loss.backward();
 *         optimizer.step();
 *         lastLoss = loss.item();           // read results before the scope closes
 *     }
 * }
 * }</pre>
 * What survives the scope: tensors allocated before it opened (parameters, updated in place by the
 * optimizers); state marked long-lived with {@link dev.adjoint.spi.Backend#markLongLived} (the
 * optimizers' moment buffers, however late they are created); the gradients stored in leaves'
 * {@link Tensor#grad()} (they are state across steps, for gradient accumulation); and tensors passed to
 * {@link #keep}. A gradient the backward pass stored that {@link Tensor#zeroGrad} clears inside a scope
 * is no longer state: the scope releases it when it closes, as PyTorch's {@code zero_grad(set_to_none=True)}
 * gives it back to the allocator; a reference to it kept past the scope fails on its next use. Any other tensor made inside the scope, and every view of one, fails with a
 * {@link ReleasedTensorException} on its next use; it never reads memory that another tensor now owns.
 * A backward pass run inside a scope gives back each gradient it made as soon as nothing needs it any
 * more (an op's output gradient once the op's inputs have theirs; never one that a hook,
 * {@link Tensor#retainGrad}, {@link dev.adjoint.autograd.Autograd#grad} or a leaf received), so the
 * rest of the pass reuses its memory while it is still in cache.
 *
 * <p>Backends whose storages are {@link ScopedStorage}s take part (scalar and simd reuse the arrays,
 * nd4j frees the native buffers). Without a scope nothing changes. A
 * scope is confined to the thread that opened it; scopes nest, and a kept tensor moves to the
 * enclosing scope, if any.
 */
public final class MemoryScope implements AutoCloseable {
    private static final ThreadLocal<MemoryScope> INNERMOST = new ThreadLocal<>();

    private final MemoryScope enclosing;
    private final Thread thread = Thread.currentThread();
    private final List<ScopedStorage> owned = new ArrayList<>();
    private Map<ScopedStorage, Boolean> kept;
    private boolean closed;

    private MemoryScope(MemoryScope enclosing) {
        this.enclosing = enclosing;
    }

    /** Opens a scope on the current thread; close it on the same thread (try-with-resources). */
    public static MemoryScope open() {
        MemoryScope scope = new MemoryScope(INNERMOST.get());
        INNERMOST.set(scope);
        return scope;
    }

    /**
     * For backends: {@code storage} was just allocated on the current thread, so the innermost open
     * scope, if any, owns it. Returns whether one did.
     */
    public static boolean adopt(ScopedStorage storage) {
        MemoryScope scope = INNERMOST.get();
        if (scope != null) {
            scope.owned.add(storage);
        }
        return scope != null;
    }

    /**
     * For {@link Tensor#zeroGrad}: a gradient the engine stored in a leaf (long-lived, see
     * {@link dev.adjoint.spi.ScopedStorage#unmarkLongLived}) and that zeroGrad has just dropped becomes
     * the innermost open scope's, released when it closes, so the next step's gradient reuses its
     * memory instead of a fresh zero-filled array. Without an open scope nothing changes.
     */
    static void reclaim(ScopedStorage storage) {
        MemoryScope scope = INNERMOST.get();
        if (scope != null && storage.isLongLived() && !storage.isReleased() && storage.unmarkLongLived()) {
            scope.owned.add(storage);
        }
    }

    /** Keeps {@code tensor}'s memory past this scope (it moves to the enclosing scope, if any); returns it. */
    public Tensor keep(Tensor tensor) {
        if (closed) {
            throw new IllegalStateException("MemoryScope.keep: this scope is closed; keep a tensor before closing");
        }
        Storage storage = tensor.storage();
        if (storage instanceof ScopedStorage s) {
            if (kept == null) {
                kept = new IdentityHashMap<>();
            }
            kept.put(s, Boolean.TRUE);
        }
        return tensor;
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        if (Thread.currentThread() != thread) {
            throw new IllegalStateException("MemoryScope: closed on thread " + Thread.currentThread().getName()
                    + " but opened on " + thread.getName());
        }
        if (INNERMOST.get() != this) {
            throw new IllegalStateException("MemoryScope: closed out of order; close inner scopes first");
        }
        closed = true;
        if (enclosing == null) {
            INNERMOST.remove();
        } else {
            INNERMOST.set(enclosing);
        }
        for (ScopedStorage s : owned) {
            if (kept != null && kept.containsKey(s)) {
                if (enclosing != null) {
                    enclosing.owned.add(s);
                }
            } else if (!s.isLongLived() && !s.isReleased()) {
                s.release();
            }
        }
        owned.clear();
    }

    /** How many storages this scope would release if it closed now (kept ones included). */
    public int size() {
        return owned.size();
    }

    /** The innermost open scope on this thread, or null if none is open. */
    public static MemoryScope current() {
        return INNERMOST.get();
    }

    /**
     * For the autograd engine: releases {@code storage} now, rather than when this scope closes, if this
     * open scope took it at or after position {@code since} (its {@link #size} at some earlier moment)
     * and it is neither kept nor long-lived; returns whether it did. The engine calls this for a
     * gradient it made during a backward pass and no longer holds, that nothing outside the pass has
     * seen, so the pass's next tensors reuse that memory while it is still in cache.
     */
    public boolean releaseIfTakenSince(int since, Storage storage) {
        if (closed || !(storage instanceof ScopedStorage s) || s.isLongLived() || s.isReleased()
                || (kept != null && kept.containsKey(s))) {
            return false;
        }
        // Newest first: the storage is most likely among the last few taken.
        for (int i = owned.size() - 1; i >= since; i--) {
            if (owned.get(i) == s) {
                s.release();
                return true;
            }
        }
        return false;
    }
}
