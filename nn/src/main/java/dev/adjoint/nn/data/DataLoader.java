package dev.adjoint.nn.data;

import dev.adjoint.Generator;
import dev.adjoint.Tensor;
import dev.adjoint.TensorFactory;
import dev.adjoint.backend.Backends;
import dev.adjoint.spi.Backend;

import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.Objects;

/**
 * Batches of a {@link TensorDataset} on one backend. Each call to {@link #iterator()} is one epoch;
 * with shuffling, each epoch draws a fresh permutation from the loader's {@link Generator}, so the
 * order of every epoch follows from the seed alone and a run is reproducible.
 *
 * <pre>{@code
 * DataLoader loader = DataLoader.builder(train).batchSize(64).shuffle(new Generator(0)).build();
 * for (int epoch = 0; epoch < 10; epoch++) {
 *     for (DataLoader.Batch batch : loader) { ... batch.features() ... batch.labels() ... }
 * }
 * }</pre>
 */
public final class DataLoader implements Iterable<DataLoader.Batch> {

    /** One batch: features {@code [B, ...]} and INT64 labels {@code [B]}. */
    public record Batch(Tensor features, Tensor labels) {
        public int size() {
            return labels.size(0);
        }
    }

    private final TensorDataset dataset;
    private final int batchSize;
    private final Generator shuffle;
    private final boolean dropLast;
    // indexSelect (gather) takes floating tensors only, so INT64 labels are gathered on the host.
    private final long[] labels;

    private DataLoader(Builder b) {
        this.dataset = b.dataset.to(b.backend == null ? Backends.defaultBackend() : b.backend);
        this.batchSize = b.batchSize;
        this.shuffle = b.shuffle;
        this.dropLast = b.dropLast;
        this.labels = dataset.labels().toLongArray();
    }

    public static Builder builder(TensorDataset dataset) {
        return new Builder(dataset);
    }

    /** The dataset, on the loader's backend. */
    public TensorDataset dataset() {
        return dataset;
    }

    public int batchSize() {
        return batchSize;
    }

    /** Batches per epoch. */
    public int numBatches() {
        int n = dataset.size();
        return dropLast ? n / batchSize : (n + batchSize - 1) / batchSize;
    }

    /** One epoch of batches; with shuffling this draws the epoch's permutation now. */
    @Override
    public Iterator<Batch> iterator() {
        int[] order = shuffle == null ? null : shuffle.permutation(dataset.size());
        int batches = numBatches();
        return new Iterator<>() {
            private int next;

            @Override
            public boolean hasNext() {
                return next < batches;
            }

            @Override
            public Batch next() {
                if (!hasNext()) {
                    throw new NoSuchElementException("DataLoader: the epoch has " + batches + " batches");
                }
                int from = next * batchSize;
                int count = Math.min(batchSize, dataset.size() - from);
                next++;
                return order == null ? sequential(from, count) : shuffled(order, from, count);
            }
        };
    }

    private Batch sequential(int from, int count) {
        TensorDataset slice = dataset.slice(from, count);
        return new Batch(slice.features(), slice.labels());
    }

    private Batch shuffled(int[] order, int from, int count) {
        long[] rows = new long[count];
        long[] batchLabels = new long[count];
        for (int i = 0; i < count; i++) {
            rows[i] = order[from + i];
            batchLabels[i] = labels[order[from + i]];
        }
        TensorFactory on = Tensor.on(dataset.labels().backend());
        Tensor features = dataset.features();
        Tensor batchFeatures;
        if (features.dtype().isFloatingPoint()) {
            // Data never needs a graph; gathering rows outside one keeps batches plain leaves.
            try (var scope = Tensor.noGrad()) {
                batchFeatures = features.indexSelect(0, on.fromArray(rows, count));
            }
        } else {
            batchFeatures = gatherLongRows(on, features, rows);
        }
        return new Batch(batchFeatures, on.fromArray(batchLabels, count));
    }

    private static Tensor gatherLongRows(TensorFactory on, Tensor features, long[] rows) {
        int[] shape = features.shape().toArray();
        int rowSize = features.numel() / Math.max(shape[0], 1);
        long[] all = features.toLongArray();
        long[] out = new long[rows.length * rowSize];
        for (int i = 0; i < rows.length; i++) {
            System.arraycopy(all, (int) rows[i] * rowSize, out, i * rowSize, rowSize);
        }
        shape[0] = rows.length;
        return on.fromArray(out, shape);
    }

    public static final class Builder {
        private final TensorDataset dataset;
        private int batchSize = 1;
        private Generator shuffle;
        private boolean dropLast;
        private Backend backend;

        private Builder(TensorDataset dataset) {
            this.dataset = Objects.requireNonNull(dataset, "dataset");
        }

        public Builder batchSize(int batchSize) {
            if (batchSize < 1) {
                throw new IllegalArgumentException("DataLoader: batchSize must be at least 1, got " + batchSize);
            }
            this.batchSize = batchSize;
            return this;
        }

        /** Shuffle every epoch with permutations drawn from {@code generator}; null for dataset order. */
        public Builder shuffle(Generator generator) {
            this.shuffle = generator;
            return this;
        }

        /** Leave out the last batch of an epoch when it is smaller than {@code batchSize}. */
        public Builder dropLast(boolean dropLast) {
            this.dropLast = dropLast;
            return this;
        }

        /** The backend batches live on; the default backend unless set. */
        public Builder backend(Backend backend) {
            this.backend = backend;
            return this;
        }

        public DataLoader build() {
            return new DataLoader(this);
        }
    }
}
