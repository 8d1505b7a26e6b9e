package dev.adjoint.benchmarks.train;

import dev.adjoint.Tensor;
import dev.adjoint.backend.Backends;
import dev.adjoint.nn.io.Checkpoint;
import dev.adjoint.nn.data.FashionMnist;
import dev.adjoint.spi.Backend;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The training program on the nn module's committed 200/100-example subset: it learns and writes its outputs. */
class TrainFashionMnistTest {
    private static final Backend SCALAR = Backends.get("scalar");
    // Surefire runs in the module directory; the subset is the nn module's test resource.
    private static final Path SUBSET = Path.of("..", "nn", "src", "test", "resources", "fashion-mnist-subset");

    @TempDir
    Path dir;

    @Test
    void trainsOnTheSubsetAndWritesChartAndCheckpoint() throws Exception {
        System.setProperty("java.awt.headless", "true");
        Path png = dir.resolve("chart.png");
        Path ckpt = dir.resolve("ckpt.safetensors");
        TrainFashionMnist.Options options = TrainFashionMnist.Options.parse(new String[] {"--epochs", "4", "--seed", "1",
                "--batch-size", "20", "--optimizer", "sgd", "--lr", "0.05", "--no-progress", "--checkpoint", ckpt.toString()});
        List<TrainFashionMnist.Epoch> history = TrainFashionMnist.train(options, SCALAR,
                FashionMnist.load(SUBSET, SCALAR), png);

        assertEquals(4, history.size());
        assertTrue(history.get(3).trainLoss() < history.get(0).trainLoss(), "the loss falls: " + history);
        assertTrue(history.get(3).testAccuracy() > 0.3, "well above chance (10%): " + history);
        byte[] head = Arrays.copyOf(Files.readAllBytes(png), 8);
        assertArrayEquals(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'}, head);
        Checkpoint.Contents saved = Checkpoint.load(ckpt, SCALAR);
        assertEquals(List.of("0.weight", "0.bias", "2.weight", "2.bias").stream().sorted().toList(),
                saved.model().keySet().stream().sorted().toList());
        assertTrue(saved.optimizer().containsKey("state.0.momentum_buffer"));
    }

    /** A smoke test of --model cnn: one epoch of ten steps on the subset learns something and saves BN's buffers. */
    @Test
    void theCnnTrainsOnTheSubset() throws Exception {
        System.setProperty("java.awt.headless", "true");
        Path ckpt = dir.resolve("cnn.safetensors");
        TrainFashionMnist.Options options = TrainFashionMnist.Options.parse(new String[] {"--model", "cnn", "--epochs",
                "1", "--seed", "3", "--batch-size", "20", "--no-progress", "--checkpoint", ckpt.toString()});
        List<TrainFashionMnist.Epoch> history = TrainFashionMnist.train(options, SCALAR,
                FashionMnist.load(SUBSET, SCALAR), dir.resolve("cnn.png"));
        assertEquals(1, history.size());
        assertTrue(history.get(0).testAccuracy() > 0.3, "well above chance (10%): " + history);
        assertTrue(Checkpoint.load(ckpt, SCALAR).model().containsKey("5.running_var"));
    }

    @Test
    void optionsHaveTheDocumentedDefaults() {
        TrainFashionMnist.Options o = TrainFashionMnist.Options.parse(new String[0]);
        assertEquals(10, o.epochs());
        assertEquals("mlp", o.model());
        assertEquals(64, o.batchSize());
        assertEquals("adam", o.optimizer());
        assertEquals(1e-3, o.lr());
        assertEquals(FashionMnist.DEFAULT_DIR, o.data());
        assertEquals(0.01, TrainFashionMnist.Options.parse(new String[] {"--optimizer", "sgd"}).lr());
        assertThrows(IllegalArgumentException.class, () -> TrainFashionMnist.Options.parse(new String[] {"--epochs"}));
        assertThrows(IllegalArgumentException.class, () -> TrainFashionMnist.Options.parse(new String[] {"--bogus"}));
        assertThrows(IllegalArgumentException.class,
                () -> TrainFashionMnist.Options.parse(new String[] {"--optimizer", "lbfgs"}));
        assertThrows(IllegalArgumentException.class,
                () -> TrainFashionMnist.Options.parse(new String[] {"--model", "resnet"}));
        for (String option : new String[] {"--epochs", "--batch-size", "--seed", "--lr"}) {
            IllegalArgumentException bad = assertThrows(IllegalArgumentException.class,
                    () -> TrainFashionMnist.Options.parse(new String[] {option, "x"}));
            assertTrue(bad.getMessage().startsWith(option + " takes a"), "names the option: " + bad.getMessage());
        }
    }

    @Test
    void accuracyCountsArgmaxHitsWithTiesToTheFirstClass() {
        Tensor logits = Tensor.on(SCALAR).fromArray(new float[] {0, 2, 1, 5, 5, 0, 1, 1, 1}, 3, 3);
        Tensor labels = Tensor.on(SCALAR).fromArray(new long[] {1, 0, 2}, 3);
        assertEquals(2, TrainFashionMnist.countCorrect(logits, labels));
    }
}
