package dev.adjoint.conformance;

import dev.adjoint.DType;
import dev.adjoint.Tensor;
import dev.adjoint.TensorFactory;
import dev.adjoint.TensorShapeException;
import dev.adjoint.spi.Backend;
import org.junit.jupiter.api.DynamicNode;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.BiFunction;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.DynamicContainer.dynamicContainer;
import static org.junit.jupiter.api.DynamicTest.dynamicTest;

/**
 * Arguments at the edge of what an op takes, against PyTorch 1.13: narrow's negative starts, clamp's
 * crossed and NaN bounds, and reductions over an empty list of dims (which PyTorch 1.13 reads as every
 * dim). Each table row holds the output and the gradient of {@code sum(out * [1, 2, ...])}, from
 * PyTorch in float64.
 */
public final class ArgumentEdgeCases {
    private static final double NAN = Double.NaN;

    /** {@code x.narrow(dim, start, length)} of {@code x = arange(numel).reshape(shape) + offset}. */
    private record Narrow(int[] shape, double offset, int dim, int start, int length, int[] outShape, double[] out,
                          double[] grad) {
    }

    /** From {@code torch.tensor([1., 2, 3]).narrow(0, s, l)} and {@code torch.arange(12.).reshape(3, 4).narrow(...)}. */
    private static final List<Narrow> NARROWS = List.of(
            new Narrow(ints(3), 1, 0, -2, 2, ints(2), v(2, 3), v(0, 1, 2)),
            new Narrow(ints(3), 1, 0, -3, 3, ints(3), v(1, 2, 3), v(1, 2, 3)),
            new Narrow(ints(3), 1, 0, -1, 1, ints(1), v(3), v(0, 0, 1)),
            new Narrow(ints(3), 1, 0, -3, 0, ints(0), v(), v(0, 0, 0)),
            new Narrow(ints(3), 1, 0, 3, 0, ints(0), v(), v(0, 0, 0)),
            new Narrow(ints(3, 4), 0, -1, -3, 2, ints(3, 2), v(1, 2, 5, 6, 9, 10), v(0, 1, 2, 0, 0, 3, 4, 0, 0, 5, 6, 0)),
            new Narrow(ints(3, 4), 0, 0, -1, 1, ints(1, 4), v(8, 9, 10, 11), v(0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4)),
            // A dimension of size 0 takes start -1 as well, as PyTorch wraps it like a dim of a 0-d tensor.
            new Narrow(ints(0), 0, 0, -1, 0, ints(0), v(), v()));

    /** {@code x.clamp(min, max)} of {@link #CLAMPED}. */
    private record Clamp(double min, double max, double[] out, double[] grad) {
    }

    private static final double[] CLAMPED = {-1, -0.5, 0, 0.25, 0.5, 1, 2, NAN};

    /**
     * PyTorch computes min(max(x, min), max): max everywhere when min > max, NaN everywhere for a NaN
     * bound; the gradient passes only where min <= x <= max.
     */
    private static final List<Clamp> CLAMPS = List.of(
            new Clamp(-0.5, 0.5, v(-0.5, -0.5, 0, 0.25, 0.5, 0.5, 0.5, NAN), v(0, 2, 3, 4, 5, 0, 0, 0)),
            new Clamp(0.5, 0.5, v(0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, NAN), v(0, 0, 0, 0, 5, 0, 0, 0)),
            new Clamp(1, 0, v(0, 0, 0, 0, 0, 0, 0, NAN), v(0, 0, 0, 0, 0, 0, 0, 0)),
            new Clamp(0.5, -0.5, v(-0.5, -0.5, -0.5, -0.5, -0.5, -0.5, -0.5, NAN), v(0, 0, 0, 0, 0, 0, 0, 0)),
            new Clamp(NAN, 1, v(NAN, NAN, NAN, NAN, NAN, NAN, NAN, NAN), v(0, 0, 0, 0, 0, 0, 0, 0)),
            new Clamp(0, NAN, v(NAN, NAN, NAN, NAN, NAN, NAN, NAN, NAN), v(0, 0, 0, 0, 0, 0, 0, 0)));

    /** A reduction of {@code [[1, 2], [3, 5]]} over {@code new int[0]}; a null gradient is not compared. */
    private record EmptyDims(String op, BiFunction<Tensor, Boolean, Tensor> f, double out, double[] grad) {
    }

    private static final int[] NO_DIMS = new int[0];

