package dev.adjoint.engine.nd4j;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.controlflow.Select;
import org.nd4j.linalg.api.ops.impl.reduce.bool.IsNaN;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Where ND4J's NaN handling differs from the SPI's (PyTorch's), these put the NaNs back.
 * libnd4j's max/min are {@code a > b ? a : b}, which drops a NaN in one operand. Each fix-up first asks whether the operand holds any NaN at all (one reduction), so the
 * common NaN-free case costs one extra op, not a mask and a select.
 */
final class NanPropagation {
    private NanPropagation() {
    }

    static boolean anyNaN(INDArray a) {
        INDArray any = Nd4j.getExecutioner().exec(new IsNaN(a));
        boolean result = any.getDouble(0) != 0.0;
        any.close();
        return result;
    }

    /** {@code out[i] = NaN} wherever {@code source[i]} is NaN; same shapes. */
    static void copyNaNs(INDArray source, INDArray out) {
        if (anyNaN(source)) {
            INDArray mask = source.isNaN();
            Nd4j.getExecutioner().exec(new Select(new INDArray[] {mask, source, out}, new INDArray[] {out}));
            mask.close();
        }
    }

    /** {@code out} (the keep-dim reduction of {@code in} over {@code dims}) becomes NaN for every
     *  slice of {@code in} holding a NaN, as PyTorch's amax/amin do. */
    static void reducedNaNs(INDArray in, int[] dims, INDArray out) {
        if (!anyNaN(in)) {
            return;
        }
        INDArray sliceHasNaN = Nd4j.getExecutioner().exec(new IsNaN(in, true, dims)).reshape(out.shape());
        INDArray nan = Nd4j.valueArrayOf(out.shape(), Double.NaN, out.dataType());
        Nd4j.getExecutioner().exec(new Select(new INDArray[] {sliceHasNaN, nan, out}, new INDArray[] {out}));
        sliceHasNaN.close();
        nan.close();
    }
}
