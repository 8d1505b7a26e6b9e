package dev.adjoint.conformance;

import dev.adjoint.DType;
import dev.adjoint.Tensor;
import dev.adjoint.TensorFactory;
import dev.adjoint.spi.Backend;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.function.Executable;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.DynamicTest.dynamicTest;

/**
 * What a training loop does with INT64 tensors besides indexing: compare predictions with labels and
 * count the hits. The catalogue's INT64 entries diff the values against the reference on every layout;
 * these tests pin the dtypes, the exactness the generic double comparison cannot see, and the idioms.
 */
public final class Int64Semantics {
    private final TensorFactory f;

    private Int64Semantics(Backend backend) {
        this.f = Tensor.on(backend);
    }

    public static Stream<DynamicNode> tests(Backend backend) {
        Int64Semantics s = new Int64Semantics(backend);
        List<DynamicNode> tests = new ArrayList<>();
        add(tests, "accuracy: argmax(1).eq(labels), then toType(FLOAT32).mean() and sum()", s::accuracyIdiom);
        add(tests, "INT64 comparisons and sums are exact above 2^53", s::exactAboveDoublePrecision);
        add(tests, "an INT64 tensor against a number that is not a whole long", s::numbersThatAreNotWholeLongs);
        add(tests, "a BOOL mask from a comparison selects in where()", s::maskInWhere);
        add(tests, "INT64 arithmetic, max and argmax are exact above 2^53", s::arithmeticAboveDoublePrecision);
        add(tests, "INT32 arithmetic wraps at 32 bits; its sum is INT64 and does not", s::int32Overflow);
        add(tests, "conversions truncate toward zero and test non-zero, as PyTorch's", s::conversions);
        add(tests, "in-place arithmetic keeps an integer target's dtype", s::inPlaceIntegers);
        add(tests, "BOOL: logical ops, add and mul as or and and, sum counts", s::bools);
        add(tests, "integer and BOOL tensors never require grad; mixed ops differentiate the floating operand",
                s::gradients);
        return tests.stream();
    }

    private static void add(List<DynamicNode> tests, String name, Executable body) {
        tests.add(dynamicTest(name, body));
    }

    void accuracyIdiom() {
        Tensor logits = f.fromArray(new float[] {
                0.1f, 2.0f, -1.0f,
                3.0f, 0.5f, 0.0f,
                0.0f, 0.2f, 0.1f,
                -1.0f, -2.0f, 4.0f}, 4, 3).requiresGrad(true);
        Tensor labels = f.fromArray(new long[] {1, 0, 2, 2}, 4);
        Tensor hits = logits.argmax(1, false).eq(labels);
        assertEquals(DType.BOOL, hits.dtype());
        assertArrayEquals(new long[] {1, 1, 0, 1}, hits.toLongArray());
        assertFalse(hits.requiresGrad(), "a comparison has no gradient");
        assertEquals(0.75, hits.toType(DType.FLOAT32).mean().item(), 0);
        Tensor count = hits.sum();
        assertEquals(DType.INT64, count.dtype());
        assertEquals(0, count.rank());
        assertEquals(3, count.item(), 0);
        assertArrayEquals(new long[] {2, 1}, hits.reshape(2, 2).sum(1, false).toLongArray());
    }

    void exactAboveDoublePrecision() {
        long big = 1L << 53;
        Tensor a = f.fromArray(new long[] {big + 1, big, Long.MAX_VALUE, Long.MIN_VALUE}, 4);
        Tensor b = f.fromArray(new long[] {big, big + 1, Long.MAX_VALUE - 1, Long.MIN_VALUE + 1}, 4);
        assertArrayEquals(new long[] {0, 0, 0, 0}, a.eq(b).toLongArray());
        assertArrayEquals(new long[] {1, 0, 1, 0}, a.gt(b).toLongArray());
        assertArrayEquals(new long[] {0, 1, 0, 1}, a.lt(b).toLongArray());
        assertArrayEquals(new long[] {1, 0, 1, 0}, a.ge(b).toLongArray());
        assertArrayEquals(new long[] {0, 1, 0, 1}, a.le(b).toLongArray());
        assertArrayEquals(new long[] {1, 1, 1, 1}, a.eq(a).toLongArray());
        assertArrayEquals(new long[] {0, 1, 0, 0}, a.eq((double) big).toLongArray());
        assertEquals(big + 2, f.fromArray(new long[] {big, 1, 1}, 3).sum().toLongArray()[0]);
        assertArrayEquals(new long[] {big + 1, 2}, f.fromArray(new long[] {big, 1, 1, 1}, 2, 2).sum(1, false)
                .toLongArray());
        // Wraps on overflow, as torch's int64 sum.
        assertEquals(Long.MIN_VALUE, f.fromArray(new long[] {Long.MAX_VALUE, 1}, 2).sum().toLongArray()[0]);
    }

