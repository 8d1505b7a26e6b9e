package dev.adjoint.conformance;

import dev.adjoint.DType;
import dev.adjoint.Tensor;
import dev.adjoint.TensorFactory;
import dev.adjoint.TensorShapeException;
import dev.adjoint.spi.Backend;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.function.Executable;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.DynamicContainer.dynamicContainer;
import static org.junit.jupiter.api.DynamicTest.dynamicTest;

/**
 * Dims of a 0-d tensor, against PyTorch 1.13: its maybe_wrap_dim lets dim 0 and -1 name the one
 * "dimension" of a 0-d tensor (as if it had shape [1]) for reductions, the softmax family, the running
 * ops, sort, gather and the views, and keepDim keeps the result 0-d. Other ops refuse a 0-d tensor
 * (narrow, split, chunk, unbind, roll along a dim, cat), and so do we, naming the op.
 */
public final class ZeroDimensionalDims {
    private static final double NAN = Double.NaN;

    /** An op taking a dim (0 or -1) and keepDim (ignored by the ops without one). */
    private interface DimOp {
        Tensor apply(Tensor x, int dim, boolean keepDim);
    }

    /**
     * The op on the 0-d tensors 5 and -0.5: its output and the gradient of that output. From PyTorch
     * 1.13, float64: {@code x = torch.tensor(v, dtype=torch.float64, requires_grad=True)}, then e.g.
     * {@code y = x.logsumexp(d, k); y.backward()}, the same for d in (0, -1) and k in (False, True).
     * A NaN gradient means "not compared" (see {@link #CASES}' var row).
     */
    private record Case(String op, DimOp f, double outAt5, double gradAt5, double outAtMinusHalf,
                        double gradAtMinusHalf) {
    }

    private static final List<Case> CASES = List.of(
            new Case("sum", (x, d, k) -> x.sum(d, k), 5, 1, -0.5, 1),
            new Case("mean", (x, d, k) -> x.mean(d, k), 5, 1, -0.5, 1),
            new Case("amax", (x, d, k) -> x.amax(d, k), 5, 1, -0.5, 1),
            new Case("amin", (x, d, k) -> x.amin(d, k), 5, 1, -0.5, 1),
            new Case("logSumExp", (x, d, k) -> x.logSumExp(d, k), 5, 1, -0.5, 1),
            new Case("norm(2)", (x, d, k) -> x.norm(2, d, k), 5, 1, 0.5, -1),
            new Case("norm(3)", (x, d, k) -> x.norm(3, d, k), 5, 1, 0.5, -1),
            new Case("norm(inf)", (x, d, k) -> x.norm(Double.POSITIVE_INFINITY, d, k), 5, 1, 0.5, -1),
            new Case("prod", (x, d, k) -> x.prod(d, k), 5, 1, -0.5, 1),
            new Case("var(correction 0)", (x, d, k) -> x.var(new int[] {d}, 0, k), 0, 0, 0, 0),
            // N - correction = 0: NaN, as PyTorch. Its gradient there is +-inf in PyTorch for a 0-d input
            // (NaN for shape [1]); ours is NaN for both, so only the value is compared.
            new Case("var", (x, d, k) -> x.var(d, k), NAN, NAN, NAN, NAN),
            new Case("max(dim)", (x, d, k) -> x.max(d, k).values(), 5, 1, -0.5, 1),
            new Case("min(dim)", (x, d, k) -> x.min(d, k).values(), 5, 1, -0.5, 1),
            new Case("softmax", (x, d, k) -> x.softmax(d), 1, 0, 1, 0),
            new Case("logSoftmax", (x, d, k) -> x.logSoftmax(d), 0, 0, 0, 0),
            new Case("cumsum", (x, d, k) -> x.cumsum(d), 5, 1, -0.5, 1),
            new Case("cumprod", (x, d, k) -> x.cumprod(d), 5, 1, -0.5, 1),
            new Case("sort", (x, d, k) -> x.sort(d, k).values(), 5, 1, -0.5, 1),
            new Case("topk(1)", (x, d, k) -> x.topk(1, d, true).values(), 5, 1, -0.5, 1),
            new Case("transpose", (x, d, k) -> x.transpose(d, 0), 5, 1, -0.5, 1),
            new Case("squeeze", (x, d, k) -> x.squeeze(d), 5, 1, -0.5, 1),
            new Case("flip", (x, d, k) -> x.flip(d), 5, 1, -0.5, 1),
            new Case("gather", (x, d, k) -> x.gather(d, Tensor.on(x.backend()).scalar(0L, DType.INT64)), 5, 1, -0.5, 1),
            new Case("indexSelect", (x, d, k) -> x.indexSelect(d, Tensor.on(x.backend()).fromArray(new long[] {0}, 1)),
                    5, 1, -0.5, 1),
            new Case("scatterAdd", (x, d, k) -> x.scatterAdd(d, Tensor.on(x.backend()).scalar(0L, DType.INT64),
                    Tensor.on(x.backend()).scalar(2, x.dtype())), 7, 1, 1.5, 1));

