package dev.adjoint.spi.heap;

import dev.adjoint.DType;
import dev.adjoint.spi.Storage;

/**
 * Storage on the Java heap, shared by the backends that keep their data in plain arrays (scalar,
 * simd): exactly one of the three arrays is non-null, matching the dtype. Plain arrays are what
 * {@code FloatVector.fromArray}/{@code intoArray} load and store without copies, so the fields are
 * open to kernels; only a backend's kernels should write them.
 */
public final class HeapStorage implements Storage {
    public final DType dtype;
    public final double[] f64;
    public final float[] f32;
    public final long[] i64;

    private HeapStorage(DType dtype, double[] f64, float[] f32, long[] i64) {
        this.dtype = dtype;
        this.f64 = f64;
        this.f32 = f32;
        this.i64 = i64;
    }

    public static HeapStorage ofDoubles(double[] values) {
        return new HeapStorage(DType.FLOAT64, values, null, null);
    }

    public static HeapStorage ofFloats(float[] values) {
        return new HeapStorage(DType.FLOAT32, null, values, null);
    }

    public static HeapStorage ofLongs(long[] values) {
        return new HeapStorage(DType.INT64, null, null, values);
    }

    public static HeapStorage allocate(DType dtype, int size) {
        return switch (dtype) {
            case FLOAT64 -> ofDoubles(new double[size]);
            case FLOAT32 -> ofFloats(new float[size]);
            case INT64 -> ofLongs(new long[size]);
        };
    }

    public double get(int i) {
        return switch (dtype) {
            case FLOAT64 -> f64[i];
            case FLOAT32 -> f32[i];
            case INT64 -> i64[i];
        };
    }

    /** Stores {@code v} rounded to this dtype (floating values truncate toward zero into INT64). */
    public void set(int i, double v) {
        switch (dtype) {
            case FLOAT64 -> f64[i] = v;
            case FLOAT32 -> f32[i] = (float) v;
            case INT64 -> i64[i] = (long) v;
        }
    }

    @Override
    public DType dtype() {
        return dtype;
    }

    @Override
    public int size() {
        return switch (dtype) {
            case FLOAT64 -> f64.length;
            case FLOAT32 -> f32.length;
            case INT64 -> i64.length;
        };
    }
}
