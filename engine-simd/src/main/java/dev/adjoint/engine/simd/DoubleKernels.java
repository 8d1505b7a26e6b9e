package dev.adjoint.engine.simd;

import dev.adjoint.spi.BinaryOp;
import dev.adjoint.spi.ElementMath;
import dev.adjoint.spi.ReduceOp;
import dev.adjoint.spi.UnaryOp;
import dev.adjoint.spi.heap.StridedKernels;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * FLOAT64 elementwise and reduction kernels over contiguous runs of heap arrays. Each loop names its
 * {@link VectorOperators} operator as a constant: the Vector API only compiles a lanewise call to
 * SIMD instructions when the JIT sees a constant operator, so the operator is never a parameter.
 * Elements past the last whole vector go through {@link ElementMath} in double.
 * Mirrors {@link FloatKernels} loop for loop; keep the two in step.
 */
final class DoubleKernels {
    private static final VectorSpecies<Double> S = DoubleVector.SPECIES_PREFERRED;

    private DoubleKernels() {
    }

    // ---- unary -------------------------------------------------------------------------------------

    static void unary(UnaryOp op, double[] x, int xo, double[] o, int oo, int n) {
        int done = unaryVectors(op, x, xo, o, oo, S.loopBound(n));
        for (int i = done; i < n; i++) {
            o[oo + i] = ElementMath.unary(op, x[xo + i]);
        }
    }

    /** Whole vectors of {@code x} into {@code o}; returns how many elements it wrote. */
    private static int unaryVectors(UnaryOp op, double[] x, int xo, double[] o, int oo, int bound) {
        int l = S.length();
        DoubleVector zero = DoubleVector.zero(S);
        DoubleVector one = DoubleVector.broadcast(S, 1.0);
        DoubleVector minusOne = DoubleVector.broadcast(S, -1.0);
        switch (op) {
            case NEG -> { for (int i = 0; i < bound; i += l) { v(x, xo + i).neg().intoArray(o, oo + i); } }
            // VectorExp instead of lanewise(EXP): inlined arithmetic, so large arrays run at memory speed.
            case EXP -> { for (int i = 0; i < bound; i += l) { VectorExp.exp(v(x, xo + i)).intoArray(o, oo + i); } }
            // VectorLog instead of lanewise(LOG / LOG1P), for the same reason.
            case LOG -> { for (int i = 0; i < bound; i += l) { VectorLog.log(v(x, xo + i)).intoArray(o, oo + i); } }
            case LOG1P -> { for (int i = 0; i < bound; i += l) { VectorLog.log1p(v(x, xo + i)).intoArray(o, oo + i); } }
            case SQRT -> { for (int i = 0; i < bound; i += l) { v(x, xo + i).sqrt().intoArray(o, oo + i); } }
            case SQUARE -> { for (int i = 0; i < bound; i += l) { DoubleVector a = v(x, xo + i); a.mul(a).intoArray(o, oo + i); } }
            case ABS -> { for (int i = 0; i < bound; i += l) { v(x, xo + i).abs().intoArray(o, oo + i); } }
            // Positive lanes become 1, negative -1; zeros keep their sign and NaN stays NaN, as Math.signum.
            case SIGN -> {
                for (int i = 0; i < bound; i += l) {
                    DoubleVector a = v(x, xo + i);
                    a.blend(one, a.compare(VectorOperators.GT, zero)).blend(minusOne, a.compare(VectorOperators.LT, zero))
                            .intoArray(o, oo + i);
                }
            }
            case SIN -> { for (int i = 0; i < bound; i += l) { v(x, xo + i).lanewise(VectorOperators.SIN).intoArray(o, oo + i); } }
            case COS -> { for (int i = 0; i < bound; i += l) { v(x, xo + i).lanewise(VectorOperators.COS).intoArray(o, oo + i); } }
            // Its own loop: most vectors take a rational function, the others the exp-based formula.
            case TANH -> VectorExp.tanh(x, xo, o, oo, bound);
            // 1 / (1 + e^-x) without a branch: for very negative x, e^-x overflows to +Inf and the
            // quotient is +0, where the two-branch scalar form gives a subnormal; both round to 0 in
            // any tolerance that matters.
            case SIGMOID -> {
                for (int i = 0; i < bound; i += l) {
                    one.div(VectorExp.exp(v(x, xo + i).neg()).add(one)).intoArray(o, oo + i);
                }
            }
            // max(x, 0) follows Math.max: relu(NaN) = NaN and relu(-0) = +0, as the scalar x <= 0 ? 0 : x.
            case RELU -> { for (int i = 0; i < bound; i += l) { v(x, xo + i).max(zero).intoArray(o, oo + i); } }
            // No erf in the Vector API; VectorErf is inlined arithmetic like VectorExp.
            case ERF -> { for (int i = 0; i < bound; i += l) { VectorErf.erf(v(x, xo + i)).intoArray(o, oo + i); } }
        }
        return bound;
    }

