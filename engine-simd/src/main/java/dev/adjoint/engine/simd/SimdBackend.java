package dev.adjoint.engine.simd;

import dev.adjoint.DType;
import dev.adjoint.spi.Availability;
import dev.adjoint.spi.Backend;
import dev.adjoint.spi.BinaryOp;
import dev.adjoint.spi.Layout;
import dev.adjoint.spi.ReduceOp;
import dev.adjoint.spi.Storage;
import dev.adjoint.spi.UnaryOp;

/**
 * Heap arrays with {@code jdk.incubator.vector} kernels where the operands are contiguous, and the
 * plain strided loops of {@link StridedKernels} everywhere else. This class decides which path a
 * call takes from the layouts alone and never names a Vector API type itself, so
 * {@link java.util.ServiceLoader} can instantiate it in a JVM without the incubator module and it
 * then reports itself unavailable.
 */
public final class SimdBackend implements Backend {
    public static final String NAME = "simd";

    @Override
    public String name() {
        return NAME;
    }

    /** Above the scalar reference backend (0): chosen automatically when the Vector API is present. */
    @Override
    public int priority() {
        return 100;
    }

    @Override
    public Availability availability() {
        return VectorModule.availability(VectorModule.PRESENT);
    }

    // ---- storage --------------------------------------------------------------------------------

    @Override
    public Storage allocate(DType dtype, int size) {
        return HeapStorage.allocate(dtype, size);
    }

    @Override
    public Storage fromDoubles(double[] values, DType dtype) {
        if (dtype == DType.FLOAT64) {
            return HeapStorage.ofDoubles(values.clone());
        }
        HeapStorage s = HeapStorage.allocate(dtype, values.length);
        for (int i = 0; i < values.length; i++) {
            s.set(i, values[i]);
        }
        return s;
    }

    @Override
    public Storage fromFloats(float[] values) {
        return HeapStorage.ofFloats(values.clone());
    }

    @Override
    public Storage fromLongs(long[] values) {
        return HeapStorage.ofLongs(values.clone());
    }

    @Override
    public double[] toDoubles(Storage storage, Layout layout) {
        HeapStorage s = (HeapStorage) storage;
        double[] out = new double[layout.numel()];
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
        StridedCursor c = StridedCursor.over(layout.shape(), layout);
        for (int i = 0; i < out.length; i++, c.advance()) {
            out[i] = s.dtype == DType.INT64 ? s.i64[c.position[0]] : (long) s.get(c.position[0]);
        }
        return out;
    }

    // ---- kernels ----------------------------------------------------------------------------------

    @Override
    public void fill(Storage out, Layout outLayout, double value) {
        StridedKernels.fill((HeapStorage) out, outLayout, value);
    }

    @Override
    public void copy(Storage src, Layout srcLayout, Storage dst, Layout dstLayout) {
        StridedKernels.copy((HeapStorage) src, srcLayout, (HeapStorage) dst, dstLayout);
    }

    @Override
    public void unary(UnaryOp op, Storage x, Layout xLayout, Storage out, Layout outLayout) {
        StridedKernels.unary(op, (HeapStorage) x, xLayout, (HeapStorage) out, outLayout);
    }

    @Override
    public void binary(BinaryOp op, Storage a, Layout aLayout, Storage b, Layout bLayout, Storage out,
                       Layout outLayout) {
        StridedKernels.binary(op, (HeapStorage) a, aLayout, (HeapStorage) b, bLayout, (HeapStorage) out, outLayout);
    }

    @Override
    public void where(Storage cond, Layout condLayout, Storage a, Layout aLayout, Storage b, Layout bLayout,
                      Storage out, Layout outLayout) {
        StridedKernels.where((HeapStorage) cond, condLayout, (HeapStorage) a, aLayout, (HeapStorage) b, bLayout,
                (HeapStorage) out, outLayout);
    }

    @Override
    public void reduce(ReduceOp op, Storage x, Layout xLayout, Storage out, Layout outLayout) {
        StridedKernels.reduce(op, (HeapStorage) x, xLayout, (HeapStorage) out, outLayout);
    }

    @Override
    public void matmul(Storage a, Layout aLayout, Storage b, Layout bLayout, Storage out, Layout outLayout) {
        HeapStorage sa = (HeapStorage) a;
        HeapStorage sb = (HeapStorage) b;
        HeapStorage so = (HeapStorage) out;
        int rank = outLayout.rank();
        int m = outLayout.shape().dim(rank - 2);
        int n = outLayout.shape().dim(rank - 1);
        int k = aLayout.shape().dim(rank - 1);
        int aRow = aLayout.stride(rank - 2);
        int aCol = aLayout.stride(rank - 1);
        int bRow = bLayout.stride(rank - 2);
        int bCol = bLayout.stride(rank - 1);
        int oRow = outLayout.stride(rank - 2);
        dev.adjoint.Shape batch = dev.adjoint.Shape.of(java.util.Arrays.copyOf(outLayout.shape().toArray(), rank - 2));
        StridedCursor c = StridedCursor.over(batch, aLayout, bLayout, outLayout);
        int batches = batch.numel();
        for (int t = 0; t < batches; t++, c.advance()) {
            StridedKernels.matmul(sa, c.position[0], aRow, aCol, sb, c.position[1], bRow, bCol,
                    so, c.position[2], oRow, m, n, k);
        }
    }

    @Override
    public void gather(Storage src, Layout srcLayout, int dim, Storage index, Layout indexLayout, Storage out,
                       Layout outLayout) {
        StridedKernels.gather((HeapStorage) src, srcLayout, dim, (HeapStorage) index, indexLayout,
                (HeapStorage) out, outLayout);
    }

    @Override
    public void scatterAdd(Storage dst, Layout dstLayout, int dim, Storage index, Layout indexLayout, Storage src,
                           Layout srcLayout) {
        StridedKernels.scatterAdd((HeapStorage) dst, dstLayout, dim, (HeapStorage) index, indexLayout,
                (HeapStorage) src, srcLayout);
    }
}
