package dev.adjoint.nn.data;

import dev.adjoint.Tensor;
import dev.adjoint.TensorFactory;
import dev.adjoint.backend.Backends;
import dev.adjoint.spi.Backend;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Fashion-MNIST (Zalando's 28x28 grey-scale clothing images, 10 classes, 60,000 train and 10,000
 * test) from its four IDX files, plain or {@code .gz}. Images become FLOAT32 rows of 784 values in
 * [0, 1] (pixel / 255), labels INT64 class indices.
 */
public final class FashionMnist {
    /** Where the Debian package {@code dataset-fashion-mnist} puts the files. */
    public static final Path DEFAULT_DIR = Path.of("/usr/share/datasets/fashion-mnist");

    public static final int IMAGE_SIZE = 28 * 28;

    public static final List<String> CLASSES = List.of("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
            "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot");

    /** How to get the data, for messages where it is missing. */
    public static final String HOW_TO_INSTALL = "install it with tools/install-fashion-mnist.sh (the Debian package"
            + " dataset-fashion-mnist, which puts the files in " + DEFAULT_DIR + "), or pass a directory holding"
            + " train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte"
            + " (each optionally .gz)";

    /** The two standard splits. */
    public record Split(TensorDataset train, TensorDataset test) {
    }

    private FashionMnist() {
    }

    /** Both splits from {@code dir}, on the default backend. */
    public static Split load(Path dir) throws IOException {
        return load(dir, Backends.defaultBackend());
    }

    /** Both splits from {@code dir}, on {@code backend}. */
    public static Split load(Path dir, Backend backend) throws IOException {
        List<String> missing = new ArrayList<>();
        Path trainImages = find(dir, "train-images-idx3-ubyte", missing);
        Path trainLabels = find(dir, "train-labels-idx1-ubyte", missing);
        Path testImages = find(dir, "t10k-images-idx3-ubyte", missing);
        Path testLabels = find(dir, "t10k-labels-idx1-ubyte", missing);
        if (!missing.isEmpty()) {
            throw new DatasetNotFoundException("Fashion-MNIST not found in " + dir + " (missing " + String.join(", ", missing)
                    + "): " + HOW_TO_INSTALL);
        }
        return new Split(split(trainImages, trainLabels, backend), split(testImages, testLabels, backend));
    }

    /** One split from an image file and a label file. */
    public static TensorDataset split(Path imageFile, Path labelFile, Backend backend) throws IOException {
        IdxArray images = Idx.read(imageFile);
        IdxArray labels = Idx.read(labelFile);
        int[] dims = images.shape().toArray();
        if (images.type() != Idx.ElementType.UNSIGNED_BYTE || dims.length != 3 || dims[1] * dims[2] != IMAGE_SIZE) {
            throw new IdxFormatException(imageFile.toString(), "expected unsigned-byte images [N, 28, 28], got "
                    + images.type() + " " + images.shape());
        }
        if (labels.type() != Idx.ElementType.UNSIGNED_BYTE || labels.shape().rank() != 1
                || labels.shape().dim(0) != dims[0]) {
            throw new IdxFormatException(labelFile.toString(), "expected " + dims[0] + " unsigned-byte labels to match "
                    + imageFile.getFileName() + ", got " + labels.type() + " " + labels.shape());
        }
        long[] classes = labels.toLongArray();
        for (int i = 0; i < classes.length; i++) {
            if (classes[i] >= CLASSES.size()) {
                throw new IdxFormatException(labelFile.toString(), "label " + i + " is " + classes[i]
                        + ", outside the " + CLASSES.size() + " classes");
            }
        }
        TensorFactory on = Tensor.on(backend);
        Tensor x = on.fromArray(images.toFloatArray(1.0 / 255.0), dims[0], IMAGE_SIZE);
        Tensor y = on.fromArray(classes, classes.length);
        return new TensorDataset(x, y);
    }

    private static Path find(Path dir, String name, List<String> missing) {
        for (String candidate : new String[] {name, name + ".gz"}) {
            Path p = dir.resolve(candidate);
            if (Files.isRegularFile(p)) {
                return p;
            }
        }
        missing.add(name + "[.gz]");
        return null;
    }
}
