package dev.adjoint.benchmarks.train;

import dev.adjoint.MemoryScope;
import dev.adjoint.Generator;
import dev.adjoint.Tensor;
import dev.adjoint.backend.Backends;
import dev.adjoint.nn.BatchNorm2d;
import dev.adjoint.nn.Conv2d;
import dev.adjoint.nn.Flatten;
import dev.adjoint.nn.Linear;
import dev.adjoint.nn.MaxPool2d;
import dev.adjoint.nn.Module;
import dev.adjoint.nn.NnContext;
import dev.adjoint.nn.ReLU;
import dev.adjoint.nn.Sequential;
import dev.adjoint.nn.io.Checkpoint;
import dev.adjoint.nn.data.DataLoader;
import dev.adjoint.nn.data.DatasetNotFoundException;
import dev.adjoint.nn.data.FashionMnist;
import dev.adjoint.nn.loss.CrossEntropyLoss;
import dev.adjoint.nn.optim.Adam;
import dev.adjoint.nn.optim.Optimizer;
import dev.adjoint.nn.optim.SGD;
import dev.adjoint.spi.Backend;
import me.tongfei.progressbar.DelegatingProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import static dev.adjoint.benchmarks.CommandLine.longNumber;
import static dev.adjoint.benchmarks.CommandLine.number;
import static dev.adjoint.benchmarks.CommandLine.value;
import static dev.adjoint.benchmarks.CommandLine.wholeNumber;

/**
 * Trains a model on Fashion-MNIST with cross-entropy, on the backend named on the command line: an
 * MLP 784-256-10 (Linear, ReLU, Linear), or a CNN of two blocks of Conv2d 3x3 (padding 1),
 * BatchNorm2d, ReLU and MaxPool2d 2, with 32 and 64 channels, and a linear head (PyTorch's default
 * initialisation from a seeded generator). Prints a progress bar with the running loss and
 * accuracy, the test accuracy after every epoch (in eval mode), and writes the loss and accuracy
 * curves to a PNG. Run it with {@code benchmarks/train --help}.
 */
public final class TrainFashionMnist {
    /** Where the options are described: the script's --help, which needs no build. */
    static final String HELP = "benchmarks/train --help lists the options";

    /** The command line, parsed. */
    record Options(String backend, String model, int epochs, Path data, long seed, String optimizer, double lr,
                   int batchSize, Path out, Path checkpoint, boolean progress) {

        static Options parse(String[] args) {
            String backend = null;
            String model = "mlp";
            int epochs = 10;
            Path data = FashionMnist.DEFAULT_DIR;
            long seed = 0;
            String optimizer = "adam";
            Double lr = null;
            int batchSize = 64;
            Path out = null;
            Path checkpoint = null;
            boolean progress = true;
            for (int i = 0; i < args.length; i++) {
                String a = args[i];
                switch (a) {
                    case "--backend" -> backend = value(args, ++i, a);
                    case "--model" -> model = value(args, ++i, a).toLowerCase(Locale.ROOT);
                    case "--epochs" -> epochs = wholeNumber(args, ++i, a);
                    case "--data" -> data = Path.of(value(args, ++i, a));
                    case "--seed" -> seed = longNumber(args, ++i, a);
                    case "--optimizer" -> optimizer = value(args, ++i, a).toLowerCase(Locale.ROOT);
                    case "--lr" -> lr = number(args, ++i, a);
                    case "--batch-size" -> batchSize = wholeNumber(args, ++i, a);
                    case "--out" -> out = Path.of(value(args, ++i, a));
                    case "--checkpoint" -> checkpoint = Path.of(value(args, ++i, a));
                    case "--no-progress" -> progress = false;
                    default -> throw new IllegalArgumentException("unknown option '" + a + "'");
                }
            }
            if (!model.equals("mlp") && !model.equals("cnn")) {
                throw new IllegalArgumentException("--model must be mlp or cnn, got '" + model + "'");
            }
            if (!optimizer.equals("sgd") && !optimizer.equals("adam")) {
                throw new IllegalArgumentException("--optimizer must be sgd or adam, got '" + optimizer + "'");
            }
            if (epochs < 1) {
                throw new IllegalArgumentException("--epochs must be at least 1, got " + epochs);
            }
            if (batchSize < 1) {
                throw new IllegalArgumentException("--batch-size must be at least 1, got " + batchSize);
            }
            if (lr != null && !(lr > 0 && Double.isFinite(lr))) {
                throw new IllegalArgumentException("--lr must be a positive number, got " + lr);
            }
            return new Options(backend, model, epochs, data, seed, optimizer,
                    lr != null ? lr : optimizer.equals("sgd") ? 0.01 : 1e-3, batchSize, out, checkpoint, progress);
        }
    }