    private ZeroDimensionalDims() {
    }

    public static Stream<DynamicNode> tests(Backend backend) {
        List<DynamicNode> nodes = new ArrayList<>();
        for (DType dtype : List.of(DType.FLOAT64, DType.FLOAT32)) {
            List<DynamicNode> rows = new ArrayList<>();
            for (Case c : CASES) {
                rows.add(dynamicTest(c.op(), () -> check(c, Tensor.on(backend), dtype)));
            }
            nodes.add(dynamicContainer(dtype.name(), rows));
        }
        nodes.add(dynamicTest("argmax, argmin and the indices of max, sort and topk are 0",
                () -> indices(Tensor.on(backend))));
        nodes.add(dynamicTest("gather, indexSelect and scatterAdd take a 0-d index or input as a vector of one",
                () -> indexing(Tensor.on(backend))));
        nodes.add(dynamicTest("dims other than 0 and -1 are refused, naming the op and [-1, 0]",
                () -> outOfRange(Tensor.on(backend))));
        nodes.add(dynamicTest("ops PyTorch refuses on a 0-d tensor are refused, naming the op",
                () -> refused(Tensor.on(backend))));
        return nodes.stream();
    }

    private static void check(Case c, TensorFactory f, DType dtype) {
        double tolerance = dtype == DType.FLOAT64 ? 1e-15 : 1e-6;
        for (double value : new double[] {5, -0.5}) {
            for (int dim : new int[] {0, -1}) {
                for (boolean keepDim : new boolean[] {false, true}) {
                    String where = c.op() + " of " + value + " along " + dim + (keepDim ? ", keepDim" : "") + ", "
                            + dtype + " on " + f.backend().name();
                    Tensor x = f.scalar(value, dtype).requiresGrad(true);
                    Tensor y = c.f().apply(x, dim, keepDim);
                    assertArrayEquals(new int[0], y.shape().toArray(), where + ": shape");
                    assertEquals(dtype, y.dtype(), where + ": dtype");
                    double out = value == 5 ? c.outAt5() : c.outAtMinusHalf();
                    double grad = value == 5 ? c.gradAt5() : c.gradAtMinusHalf();
                    Compare.assertClose(where + " output", new double[] {out}, y.toDoubleArray(), tolerance, tolerance);
                    if (!Double.isNaN(grad)) {
                        y.backward();
                        Compare.assertClose(where + " gradient", new double[] {grad}, x.grad().toDoubleArray(),
                                tolerance, tolerance);
                    }
                }
            }
        }
    }

    private static void indices(TensorFactory f) {
        Tensor x = f.scalar(5, DType.FLOAT32);
        for (int dim : new int[] {0, -1}) {
            for (Tensor index : List.of(x.argmax(dim, false), x.argmin(dim, true), x.max(dim, false).indices(),
                    x.min(dim, true).indices(), x.sort(dim, true).indices(), x.argsort(dim, false),
                    x.topk(1, dim, false).indices())) {
                assertArrayEquals(new int[0], index.shape().toArray());
                assertEquals(DType.INT64, index.dtype());
                assertArrayEquals(new long[] {0}, index.toLongArray());
            }
        }
    }

