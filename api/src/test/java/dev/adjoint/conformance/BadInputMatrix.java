package dev.adjoint.conformance;

import dev.adjoint.BackendMismatchException;
import dev.adjoint.BackendUnavailableException;
import dev.adjoint.DType;
import dev.adjoint.DTypeMismatchException;
import dev.adjoint.Functional;
import dev.adjoint.Tensor;
import dev.adjoint.TensorFactory;
import dev.adjoint.TensorShapeException;
import dev.adjoint.autograd.Autograd;
import dev.adjoint.autograd.GraphFreedException;
import dev.adjoint.backend.Backends;
import dev.adjoint.spi.Backend;
import org.junit.jupiter.api.DynamicNode;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.DynamicTest.dynamicTest;

/**
 * Every bad input a user is known to meet, one row each: the call, the exception type it must raise
 * and the words its message must contain (the user's op, the argument, the shapes, dtypes or
 * backends involved, what would be valid). Run on every backend, so all of them fail the same way.
 * The catalogue's per-op error cases stay with their ops; this table is the one place to read what a
 * user sees when a call is wrong, and rows that need more than one op or more than one backend live
 * only here.
 */
public final class BadInputMatrix {
    /** What a row's call gets: the backend under test, a factory on it, and a second backend. */
    record Context(Backend backend, TensorFactory f, Backend other) {
        Tensor vec(double... values) {
            return f.fromArray(values, values.length);
        }

        Tensor param(double... values) {
            return vec(values).requiresGrad(true);
        }
    }

    /** A call that must fail. */
    @FunctionalInterface
    interface Call {
        void run(Context c) throws Exception;
    }

    /** One row: the input, the call, the exception type, and the words its message must contain. */
    record Row(String input, Call call, Class<? extends Throwable> type, List<String> words) {
    }

    private BadInputMatrix() {
    }

    private static Row row(String input, Call call, Class<? extends Throwable> type, String... words) {
        return new Row(input, call, type, List.of(words));
    }