    /**
     * From {@code x.sum((), keepdim=k)} and so on. PyTorch 1.13's var and std give the value over every
     * dim but a gradient computed with N = 1 (+-inf with correction 1, 4x too large with correction 0),
     * not the derivative of that value; ours is the derivative (which gradcheck pins in the catalogue),
     * so only their values are compared. Its logsumexp fails without keepdim ("output with shape []
     * doesn't match the broadcast shape [1, 1]"); ours gives the 0-d value that keepdim=True gives as [1, 1].
     */
    private static final List<EmptyDims> EMPTY_DIMS = List.of(
            new EmptyDims("sum", (x, k) -> x.sum(NO_DIMS, k), 11, v(1, 1, 1, 1)),
            new EmptyDims("mean", (x, k) -> x.mean(NO_DIMS, k), 2.75, v(0.25, 0.25, 0.25, 0.25)),
            new EmptyDims("amax", (x, k) -> x.amax(NO_DIMS, k), 5, v(0, 0, 0, 1)),
            new EmptyDims("amin", (x, k) -> x.amin(NO_DIMS, k), 1, v(1, 0, 0, 0)),
            new EmptyDims("var", (x, k) -> x.var(NO_DIMS, 1, k), 2.9166666666666665, null),
            new EmptyDims("var(correction 0)", (x, k) -> x.var(NO_DIMS, 0, k), 2.1875, null),
            new EmptyDims("std", (x, k) -> x.std(NO_DIMS, 1, k), 1.707825127659933, null),
            new EmptyDims("norm(2)", (x, k) -> x.norm(2, NO_DIMS, k), 6.244997998398398,
                    v(0.16012815380508713, 0.32025630761017426, 0.48038446141526137, 0.8006407690254357)),
            new EmptyDims("norm(3)", (x, k) -> x.norm(3, NO_DIMS, k), 5.4401218254147965,
                    v(0.03378957655537142, 0.13515830622148567, 0.30410618899834274, 0.8447394138842854)),
            new EmptyDims("norm(inf)", (x, k) -> x.norm(Double.POSITIVE_INFINITY, NO_DIMS, k), 5, v(0, 0, 0, 1)),
            new EmptyDims("logSumExp", (x, k) -> x.logSumExp(NO_DIMS, k), 5.185182452603812,
                    v(0.015219428864155931, 0.041370696920960154, 0.11245721367093256, 0.8309526605439516)));

    private ArgumentEdgeCases() {
    }

    private static double[] v(double... values) {
        return values;
    }

    private static int[] ints(int... values) {
        return values;
    }

    public static Stream<DynamicNode> tests(Backend backend) {
        TensorFactory f = Tensor.on(backend);
        List<DynamicNode> nodes = new ArrayList<>();
        for (DType dtype : List.of(DType.FLOAT64, DType.FLOAT32)) {
            List<DynamicNode> rows = new ArrayList<>();
            for (Narrow n : NARROWS) {
                rows.add(dynamicTest("narrow(" + n.dim() + ", " + n.start() + ", " + n.length() + ") of shape "
                        + Arrays.toString(n.shape()), () -> narrow(n, f, dtype)));
            }
            for (Clamp c : CLAMPS) {
                rows.add(dynamicTest("clamp(" + c.min() + ", " + c.max() + ")", () -> clamp(c, f, dtype)));
            }
            for (EmptyDims e : EMPTY_DIMS) {
                rows.add(dynamicTest(e.op() + " over no dims: every dim", () -> emptyDims(e, f, dtype)));
            }
            nodes.add(dynamicContainer(dtype.name(), rows));
        }
        nodes.add(dynamicTest("narrow refuses starts outside [-size, size], naming them and the shape",
                () -> narrowOutOfRange(f)));
        nodes.add(dynamicTest("clamp of an integer tensor: crossed bounds as PyTorch, fractional bounds refused",
                () -> clampIntegers(f)));
        nodes.add(dynamicTest("flip over no dims is a copy", () -> assertArrayEquals(v(1, 2, 3),
                f.fromArray(v(1, 2, 3), 3).flip(NO_DIMS).toDoubleArray())));
        return nodes.stream();
    }

    private static double tolerance(DType dtype) {
        return dtype == DType.FLOAT64 ? 1e-15 : 1e-6;
    }

    /** {@code sum(y * [1, 2, ...])}: a gradient that shows where each output element came from. */
    private static void backwardWeighted(TensorFactory f, Tensor y) {
        y.mul(GradientEdgeCases.counting(f, y.dtype(), y.shape().toArray())).sum().backward();
    }

