package dev.adjoint.conformance;

import dev.adjoint.DType;
import dev.adjoint.Generator;
import dev.adjoint.Tensor;
import dev.adjoint.TensorFactory;
import dev.adjoint.TensorShapeException;
import dev.adjoint.check.GradCheck;
import dev.adjoint.spi.Backend;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.function.Executable;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Function;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.DynamicTest.dynamicTest;

/**
 * reshape is a view whenever the input's strides allow the new shape and a copy otherwise, and view
 * refuses where reshape would copy: PyTorch's rule (ATen's computeStride), with the strides PyTorch
 * gives. Code that relies on reshape's result owning its memory, or on writes through it reaching the
 * input, sees the same thing on every backend.
 */
public final class ReshapeViews {
    private final TensorFactory f;

    private ReshapeViews(Backend backend) {
        this.f = Tensor.on(backend);
    }

    public static Stream<DynamicNode> tests(Backend backend) {
        ReshapeViews s = new ReshapeViews(backend);
        List<DynamicNode> tests = new ArrayList<>();
        add(tests, "reshape and view of permuted, transposed, sliced and expanded tensors alias them, "
                + "with PyTorch's strides", s::viewsWithPyTorchStrides);
        add(tests, "writes through a reshape view reach the input", s::writesThrough);
        add(tests, "reshape copies where no strides fit, and view refuses naming shapes and strides",
                s::copiesWhereNoViewExists);
        add(tests, "a reshape view shares the input's version counter; a copy has its own", s::versionCounter);
        add(tests, "gradients, grad of grad and tangents through reshape and view of strided inputs",
                s::gradients);
        add(tests, "size-1 dims, 0-d tensors and empty tensors", s::sizeOneAndEmpty);
        add(tests, "-1 is inferred by view as by reshape, and errors name the op", s::inference);
        add(tests, "repeat returns memory of its own even where its reshapes are views", s::repeatOwnsItsMemory);
        add(tests, "a view's elements read out in row-major order, as doubles, floats and longs, from every dtype",
                s::readOut);
        return tests.stream();
    }

    private static void add(List<DynamicNode> tests, String name, Executable body) {
        tests.add(dynamicTest(name, body));
    }

    private Tensor range(int... shape) {
        int n = Arrays.stream(shape).reduce(1, (a, b) -> a * b);
        return f.arange(0, n, 1, DType.FLOAT64).reshape(shape);
    }

    /** A reshape that must be a view, its input, shape and what PyTorch 1.13 gives for it. */
    private record ViewCase(String name, Tensor input, int[] shape, int[] strides, int offset) {
    }

    /**
     * Strides and storage offsets printed by PyTorch 1.13 for the same calls, e.g.
     * {@code torch.arange(24.).reshape(2, 3, 4).permute(2, 0, 1).reshape(4, 6).stride()}.
     */
    private List<ViewCase> viewCases() {
        Tensor unsqueezed = range(4, 3).transpose(0, 1).unsqueeze(1); // [3, 1, 4], strides [1, 12, 3]
        return List.of(
                new ViewCase("permute(2, 0, 1) of [2, 3, 4], last two merged", range(2, 3, 4).permute(2, 0, 1),
                        new int[] {4, 6}, new int[] {1, 4}, 0),
                new ViewCase("permute(0, 3, 1, 2) of [2, 3, 4, 5], last two merged",
                        range(2, 3, 4, 5).permute(0, 3, 1, 2), new int[] {2, 5, 12}, new int[] {60, 1, 5}, 0),
                new ViewCase("narrow(2, 1, 4) of [2, 3, 7], leading dims merged", range(2, 3, 7).narrow(2, 1, 4),
                        new int[] {6, 4}, new int[] {7, 1}, 1),
                new ViewCase("transpose of [4, 3], last dim split", range(4, 3).transpose(0, 1),
                        new int[] {3, 2, 2}, new int[] {1, 6, 3}, 0),
                new ViewCase("[1, 3] expanded to [4, 3], first dim split", range(1, 3).expand(4, 3),
                        new int[] {2, 2, 3}, new int[] {0, 0, 1}, 0),
                new ViewCase("[3, 1] expanded to [3, 4], last dim split", range(3, 1).expand(3, 4),
                        new int[] {3, 2, 2}, new int[] {1, 0, 0}, 0),
                new ViewCase("size-1 dim moved last", unsqueezed, new int[] {3, 4, 1}, new int[] {1, 3, 3}, 0),
                new ViewCase("size-1 dims added around a split", unsqueezed, new int[] {1, 3, 2, 2, 1},
                        new int[] {3, 1, 6, 3, 3}, 0),
                new ViewCase("size-1 dim between split halves", unsqueezed, new int[] {3, 2, 1, 2},
                        new int[] {1, 6, 6, 3}, 0));
    }

