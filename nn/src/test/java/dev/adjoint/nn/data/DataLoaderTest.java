package dev.adjoint.nn.data;

import dev.adjoint.DType;
import dev.adjoint.Generator;
import dev.adjoint.Tensor;
import dev.adjoint.TensorFactory;
import dev.adjoint.TensorShapeException;
import dev.adjoint.DTypeMismatchException;
import dev.adjoint.backend.Backends;
import dev.adjoint.spi.Backend;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.NoSuchElementException;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

class DataLoaderTest {
    private static final Backend SCALAR = Backends.get("scalar");
    private static final TensorFactory ON = Tensor.on(SCALAR);

    /** Ten examples; example i has features [i, 10 i] and label i, so a batch shows which rows it took. */
    private static TensorDataset tenExamples() {
        float[] x = new float[20];
        long[] y = new long[10];
        for (int i = 0; i < 10; i++) {
            x[2 * i] = i;
            x[2 * i + 1] = 10 * i;
            y[i] = i;
        }
        return new TensorDataset(ON.fromArray(x, 10, 2), ON.fromArray(y, 10));
    }

    private static List<long[]> epoch(DataLoader loader) {
        List<long[]> labels = new ArrayList<>();
        for (DataLoader.Batch b : loader) {
            long[] y = b.labels().toLongArray();
            float[] x = b.features().toFloatArray();
            assertEquals(y.length, b.size());
            assertArrayEquals(new int[] {y.length, 2}, b.features().shape().toArray());
            for (int i = 0; i < y.length; i++) {
                assertEquals(y[i], (long) x[2 * i], "features and labels come from the same row");
                assertEquals(10 * y[i], (long) x[2 * i + 1]);
            }
            assertFalse(b.features().requiresGrad());
            labels.add(y);
        }
        return labels;
    }

    @Test
    void sequentialBatchesKeepTheLastPartialOne() {
        DataLoader loader = DataLoader.builder(tenExamples()).batchSize(4).backend(SCALAR).build();
        assertEquals(3, loader.numBatches());
        List<long[]> batches = epoch(loader);
        assertEquals(3, batches.size());
        assertArrayEquals(new long[] {0, 1, 2, 3}, batches.get(0));
        assertArrayEquals(new long[] {8, 9}, batches.get(2));
    }

    @Test
    void dropLastLeavesOutThePartialBatch() {
        DataLoader loader = DataLoader.builder(tenExamples()).batchSize(4).dropLast(true).backend(SCALAR).build();
        assertEquals(2, loader.numBatches());
        assertEquals(2, epoch(loader).size());
        DataLoader exact = DataLoader.builder(tenExamples()).batchSize(5).dropLast(true).backend(SCALAR).build();
        assertEquals(2, epoch(exact).size());
    }

    @Test
    void shuffledEpochsArePermutationsThatDifferAndFollowTheSeed() {
        DataLoader a = DataLoader.builder(tenExamples()).batchSize(3).shuffle(new Generator(42)).backend(SCALAR).build();
        DataLoader b = DataLoader.builder(tenExamples()).batchSize(3).shuffle(new Generator(42)).backend(SCALAR).build();
        long[] a1 = flat(epoch(a));
        long[] a2 = flat(epoch(a));
        assertArrayEquals(a1, flat(epoch(b)), "same seed, same first epoch");
        assertArrayEquals(a2, flat(epoch(b)), "same seed, same second epoch");
        assertNotEquals(Arrays.toString(a1), Arrays.toString(a2), "each epoch draws a new order");
        for (long[] e : List.of(a1, a2)) {
            long[] sorted = e.clone();
            Arrays.sort(sorted);
            assertArrayEquals(new long[] {0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, sorted, "every example exactly once");
        }
    }

    @Test
    void theOrderMatchesGeneratorPermutation() {
        DataLoader loader = DataLoader.builder(tenExamples()).batchSize(10).shuffle(new Generator(7)).backend(SCALAR).build();
        int[] p = new Generator(7).permutation(10);
        long[] expected = Arrays.stream(p).asLongStream().toArray();
        assertArrayEquals(expected, flat(epoch(loader)));
    }

    static List<Backend> availableBackends() {
        return Backends.list().stream().filter(Backends.BackendInfo::available).map(Backends.BackendInfo::backend).toList();
    }

    /** The same seed gives the same batches on every backend; the data moves to the loader's backend. */
    @ParameterizedTest
    @MethodSource("availableBackends")
    void shuffledBatchesAreTheSameOnEveryBackend(Backend backend) {
        DataLoader here = DataLoader.builder(tenExamples()).batchSize(4).shuffle(new Generator(9)).backend(backend).build();
        DataLoader scalar = DataLoader.builder(tenExamples()).batchSize(4).shuffle(new Generator(9)).backend(SCALAR).build();
        assertArrayEquals(flat(epoch(scalar)), flat(epoch(here)));
        assertSame(backend, here.iterator().next().features().backend());
    }

    @Test
    void batchesLiveOnTheLoadersBackend() {
        DataLoader loader = DataLoader.builder(tenExamples()).batchSize(4).shuffle(new Generator(1)).backend(SCALAR).build();
        DataLoader.Batch first = loader.iterator().next();
        assertSame(SCALAR, first.features().backend());
        assertSame(SCALAR, first.labels().backend());
        assertEquals(DType.INT64, first.labels().dtype());
    }

    @Test
    void integerFeaturesAreShuffledToo() {
        long[] x = {0, 0, 1, 10, 2, 20};
        TensorDataset ints = new TensorDataset(ON.fromArray(x, 3, 2), ON.fromArray(new long[] {0, 1, 2}, 3));
        DataLoader loader = DataLoader.builder(ints).batchSize(3).shuffle(new Generator(3)).backend(SCALAR).build();
        DataLoader.Batch b = loader.iterator().next();
        long[] y = b.labels().toLongArray();
        long[] f = b.features().toLongArray();
        for (int i = 0; i < 3; i++) {
            assertEquals(y[i], f[2 * i]);
            assertEquals(10 * y[i], f[2 * i + 1]);
        }
    }

    @Test
    void exhaustedEpochThrows() {
        var it = DataLoader.builder(tenExamples()).batchSize(10).backend(SCALAR).build().iterator();
        it.next();
        assertThrows(NoSuchElementException.class, it::next);
    }

    @Test
    void invalidArguments() {
        assertThrows(IllegalArgumentException.class, () -> DataLoader.builder(tenExamples()).batchSize(0));
        assertThrows(DTypeMismatchException.class,
                () -> new TensorDataset(ON.zeros(DType.FLOAT32, 3, 2), ON.zeros(DType.FLOAT32, 3)));
        assertThrows(TensorShapeException.class,
                () -> new TensorDataset(ON.zeros(DType.FLOAT32, 3, 2), ON.zeros(DType.INT64, 4)));
    }

    private static long[] flat(List<long[]> batches) {
        return batches.stream().flatMapToLong(Arrays::stream).toArray();
    }
}