    private static void narrow(Narrow n, TensorFactory f, DType dtype) {
        int numel = Arrays.stream(n.shape()).reduce(1, (a, b) -> a * b);
        double[] values = new double[numel];
        for (int i = 0; i < numel; i++) {
            values[i] = i + n.offset();
        }
        Tensor x = f.fromArray(values, dtype, n.shape()).requiresGrad(true);
        Tensor y = x.narrow(n.dim(), n.start(), n.length());
        String where = "narrow(" + n.dim() + ", " + n.start() + ", " + n.length() + ") " + dtype + " on "
                + f.backend().name();
        assertArrayEquals(n.outShape(), y.shape().toArray(), where + ": shape");
        Compare.assertClose(where + " output", n.out(), y.toDoubleArray(), 0, 0);
        backwardWeighted(f, y);
        Compare.assertClose(where + " gradient", n.grad(), x.grad().toDoubleArray(), 0, 0);
    }

    private static void clamp(Clamp c, TensorFactory f, DType dtype) {
        Tensor x = f.fromArray(CLAMPED, dtype, CLAMPED.length).requiresGrad(true);
        Tensor y = x.clamp(c.min(), c.max());
        String where = "clamp(" + c.min() + ", " + c.max() + ") " + dtype + " on " + f.backend().name();
        Compare.assertClose(where + " output", c.out(), y.toDoubleArray(), 0, 0);
        backwardWeighted(f, y);
        Compare.assertClose(where + " gradient", c.grad(), x.grad().toDoubleArray(), 0, 0);
    }

    private static void emptyDims(EmptyDims e, TensorFactory f, DType dtype) {
        for (boolean keepDim : new boolean[] {false, true}) {
            Tensor x = f.fromArray(v(1, 2, 3, 5), dtype, 2, 2).requiresGrad(true);
            Tensor y = e.f().apply(x, keepDim);
            String where = e.op() + "(new int[0], " + keepDim + ") " + dtype + " on " + f.backend().name();
            assertArrayEquals(keepDim ? ints(1, 1) : ints(), y.shape().toArray(), where + ": shape");
            Compare.assertClose(where + " output", v(e.out()), y.toDoubleArray(), tolerance(dtype), tolerance(dtype));
            if (e.grad() != null) {
                backwardWeighted(f, y);
                Compare.assertClose(where + " gradient", e.grad(), x.grad().toDoubleArray(), tolerance(dtype),
                        tolerance(dtype));
            }
        }
    }

    private static void narrowOutOfRange(TensorFactory f) {
        Tensor x = f.fromArray(v(1, 2, 3), 3);
        for (int start : new int[] {-4, 4}) {
            TensorShapeException e = assertThrows(TensorShapeException.class, () -> x.narrow(0, start, 0));
            assertEquals("narrow: start " + start + " is out of range for dimension 0 of size 3 (shape [3]; "
                    + "valid: [-3, 3])", e.getMessage());
        }
        TensorShapeException pastTheEnd = assertThrows(TensorShapeException.class, () -> x.narrow(0, -1, 2));
        assertEquals("narrow: start -1 and length 2 exceed dimension 0 of size 3 (shape [3])", pastTheEnd.getMessage());
        TensorShapeException empty = assertThrows(TensorShapeException.class,
                () -> f.zeros(DType.FLOAT32, 2, 0).narrow(1, -2, 0));
        assertEquals("narrow: start -2 is out of range for dimension 1 of size 0 (shape [2, 0]; valid: [-1, 0])",
                empty.getMessage());
    }

    private static void clampIntegers(TensorFactory f) {
        // torch.tensor([1, 5, 9]).clamp(6, 2) = tensor([2, 2, 2])
        Tensor crossed = f.fromArray(new long[] {1, 5, 9}, 3).clamp(6, 2);
        assertEquals(DType.INT64, crossed.dtype());
        assertArrayEquals(new long[] {2, 2, 2}, crossed.toLongArray());
        for (double bound : new double[] {2.5, NAN}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> f.fromArray(new long[] {1, 5, 9}, 3).clamp(bound, 6));
            assertTrue(e.getMessage().startsWith("clamp: the bound " + bound + " is not a whole number, so it cannot "
                    + "clamp a tensor of dtype INT64 (shape [3])"), e.getMessage());
        }
    }
}
