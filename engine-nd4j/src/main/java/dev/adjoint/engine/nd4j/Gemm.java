package dev.adjoint.engine.nd4j;

import dev.adjoint.DType;
import dev.adjoint.Shape;
import dev.adjoint.spi.Layout;
import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Pointer;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.Arrays;

import static org.bytedeco.openblas.global.openblas_nolapack.CblasNoTrans;
import static org.bytedeco.openblas.global.openblas_nolapack.CblasRowMajor;
import static org.bytedeco.openblas.global.openblas_nolapack.CblasTrans;
import static org.bytedeco.openblas.global.openblas_nolapack.cblas_dgemm;
import static org.bytedeco.openblas.global.openblas_nolapack.cblas_sgemm;

/**
 * Matmul straight into the BLAS ND4J ships (the same cblas binding ND4J's own gemm calls), on the
 * operands' native buffers. Going through {@code INDArray.mmul} instead costs a custom-op setup and,
 * for row-major or transposed views, copies; here a row-major or transposed matrix is passed as it
 * is, with a transpose flag and its leading dimension. Only operands BLAS cannot describe (stride 0
 * broadcasting, gaps in both dims) are first copied to a contiguous matrix by ND4J.
 */
final class Gemm {
    private Gemm() {
    }

    /** How one operand reaches BLAS: transposed or not, with its leading dimension, from {@code storage} at {@code offset}. */
    private record Operand(Nd4jStorage storage, int offset, int trans, int ld, INDArray copy) {
    }

    static void batched(Nd4jStorage a, Layout aLayout, Nd4jStorage b, Layout bLayout, Nd4jStorage out, Layout outLayout) {
        int rank = outLayout.rank();
        int m = outLayout.shape().dim(rank - 2);
        int n = outLayout.shape().dim(rank - 1);
        int k = aLayout.shape().dim(rank - 1);
        int[] batchDims = Arrays.copyOf(outLayout.shape().toArray(), rank - 2);
        int batches = Shape.of(batchDims).numel();
        int[] counter = new int[batchDims.length];
        for (int t = 0; t < batches; t++) {
            gemm(a, matrixOf(aLayout, counter), b, matrixOf(bLayout, counter), out, matrixOf(outLayout, counter),
                    m, n, k);
            for (int d = counter.length - 1; d >= 0; d--) {
                if (++counter[d] < batchDims[d]) {
                    break;
                }
                counter[d] = 0;
            }
        }
    }

    private static void gemm(Nd4jStorage a, Layout aLayout, Nd4jStorage b, Layout bLayout, Nd4jStorage out,
                             Layout outLayout, int m, int n, int k) {
        Operand x = operand(a, aLayout);
        Operand y = operand(b, bLayout);
        int ldc = Math.max(1, n);
        if (out.dtype() == DType.FLOAT32) {
            cblas_sgemm(CblasRowMajor, x.trans, y.trans, m, n, k, 1f, floats(x), x.ld, floats(y), y.ld, 0f,
                    new FloatPointer(out.buffer().pointer()).position(outLayout.offset()), ldc);
        } else {
            cblas_dgemm(CblasRowMajor, x.trans, y.trans, m, n, k, 1.0, doubles(x), x.ld, doubles(y), y.ld, 0.0,
                    new DoublePointer(out.buffer().pointer()).position(outLayout.offset()), ldc);
        }
        if (x.copy != null) {
            x.copy.close();
        }
        if (y.copy != null) {
            y.copy.close();
        }
    }

    private static FloatPointer floats(Operand o) {
        Pointer p = o.copy != null ? o.copy.data().pointer() : o.storage.buffer().pointer();
        return new FloatPointer(p).position(o.copy != null ? 0 : o.offset);
    }

    private static DoublePointer doubles(Operand o) {
        Pointer p = o.copy != null ? o.copy.data().pointer() : o.storage.buffer().pointer();
        return new DoublePointer(p).position(o.copy != null ? 0 : o.offset);
    }

    /** Row-major as it is (unit column stride), transposed (unit row stride), or else a contiguous copy. */
    private static Operand operand(Nd4jStorage s, Layout m) {
        int rows = m.shape().dim(0);
        int cols = m.shape().dim(1);
        int rowStride = m.stride(0);
        int colStride = m.stride(1);
        // A dim of size 1 may carry any stride; BLAS only needs the leading dimension to be >= the row length.
        if ((cols == 1 || colStride == 1) && (rows == 1 || rowStride >= cols)) {
            return new Operand(s, m.offset(), CblasNoTrans, rows == 1 ? Math.max(1, cols) : rowStride, null);
        }
        if ((rows == 1 || rowStride == 1) && (cols == 1 || colStride >= rows)) {
            return new Operand(s, m.offset(), CblasTrans, cols == 1 ? Math.max(1, rows) : colStride, null);
        }
        INDArray copy = s.view(m).dup('c');
        return new Operand(s, 0, CblasNoTrans, Math.max(1, cols), copy);
    }

    /** The 2-d matrix of a batched layout at batch position {@code counter}. */
    private static Layout matrixOf(Layout layout, int[] counter) {
        int rank = layout.rank();
        if (rank == 2) {
            return layout;
        }
        int offset = layout.offset();
        for (int d = 0; d < counter.length; d++) {
            offset += counter[d] * layout.stride(d);
        }
        return new Layout(Shape.of(layout.shape().dim(rank - 2), layout.shape().dim(rank - 1)),
                new int[] {layout.stride(rank - 2), layout.stride(rank - 1)}, offset);
    }
}
