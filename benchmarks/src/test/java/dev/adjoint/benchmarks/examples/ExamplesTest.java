package dev.adjoint.benchmarks.examples;

import dev.adjoint.Generator;
import dev.adjoint.backend.Backends;
import dev.adjoint.nn.data.TensorDataset;
import dev.adjoint.spi.Backend;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The two example programs in a few steps each on the scalar backend: the training loss falls and the
 * loss curve is written. The full runs and their figures are in docs/examples.md.
 */
class ExamplesTest {
    private static final Backend SCALAR = Backends.get("scalar");

    @TempDir
    Path dir;

    @Test
    void theTransformerClassifierTrainsForAFewEpochs() throws Exception {
        System.setProperty("java.awt.headless", "true");
        Path png = dir.resolve("transformer.png");
        var options = TrainTransformerClassifier.Options.parse(new String[] {"--epochs", "3", "--train", "320", "--test",
                "100", "--lr", "0.01", "--batch-size", "32", "--out", png.toString()});
        List<String> log = new ArrayList<>();
        List<TrainTransformerClassifier.Epoch> history = TrainTransformerClassifier.train(options, SCALAR, log::add);
        assertEquals(3, history.size());
        assertTrue(history.get(2).trainLoss() < history.get(0).trainLoss(), "the training loss falls: " + history);
        assertTrue(log.get(2).startsWith("epoch  3: train loss "), log.get(2));
        assertPng(png);
    }

    @Test
    void theCharacterLstmTrainsForAFewStepsAndSamples() throws Exception {
        System.setProperty("java.awt.headless", "true");
        Path png = dir.resolve("char-lstm.png");
        var options = TrainCharLstm.Options.parse(new String[] {"--steps", "30", "--eval-every", "10", "--batch-size", "8",
                "--length", "32", "--hidden", "32", "--lr", "0.01", "--sample", "40", "--out", png.toString()});
        CharCorpus corpus = CharCorpus.genesis();
        TrainCharLstm.Run run = TrainCharLstm.train(options, SCALAR, corpus, line -> { });
        assertEquals(3, run.history().size());
        double uniform = Math.log(corpus.vocabSize());
        assertTrue(run.history().get(2).validationLoss() < run.history().get(0).validationLoss()
                && run.history().get(2).validationLoss() < uniform - 1, "the validation loss falls below the uniform "
                + "model's ln(" + corpus.vocabSize() + "): " + run.history());
        assertTrue(run.sample().startsWith("And God ") && run.sample().length() == "And God ".length() + 40, run.sample());
        for (char c : run.sample().toCharArray()) {
            assertTrue(corpus.text.indexOf(c) >= 0, "sampled characters come from the vocabulary");
        }
        assertPng(png);
    }

    @Test
    void theSequenceTaskIsBalancedAndItsLabelIsTheOrderOfTheMarkers() {
        TensorDataset set = SequenceOrderTask.make(400, 4, 16, new Generator(3), SCALAR);
        long[] tokens = set.features().toLongArray();
        long[] labels = set.labels().toLongArray();
        int ones = 0;
        for (int i = 0; i < labels.length; i++) {
            int a = -1;
            int b = -1;
            int length = 0;
            for (int t = 0; t < 16; t++) {
                long token = tokens[i * 16 + t];
                if (token != SequenceOrderTask.PAD) {
                    length = t + 1;
                }
                if (token == SequenceOrderTask.A) {
                    a = t;
                } else if (token == SequenceOrderTask.B) {
                    b = t;
                }
            }
            assertTrue(a >= 0 && b >= 0 && length >= 4, "one A and one B in every sequence");
            assertEquals(a < b ? 1 : 0, labels[i]);
            ones += (int) labels[i];
        }
        assertTrue(ones > 150 && ones < 250, ones + " of 400 in class 1");
        assertArrayEquals(tokens, SequenceOrderTask.make(400, 4, 16, new Generator(3), SCALAR).features().toLongArray(),
                "the seed decides the data");
    }

    @Test
    void theCorpusRoundTripsAndSamplingInvertsTheCdf() {
        CharCorpus corpus = CharCorpus.genesis();
        assertTrue(corpus.text.startsWith("In the beginning God created the heaven and the earth."));
        long[] ids = corpus.encode("And God saw");
        StringBuilder back = new StringBuilder();
        for (long id : ids) {
            back.append(corpus.decode(id));
        }
        assertEquals("And God saw", back.toString());
        assertEquals(corpus.text.length(), corpus.train.length + corpus.validation.length);
        assertEquals(1, TrainCharLstm.draw(new double[] {0.2, 0.5, 0.3}, 0.25));
        assertEquals(2, TrainCharLstm.draw(new double[] {0.2, 0.5, 0.3}, 0.7));
        assertThrows(IllegalArgumentException.class, () -> TrainCharLstm.Options.parse(new String[] {"--steps"}));
        assertThrows(IllegalArgumentException.class, () -> TrainTransformerClassifier.Options.parse(new String[] {"--x"}));
        IllegalArgumentException bad = assertThrows(IllegalArgumentException.class,
                () -> TrainCharLstm.Options.parse(new String[] {"--hidden", "wide"}));
        assertEquals("--hidden takes a whole number, got 'wide'", bad.getMessage());
        bad = assertThrows(IllegalArgumentException.class,
                () -> TrainTransformerClassifier.Options.parse(new String[] {"--lr", "fast"}));
        assertEquals("--lr takes a number, got 'fast'", bad.getMessage());
    }

    private static void assertPng(Path png) throws Exception {
        byte[] head = Arrays.copyOf(Files.readAllBytes(png), 8);
        assertArrayEquals(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'}, head);
    }
}