    // ---- binary ------------------------------------------------------------------------------------

    /**
     * {@code o[i] = a[i] op b[i]} for {@code i < n}; an operand flagged {@code ...Repeated} is the single
     * element at its offset, repeated (a 0-d tensor or a stride-0 broadcast).
     */
    static void binary(BinaryOp op, double[] a, int ao, boolean aRepeated, double[] b, int bo, boolean bRepeated,
                       double[] o, int oo, int n) {
        if (aRepeated && bRepeated) {
            java.util.Arrays.fill(o, oo, oo + n, ElementMath.binary(op, a[ao], b[bo]));
            return;
        }
        int bound = S.loopBound(n);
        if (aRepeated) {
            repeatedVector(op, DoubleVector.broadcast(S, a[ao]), b, bo, o, oo, bound);
        } else if (bRepeated) {
            vectorRepeated(op, a, ao, DoubleVector.broadcast(S, b[bo]), o, oo, bound);
        } else {
            vectorVector(op, a, ao, b, bo, o, oo, bound);
        }
        for (int i = bound; i < n; i++) {
            o[oo + i] = ElementMath.binary(op, a[aRepeated ? ao : ao + i], b[bRepeated ? bo : bo + i]);
        }
    }

    private static void vectorVector(BinaryOp op, double[] a, int ao, double[] b, int bo, double[] o, int oo, int bound) {
        int l = S.length();
        DoubleVector zero = DoubleVector.zero(S);
        DoubleVector one = DoubleVector.broadcast(S, 1.0);
        switch (op) {
            case ADD -> { for (int i = 0; i < bound; i += l) { v(a, ao + i).add(v(b, bo + i)).intoArray(o, oo + i); } }
            case SUB -> { for (int i = 0; i < bound; i += l) { v(a, ao + i).sub(v(b, bo + i)).intoArray(o, oo + i); } }
            case MUL -> { for (int i = 0; i < bound; i += l) { v(a, ao + i).mul(v(b, bo + i)).intoArray(o, oo + i); } }
            case DIV -> { for (int i = 0; i < bound; i += l) { v(a, ao + i).div(v(b, bo + i)).intoArray(o, oo + i); } }
            // Vector max/min are Math.max/min lane by lane: NaN propagates.
            case MAX -> { for (int i = 0; i < bound; i += l) { v(a, ao + i).max(v(b, bo + i)).intoArray(o, oo + i); } }
            case MIN -> { for (int i = 0; i < bound; i += l) { v(a, ao + i).min(v(b, bo + i)).intoArray(o, oo + i); } }
            case POW -> { for (int i = 0; i < bound; i += l) { v(a, ao + i).pow(v(b, bo + i)).intoArray(o, oo + i); } }
            case GT -> { for (int i = 0; i < bound; i += l) { zero.blend(one, v(a, ao + i).compare(VectorOperators.GT, v(b, bo + i))).intoArray(o, oo + i); } }
            case LT -> { for (int i = 0; i < bound; i += l) { zero.blend(one, v(a, ao + i).compare(VectorOperators.LT, v(b, bo + i))).intoArray(o, oo + i); } }
            case GE -> { for (int i = 0; i < bound; i += l) { zero.blend(one, v(a, ao + i).compare(VectorOperators.GE, v(b, bo + i))).intoArray(o, oo + i); } }
            case LE -> { for (int i = 0; i < bound; i += l) { zero.blend(one, v(a, ao + i).compare(VectorOperators.LE, v(b, bo + i))).intoArray(o, oo + i); } }
            case EQ -> { for (int i = 0; i < bound; i += l) { zero.blend(one, v(a, ao + i).compare(VectorOperators.EQ, v(b, bo + i))).intoArray(o, oo + i); } }
        }
    }