    void viewsWithPyTorchStrides() {
        for (ViewCase c : viewCases()) {
            double[] expected = c.input().contiguous().toDoubleArray();
            for (boolean view : new boolean[] {false, true}) {
                String what = (view ? "view " : "reshape ") + c.name();
                Tensor out = view ? c.input().view(c.shape()) : c.input().reshape(c.shape());
                assertArrayEquals(c.shape(), out.shape().toArray(), what);
                assertSame(c.input().storage(), out.storage(), what + ": a view");
                assertArrayEquals(c.strides(), out.layout().strides(), what + ": PyTorch's strides");
                assertEquals(c.offset(), out.layout().offset(), what + ": PyTorch's storage offset");
                assertArrayEquals(expected, out.toDoubleArray(), 0, what + ": the elements in row-major order");
            }
        }
    }

    void writesThrough() {
        Tensor base = range(2, 3, 4, 5);
        Tensor merged = base.permute(0, 3, 1, 2).reshape(2, 5, 12);
        merged.narrow(1, 2, 1).fill_(-1);
        // Dim 1 of the view is the input's last dim: every element with index 2 there was written.
        double[] values = base.toDoubleArray();
        for (int i = 0; i < values.length; i++) {
            assertEquals(i % 5 == 2 ? -1 : i, values[i], 0, "element " + i + " of the base");
        }
        Tensor sliced = range(2, 3, 7);
        sliced.narrow(2, 1, 4).reshape(6, 4).narrow(0, 5, 1).add_(f.fromArray(new double[] {100, 100, 100, 100}, 4));
        double[] expected = range(2, 3, 7).toDoubleArray();
        for (int j = 1; j <= 4; j++) {
            expected[5 * 7 + j] += 100;
        }
        assertArrayEquals(expected, sliced.toDoubleArray(), 0, "row 5 of the merged rows is row [1, 2] of the base");
        Tensor transposed = range(4, 3);
        transposed.transpose(0, 1).view(3, 2, 2).narrow(0, 1, 1).mul_(0);
        double[] column = transposed.toDoubleArray();
        for (int i = 0; i < column.length; i++) {
            assertEquals(i % 3 == 1 ? 0 : i, column[i], 0, "element " + i + " of the transposed base");
        }
    }

    void copiesWhereNoViewExists() {
        record CopyCase(String name, Tensor input, int[] shape) {
        }
        List<CopyCase> cases = List.of(
                new CopyCase("transpose of [4, 3] flattened", range(4, 3).transpose(0, 1), new int[] {12}),
                new CopyCase("permute(0, 3, 1, 2) of [2, 3, 4, 5], first two merged",
                        range(2, 3, 4, 5).permute(0, 3, 1, 2), new int[] {10, 12}),
                new CopyCase("narrow(2, 1, 4) of [2, 3, 7] flattened", range(2, 3, 7).narrow(2, 1, 4), new int[] {-1}),
                new CopyCase("[1, 3] expanded to [4, 3] flattened", range(1, 3).expand(4, 3), new int[] {12}));
        for (CopyCase c : cases) {
            double[] before = c.input().toDoubleArray();
            Tensor out = c.input().reshape(c.shape());
            assertNotSame(c.input().storage(), out.storage(), c.name() + ": a copy");
            assertTrue(out.isContiguous(), c.name() + ": contiguous, as PyTorch's copy");
            assertArrayEquals(before, out.toDoubleArray(), 0, c.name() + ": the elements in row-major order");
            out.fill_(-7);
            assertArrayEquals(before, c.input().toDoubleArray(), 0, c.name() + ": the input is untouched");
            TensorShapeException e = assertThrows(TensorShapeException.class, () -> c.input().view(c.shape()));
            assertTrue(e.getMessage().contains("view: shape " + out.shape() + " is not compatible with the input's shape "
                    + c.input().shape() + " and strides " + Arrays.toString(c.input().layout().strides())
                    + " (at least one dimension spans across two contiguous subspaces); use reshape"), e.getMessage());
        }
    }

