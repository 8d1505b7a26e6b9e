package dev.adjoint.benchmarks.examples;

import dev.adjoint.Generator;
import dev.adjoint.Tensor;
import dev.adjoint.nn.data.TensorDataset;
import dev.adjoint.spi.Backend;

/**
 * A synthetic sequence classification task made from a seed: each sequence holds random filler tokens
 * and one {@code A} and one {@code B} at random positions, and its class is whether {@code A} comes
 * before {@code B}. Lengths vary from {@code minLength} to {@code maxLength}; shorter sequences are padded
 * with {@link #PAD} to {@code maxLength}. Neither a bag of tokens nor one position tells the class: a
 * model has to find both markers and compare their positions, which is what attention with positional
 * embeddings does.
 */
final class SequenceOrderTask {
    static final int PAD = 0;
    static final int A = 1;
    static final int B = 2;
    /** PAD, A, B and the filler tokens 3 .. VOCAB - 1. */
    static final int VOCAB = 12;
    static final int CLASSES = 2;

    private SequenceOrderTask() {
    }

    /** {@code size} examples: INT64 tokens {@code [size, maxLength]} and labels {@code [size]}. */
    static TensorDataset make(int size, int minLength, int maxLength, Generator generator, Backend backend) {
        long[] tokens = new long[size * maxLength];
        long[] labels = new long[size];
        for (int i = 0; i < size; i++) {
            int length = minLength + (int) generator.nextLong(maxLength - minLength + 1);
            int row = i * maxLength;
            for (int t = 0; t < length; t++) {
                tokens[row + t] = 3 + generator.nextLong(VOCAB - 3);
            }
            int a = (int) generator.nextLong(length);
            int b = (int) generator.nextLong(length - 1);
            if (b >= a) {
                b++;
            }
            tokens[row + a] = A;
            tokens[row + b] = B;
            labels[i] = a < b ? 1 : 0;
        }
        var create = Tensor.on(backend);
        return new TensorDataset(create.fromArray(tokens, size, maxLength), create.fromArray(labels, size));
    }
}