    /** What one epoch measured. */
    record Epoch(int epoch, double trainLoss, double trainAccuracy, double testLoss, double testAccuracy,
                 double seconds) {
    }

    private TrainFashionMnist() {
    }

    public static void main(String[] args) throws IOException {
        // The chart is drawn off-screen; without this a machine with no display may fail to start AWT.
        System.setProperty("java.awt.headless", "true");
        if (List.of(args).contains("--help") || List.of(args).contains("-h")) {
            System.out.println(HELP);
            return;
        }
        Options options;
        try {
            options = Options.parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println("train: " + e.getMessage() + " (" + HELP + ")");
            System.exit(2);
            return;
        }
        Backend backend = options.backend() == null ? Backends.defaultBackend() : Backends.get(options.backend());

        FashionMnist.Split data;
        try {
            data = FashionMnist.load(options.data(), backend);
        } catch (DatasetNotFoundException e) {
            System.err.println("train: " + e.getMessage());
            System.err.println("train: tools/install-fashion-mnist.sh installs it (as root: it runs apt-get), then run "
                    + "again; or pass --data DIR");
            System.exit(3);
            return;
        }
        Path out = options.out() != null ? options.out()
                : Path.of("fashion-mnist-" + (options.model().equals("cnn") ? "cnn-" : "") + backend.name() + ".png");
        List<Epoch> history = train(options, backend, data, out);
        Epoch last = history.get(history.size() - 1);
        double total = history.stream().mapToDouble(Epoch::seconds).sum();
        System.out.printf(Locale.ROOT, "done: test accuracy %.2f%% after %d epochs, %.1f s training; chart %s%n",
                100 * last.testAccuracy(), history.size(), total, out.toAbsolutePath());
    }