    void versionCounter() {
        Tensor x = range(4, 3);
        Tensor view = x.transpose(0, 1).reshape(3, 2, 2);
        Tensor copy = x.transpose(0, 1).reshape(12);
        view.narrow(0, 0, 1).fill_(1);
        assertEquals(1, x.version(), "a write through the view moves the input's counter");
        copy.fill_(1);
        assertEquals(1, x.version(), "a write into the copy does not");

        // Saved through the view, as any other view: an in-place update of the input is caught.
        Tensor w = f.fromArray(new double[] {1, 2, 3, 4}, 2, 2).requiresGrad(true);
        Tensor input = range(4, 3);
        Tensor y = input.transpose(0, 1).reshape(3, 2, 2).mul(w).sum();
        try (var scope = Tensor.noGrad()) {
            input.add_(1);
        }
        IllegalStateException stale = assertThrows(IllegalStateException.class, y::backward);
        assertTrue(stale.getMessage().contains("was modified by an in-place operation"), stale.getMessage());

        // And a reshape view of a tensor that records a graph takes no in-place update while recording.
        Tensor leaf = range(4, 3).requiresGrad(true);
        IllegalStateException recording = assertThrows(IllegalStateException.class,
                () -> leaf.transpose(0, 1).reshape(3, 2, 2).add_(1));
        assertTrue(recording.getMessage().contains("inside Tensor.noGrad()"), recording.getMessage());
    }

    void gradients() {
        List<Function<Tensor, Tensor>> calls = List.of(
                x -> x.permute(2, 0, 1).reshape(4, 6),
                x -> x.permute(2, 0, 1).view(4, -1),
                x -> x.transpose(0, 2).reshape(-1),
                x -> x.narrow(2, 1, 2).reshape(6, 2),
                x -> x.narrow(2, 1, 2).view(3, 2, 2, 1),
                x -> x.narrow(0, 1, 1).expand(3, 3, 4).reshape(9, 2, 2),
                x -> x.narrow(0, 1, 1).expand(3, 3, 4).reshape(3, 12));
        for (int i = 0; i < calls.size(); i++) {
            Function<Tensor, Tensor> call = calls.get(i);
            Tensor leaf = f.randn(new Generator(i), DType.FLOAT64, 2, 3, 4).requiresGrad(true);
            // square(): the second derivative then depends on the input, so grad of grad checks something.
            Function<List<Tensor>, Tensor> fn = in -> call.apply(in.get(0)).square();
            String name = "reshape case " + i;
            GradCheck.gradcheck(name, fn, List.of(leaf), GradCheck.Options.defaults());
            GradCheck.gradgradcheck(name, fn, List.of(leaf), GradCheck.Options.defaults());
            GradCheck.jvpcheck(name, fn, List.of(leaf), GradCheck.Options.defaults());
        }
    }

    void sizeOneAndEmpty() {
        // PyTorch 1.13: torch.zeros(0, 3).t().reshape(0, 5).stride() == (5, 1), .reshape(5, 0, 1) (1, 1, 1).
        Tensor empty = f.zeros(DType.FLOAT64, 0, 3).requiresGrad(true);
        Tensor t = empty.transpose(0, 1);
        Tensor flat = t.reshape(0, 5);
        assertSame(t.storage(), flat.storage(), "without elements any strides are a view");
        assertArrayEquals(new int[] {5, 1}, flat.layout().strides());
        assertArrayEquals(new int[] {1, 1, 1}, t.view(5, 0, 1).layout().strides());
        flat.sum().backward();
        assertArrayEquals(new int[] {0, 3}, empty.grad().shape().toArray());

        // torch.tensor(5.).reshape(1, 1).stride() == (1, 1)
        Tensor scalar = f.scalar(5.0, DType.FLOAT64);
        assertArrayEquals(new int[] {1, 1}, scalar.view(1, 1).layout().strides());
        assertArrayEquals(new double[] {5}, scalar.reshape(-1).toDoubleArray(), 0);
        assertArrayEquals(new int[] {}, scalar.view(1, 1).view().shape().toArray());

        // Size-1 dims of any stride join whichever run they sit in.
        Tensor column = range(3, 4).narrow(1, 2, 1); // [3, 1], strides [4, 1]
        Tensor row = column.view(1, 3);
        assertSame(column.storage(), row.storage());
        assertArrayEquals(new double[] {2, 6, 10}, row.toDoubleArray(), 0);
        assertSame(column, column.view(3, 1), "the same shape is the tensor itself");
    }