    void numbersThatAreNotWholeLongs() {
        Tensor x = f.fromArray(new long[] {-1, 0, 1, 2, Long.MAX_VALUE}, 5);
        assertArrayEquals(new long[] {0, 0, 1, 1, 1}, x.gt(0.5).toLongArray(), "0.5 must not become 0");
        assertArrayEquals(new long[] {1, 1, 0, 0, 0}, x.lt(0.5).toLongArray());
        assertArrayEquals(new long[] {0, 1, 1, 1, 1}, x.ge(-0.5).toLongArray());
        assertArrayEquals(new long[] {1, 0, 0, 0, 0}, x.le(-0.5).toLongArray());
        assertArrayEquals(new long[] {0, 0, 0, 0, 0}, x.eq(1.5).toLongArray());
        assertArrayEquals(new long[] {0, 0, 0, 0, 0}, x.eq(Double.NaN).toLongArray(), "NaN must not become 0");
        assertArrayEquals(new long[] {0, 0, 0, 0, 0}, x.gt(Double.NaN).toLongArray());
        assertArrayEquals(new long[] {1, 1, 1, 1, 1}, x.lt(Double.POSITIVE_INFINITY).toLongArray(),
                "inf must not become Long.MAX_VALUE");
        assertArrayEquals(new long[] {1, 1, 1, 1, 1}, x.gt(Double.NEGATIVE_INFINITY).toLongArray());
        assertArrayEquals(new long[] {1, 1, 1, 1, 1}, x.lt(0x1p63).toLongArray(), "2^63 is above every long");
        assertArrayEquals(new long[] {0, 0, 0, 0, 0}, x.eq(0x1p63).toLongArray());
        assertArrayEquals(new long[] {0, 0, 0, 0, 1}, x.ge(0x1p63 - 1024).toLongArray());
        assertArrayEquals(new long[] {1, 1, 1, 1, 1}, x.gt(-0x1p64).toLongArray());
        assertArrayEquals(new long[] {0, 0, 0, 0, 0}, x.le(-0x1p64).toLongArray());
        assertEquals(DType.BOOL, x.gt(0.5).dtype());
        assertEquals(DType.BOOL, x.eq(1).dtype());
        assertArrayEquals(new long[] {0, 0, 1, 0, 0}, x.eq(1).toLongArray());
    }

    void maskInWhere() {
        Tensor labels = f.fromArray(new long[] {0, 2, 1}, 3);
        Tensor a = f.fromArray(new double[] {1, 2, 3}, 3).requiresGrad(true);
        Tensor picked = Tensor.where(labels.eq(2), a, a.neg());
        assertArrayEquals(new double[] {-1, 2, -3}, picked.toDoubleArray(), 0);
        picked.sum().backward();
        assertArrayEquals(new double[] {-1, 1, -1}, a.grad().toDoubleArray(), 0);
    }

