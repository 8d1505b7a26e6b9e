package dev.adjoint.nn.data;

import dev.adjoint.DType;
import dev.adjoint.backend.Backends;
import dev.adjoint.spi.Backend;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URISyntaxException;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** On the committed subset (first 200 train, 100 test examples; see tools/make-fashion-mnist-subset.py). */
class FashionMnistTest {
    private static final Backend SCALAR = Backends.get("scalar");

    @TempDir
    Path tmp;

    static Path subset() throws URISyntaxException {
        return Path.of(FashionMnistTest.class.getResource("/fashion-mnist-subset/train-labels-idx1-ubyte.gz").toURI())
                .getParent();
    }

    @Test
    void loadsImagesAsUnitRangeRowsAndLabelsAsInt64() throws Exception {
        FashionMnist.Split split = FashionMnist.load(subset(), SCALAR);
        assertArrayEquals(new int[] {200, 784}, split.train().features().shape().toArray());
        assertArrayEquals(new int[] {100, 784}, split.test().features().shape().toArray());
        assertEquals(DType.FLOAT32, split.train().features().dtype());
        assertEquals(DType.INT64, split.train().labels().dtype());
        assertArrayEquals(new long[] {9, 0, 0, 3, 0, 2, 7, 2, 5, 5},
                split.train().labels().narrow(0, 0, 10).toLongArray());
        assertArrayEquals(new long[] {9, 2, 1, 1, 6, 1, 4, 6, 5, 7},
                split.test().labels().narrow(0, 0, 10).toLongArray());

        float[] first = split.train().features().narrow(0, 0, 1).toFloatArray();
        double sum = 0;
        float max = 0;
        for (float v : first) {
            assertTrue(v >= 0f && v <= 1f);
            sum += v;
            max = Math.max(max, v);
        }
        // Checksums of the first image computed from the raw bytes: 76247 / 255, peak 255 / 255,
        // and the centre pixel (row 14, column 14) 217 / 255.
        assertEquals(76247 / 255.0, sum, 1e-3);
        assertEquals(1f, max);
        assertEquals((float) (217 / 255.0), first[14 * 28 + 14]);
    }

    @Test
    void plainFilesWork() throws Exception {
        for (String name : new String[] {"train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
                "t10k-labels-idx1-ubyte"}) {
            Idx.write(tmp.resolve(name), Idx.read(subset().resolve(name + ".gz")), false);
        }
        assertEquals(200, FashionMnist.load(tmp, SCALAR).train().size());
    }

    @Test
    void missingDataSaysHowToGetIt() {
        DatasetNotFoundException e = assertThrows(DatasetNotFoundException.class,
                () -> FashionMnist.load(tmp.resolve("nowhere"), SCALAR));
        assertTrue(e.getMessage().contains("tools/install-fashion-mnist.sh"), e.getMessage());
        assertTrue(e.getMessage().contains("dataset-fashion-mnist"), e.getMessage());
        assertTrue(e.getMessage().contains("train-images-idx3-ubyte[.gz]"), e.getMessage());
    }

    @Test
    void mismatchedLabelCountIsReported() throws Exception {
        Path images = subset().resolve("train-images-idx3-ubyte.gz");
        Path labels = subset().resolve("t10k-labels-idx1-ubyte.gz");
        IdxFormatException e = assertThrows(IdxFormatException.class, () -> FashionMnist.split(images, labels, SCALAR));
        assertTrue(e.getMessage().contains("expected 200 unsigned-byte labels"), e.getMessage());
    }

    @Test
    void wrongFileKindIsReported() throws Exception {
        Path labels = subset().resolve("train-labels-idx1-ubyte.gz");
        IdxFormatException e = assertThrows(IdxFormatException.class, () -> FashionMnist.split(labels, labels, SCALAR));
        assertTrue(e.getMessage().contains("[N, 28, 28]"), e.getMessage());
    }

}