    void inference() {
        Tensor x = range(4, 3).transpose(0, 1);
        assertArrayEquals(new int[] {3, 2, 2}, x.view(3, -1, 2).shape().toArray());
        TensorShapeException count = assertThrows(TensorShapeException.class, () -> x.view(-1, 5));
        assertTrue(count.getMessage().contains("view: shape [-1, 5] is invalid for input of shape [3, 4] (12 elements)"),
                count.getMessage());
        TensorShapeException two = assertThrows(TensorShapeException.class, () -> x.view(-1, -1));
        assertTrue(two.getMessage().contains("view: only one dimension can be -1"), two.getMessage());
        TensorShapeException reshape = assertThrows(TensorShapeException.class, () -> x.reshape(5, -1));
        assertTrue(reshape.getMessage().contains("reshape: shape [5, -1] is invalid"), reshape.getMessage());
    }

    void repeatOwnsItsMemory() {
        List<UnaryOperator<Tensor>> repeats = List.of(x -> x.repeat(1, 1), x -> x.repeat(1, 4), x -> x.repeat(2, 1, 1));
        for (UnaryOperator<Tensor> repeat : repeats) {
            Tensor x = range(3, 1);
            Tensor out = repeat.apply(x);
            double[] before = out.toDoubleArray();
            assertNotSame(x.storage(), out.storage());
            out.fill_(-1);
            assertArrayEquals(new double[] {0, 1, 2}, x.toDoubleArray(), 0, "torch.repeat copies");
            assertEquals(before.length, out.numel());
        }
    }

    /**
     * toDoubleArray, toFloatArray and toLongArray of a view: a dense slice that starts past its
     * storage's first element, a strided slice, a transpose, an expanded row, the whole tensor and
     * an empty view that starts past its (empty) storage's end, in the dtype they were made in and
     * converted to each of the others.
     */
    void readOut() {
        for (DType dtype : List.of(DType.FLOAT64, DType.FLOAT32, DType.INT64, DType.INT32)) {
            Tensor x = range(4, 6).to(dtype);
            List<ReadOutCase> cases = List.of(
                    new ReadOutCase("rows 1-2", x.narrow(0, 1, 2), new double[] {6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17}),
                    new ReadOutCase("columns 2-4", x.narrow(1, 2, 3), new double[] {2, 3, 4, 8, 9, 10, 14, 15, 16, 20, 21, 22}),
                    new ReadOutCase("transpose", x.narrow(0, 0, 2).transpose(0, 1),
                            new double[] {0, 6, 1, 7, 2, 8, 3, 9, 4, 10, 5, 11}),
                    new ReadOutCase("expanded row 3", x.narrow(0, 3, 1).narrow(1, 4, 2).expand(3, 2),
                            new double[] {22, 23, 22, 23, 22, 23}),
                    new ReadOutCase("whole", x, range(4, 6).toDoubleArray()),
                    new ReadOutCase("empty, past the end of an empty tensor",
                            f.zeros(dtype, 2, 0).narrow(0, 1, 1), new double[0]));
            for (ReadOutCase c : cases) {
                String what = dtype + " " + c.name();
                assertArrayEquals(c.expected(), c.view().toDoubleArray(), 0, what + " as doubles");
                float[] floats = c.view().toFloatArray();
                long[] longs = c.view().toLongArray();
                assertEquals(c.expected().length, floats.length, what + " as floats");
                assertEquals(c.expected().length, longs.length, what + " as longs");
                for (int i = 0; i < c.expected().length; i++) {
                    assertEquals((float) c.expected()[i], floats[i], what + " as floats, element " + i);
                    assertEquals((long) c.expected()[i], longs[i], what + " as longs, element " + i);
                }
            }
        }
    }

    private record ReadOutCase(String name, Tensor view, double[] expected) {
    }
}
