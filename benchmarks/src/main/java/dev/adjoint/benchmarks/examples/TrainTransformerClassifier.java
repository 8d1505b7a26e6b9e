package dev.adjoint.benchmarks.examples;

import dev.adjoint.DType;
import dev.adjoint.Generator;
import dev.adjoint.Tensor;
import dev.adjoint.backend.Backends;
import dev.adjoint.nn.ClipGrad;
import dev.adjoint.nn.NnContext;
import dev.adjoint.nn.data.DataLoader;
import dev.adjoint.nn.data.TensorDataset;
import dev.adjoint.nn.loss.CrossEntropyLoss;
import dev.adjoint.nn.loss.Reduction;
import dev.adjoint.nn.optim.AdamW;
import dev.adjoint.nn.optim.OneCycleLR;
import dev.adjoint.spi.Backend;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import static dev.adjoint.benchmarks.CommandLine.longNumber;
import static dev.adjoint.benchmarks.CommandLine.number;
import static dev.adjoint.benchmarks.CommandLine.value;
import static dev.adjoint.benchmarks.CommandLine.wholeNumber;

/**
 * Trains {@link TransformerClassifier} on {@link SequenceOrderTask} (is A before B?), the way the PyTorch
 * loop reads: AdamW without weight decay on biases, norms and embeddings (a second parameter group),
 * a one-cycle schedule stepped per batch, cross-entropy with label smoothing, gradient clipping by norm.
 * Prints the test loss and accuracy after every epoch and writes the loss curve to a PNG. Run it with
 * {@code benchmarks/example transformer --help}.
 */
public final class TrainTransformerClassifier {
    static final String USAGE = """
            usage: benchmarks/example transformer [options]
              --backend NAME     scalar, simd, nd4j (default: Backends.defaultBackend(), now '%s')
              --epochs N         passes over the training set (default 10)
              --train N          training sequences (default 4000)
              --test N           test sequences (default 1000)
              --batch-size B     sequences per step (default 64)
              --lr X             peak learning rate of the one-cycle schedule (default 0.003)
              --seed S           seed of the data, the initial weights, dropout and shuffling (default 0)
              --out FILE.png     where to write the loss curve (default transformer-classifier.png)
            """;

    static final int MIN_LENGTH = 4;
    static final int MAX_LENGTH = 16;

    record Options(String backend, int epochs, int train, int test, int batchSize, double lr, long seed, Path out) {
        static Options parse(String[] args) {
            String backend = null;
            int epochs = 10;
            int train = 4000;
            int test = 1000;
            int batchSize = 64;
            double lr = 3e-3;
            long seed = 0;
            Path out = Path.of("transformer-classifier.png");
            for (int i = 0; i < args.length; i++) {
                String a = args[i];
                switch (a) {
                    case "--backend" -> backend = value(args, ++i, a);
                    case "--epochs" -> epochs = wholeNumber(args, ++i, a);
                    case "--train" -> train = wholeNumber(args, ++i, a);
                    case "--test" -> test = wholeNumber(args, ++i, a);
                    case "--batch-size" -> batchSize = wholeNumber(args, ++i, a);
                    case "--lr" -> lr = number(args, ++i, a);
                    case "--seed" -> seed = longNumber(args, ++i, a);
                    case "--out" -> out = Path.of(value(args, ++i, a));
                    default -> throw new IllegalArgumentException("unknown option '" + a + "' (--help lists the options)");
                }
            }
            return new Options(backend, epochs, train, test, batchSize, lr, seed, out);
        }
    }

    /** One epoch's figures: mean training loss (with label smoothing), test loss (without) and accuracy. */
    record Epoch(int epoch, double trainLoss, double testLoss, double testAccuracy, double seconds) {
    }

    private TrainTransformerClassifier() {
    }

    public static void main(String[] args) throws IOException {
        if (List.of(args).contains("--help")) {
            System.out.printf(USAGE, Backends.defaultBackend().name());
            return;
        }
        Options options;
        try {
            options = Options.parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println("TrainTransformerClassifier: " + e.getMessage());
            System.exit(2);
            return;
        }
        Backend backend = options.backend() == null ? Backends.defaultBackend() : Backends.get(options.backend());
        System.out.printf(Locale.ROOT, "transformer classifier on '%s': %d training and %d test sequences of length %d-%d%n",
                backend.name(), options.train(), options.test(), MIN_LENGTH, MAX_LENGTH);
        train(options, backend, line -> System.out.println(line));
        System.out.println("loss curve: " + options.out().toAbsolutePath());
    }

