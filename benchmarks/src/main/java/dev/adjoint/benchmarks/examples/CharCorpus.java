package dev.adjoint.benchmarks.examples;

import dev.adjoint.Generator;
import dev.adjoint.Tensor;
import dev.adjoint.spi.Backend;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.TreeSet;

/**
 * A text as character ids for a character-level language model: the vocabulary is the text's distinct
 * characters in code-point order; the first 90% is for training and the rest for validation. The
 * shipped text is Genesis 1-5 of the King James Version (1611, public domain), 16.5 KB, from Debian's
 * bible-kjv-text, one verse per line.
 */
final class CharCorpus {
    static final String GENESIS = "genesis-1-5-kjv.txt";

    final String text;
    final char[] vocab;
    private final int[] idOf = new int[Character.MAX_VALUE + 1];
    final long[] train;
    final long[] validation;

    CharCorpus(String text) {
        this.text = text;
        TreeSet<Character> chars = new TreeSet<>();
        for (char c : text.toCharArray()) {
            chars.add(c);
        }
        vocab = new char[chars.size()];
        int k = 0;
        for (char c : chars) {
            idOf[c] = k;
            vocab[k++] = c;
        }
        long[] ids = encode(text);
        int split = (int) (ids.length * 0.9);
        train = java.util.Arrays.copyOfRange(ids, 0, split);
        validation = java.util.Arrays.copyOfRange(ids, split, ids.length);
    }

    static CharCorpus genesis() {
        try (InputStream in = CharCorpus.class.getResourceAsStream(GENESIS)) {
            if (in == null) {
                throw new IllegalStateException(GENESIS + " is missing from the class path");
            }
            return new CharCorpus(new String(in.readAllBytes(), StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    int vocabSize() {
        return vocab.length;
    }

    long[] encode(String s) {
        long[] ids = new long[s.length()];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = idOf[s.charAt(i)];
        }
        return ids;
    }

    char decode(long id) {
        return vocab[(int) id];
    }

    /**
     * {inputs, targets}, each INT64 {@code [batch, length]}: windows of the training text starting at
     * random offsets, the targets shifted by one character.
     */
    Tensor[] randomWindows(int batch, int length, Generator generator, Backend backend) {
        long[] x = new long[batch * length];
        long[] y = new long[batch * length];
        for (int b = 0; b < batch; b++) {
            int start = (int) generator.nextLong(train.length - length - 1);
            System.arraycopy(train, start, x, b * length, length);
            System.arraycopy(train, start + 1, y, b * length, length);
        }
        var create = Tensor.on(backend);
        return new Tensor[] {create.fromArray(x, batch, length), create.fromArray(y, batch, length)};
    }

    /** {inputs, targets} covering the validation text in consecutive windows of {@code length}. */
    Tensor[] validationWindows(int length, Backend backend) {
        int windows = (validation.length - 1) / length;
        long[] x = new long[windows * length];
        long[] y = new long[windows * length];
        for (int w = 0; w < windows; w++) {
            System.arraycopy(validation, w * length, x, w * length, length);
            System.arraycopy(validation, w * length + 1, y, w * length, length);
        }
        var create = Tensor.on(backend);
        return new Tensor[] {create.fromArray(x, windows, length), create.fromArray(y, windows, length)};
    }
}