    void arithmeticAboveDoublePrecision() {
        long big = (1L << 53) + 1;
        Tensor x = f.fromArray(new long[] {big, big + 2, -big, Long.MAX_VALUE - 1}, 4);
        assertArrayEquals(new long[] {big + 1, big + 3, -big + 1, Long.MAX_VALUE}, x.add(1L).toLongArray());
        assertArrayEquals(new long[] {big - 2, big, -big - 2, Long.MAX_VALUE - 3}, x.sub(2).toLongArray());
        assertArrayEquals(new long[] {3 * big, 3 * (big + 2), -3 * big, 3 * (Long.MAX_VALUE - 1)}, x.mul(3).toLongArray(),
                "products wrap as long arithmetic does, as torch's int64");
        assertArrayEquals(new long[] {Math.floorDiv(big, 7), Math.floorDiv(big + 2, 7), Math.floorDiv(-big, 7),
                Math.floorDiv(Long.MAX_VALUE - 1, 7)}, x.floorDivide(7).toLongArray());
        assertArrayEquals(new long[] {Math.floorMod(big, -7), Math.floorMod(big + 2, -7), Math.floorMod(-big, -7),
                Math.floorMod(Long.MAX_VALUE - 1, -7)}, x.remainder(-7).toLongArray());
        assertArrayEquals(new long[] {-big, -big - 2, big, -Long.MAX_VALUE + 1}, x.neg().toLongArray());
        Tensor neighbours = f.fromArray(new long[] {big, big + 1, big - 1}, 3);
        assertEquals(1, neighbours.argmax().toLongArray()[0], "big + 1 is the largest, though as doubles they tie");
        assertEquals(2, neighbours.argmin().toLongArray()[0]);
        assertArrayEquals(new long[] {big + 1}, neighbours.amax().reshape(1).toLongArray());
        assertArrayEquals(new long[] {big + 1}, neighbours.max(0, false).values().reshape(1).toLongArray());
        assertArrayEquals(new long[] {big + 1, big - 1},
                neighbours.gather(0, f.fromArray(new long[] {1, 2}, 2)).toLongArray(), "gather of INT64 sources");
        assertArrayEquals(new long[] {big + 1, big + 1},
                Tensor.where(f.fromArray(new boolean[] {true, false}, 2), neighbours.narrow(0, 1, 2),
                        neighbours.narrow(0, 0, 2)).toLongArray(), "where of INT64 branches");
        assertArrayEquals(new long[] {1, 2, 0}, neighbours.toType(DType.INT32).toLongArray(),
                "INT64 to INT32 keeps the low 32 bits");
    }

    void int32Overflow() {
        Tensor x = f.fromArray(new int[] {Integer.MAX_VALUE, Integer.MIN_VALUE, 7}, 3);
        assertEquals(DType.INT32, x.add(1).dtype());
        assertArrayEquals(new long[] {Integer.MIN_VALUE, Integer.MIN_VALUE + 1, 8}, x.add(1).toLongArray());
        assertArrayEquals(new long[] {-Integer.MAX_VALUE, Integer.MIN_VALUE, -7}, x.neg().toLongArray(),
                "the negation of the most negative INT32 is itself");
        Tensor sum = f.fromArray(new int[] {Integer.MAX_VALUE, Integer.MAX_VALUE}, 2).sum();
        assertEquals(DType.INT64, sum.dtype());
        assertArrayEquals(new long[] {2L * Integer.MAX_VALUE}, sum.reshape(1).toLongArray());
        assertEquals(DType.INT64, x.add(f.fromArray(new long[] {1}, 1)).dtype(), "INT32 with INT64 is INT64");
        assertEquals(DType.INT32, x.add(f.fromArray(new long[] {1}, 1).reshape()).dtype(),
                "a 0-d INT64 tensor does not raise an INT32 tensor (same category)");
        assertThrows(IllegalArgumentException.class, () -> x.add(1L << 33));
    }

    void conversions() {
        Tensor x = f.fromArray(new double[] {-2.7, -0.5, 0.0, 0.5, 2.7, Double.NaN}, 6);
        assertArrayEquals(new long[] {-2, 0, 0, 0, 2}, x.narrow(0, 0, 5).toType(DType.INT32).toLongArray());
        assertArrayEquals(new long[] {-2, 0, 0, 0, 2}, x.narrow(0, 0, 5).to(DType.INT64).toLongArray());
        assertArrayEquals(new boolean[] {true, true, false, true, true, true}, x.toType(DType.BOOL).toBooleanArray(),
                "non-zero is true, NaN too");
        Tensor mask = f.fromArray(new boolean[] {true, false, true}, 3);
        assertArrayEquals(new double[] {1, 0, 1}, mask.toType(DType.FLOAT32).toDoubleArray(), 0);
        assertArrayEquals(new long[] {1, 0, 1}, mask.toType(DType.INT32).toLongArray());
        assertArrayEquals(new int[] {1, 0, 1}, mask.toIntArray());
        // Strided views convert too.
        Tensor m = f.fromArray(new int[] {1, 2, 3, 4, 5, 6}, 2, 3).transpose(0, 1);
        assertArrayEquals(new double[] {1, 4, 2, 5, 3, 6}, m.toType(DType.FLOAT64).toDoubleArray(), 0);
        assertArrayEquals(new long[] {1, 4, 2, 5, 3, 6}, m.toType(DType.INT64).toLongArray());
    }