    /** The table. {@code {backend}} and {@code {other}} in the words stand for the two backends' names. */
    static List<Row> rows() {
        List<Row> rows = new ArrayList<>();
        // ---- shapes, dtypes, backends of ordinary ops --------------------------------------------
        rows.add(row("add of shapes that do not broadcast",
                c -> c.f.ones(DType.FLOAT64, 2, 3).add(c.f.ones(DType.FLOAT64, 4)),
                TensorShapeException.class, "add: shapes [2, 3] and [4] cannot be broadcast"));
        rows.add(row("mul of FLOAT64 and FLOAT32",
                c -> c.f.ones(DType.FLOAT64, 2).mul(c.f.ones(DType.FLOAT32, 2)),
                DTypeMismatchException.class, "mul: dtypes differ", "FLOAT64 for shape [2]", "FLOAT32", "toType"));
        rows.add(row("add of tensors on two backends",
                c -> c.vec(1, 2).add(Tensor.on(c.other).fromArray(new double[] {1, 2}, 2)),
                BackendMismatchException.class, "add: tensors are on different backends", "'{backend}' for shape [2]",
                "'{other}' for shape [2]", "to(backend)"));
        rows.add(row("matmul with inner sizes that differ",
                c -> c.f.ones(DType.FLOAT64, 3, 4).matmul(c.f.ones(DType.FLOAT64, 5, 2)),
                TensorShapeException.class, "matmul: shapes [3, 4] and [5, 2] cannot be multiplied (4 != 5)"));
        rows.add(row("matmul of INT64 tensors", c -> c.f.arange(3).matmul(c.f.arange(3)),
                DTypeMismatchException.class, "matmul: expected a FLOAT32 or FLOAT64 tensor, got INT64", "[3]"));
        rows.add(row("mean of an INT64 tensor", c -> c.f.arange(4).mean(),
                DTypeMismatchException.class, "mean: expected a FLOAT32 or FLOAT64 tensor, got INT64", "[4]"));
        rows.add(row("eq of FLOAT64 and FLOAT32 tensors",
                c -> c.f.ones(DType.FLOAT64, 3).eq(c.f.ones(DType.FLOAT32, 3)),
                DTypeMismatchException.class, "eq: dtypes differ (FLOAT64 for shape [3], FLOAT32 for shape [3])",
                "not promoted"));
        rows.add(row("sub of BOOL tensors", c -> c.f.ones(DType.BOOL, 2).sub(c.f.ones(DType.BOOL, 2)),
                DTypeMismatchException.class, "sub: not defined for BOOL operands", "logicalXor"));
        rows.add(row("integer floorDivide by zero",
                c -> c.f.fromArray(new long[] {7, 8}, 2).floorDivide(c.f.fromArray(new long[] {2, 0}, 2)),
                ArithmeticException.class, "floorDivide: integer division by zero", "INT64", "position 1"));
        rows.add(row("in-place div_ of an INT64 tensor", c -> c.f.arange(3).div_(2.0),
                DTypeMismatchException.class, "div_: the result type FLOAT32", "INT64 target"));
        rows.add(row("reshape to another element count", c -> c.f.ones(DType.FLOAT64, 2, 3).reshape(4, 2),
                TensorShapeException.class, "reshape: shape [4, 2] is invalid for input of shape [2, 3]"));
        rows.add(row("sum over a dimension out of range", c -> c.f.ones(DType.FLOAT64, 2, 3).sum(2, false),
                TensorShapeException.class, "sum: dimension 2 is out of range for shape [2, 3]"));
        // softmax over an empty dimension is an empty tensor, as in PyTorch; amax has no value to give.
        rows.add(row("amax over an empty dimension", c -> c.f.zeros(DType.FLOAT64, 2, 0).amax(1, false),
                TensorShapeException.class, "amax: cannot reduce over dimension 1 of size 0", "[2, 0]"));
        rows.add(row("item of a tensor with several elements", c -> c.vec(1, 2).item(),
                TensorShapeException.class, "item: only one-element tensors", "[2]"));
        rows.add(row("clamp of an INT64 tensor to a fraction", c -> c.f.arange(3).clamp(0, 1.5),
                IllegalArgumentException.class, "clamp: the bound 1.5 is not a whole number", "INT64", "[3]"));
        // ---- indices ---------------------------------------------------------------------------------
        rows.add(row("gather with an index out of range",
                c -> c.f.ones(DType.FLOAT64, 2, 3).gather(1, c.f.fromArray(new long[] {0, 3}, 2, 1)),
                IndexOutOfBoundsException.class, "gather: index 3 at position [1, 0] is out of range for dimension 1 of size 3"));
        rows.add(row("gather with a FLOAT64 index",
                c -> c.f.ones(DType.FLOAT64, 2, 3).gather(1, c.f.ones(DType.FLOAT64, 2, 1)),
                DTypeMismatchException.class, "gather: index must be INT64, got FLOAT64"));
        rows.add(row("crossEntropy with a FLOAT64 target",
                c -> Functional.crossEntropy(c.f.ones(DType.FLOAT64, 2, 3), c.f.ones(DType.FLOAT64, 2)),
                DTypeMismatchException.class, "crossEntropy: target must hold INT64 class indices, got FLOAT64"));
        rows.add(row("crossEntropy with a target of the wrong length",
                c -> Functional.crossEntropy(c.f.ones(DType.FLOAT64, 4, 3), c.f.fromArray(new long[] {0, 1, 2}, 3)),
                TensorShapeException.class, "crossEntropy: target shape [3] does not match logits shape [4, 3]"));
        rows.add(row("crossEntropy with a class index out of range",
                c -> Functional.crossEntropy(c.f.ones(DType.FLOAT64, 2, 3), c.f.fromArray(new long[] {0, 3}, 2)),
                IndexOutOfBoundsException.class, "crossEntropy: target 3 at position 1 is out of range for 3 classes",
                "valid values are 0 to 2", "target shape [2], logits shape [2, 3]"));
        rows.add(row("crossEntropy with a negative class index",
                c -> Functional.crossEntropy(c.f.ones(DType.FLOAT64, 2, 3), c.f.fromArray(new long[] {-1, 0}, 2)),
                IndexOutOfBoundsException.class, "crossEntropy: target -1 at position 0 is out of range for 3 classes"));
        rows.add(row("indexSelect with an index out of range",
                c -> c.f.ones(DType.FLOAT64, 4, 3).indexSelect(0, c.f.fromArray(new long[] {1, 4}, 2)),
                IndexOutOfBoundsException.class, "indexSelect: index 4 at position 1 is out of range for dimension 0 "
                        + "of size 4", "valid values are 0 to 3", "index shape [2], input shape [4, 3]"));
        rows.add(row("indexSelect along dim 1 with a negative index",
                c -> c.f.ones(DType.FLOAT64, 4, 3).indexSelect(1, c.f.fromArray(new long[] {-1}, 1)),
                IndexOutOfBoundsException.class, "indexSelect: index -1 at position 0 is out of range for dimension 1 "
                        + "of size 3"));
        // ---- autograd ---------------------------------------------------------------------------------
        rows.add(row("requiresGrad on an INT64 tensor", c -> c.f.arange(3).requiresGrad(true),
                DTypeMismatchException.class, "requiresGrad: only FLOAT32 and FLOAT64 tensors", "INT64"));
        rows.add(row("requiresGrad on a BOOL mask", c -> c.f.ones(DType.FLOAT64, 2).gt(0.5).requiresGrad(true),
                DTypeMismatchException.class, "requiresGrad:", "BOOL tensor of shape [2]"));
        rows.add(row("requiresGrad(false) on a computed tensor", c -> c.param(1).mul(2.0).requiresGrad(false),
                IllegalStateException.class, "requiresGrad: only leaf tensors", "MulBackward"));
        rows.add(row("backward of a tensor without a graph", c -> c.vec(1).sum().backward(),
                IllegalStateException.class, "backward", "does not require grad"));
        rows.add(row("backward of a non-scalar without a gradient", c -> c.param(1, 2).mul(2.0).backward(),
                TensorShapeException.class, "backward: a gradient can be created implicitly only for scalar outputs",
                "[2]"));
        rows.add(row("backward with a gradient of another shape", c -> c.param(1, 2).mul(2.0).backward(c.vec(1)),
                TensorShapeException.class, "backward: gradient has shape [1] but the output has shape [2]"));
        rows.add(row("backward with a gradient of another dtype",
                c -> c.param(1, 2).mul(2.0).backward(c.f.ones(DType.FLOAT32, 2)),
                DTypeMismatchException.class, "backward: gradient has dtype FLOAT32 but the output has dtype FLOAT64"));
        rows.add(row("backward with a gradient on another backend",
                c -> c.param(1, 2).mul(2.0).backward(Tensor.on(c.other).fromArray(new double[] {1, 1}, 2)),
                BackendMismatchException.class, "backward: gradient is on backend '{other}' (shape [2])",
                "the output is on backend '{backend}' (shape [2])", "gradient.to(output.backend())"));
        rows.add(row("Autograd.grad with a gradOutput on another backend", c -> {
            Tensor x = c.param(1, 2);
            Autograd.grad(List.of(x.mul(x)), List.of(x), List.of(Tensor.on(c.other).fromArray(new double[] {1, 1}, 2)),
                    false, false, false);
        }, BackendMismatchException.class, "grad: gradient is on backend '{other}' (shape [2])",
                "the output is on backend '{backend}' (shape [2])"));
        rows.add(row("backward twice without retainGraph", c -> {
            Tensor x = c.param(1, 2);
            Tensor y = x.mul(x).sum();
            y.backward();
            y.backward();
        }, GraphFreedException.class, "MulBackward", "backward through the graph a second time", "retainGraph"));
        rows.add(row("Autograd.grad of an input that was not used", c -> {
            Tensor x = c.param(1, 2);
            Tensor unused = c.param(3);
            Autograd.grad(List.of(x.sum()), List.of(x, unused), null, false, false, false);
        }, IllegalArgumentException.class, "grad: input 1 (shape [1]) was not used", "allowUnused"));
        rows.add(row("backward after a saved tensor was modified in place", c -> {
            Tensor w = c.param(1, 2, 3);
            Tensor x = c.vec(4, 5, 6);
            Tensor y = w.mul(x).sum();
            try (var scope = Tensor.noGrad()) {
                x.mul_(2);
            }
            y.backward();
        }, IllegalStateException.class, "MulBackward: its saved tensor 1 (shape [3], FLOAT64)",
                "modified by an in-place operation", "version 1, expected version 0"));
        rows.add(row("grad-mode scopes closed out of order", c -> {
            var outer = Tensor.noGrad();
            var inner = Tensor.enableGrad();
            try {
                outer.close();
            } finally {
                inner.close();
            }
        }, IllegalStateException.class, "GradMode: scopes closed out of order", "the scope that disabled grad mode",
                "1 scope opened after it", "grad mode is enabled again"));
        rows.add(row("a grad-mode scope closed on another thread", c -> {
            var scope = Tensor.noGrad();
            Throwable[] failure = new Throwable[1];
            Thread closer = new Thread(() -> {
                try {
                    scope.close();
                } catch (Throwable t) {
                    failure[0] = t;
                }
            }, "closer");
            try {
                closer.start();
                closer.join();
            } finally {
                scope.close();
            }
            if (failure[0] instanceof RuntimeException e) {
                throw e;
            }
        }, IllegalStateException.class, "GradMode: the scope that disabled grad mode opened on thread",
                "was closed on thread 'closer'", "close a scope on the thread that opened it"));
        // ---- in place ---------------------------------------------------------------------------------
        rows.add(row("mul_ on a parameter while recording", c -> c.param(1, 2, 3).mul_(2),
                IllegalStateException.class, "mul_: in-place update of a tensor of shape [3] while gradients are recorded",
                "noGrad"));
        rows.add(row("add_ on an expanded view", c -> c.vec(1, 2, 3).expand(2, 3).add_(1),
                IllegalStateException.class, "add_: the target of shape [2, 3] is an expanded view"));
        rows.add(row("copyFrom with another shape", c -> c.vec(1, 2, 3).copyFrom(c.vec(1, 2)),
                TensorShapeException.class, "copyFrom: source shape [2] does not match target shape [3]"));
        // ---- backends ---------------------------------------------------------------------------------
        rows.add(row("Backends.get of an unknown name", c -> Backends.get("cuda"),
                BackendUnavailableException.class, "no backend named 'cuda'", "found: ", "{backend} (priority"));
        return rows;
    }

    public static Stream<DynamicNode> tests(Backend backend) {
        Context context = new Context(backend, Tensor.on(backend), new RenamedBackend(backend, "other"));
        return rows().stream().map(r -> dynamicTest(r.input(), () -> check(r, context)));
    }

    private static void check(Row row, Context context) {
        Throwable thrown = assertThrows(row.type(), () -> row.call().run(context),
                row.input() + ": expected " + row.type().getSimpleName());
        String message = String.valueOf(thrown.getMessage());
        for (String word : row.words()) {
            String expected = word.replace("{backend}", context.backend().name()).replace("{other}", context.other().name());
            assertTrue(message.contains(expected), row.input() + ": the message should contain \"" + expected
                    + "\" but was \"" + message + "\"");
        }
    }
}