    private static void vectorRepeated(BinaryOp op, double[] a, int ao, DoubleVector b, double[] o, int oo, int bound) {
        int l = S.length();
        DoubleVector zero = DoubleVector.zero(S);
        DoubleVector one = DoubleVector.broadcast(S, 1.0);
        switch (op) {
            case ADD -> { for (int i = 0; i < bound; i += l) { v(a, ao + i).add(b).intoArray(o, oo + i); } }
            case SUB -> { for (int i = 0; i < bound; i += l) { v(a, ao + i).sub(b).intoArray(o, oo + i); } }
            case MUL -> { for (int i = 0; i < bound; i += l) { v(a, ao + i).mul(b).intoArray(o, oo + i); } }
            case DIV -> { for (int i = 0; i < bound; i += l) { v(a, ao + i).div(b).intoArray(o, oo + i); } }
            case MAX -> { for (int i = 0; i < bound; i += l) { v(a, ao + i).max(b).intoArray(o, oo + i); } }
            case MIN -> { for (int i = 0; i < bound; i += l) { v(a, ao + i).min(b).intoArray(o, oo + i); } }
            case POW -> { for (int i = 0; i < bound; i += l) { v(a, ao + i).pow(b).intoArray(o, oo + i); } }
            case GT -> { for (int i = 0; i < bound; i += l) { zero.blend(one, v(a, ao + i).compare(VectorOperators.GT, b)).intoArray(o, oo + i); } }
            case LT -> { for (int i = 0; i < bound; i += l) { zero.blend(one, v(a, ao + i).compare(VectorOperators.LT, b)).intoArray(o, oo + i); } }
            case GE -> { for (int i = 0; i < bound; i += l) { zero.blend(one, v(a, ao + i).compare(VectorOperators.GE, b)).intoArray(o, oo + i); } }
            case LE -> { for (int i = 0; i < bound; i += l) { zero.blend(one, v(a, ao + i).compare(VectorOperators.LE, b)).intoArray(o, oo + i); } }
            case EQ -> { for (int i = 0; i < bound; i += l) { zero.blend(one, v(a, ao + i).compare(VectorOperators.EQ, b)).intoArray(o, oo + i); } }
        }
    }

    private static void repeatedVector(BinaryOp op, DoubleVector a, double[] b, int bo, double[] o, int oo, int bound) {
        int l = S.length();
        DoubleVector zero = DoubleVector.zero(S);
        DoubleVector one = DoubleVector.broadcast(S, 1.0);
        switch (op) {
            case ADD -> { for (int i = 0; i < bound; i += l) { a.add(v(b, bo + i)).intoArray(o, oo + i); } }
            case SUB -> { for (int i = 0; i < bound; i += l) { a.sub(v(b, bo + i)).intoArray(o, oo + i); } }
            case MUL -> { for (int i = 0; i < bound; i += l) { a.mul(v(b, bo + i)).intoArray(o, oo + i); } }
            case DIV -> { for (int i = 0; i < bound; i += l) { a.div(v(b, bo + i)).intoArray(o, oo + i); } }
            case MAX -> { for (int i = 0; i < bound; i += l) { a.max(v(b, bo + i)).intoArray(o, oo + i); } }
            case MIN -> { for (int i = 0; i < bound; i += l) { a.min(v(b, bo + i)).intoArray(o, oo + i); } }
            case POW -> { for (int i = 0; i < bound; i += l) { a.pow(v(b, bo + i)).intoArray(o, oo + i); } }
            case GT -> { for (int i = 0; i < bound; i += l) { zero.blend(one, a.compare(VectorOperators.GT, v(b, bo + i))).intoArray(o, oo + i); } }
            case LT -> { for (int i = 0; i < bound; i += l) { zero.blend(one, a.compare(VectorOperators.LT, v(b, bo + i))).intoArray(o, oo + i); } }
            case GE -> { for (int i = 0; i < bound; i += l) { zero.blend(one, a.compare(VectorOperators.GE, v(b, bo + i))).intoArray(o, oo + i); } }
            case LE -> { for (int i = 0; i < bound; i += l) { zero.blend(one, a.compare(VectorOperators.LE, v(b, bo + i))).intoArray(o, oo + i); } }
            case EQ -> { for (int i = 0; i < bound; i += l) { zero.blend(one, a.compare(VectorOperators.EQ, v(b, bo + i))).intoArray(o, oo + i); } }
        }
    }

    // ---- where -------------------------------------------------------------------------------------

