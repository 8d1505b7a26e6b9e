package dev.adjoint.engine.nd4j;

import dev.adjoint.MemoryScope;
import dev.adjoint.Tensor;

/**
 * An alias of {@link MemoryScope}, for code written against this backend alone: opening one opens a
 * {@code MemoryScope}, and it frees, keeps and nests exactly as that does. nd4j's storages
 * take part in any {@code MemoryScope}: a step run in one frees its native memory when the scope
 * closes, with the same survivors as on the other backends (tensors made before the scope, state
 * marked long-lived, leaves' gradients, kept tensors).
 *
 * @deprecated use {@link MemoryScope}, which works on every backend.
 */
@Deprecated
public final class Nd4jScope implements AutoCloseable {
    private final MemoryScope scope;

    private Nd4jScope(MemoryScope scope) {
        this.scope = scope;
    }

    /** Opens a {@link MemoryScope} on the current thread; close it on the same thread (try-with-resources). */
    public static Nd4jScope open() {
        return new Nd4jScope(MemoryScope.open());
    }

    /** {@link MemoryScope#keep}. */
    public Tensor keep(Tensor tensor) {
        return scope.keep(tensor);
    }

    @Override
    public void close() {
        scope.close();
    }

    /** {@link MemoryScope#size}. */
    public int size() {
        return scope.size();
    }
}
