package dev.adjoint.engine.simd;

import dev.adjoint.DType;
import dev.adjoint.spi.Storage;

/**
 * Heap storage: exactly one of the three arrays is non-null, matching the dtype. Plain Java arrays
 * are what {@code FloatVector.fromArray}/{@code intoArray} load and store without copies.
 */
final class HeapStorage implements Storage {
    final DType dtype;
    final double[] f64;
    final float[] f32;
    final long[] i64;

    private HeapStorage(DType dtype, double[] f64, float[] f32, long[] i64) {
        this.dtype = dtype;
        this.f64 = f64;
        this.f32 = f32;
        this.i64 = i64;
    }

    static HeapStorage ofDoubles(double[] values) {
        return new HeapStorage(DType.FLOAT64, values, null, null);
    }

    static HeapStorage ofFloats(float[] values) {
        return new HeapStorage(DType.FLOAT32, null, values, null);
    }

    static HeapStorage ofLongs(long[] values) {
        return new HeapStorage(DType.INT64, null, null, values);
    }

    static HeapStorage allocate(DType dtype, int size) {
        return switch (dtype) {
            case FLOAT64 -> ofDoubles(new double[size]);
            case FLOAT32 -> ofFloats(new float[size]);
            case INT64 -> ofLongs(new long[size]);
        };
    }

    double get(int i) {
        return switch (dtype) {
            case FLOAT64 -> f64[i];
            case FLOAT32 -> f32[i];
            case INT64 -> i64[i];
        };
    }

    /** Stores {@code v} rounded to this dtype (floating values truncate toward zero into INT64). */
    void set(int i, double v) {
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