    void inPlaceIntegers() {
        Tensor x = f.fromArray(new long[] {1, 2, 3}, 3);
        x.add_(f.fromArray(new int[] {10, 20, 30}, 3)).mul_(f.fromArray(new long[] {2}, 1));
        assertEquals(DType.INT64, x.dtype());
        assertArrayEquals(new long[] {22, 44, 66}, x.toLongArray());
        assertThrows(dev.adjoint.DTypeMismatchException.class, () -> x.add_(f.ones(DType.FLOAT32, 3)),
                "a FLOAT32 result cannot be written into an INT64 target");
    }

    void bools() {
        Tensor a = f.fromArray(new boolean[] {true, true, false, false}, 4);
        Tensor b = f.fromArray(new boolean[] {true, false, true, false}, 4);
        assertArrayEquals(new boolean[] {true, false, false, false}, a.logicalAnd(b).toBooleanArray());
        assertArrayEquals(new boolean[] {true, true, true, false}, a.logicalOr(b).toBooleanArray());
        assertArrayEquals(new boolean[] {false, true, true, false}, a.logicalXor(b).toBooleanArray());
        assertArrayEquals(new boolean[] {false, false, true, true}, a.logicalNot().toBooleanArray());
        assertEquals(DType.BOOL, a.add(b).dtype());
        assertArrayEquals(new boolean[] {true, true, true, false}, a.add(b).toBooleanArray(), "add of BOOLs is or");
        assertArrayEquals(new boolean[] {true, false, false, false}, a.mul(b).toBooleanArray(), "mul of BOOLs is and");
        assertEquals(DType.INT64, a.add(1).dtype(), "a BOOL tensor and a long number: INT64");
        assertArrayEquals(new long[] {2, 2, 1, 1}, a.add(1).toLongArray());
        assertEquals(DType.FLOAT32, a.mul(0.5).dtype(), "a BOOL tensor and a double number: FLOAT32");
        assertEquals(DType.INT64, a.sum().dtype());
        assertArrayEquals(new long[] {2}, a.sum().reshape(1).toLongArray());
        // Logical ops read other dtypes as non-zero.
        Tensor x = f.fromArray(new double[] {0, 2, Double.NaN, -1}, 4);
        assertArrayEquals(new boolean[] {false, true, true, true}, x.logicalOr(x).toBooleanArray());
        assertArrayEquals(new boolean[] {true, false, false, false}, x.logicalNot().toBooleanArray());
        assertTrue(x.ne(x).toBooleanArray()[2], "NaN != NaN");
        assertArrayEquals(new double[] {-1, 2, -1, -1}, x.maskedFill(x.ne(2.0), -1).toDoubleArray(), 0);
    }

    void gradients() {
        Tensor ints = f.fromArray(new int[] {1, -2, 3}, 3);
        var refused = assertThrows(dev.adjoint.DTypeMismatchException.class, () -> ints.requiresGrad(true));
        assertTrue(refused.getMessage().contains("requiresGrad") && refused.getMessage().contains("INT32 tensor of shape [3]"),
                refused.getMessage());
        Tensor w = f.fromArray(new double[] {0.5, 1.5, -2.0}, 3).requiresGrad(true);
        Tensor y = w.mul(ints).add(ints.gt(0)).sum();
        assertEquals(DType.FLOAT64, y.dtype());
        assertEquals(0.5 - 3.0 - 6.0 + 2, y.item(), 1e-12);
        y.backward();
        assertArrayEquals(new double[] {1, -2, 3}, w.grad().toDoubleArray(), 0, "d/dw of w * ints is ints");
        assertFalse(ints.mul(2).requiresGrad());
    }
}
