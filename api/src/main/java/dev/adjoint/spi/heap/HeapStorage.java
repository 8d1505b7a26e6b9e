package dev.adjoint.spi.heap;

import dev.adjoint.DType;
import dev.adjoint.MemoryScope;
import dev.adjoint.spi.ScopedStorage;

/**
 * Storage on the Java heap, shared by the backends that keep their data in plain arrays (scalar,
 * simd): exactly one of the arrays is non-null, matching the dtype. Plain arrays are what
 * {@code FloatVector.fromArray}/{@code intoArray} load and store without copies, so the fields are
 * open to kernels; only a backend's kernels should write them.
 *
 * <p>Two element accessors: {@link #get}/{@link #set} in double (floating kernels), and
 * {@link #getLong}/{@link #setLong} for bool and integer kernels, which must not pass through double
 * (it would merge INT64 neighbours above 2^53).
 */
public final class HeapStorage implements ScopedStorage {
    public final DType dtype;
    private final int size;
    // Not final: release() clears them, so a kernel handed a released storage fails instead of reading
    // an array that another storage now owns.
    public double[] f64;
    public float[] f32;
    public long[] i64;
    public int[] i32;
    public boolean[] bool;
    private boolean longLived;
    private boolean released;
    /** Whether a MemoryScope took it when it was allocated (see {@link #unmarkLongLived}). */
    private boolean scopeMade;

    private HeapStorage(DType dtype, int size, double[] f64, float[] f32, long[] i64, int[] i32, boolean[] bool) {
        this.dtype = dtype;
        this.size = size;
        this.f64 = f64;
        this.f32 = f32;
        this.i64 = i64;
        this.i32 = i32;
        this.bool = bool;
    }

    public static HeapStorage ofDoubles(double[] values) {
        return new HeapStorage(DType.FLOAT64, values.length, values, null, null, null, null);
    }

    public static HeapStorage ofFloats(float[] values) {
        return new HeapStorage(DType.FLOAT32, values.length, null, values, null, null, null);
    }

    public static HeapStorage ofLongs(long[] values) {
        return new HeapStorage(DType.INT64, values.length, null, null, values, null, null);
    }

    public static HeapStorage ofInts(int[] values) {
        return new HeapStorage(DType.INT32, values.length, null, null, null, values, null);
    }

    public static HeapStorage ofBooleans(boolean[] values) {
        return new HeapStorage(DType.BOOL, values.length, null, null, null, null, values);
    }

    /**
     * A zero-filled storage: a pooled array of this size (zeroed) if the thread has one, else a fresh
     * one. Owned by the innermost open {@link dev.adjoint.MemoryScope} of this thread, if any.
     */
    public static HeapStorage allocate(DType dtype, int size) {
        Object pooled = HeapPool.take(dtype, size);
        if (pooled != null) {
            HeapPool.zero(pooled);
        }
        return adopted(pooled != null ? wrap(dtype, pooled) : fresh(dtype, size));
    }

    /**
     * A storage whose every element the caller will write before anything reads it: a pooled array as
     * the last tensor left it, or a fresh one. Owned by the innermost open scope of this thread, if any.
     */
    public static HeapStorage allocateForOverwrite(DType dtype, int size) {
        Object pooled = HeapPool.take(dtype, size);
        HeapStorage s = pooled != null ? wrap(dtype, pooled) : fresh(dtype, size);
        if (HeapPool.POISON) {
            HeapPool.poison(s.array());
        }
        return adopted(s);
    }

    private static HeapStorage adopted(HeapStorage s) {
        s.scopeMade = MemoryScope.adopt(s);
        return s;
    }

    private static HeapStorage wrap(DType dtype, Object array) {
        return switch (dtype) {
            case FLOAT64 -> ofDoubles((double[]) array);
            case FLOAT32 -> ofFloats((float[]) array);
            case INT64 -> ofLongs((long[]) array);
            case INT32 -> ofInts((int[]) array);
            case BOOL -> ofBooleans((boolean[]) array);
        };
    }

    private Object array() {
        return switch (dtype) {
            case FLOAT64 -> f64;
            case FLOAT32 -> f32;
            case INT64 -> i64;
            case INT32 -> i32;
            case BOOL -> bool;
        };
    }

    private static HeapStorage fresh(DType dtype, int size) {
        return switch (dtype) {
            case FLOAT64 -> ofDoubles(new double[size]);
            case FLOAT32 -> ofFloats(new float[size]);
            case INT64 -> ofLongs(new long[size]);
            case INT32 -> ofInts(new int[size]);
            case BOOL -> ofBooleans(new boolean[size]);
        };
    }

    /** Element {@code i} as a double (true is 1). */
    public double get(int i) {
        return switch (dtype) {
            case FLOAT64 -> f64[i];
            case FLOAT32 -> f32[i];
            case INT64 -> i64[i];
            case INT32 -> i32[i];
            case BOOL -> bool[i] ? 1.0 : 0.0;
        };
    }

    /**
     * Stores {@code v} converted to this dtype as PyTorch converts: floating values truncate toward
     * zero into the integer dtypes, and any non-zero value (NaN too) is true.
     */
    public void set(int i, double v) {
        switch (dtype) {
            case FLOAT64 -> f64[i] = v;
            case FLOAT32 -> f32[i] = (float) v;
            case INT64 -> i64[i] = (long) v;
            case INT32 -> i32[i] = (int) v;
            case BOOL -> bool[i] = v != 0.0;
        }
    }

    /** Element {@code i} as a long: exact for the integer dtypes, truncated toward zero for floating ones. */
    public long getLong(int i) {
        return switch (dtype) {
            case INT64 -> i64[i];
            case INT32 -> i32[i];
            case BOOL -> bool[i] ? 1L : 0L;
            case FLOAT64 -> (long) f64[i];
            case FLOAT32 -> (long) f32[i];
        };
    }

    /** Stores {@code v}; into INT32 it wraps to the low 32 bits, as int32 arithmetic overflows in PyTorch. */
    public void setLong(int i, long v) {
        switch (dtype) {
            case INT64 -> i64[i] = v;
            case INT32 -> i32[i] = (int) v;
            case BOOL -> bool[i] = v != 0;
            case FLOAT64 -> f64[i] = v;
            case FLOAT32 -> f32[i] = v;
        }
    }

    @Override
    public DType dtype() {
        return dtype;
    }

    @Override
    public int size() {
        return size;
    }

    /** Gives the array to this thread's pool; the storage is unusable from now on (its arrays are null). */
    @Override
    public void release() {
        if (released || longLived) {
            return;
        }
        released = true;
        HeapPool.give(dtype, array(), size);
        f64 = null;
        f32 = null;
        i64 = null;
        i32 = null;
        bool = null;
    }

    @Override
    public boolean isReleased() {
        return released;
    }

    @Override
    public boolean isLongLived() {
        return longLived;
    }

    @Override
    public void markLongLived() {
        longLived = true;
    }

    @Override
    public boolean unmarkLongLived() {
        if (scopeMade) {
            longLived = false;
        }
        return scopeMade;
    }
}