    static List<Epoch> train(Options o, Backend backend, java.util.function.Consumer<String> log) throws IOException {
        Generator data = new Generator(o.seed());
        TensorDataset trainSet = SequenceOrderTask.make(o.train(), MIN_LENGTH, MAX_LENGTH, data, backend);
        TensorDataset testSet = SequenceOrderTask.make(o.test(), MIN_LENGTH, MAX_LENGTH, data, backend);

        NnContext ctx = NnContext.of(backend, DType.FLOAT32, new Generator(o.seed() + 1));
        TransformerClassifier model = new TransformerClassifier(SequenceOrderTask.VOCAB, MAX_LENGTH, 32, 4, 64, 2,
                SequenceOrderTask.CLASSES, 0.1, ctx);

        // No weight decay on biases, norms, embeddings and positions, as PyTorch recipes do with two groups.
        List<Tensor> decay = new ArrayList<>();
        List<Tensor> noDecay = new ArrayList<>();
        model.namedParameters().forEach((name, p) -> (name.endsWith("weight") && p.rank() == 2
                && !name.startsWith("embed") ? decay : noDecay).add(p));
        AdamW optimizer = new AdamW(decay, o.lr(), 0.9, 0.999, 1e-8, 0.01, false);
        optimizer.addParamGroup(noDecay, Map.of("weight_decay", 0.0));

        DataLoader loader = DataLoader.builder(trainSet).batchSize(o.batchSize()).shuffle(new Generator(o.seed() + 2))
                .backend(backend).build();
        OneCycleLR schedule = new OneCycleLR(optimizer, o.lr(), o.epochs() * loader.numBatches());
        CrossEntropyLoss lossFn = new CrossEntropyLoss(null, -100, Reduction.MEAN, 0.05);
        CrossEntropyLoss testLossFn = new CrossEntropyLoss();

        LossChart chart = new LossChart("Transformer classifier, is A before B? (" + backend.name() + ")",
                "cross-entropy", "test (no label smoothing)", Math.max(1, loader.numBatches() / 4));
        List<Epoch> history = new ArrayList<>();
        int step = 0;
        for (int epoch = 1; epoch <= o.epochs(); epoch++) {
            long start = System.nanoTime();
            model.train();
            double sum = 0;
            int batches = 0;
            for (DataLoader.Batch batch : loader) {
                optimizer.zeroGrad();
                Tensor loss = lossFn.forward(model.call(batch.features()), batch.labels());
                loss.backward();
                ClipGrad.clipGradNorm(model.parameters(), 1.0);
                optimizer.step();
                schedule.step();
                double value = loss.item();
                sum += value;
                batches++;
                chart.addStep(++step, value);
            }
            double[] test = evaluate(model, testSet, testLossFn);
            chart.addHeldOut(step, test[0]);
            Epoch e = new Epoch(epoch, sum / batches, test[0], test[1], (System.nanoTime() - start) / 1e9);
            history.add(e);
            log.accept(String.format(Locale.ROOT, "epoch %2d: train loss %.4f, test loss %.4f, test accuracy %.1f%% (%.1f s)",
                    epoch, e.trainLoss(), e.testLoss(), 100 * e.testAccuracy(), e.seconds()));
        }
        chart.write(o.out());
        return history;
    }

    /** {test loss, test accuracy} in evaluation mode (dropout off), without a graph. */
    static double[] evaluate(TransformerClassifier model, TensorDataset set, CrossEntropyLoss lossFn) {
        model.eval();
        try (var scope = Tensor.noGrad()) {
            Tensor logits = model.call(set.features());
            double loss = lossFn.forward(logits, set.labels()).item();
            double correct = logits.argmax(1, false).eq(set.labels()).sum().item();
            return new double[] {loss, correct / set.size()};
        } finally {
            model.train();
        }
    }
}
