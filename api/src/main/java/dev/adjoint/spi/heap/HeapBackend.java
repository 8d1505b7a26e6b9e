package dev.adjoint.spi.heap;

import dev.adjoint.DType;
import dev.adjoint.MemoryScope;
import dev.adjoint.spi.Backend;
import dev.adjoint.spi.Layout;
import dev.adjoint.spi.StridedCursor;
import dev.adjoint.spi.Storage;

/**
 * Storage and transfer for backends whose data lives in {@link HeapStorage}: allocation, copy-in
 * and row-major copy-out, written once. A subclass adds the kernels.
 */
public abstract class HeapBackend implements Backend {

    @Override
    public Storage allocate(DType dtype, int size) {
        return HeapStorage.allocate(dtype, size);
    }

    @Override
    public Storage allocateForOverwrite(DType dtype, int size) {
        return HeapStorage.allocateForOverwrite(dtype, size);
    }

    @Override
    public void markLongLived(Storage storage) {
        ((HeapStorage) storage).markLongLived();
    }

    @Override
    public Storage fromDoubles(double[] values, DType dtype) {
        if (dtype == DType.FLOAT64) {
            return adopted(HeapStorage.ofDoubles(values.clone()));
        }
        HeapStorage s = HeapStorage.allocate(dtype, values.length);
        for (int i = 0; i < values.length; i++) {
            s.set(i, values[i]);
        }
        return s;
    }

    @Override
    public Storage fromFloats(float[] values) {
        return adopted(HeapStorage.ofFloats(values.clone()));
    }

    @Override
    public Storage fromLongs(long[] values) {
        return adopted(HeapStorage.ofLongs(values.clone()));
    }

    @Override
    public double[] toDoubles(Storage storage, Layout layout) {
        HeapStorage s = (HeapStorage) storage;
        double[] out = new double[layout.numel()];
        // Dense and of the wanted type: one copy rather than a walk element by element. Not when
        // empty: an empty view may start past the end of its storage, where arraycopy refuses.
        if (s.dtype == DType.FLOAT64 && layout.isContiguous() && out.length > 0) {
            System.arraycopy(s.f64, layout.offset(), out, 0, out.length);
            return out;
        }
        StridedCursor c = StridedCursor.over(layout.shape(), layout);
        for (int i = 0; i < out.length; i++, c.advance()) {
            out[i] = s.get(c.position[0]);
        }
        return out;
    }

    @Override
    public float[] toFloats(Storage storage, Layout layout) {
        HeapStorage s = (HeapStorage) storage;
        float[] out = new float[layout.numel()];
        if (s.dtype == DType.FLOAT32 && layout.isContiguous() && out.length > 0) {
            System.arraycopy(s.f32, layout.offset(), out, 0, out.length);
            return out;
        }
        StridedCursor c = StridedCursor.over(layout.shape(), layout);
        for (int i = 0; i < out.length; i++, c.advance()) {
            out[i] = (float) s.get(c.position[0]);
        }
        return out;
    }

    @Override
    public long[] toLongs(Storage storage, Layout layout) {
        HeapStorage s = (HeapStorage) storage;
        long[] out = new long[layout.numel()];
        if (s.dtype == DType.INT64 && layout.isContiguous() && out.length > 0) {
            System.arraycopy(s.i64, layout.offset(), out, 0, out.length);
            return out;
        }
        StridedCursor c = StridedCursor.over(layout.shape(), layout);
        for (int i = 0; i < out.length; i++, c.advance()) {
            out[i] = s.getLong(c.position[0]);
        }
        return out;
    }

    /** A storage made from the caller's values belongs to the open scope like any other. */
    private static HeapStorage adopted(HeapStorage s) {
        MemoryScope.adopt(s);
        return s;
    }
}