    private static void indexing(TensorFactory f) {
        Tensor x = f.scalar(5, DType.FLOAT64);
        Tensor vector = f.fromArray(new double[] {1, 2, 3}, 3);
        Tensor zero = f.scalar(0L, DType.INT64);
        // PyTorch: x.gather(0, torch.tensor([0, 0])) = [5, 5]; the output has the index's shape.
        Tensor twice = x.gather(0, f.fromArray(new long[] {0, 0}, 2));
        assertArrayEquals(new int[] {2}, twice.shape().toArray());
        assertArrayEquals(new double[] {5, 5}, twice.toDoubleArray());
        // torch.tensor([1., 2, 3]).gather(0, torch.tensor(2)) = tensor(3.)
        Tensor picked = vector.gather(-1, f.scalar(2L, DType.INT64));
        assertArrayEquals(new int[0], picked.shape().toArray());
        assertArrayEquals(new double[] {3}, picked.toDoubleArray());
        // torch.tensor([1., 2, 3]).index_select(0, torch.tensor(1)) = tensor([2.])
        Tensor selected = vector.indexSelect(0, f.scalar(1L, DType.INT64));
        assertArrayEquals(new int[] {1}, selected.shape().toArray());
        assertArrayEquals(new double[] {2}, selected.toDoubleArray());
        assertArrayEquals(new double[] {5}, x.indexSelect(0, zero).toDoubleArray());
        // x.scatter_add(0, torch.tensor([0, 0]), torch.tensor([2., 3.])) = tensor(10.)
        Tensor base = f.scalar(5, DType.FLOAT64).requiresGrad(true);
        Tensor src = f.fromArray(new double[] {2, 3}, 2).requiresGrad(true);
        Tensor summed = base.scatterAdd(0, f.fromArray(new long[] {0, 0}, 2), src);
        assertArrayEquals(new int[0], summed.shape().toArray());
        assertArrayEquals(new double[] {10}, summed.toDoubleArray());
        summed.backward();
        assertArrayEquals(new double[] {1}, base.grad().toDoubleArray());
        assertArrayEquals(new double[] {1, 1}, src.grad().toDoubleArray());
        // torch.tensor([1., 2, 3]).scatter_add(0, torch.tensor(1), torch.tensor(2.)) = [1, 4, 3]
        assertArrayEquals(new double[] {1, 4, 3},
                vector.scatterAdd(0, f.scalar(1L, DType.INT64), f.scalar(2, DType.FLOAT64)).toDoubleArray());

        expectMessage(IndexOutOfBoundsException.class, "gather: index 1 at position 0 is out of range for dimension 0 "
                + "of size 1 (a 0-d input)", () -> x.gather(0, f.scalar(1L, DType.INT64)));
        expectMessage(TensorShapeException.class, "gather: index shape [1, 1] and input shape [] must have the same "
                + "number of dimensions", () -> x.gather(0, f.fromArray(new long[] {0}, 1, 1)));
        expectMessage(TensorShapeException.class, "indexSelect: a 0-d input takes exactly one index, got index shape [2]",
                () -> x.indexSelect(0, f.fromArray(new long[] {0, 0}, 2)));
        expectMessage(IndexOutOfBoundsException.class, "scatterAdd: index 1 at position 0 is out of range for dimension 0"
                + " of size 1 (a 0-d input)", () -> x.scatterAdd(0, f.fromArray(new long[] {1}, 1),
                f.fromArray(new double[] {2}, 1)));
    }

    private static void outOfRange(TensorFactory f) {
        Tensor x = f.scalar(5, DType.FLOAT32);
        List<Function<Integer, Object>> calls = List.of(d -> x.sum(d, false), d -> x.argmax(d, true),
                d -> x.softmax(d), d -> x.transpose(0, d), d -> x.squeeze(d), d -> x.cumsum(d), d -> x.max(d, false),
                d -> x.gather(d, f.scalar(0L, DType.INT64)));
        List<String> ops = List.of("sum", "argmax", "softmax", "transpose", "squeeze", "cumsum", "max", "gather");
        for (int i = 0; i < calls.size(); i++) {
            for (int dim : new int[] {1, -2}) {
                Function<Integer, Object> call = calls.get(i);
                expectMessage(TensorShapeException.class, ops.get(i) + ": dimension " + dim
                        + " is out of range for shape [] (valid: [-1, 0]", () -> call.apply(dim));
            }
        }
        expectMessage(TensorShapeException.class, "sum: dimension -1 appears twice in [0, -1] for shape []",
                () -> x.sum(new int[] {0, -1}, false));
        expectMessage(TensorShapeException.class, "stack: dimension 1 is out of range for stacking tensors of shape [] "
                + "(valid: [-1, 0])", () -> Tensor.stack(List.of(x, x), 1));
    }

    private static void refused(TensorFactory f) {
        Tensor x = f.scalar(5, DType.FLOAT32);
        expectMessage(TensorShapeException.class, "cat: tensor 1 is 0-d (shape []) and cannot be concatenated",
                () -> Tensor.cat(List.of(f.ones(DType.FLOAT32, 1), x), 0));
        List<Executable> calls = List.of(() -> x.narrow(0, 0, 1), () -> x.split(1, 0), () -> x.chunk(1, -1),
                () -> x.unbind(0), () -> x.roll(1, 0));
        List<String> ops = List.of("narrow", "split", "chunk", "unbind", "roll");
        for (int i = 0; i < calls.size(); i++) {
            Executable call = calls.get(i);
            TensorShapeException e = assertThrows(TensorShapeException.class, call, ops.get(i));
            assertTrue(e.getMessage().startsWith(ops.get(i) + ": ") && e.getMessage().contains("0-d"), e.getMessage());
        }
    }

    private static void expectMessage(Class<? extends Throwable> type, String messagePart, Executable call) {
        Throwable e = assertThrows(type, call, messagePart);
        assertTrue(e.getMessage().contains(messagePart), "expected \"" + messagePart + "\" in \"" + e.getMessage() + "\"");
    }
}
