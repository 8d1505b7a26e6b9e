package dev.adjoint.engine.nd4j;

import dev.adjoint.DType;
import dev.adjoint.MemoryScope;
import dev.adjoint.spi.Layout;
import dev.adjoint.spi.ScopedStorage;
import org.nd4j.linalg.api.buffer.DataBuffer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.function.Supplier;

/**
 * Elements in one ND4J {@link DataBuffer} (native memory, freed by ND4J's deallocator once this
 * storage is unreachable, or at once when the {@link MemoryScope} it was allocated in closes; counted
 * in {@link NativeMemory} in between). Kernels see it through {@link #view} arrays that share the buffer.
 * An empty storage has no buffer: ND4J does not allocate zero-length buffers, and no kernel reads one.
 */
final class Nd4jStorage implements ScopedStorage {
    private final DType dtype;
    private final int size;
    private final DataBuffer buffer;
    private final NativeMemory.Allocation allocation;
    /** Set when a scope freed the buffer: any later use fails instead of reading freed memory. */
    private volatile boolean released;
    /** State that outlives a step (optimizer state, a leaf's gradient): no scope frees it. */
    private volatile boolean longLived;

    /** The last view handed out, reused while callers ask for the same layout (the common case:
     *  a tensor used by several ops in a row). Views are cheap, but not free: a shape-info lookup each. */
    private volatile CachedView cached;

    private record CachedView(Layout layout, INDArray array) {
    }

    private Nd4jStorage(DType dtype, int size, DataBuffer buffer, NativeMemory.Allocation allocation) {
        this.dtype = dtype;
        this.size = size;
        this.buffer = buffer;
        this.allocation = allocation;
        MemoryScope.adopt(this);
    }

    /** A storage without elements (and without a buffer). */
    static Nd4jStorage empty(DType dtype) {
        return new Nd4jStorage(dtype, 0, null, null);
    }

    /**
     * A storage over the buffer {@code create} allocates for {@code size} elements. The bytes are first
     * reserved in {@code memory} (which may collect garbage to make room); a failure of the native
     * allocation itself becomes an {@link Nd4jOutOfMemoryError} naming the operation and the size.
     */
    static Nd4jStorage allocate(NativeMemory memory, DType dtype, int size, Supplier<DataBuffer> create) {
        long bytes = (long) size * dtype.byteSize();
        memory.reserve(dtype, size, bytes);
        DataBuffer buffer;
        try {
            buffer = create.get();
        } catch (OutOfMemoryError e) {
            throw new Nd4jOutOfMemoryError(Nd4jOutOfMemoryError.allocating(dtype, size, bytes),
                    "the native allocation failed", memory.liveBytes(), e);
        } catch (RuntimeException e) {
            // ND4J's own words when libnd4j's allocation still fails after its retries.
            if (String.valueOf(e.getMessage()).startsWith("Allocation failed")) {
                throw new Nd4jOutOfMemoryError(Nd4jOutOfMemoryError.allocating(dtype, size, bytes),
                        "the native allocation failed", memory.liveBytes(), e);
            }
            throw e;
        }
        return new Nd4jStorage(dtype, size, buffer, memory.allocated(buffer, bytes));
    }

    static DataType nd4jType(DType dtype) {
        return switch (dtype) {
            case FLOAT32 -> DataType.FLOAT;
            case FLOAT64 -> DataType.DOUBLE;
            case INT64 -> DataType.LONG;
            case INT32 -> DataType.INT;
            case BOOL -> DataType.BOOL;
        };
    }

    /**
     * An array over this storage with {@code layout}'s shape, strides (stride 0 included) and offset.
     * A 0-d layout becomes shape {@code [1]}: every operand of a kernel has the same shape, so they
     * all agree.
     */
    INDArray view(Layout layout) {
        checkLive();
        CachedView c = cached;
        if (c != null && (c.layout == layout || c.layout.equals(layout))) {
            return c.array;
        }
        INDArray array = createView(layout, 'c');
        cached = new CachedView(layout, array);
        return array;
    }

    /** The native buffer, for kernels that read or write it element by element. */
    DataBuffer buffer() {
        checkLive();
        return buffer;
    }

    private void checkLive() {
        if (released) {
            throw new ReleasedStorageException("nd4j backend: a " + dtype + " storage of " + size
                    + " elements was used after the MemoryScope it was allocated in closed; keep a result with"
                    + " scope.keep(tensor), and mark state that lives across steps with"
                    + " tensor.backend().markLongLived(tensor.storage())");
        }
    }

    /** Frees the native buffer now (ND4J's deallocator then has nothing left to do for it). */
    @Override
    public void release() {
        if (released || longLived) {
            return;
        }
        released = true;
        cached = null;
        if (buffer != null && buffer.closeable()) {
            buffer.close();
            allocation.free();
        }
    }

    @Override
    public boolean isReleased() {
        return released;
    }

    @Override
    public void markLongLived() {
        longLived = true;
    }

    @Override
    public boolean isLongLived() {
        return longLived;
    }

    INDArray createView(Layout layout, char order) {
        checkLive();
        int rank = layout.rank();
        long[] shape;
        long[] strides;
        if (rank == 0) {
            shape = new long[] {1};
            strides = new long[] {1};
        } else {
            shape = new long[rank];
            strides = new long[rank];
            for (int d = 0; d < rank; d++) {
                shape[d] = layout.shape().dim(d);
                strides[d] = layout.stride(d);
            }
        }
        return Nd4j.create(buffer, shape, strides, layout.offset(), order, nd4jType(dtype));
    }

    @Override
    public DType dtype() {
        return dtype;
    }

    @Override
    public int size() {
        return size;
    }

    @Override
    public String toString() {
        return "Nd4jStorage[" + dtype + " x " + size + "]";
    }
}
