package dev.adjoint.engine.simd;

import dev.adjoint.DType;
import dev.adjoint.Tensor;
import dev.adjoint.engine.scalar.ScalarBackend;
import dev.adjoint.spi.Backend;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.List;
import java.util.Random;
import java.util.function.BiFunction;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

/**
 * The vector BOOL-mask loops (FloatMasks, DoubleMasks) over runs long enough for their main loops and
 * tails, at odd offsets, with NaN, ties and repeated operands: the same masks and selections as the
 * scalar reference, exactly. The conformance samples are too short to reach a 16-lane main loop.
 */
class BoolMaskTest {
    private static final Backend SIMD = new SimdBackend();
    private static final Backend SCALAR = new ScalarBackend();

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"FLOAT32", "FLOAT64"})
    void comparisonsAndWhereMatchTheReference(DType dtype) {
        Random random = new Random(11);
        // The last two sizes: one piece (SimdBackend.RUN_PIECE) and a tail; several pieces, shared
        // between the threads where there are two or more (RowThreads), and a tail.
        for (int n : new int[] {1, 15, 16, 17, 100, 1037, (1 << 14) + 5, 9 * (1 << 14) + 3}) {
            double[] a = new double[n + 1];
            double[] b = new double[n + 1];
            for (int i = 0; i <= n; i++) {
                a[i] = random.nextInt(5) - 2;
                b[i] = random.nextInt(10) == 0 ? Double.NaN : random.nextInt(5) - 2;
            }
            // Offset 1: a view that starts past the first element, so runs do not start aligned.
            Tensor as = Tensor.on(SIMD).fromArray(a, dtype, n + 1).narrow(0, 1, n);
            Tensor bs = Tensor.on(SIMD).fromArray(b, dtype, n + 1).narrow(0, 1, n);
            Tensor ar = Tensor.on(SCALAR).fromArray(a, dtype, n + 1).narrow(0, 1, n);
            Tensor br = Tensor.on(SCALAR).fromArray(b, dtype, n + 1).narrow(0, 1, n);
            List<BiFunction<Tensor, Tensor, Tensor>> comparisons = List.of(Tensor::gt, Tensor::lt, Tensor::ge,
                    Tensor::le, Tensor::eq, Tensor::ne, (x, y) -> x.gt(0.0), (x, y) -> x.ne(Double.NaN),
                    (x, y) -> Tensor.scalar(1.0, dtype).to(x.backend()).le(y));
            for (BiFunction<Tensor, Tensor, Tensor> compare : comparisons) {
                Tensor maskSimd = compare.apply(as, bs);
                Tensor maskScalar = compare.apply(ar, br);
                assertArrayEquals(maskScalar.toBooleanArray(), maskSimd.toBooleanArray(), "mask of " + n);
                double[] expected = Tensor.where(maskScalar, ar, br).toDoubleArray();
                assertArrayEquals(expected, Tensor.where(maskSimd, as, bs).toDoubleArray(), 0.0, "where of " + n);
                // A repeated branch, as relu's backward where(y > 0, v, 0).
                Tensor zeroSimd = Tensor.on(SIMD).scalar(0.0, dtype);
                Tensor zeroScalar = Tensor.on(SCALAR).scalar(0.0, dtype);
                assertArrayEquals(Tensor.where(maskScalar, ar, zeroScalar).toDoubleArray(),
                        Tensor.where(maskSimd, as, zeroSimd).toDoubleArray(), 0.0, "where with a 0-d branch, " + n);
                assertArrayEquals(Tensor.where(maskScalar, zeroScalar, br).toDoubleArray(),
                        Tensor.where(maskSimd, zeroSimd, bs).toDoubleArray(), 0.0, "where with a 0-d branch, " + n);
            }
        }
    }

    /**
     * where over views that are neither dense nor one repeated value: a branch broadcast along the
     * inner dims (relu's backward of a global-average-pooled gradient, [N, C, 1, 1] expanded to
     * [N, C, H, W]), a transposed branch, a transposed condition. The row walk's vector loop, exactly
     * as the reference.
     */
    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"FLOAT32", "FLOAT64"})
    void whereOverBroadcastAndPermutedViewsMatchesTheReference(DType dtype) {
        Random random = new Random(12);
        int[] shape = {3, 5, 7, 9};
        double[] y = new double[3 * 5 * 7 * 9];
        double[] v = new double[3 * 5];
        double[] z = new double[y.length];
        for (int i = 0; i < y.length; i++) {
            y[i] = random.nextInt(5) - 2;
            z[i] = random.nextGaussian();
        }
        for (int i = 0; i < v.length; i++) {
            v[i] = random.nextGaussian();
        }
        Tensor mask = Tensor.on(SIMD).fromArray(y, dtype, shape).gt(0.0);
        Tensor maskRef = Tensor.on(SCALAR).fromArray(y, dtype, shape).gt(0.0);
        Tensor pooled = Tensor.on(SIMD).fromArray(v, dtype, 3, 5, 1, 1).expand(shape);
        Tensor pooledRef = Tensor.on(SCALAR).fromArray(v, dtype, 3, 5, 1, 1).expand(shape);
        Tensor zero = Tensor.on(SIMD).scalar(0.0, dtype);
        Tensor zeroRef = Tensor.on(SCALAR).scalar(0.0, dtype);
        assertArrayEquals(Tensor.where(maskRef, pooledRef, zeroRef).toDoubleArray(),
                Tensor.where(mask, pooled, zero).toDoubleArray(), 0.0, "where(y > 0, pooled gradient, 0)");
        assertArrayEquals(Tensor.where(maskRef, zeroRef, pooledRef).toDoubleArray(),
                Tensor.where(mask, zero, pooled).toDoubleArray(), 0.0, "where(y > 0, 0, pooled gradient)");
        // A branch that is transposed (its rows not dense): copied dense, then the same loop.
        Tensor other = Tensor.on(SIMD).fromArray(z, dtype, 3, 5, 9, 7).transpose(2, 3);
        Tensor otherRef = Tensor.on(SCALAR).fromArray(z, dtype, 3, 5, 9, 7).transpose(2, 3);
        assertArrayEquals(Tensor.where(maskRef, otherRef, pooledRef).toDoubleArray(),
                Tensor.where(mask, other, pooled).toDoubleArray(), 0.0, "where with a transposed branch");
        // A transposed condition.
        Tensor maskT = Tensor.on(SIMD).fromArray(z, dtype, 3, 5, 9, 7).gt(0.0).transpose(2, 3);
        Tensor maskTRef = Tensor.on(SCALAR).fromArray(z, dtype, 3, 5, 9, 7).gt(0.0).transpose(2, 3);
        assertArrayEquals(Tensor.where(maskTRef, pooledRef, otherRef).toDoubleArray(),
                Tensor.where(maskT, pooled, other).toDoubleArray(), 0.0, "where with a transposed condition");
    }
}
