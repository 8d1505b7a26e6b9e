package dev.adjoint.engine.nd4j;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.controlflow.Select;
import org.nd4j.linalg.api.ops.impl.scalar.ScalarAdd;
import org.nd4j.linalg.api.ops.impl.scalar.ScalarMultiplication;
import org.nd4j.linalg.api.ops.impl.transforms.clip.ClipByValue;
import org.nd4j.linalg.api.ops.impl.transforms.custom.LessThan;
import org.nd4j.linalg.api.ops.impl.transforms.pairwise.arithmetic.DivOp;
import org.nd4j.linalg.api.ops.impl.transforms.same.Abs;
import org.nd4j.linalg.api.ops.impl.transforms.strict.ATanh;
import org.nd4j.linalg.api.ops.impl.transforms.strict.Cosh;
import org.nd4j.linalg.api.ops.impl.transforms.strict.Log1p;
import org.nd4j.linalg.api.ops.impl.transforms.strict.Sinh;
import org.nd4j.linalg.factory.Nd4j;

/**
 * tanh and log1p that keep their relative accuracy near 0. libnd4j computes log1p as {@code log(1 + x)}
 * and tanh from {@code e^2x}, so both cancel: relative error about eps / |x| (log1p(1e-10) off in the
 * 8th digit, tanh(1e-8f) = 0). Here they are built from libnd4j kernels that keep their relative
 * accuracy near 0 (sinh, cosh, atanh), still running natively on the operands' views.
 */
final class NearZero {
    private NearZero() {
    }

    /**
     * tanh(x) = sinh(c) / cosh(c) with c = x clipped to [-25, 25]: tanh(25) rounds to 1 in both dtypes,
     * and the clip keeps sinh and cosh finite (they overflow past 89 in FLOAT32). The clip keeps NaN.
     * Within 4 ulps everywhere; libnd4j's tanh is off by 2,000 ulps at 1e-4.
     */
    static void tanh(INDArray in, INDArray out) {
        INDArray clipped = temporary(out);
        INDArray cosh = temporary(out);
        try {
            ClipByValue clip = new ClipByValue(in, -TANH_SATURATES, TANH_SATURATES);
            clip.addOutputArgument(clipped);
            Nd4j.getExecutioner().exec(clip);
            Nd4j.getExecutioner().exec(new Sinh(clipped, out));
            Nd4j.getExecutioner().exec(new Cosh(clipped, cosh));
            Nd4j.getExecutioner().exec(new DivOp(out, cosh, out));
        } finally {
            clipped.close();
            cosh.close();
        }
    }

    /** |x| from which tanh(x) is +-1 in FLOAT64 (19.1) and FLOAT32 (9.1), with room to spare. */
    private static final double TANH_SATURATES = 25;

    /**
     * log1p(x) = 2 atanh(x / (x + 2)) for |x| < 1/2, and libnd4j's log(1 + x) elsewhere. The identity
     * has no cancellation near 0 (x + 2 and the quotient are accurate to an ulp, atanh is flat there);
     * from |x| = 1/2 on, 1 + x is exact or nearly so and the logarithm is at least 0.4, so log(1 + x)
     * is accurate. The split also keeps the identity away from x -> -1 and x -> inf, where
     * x / (x + 2) nears +-1 and atanh magnifies its rounding. NaN and x <= -1 take the log branch.
     */
    static void log1p(INDArray in, INDArray out) {
        INDArray small = temporary(out);
        INDArray magnitude = temporary(out);
        INDArray useSmall = Nd4j.createUninitialized(DataType.BOOL, out.shape());
        INDArray half = Nd4j.scalar(out.dataType(), LOG1P_SPLIT);
        try {
            Nd4j.getExecutioner().exec(new ScalarAdd(in, null, small, 2.0));
            Nd4j.getExecutioner().exec(new DivOp(in, small, small));
            Nd4j.getExecutioner().exec(new ATanh(small, small));
            Nd4j.getExecutioner().exec(new ScalarMultiplication(small, null, small, 2.0));
            Nd4j.getExecutioner().exec(new Log1p(in, out));
            Nd4j.getExecutioner().exec(new Abs(in, magnitude));
            Nd4j.getExecutioner().exec(new LessThan(magnitude, half, useSmall));
            Nd4j.getExecutioner().exec(new Select(new INDArray[] {useSmall, small, out}, new INDArray[] {out}));
        } finally {
            small.close();
            magnitude.close();
            useSmall.close();
            half.close();
        }
    }

    /** Below this |x| log1p uses the atanh identity. */
    private static final double LOG1P_SPLIT = 0.5;

    private static INDArray temporary(INDArray like) {
        return Nd4j.createUninitialized(like.dataType(), like.shape());
    }
}