    static List<Epoch> train(Options options, Backend backend, FashionMnist.Split data, Path chartFile)
            throws IOException {
        Generator generator = new Generator(options.seed());
        NnContext ctx = NnContext.of(backend, generator.split());
        boolean cnn = options.model().equals("cnn");
        Module model = cnn ? cnn(ctx) : new Sequential(new Linear(FashionMnist.IMAGE_SIZE, 256, ctx), new ReLU(),
                new Linear(256, 10, ctx));
        String description = cnn ? CNN_DESCRIPTION : "MLP 784-256-10";
        String shortName = cnn ? "CNN 32-64" : "MLP 784-256-10";
        Optimizer optimizer = options.optimizer().equals("sgd")
                ? new SGD(model.parameters(), options.lr(), 0.9)
                : new Adam(model.parameters(), options.lr());
        CrossEntropyLoss lossFunction = new CrossEntropyLoss();
        DataLoader train = DataLoader.builder(data.train()).batchSize(options.batchSize())
                .shuffle(generator.split()).backend(backend).build();
        DataLoader test = DataLoader.builder(data.test()).batchSize(1000).backend(backend).build();

        System.out.printf(Locale.ROOT, "Fashion-MNIST: %d train, %d test images; %s on backend '%s'; "
                        + "%s lr %s, batch %d, seed %d, %d epochs%n", data.train().size(), data.test().size(),
                description, backend.name(), options.optimizer(), options.lr(), options.batchSize(), options.seed(),
                options.epochs());

        TrainingChart chart = new TrainingChart(shortName + " on Fashion-MNIST, backend '" + backend.name() + "', "
                + options.optimizer() + " lr " + options.lr() + ", batch " + options.batchSize());
        List<Epoch> history = new ArrayList<>();
        for (int epoch = 1; epoch <= options.epochs(); epoch++) {
            long start = System.nanoTime();
            model.train();
            double lossSum = 0;
            long correct = 0;
            long seen = 0;
            try (ProgressBar bar = progressBar(options, epoch, train.numBatches())) {
                int step = 0;
                for (DataLoader.Batch batch : train) {
                    double l;
                    // Each step's tensors give their memory back when it ends, for the next step to reuse.
                    try (MemoryScope scope = MemoryScope.open()) {
                        optimizer.zeroGrad();
                        Tensor logits = model.forward(images(batch, cnn));
                        Tensor loss = lossFunction.forward(logits, batch.labels());
                        loss.backward();
                        optimizer.step();
                        l = loss.item();
                        correct += countCorrect(logits, batch.labels());
                    }
                    lossSum += l * batch.size();
                    seen += batch.size();
                    step++;
                    chart.addStep(epoch - 1 + (double) step / train.numBatches(), l);
                    if (bar != null) {
                        bar.step();
                        bar.setExtraMessage(String.format(Locale.ROOT, " loss %.4f acc %.2f%%", lossSum / seen,
                                100.0 * correct / seen));
                    }
                }
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            double[] testResult = evaluate(model, lossFunction, test, cnn);
            Epoch e = new Epoch(epoch, lossSum / seen, (double) correct / seen, testResult[0], testResult[1], seconds);
            history.add(e);
            chart.addEpoch(e);
            System.out.printf(Locale.ROOT, "epoch %2d/%d  train loss %.4f  train acc %.2f%%  test loss %.4f  "
                            + "test acc %.2f%%  (%.1f s)%n", epoch, options.epochs(), e.trainLoss(),
                    100 * e.trainAccuracy(), e.testLoss(), 100 * e.testAccuracy(), seconds);
            chart.write(chartFile);
            if (options.checkpoint() != null) {
                Checkpoint.save(options.checkpoint(), model, optimizer);
            }
        }
        return history;
    }

    static final String CNN_DESCRIPTION = "CNN 2 x (conv3x3-BN-ReLU-maxpool2) 32-64, Linear(3136, 10)";

    /**
     * Two blocks of a 3x3 convolution (padding 1), batch norm, ReLU and 2x2 max pooling, 1 -> 32 -> 64
     * channels and 28 -> 14 -> 7 pixels, then a linear layer from the 64 x 7 x 7 features to the 10 classes.
     */
    public static Module cnn(NnContext ctx) {
        return new Sequential(
                new Conv2d(1, 32, 3, 1, 1, ctx), new BatchNorm2d(32, ctx), new ReLU(), new MaxPool2d(2),
                new Conv2d(32, 64, 3, 1, 1, ctx), new BatchNorm2d(64, ctx), new ReLU(), new MaxPool2d(2),
                new Flatten(), new Linear(64 * 7 * 7, 10, ctx));
    }

    /** The batch's images: flat rows of 784 pixels for the MLP, {@code [B, 1, 28, 28]} for the CNN. */
    static Tensor images(DataLoader.Batch batch, boolean cnn) {
        Tensor x = batch.features();
        return cnn ? x.reshape(-1, 1, 28, 28) : x;
    }

    /** Mean loss and accuracy over {@code loader}, in eval mode and without recording a graph. */
    static double[] evaluate(Module model, CrossEntropyLoss lossFunction, DataLoader loader, boolean cnn) {
        model.eval();
        double lossSum = 0;
        long correct = 0;
        long seen = 0;
        try (var scope = Tensor.noGrad()) {
            for (DataLoader.Batch batch : loader) {
                Tensor logits = model.forward(images(batch, cnn));
                lossSum += lossFunction.forward(logits, batch.labels()).item() * batch.size();
                correct += countCorrect(logits, batch.labels());
                seen += batch.size();
            }
        }
        model.train();
        return new double[] {lossSum / seen, (double) correct / seen};
    }

    /** Rows whose largest logit (torch.argmax: the first on ties) is at the label. */
    static long countCorrect(Tensor logits, Tensor labels) {
        long[] predicted = logits.argmax(1, false).toLongArray();
        long[] y = labels.toLongArray();
        long correct = 0;
        for (int i = 0; i < y.length; i++) {
            if (predicted[i] == y[i]) {
                correct++;
            }
        }
        return correct;
    }

    private static ProgressBar progressBar(Options options, int epoch, int steps) {
        if (!options.progress()) {
            return null;
        }
        ProgressBarBuilder builder = new ProgressBarBuilder()
                .setTaskName(String.format(Locale.ROOT, "epoch %d/%d", epoch, options.epochs()))
                .setInitialMax(steps)
                .setUnit(" steps", 1);
        if (System.console() == null) {
            // Not a terminal (a log file, CI): plain lines every few seconds instead of redrawing in place.
            builder.setStyle(ProgressBarStyle.ASCII)
                    .setUpdateIntervalMillis(5000)
                    .setConsumer(new DelegatingProgressBarConsumer(System.out::println, 100));
        } else {
            builder.setStyle(ProgressBarStyle.UNICODE_BLOCK).setUpdateIntervalMillis(250);
        }
        return builder.build();
    }
}
