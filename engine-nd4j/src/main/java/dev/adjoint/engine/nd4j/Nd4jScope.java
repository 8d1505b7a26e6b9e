package dev.adjoint.engine.nd4j;

import dev.adjoint.Tensor;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.IdentityHashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * Frees, when closed, the native memory of every nd4j storage allocated on this thread while the
 * scope was open: a training step's activations, gradients and temporaries go at once instead of
 * waiting for the garbage collector to find them unreachable.
 * <pre>{@code
 * for (int step = 0; step < steps; step++) {
 *     try (Nd4jScope scope = Nd4jScope.open()) {
 *         Tensor loss = model.loss(x, y);
 *         loss.backward();
 *         try (var ignored = Tensor.noGrad()) {
 *             for (Tensor p : params) { p.copyFrom(p.sub(p.grad().mul(lr))); p.zeroGrad(); }
 *         }
 *         lastLoss = loss.item();            // read results before the scope closes
 *     }
 * }
 * }</pre>
 * Parameters created before the scope and updated in place with {@code copyFrom} are not touched,
 * nor is state marked long-lived with {@link dev.adjoint.spi.Backend#markLongLived}, which the nn
 * optimizers do for their momentum and moment buffers however late they create them: the garbage
 * collector frees those once they are unreachable. A tensor made inside the scope that must outlive
 * it is passed to {@link #keep}; one that was freed fails with a message naming this scope on its
 * next use, never reads freed memory. Scopes nest; a kept storage moves to the enclosing scope, if
 * any. Without a scope nothing changes: storages are freed by ND4J's deallocator after a GC finds
 * them unreachable ({@code NativeMemory} keeps that bounded).
 */
public final class Nd4jScope implements AutoCloseable {
    private static final ThreadLocal<Deque<Nd4jScope>> OPEN = ThreadLocal.withInitial(ArrayDeque::new);

    private final Map<Nd4jStorage, Boolean> owned = new IdentityHashMap<>();
    private final Thread thread = Thread.currentThread();
    private boolean closed;

    private Nd4jScope() {
    }

    /** Opens a scope on the current thread; close it on the same thread (try-with-resources). */
    public static Nd4jScope open() {
        Nd4jScope scope = new Nd4jScope();
        OPEN.get().push(scope);
        return scope;
    }

    /** Keeps {@code tensor}'s storage alive past this scope (it moves to the enclosing scope, if any). */
    public Tensor keep(Tensor tensor) {
        if (tensor.storage() instanceof Nd4jStorage s && owned.remove(s) != null) {
            // Innermost first: the scope after this one is the one enclosing it.
            Iterator<Nd4jScope> open = OPEN.get().iterator();
            while (open.hasNext()) {
                if (open.next() == this) {
                    if (open.hasNext()) {
                        open.next().owned.put(s, Boolean.TRUE);
                    }
                    break;
                }
            }
        }
        return tensor;
    }

    /** Called by the backend for every storage it allocates. */
    static void register(Nd4jStorage storage) {
        Nd4jScope current = OPEN.get().peek();
        if (current != null) {
            current.owned.put(storage, Boolean.TRUE);
        }
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        if (Thread.currentThread() != thread) {
            throw new IllegalStateException("Nd4jScope: closed on thread " + Thread.currentThread().getName()
                    + " but opened on " + thread.getName());
        }
        closed = true;
        Deque<Nd4jScope> open = OPEN.get();
        if (open.peek() != this) {
            throw new IllegalStateException("Nd4jScope: closed out of order; close inner scopes first");
        }
        open.pop();
        List<Nd4jStorage> toFree = new ArrayList<>(owned.keySet());
        owned.clear();
        for (Nd4jStorage s : toFree) {
            if (!s.longLived()) {
                s.release();
            }
        }
    }

    /** How many storages this scope would free now. */
    public int size() {
        return owned.size();
    }
}
