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
        add(tests, "an INT64 mask selects in where()", s::maskInWhere);
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
        assertEquals(DType.INT64, hits.dtype());
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
        assertEquals(DType.INT64, x.gt(0.5).dtype());
        assertEquals(DType.INT64, x.eq(1).dtype());
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
}
