package dev.adjoint.engine.simd;

import dev.adjoint.DType;
import dev.adjoint.Generator;
import dev.adjoint.Tensor;
import dev.adjoint.engine.scalar.ScalarBackend;
import dev.adjoint.spi.Backend;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * indexSelect and its gradient on simd, whose gather and scatterAdd copy and add whole slices
 * ({@link RowSelect}), against the scalar backend's element-by-element walk: the same bits, with
 * repeated indices (their slices summed in index order) and along every dim of a 3-d tensor (along the
 * last the slices are single elements and simd walks as scalar does).
 */
class RowSelectTest {
    private static final Backend SIMD = new SimdBackend();
    private static final Backend SCALAR = new ScalarBackend();

    @Test
    void indexSelectAndItsGradientMatchTheElementWalk() {
        int[] shape = {6, 7, 19};
        long[] picks = {3, 0, 3, 5, 1, 3, 0};
        for (DType dtype : new DType[] {DType.FLOAT32, DType.FLOAT64}) {
            for (int dim = 0; dim < shape.length; dim++) {
                long[] index = new long[picks.length];
                for (int i = 0; i < picks.length; i++) {
                    index[i] = picks[i] % shape[dim];
                }
                String what = "indexSelect(" + dim + ", " + java.util.Arrays.toString(index) + ") " + dtype;
                double[][] results = new double[2][];
                double[][] grads = new double[2][];
                Backend[] backends = {SIMD, SCALAR};
                for (int b = 0; b < 2; b++) {
                    Tensor x = Tensor.on(backends[b]).randn(new Generator(11), dtype, shape).requiresGrad(true);
                    Tensor y = x.indexSelect(dim, Tensor.on(backends[b]).fromArray(index, index.length));
                    Tensor weights = Tensor.on(backends[b]).randn(new Generator(12), dtype, y.shape().toArray());
                    y.mul(weights).sum().backward();
                    results[b] = y.toDoubleArray();
                    grads[b] = x.grad().toDoubleArray();
                }
                assertArrayEquals(results[1], results[0], what);
                assertArrayEquals(grads[1], grads[0], what + ": the gradient");
            }
        }
    }

    @Test
    void anIndexOutOfRangeNamesItsPositionInTheUsersIndex() {
        Tensor x = Tensor.on(SIMD).zeros(DType.FLOAT32, 4, 8);
        Tensor index = Tensor.on(SIMD).fromArray(new long[] {1, 2, 9, 0}, 4);
        IndexOutOfBoundsException e = assertThrows(IndexOutOfBoundsException.class, () -> x.indexSelect(0, index));
        assertTrue(e.getMessage().startsWith("indexSelect: index 9 at position 2 "), e.getMessage());
        // gather with an index expanded along dim 1: the first bad value, at its first column.
        Tensor expanded = Tensor.on(SIMD).fromArray(new long[] {1, 7, 0}, 3, 1).expand(3, 8);
        e = assertThrows(IndexOutOfBoundsException.class, () -> x.gather(0, expanded));
        assertEquals("gather: index 7 at position [1, 0] is out of range for dimension 0 of size 4"
                + " (valid values are 0 to 3; index shape [3, 8])", e.getMessage());
    }
}