    /** {@code o[i] = c[i] != 0 ? a[i] : b[i]}, all contiguous. NaN is not 0, so a NaN condition picks a. */
    static void where(double[] c, int co, double[] a, int ao, double[] b, int bo, double[] o, int oo, int n) {
        int l = S.length();
        int bound = S.loopBound(n);
        DoubleVector zero = DoubleVector.zero(S);
        for (int i = 0; i < bound; i += l) {
            VectorMask<Double> pickB = v(c, co + i).compare(VectorOperators.EQ, zero);
            v(a, ao + i).blend(v(b, bo + i), pickB).intoArray(o, oo + i);
        }
        for (int i = bound; i < n; i++) {
            o[oo + i] = c[co + i] != 0.0 ? a[ao + i] : b[bo + i];
        }
    }

    // ---- reductions --------------------------------------------------------------------------------

    /** Reduces {@code x[off, off + len)}; MAX and MIN propagate NaN. */
    static double reduce(ReduceOp op, double[] x, int off, int len) {
        return switch (op) {
            case SUM -> sum(x, off, len);
            case MAX -> max(x, off, len);
            case MIN -> min(x, off, len);
        };
    }

    /** Two accumulators hide the add latency. */
    static double sum(double[] x, int off, int len) {
        int l = S.length();
        int i = 0;
        DoubleVector acc0 = DoubleVector.zero(S);
        DoubleVector acc1 = DoubleVector.zero(S);
        for (; i + 2 * l <= len; i += 2 * l) {
            acc0 = acc0.add(v(x, off + i));
            acc1 = acc1.add(v(x, off + i + l));
        }
        for (; i + l <= len; i += l) {
            acc0 = acc0.add(v(x, off + i));
        }
        double total = acc0.add(acc1).reduceLanes(VectorOperators.ADD);
        for (; i < len; i++) {
            total += x[off + i];
        }
        return total;
    }

    static double max(double[] x, int off, int len) {
        int l = S.length();
        int bound = S.loopBound(len);
        double result = Double.NEGATIVE_INFINITY;
        if (bound > 0) {
            DoubleVector acc = v(x, off);
            for (int i = l; i < bound; i += l) {
                acc = acc.max(v(x, off + i));
            }
            // reduceLanes does not promise which NaN (or whether a NaN) wins; amax/amin propagate it.
            result = hasNaN(acc) ? Double.NaN : acc.reduceLanes(VectorOperators.MAX);
        }
        for (int i = bound; i < len; i++) {
            result = StridedKernels.combine(ReduceOp.MAX, result, x[off + i]);
        }
        return result;
    }

    static double min(double[] x, int off, int len) {
        int l = S.length();
        int bound = S.loopBound(len);
        double result = Double.POSITIVE_INFINITY;
        if (bound > 0) {
            DoubleVector acc = v(x, off);
            for (int i = l; i < bound; i += l) {
                acc = acc.min(v(x, off + i));
            }
            // reduceLanes does not promise which NaN (or whether a NaN) wins; amax/amin propagate it.
            result = hasNaN(acc) ? Double.NaN : acc.reduceLanes(VectorOperators.MIN);
        }
        for (int i = bound; i < len; i++) {
            result = StridedKernels.combine(ReduceOp.MIN, result, x[off + i]);
        }
        return result;
    }

    private static boolean hasNaN(DoubleVector acc) {
        return acc.test(VectorOperators.IS_NAN).anyTrue();
    }

    /**
     * Reduction over the leading axis of a contiguous {@code [rows, cols]} block into {@code acc}
     * ({@code cols} slots from {@code accOff}, pre-filled with the identity), one contiguous row at a time.
     */
    static void reduceRows(ReduceOp op, double[] x, int off, int rows, int cols, double[] acc, int accOff) {
        int l = S.length();
        int bound = S.loopBound(cols);
        for (int r = 0; r < rows; r++) {
            int row = off + r * cols;
            switch (op) {
                case SUM -> { for (int j = 0; j < bound; j += l) { v(x, row + j).add(v(acc, accOff + j)).intoArray(acc, accOff + j); } }
                case MAX -> { for (int j = 0; j < bound; j += l) { v(x, row + j).max(v(acc, accOff + j)).intoArray(acc, accOff + j); } }
                case MIN -> { for (int j = 0; j < bound; j += l) { v(x, row + j).min(v(acc, accOff + j)).intoArray(acc, accOff + j); } }
            }
            for (int j = bound; j < cols; j++) {
                acc[accOff + j] = StridedKernels.combine(op, acc[accOff + j], x[row + j]);
            }
        }
    }

    private static DoubleVector v(double[] array, int at) {
        return DoubleVector.fromArray(S, array, at);
    }
}
