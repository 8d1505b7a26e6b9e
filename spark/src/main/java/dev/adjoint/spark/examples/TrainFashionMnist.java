package dev.adjoint.spark.examples;

import dev.adjoint.Generator;
import dev.adjoint.Tensor;
import dev.adjoint.backend.Backends;
import dev.adjoint.nn.Linear;
import dev.adjoint.nn.Module;
import dev.adjoint.nn.NnContext;
import dev.adjoint.nn.ReLU;
import dev.adjoint.nn.Sequential;
import dev.adjoint.nn.data.DataLoader;
import dev.adjoint.nn.data.DatasetNotFoundException;
import dev.adjoint.nn.data.FashionMnist;
import dev.adjoint.nn.optim.Adam;
import dev.adjoint.spark.Collective;
import dev.adjoint.spark.IdxData;
import dev.adjoint.spark.ModelFactory;
import dev.adjoint.spark.Shards;
import dev.adjoint.spark.SparkTrainer;
import dev.adjoint.spark.TrainingResult;
import dev.adjoint.spi.Backend;
import org.apache.spark.sql.SparkSession;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Locale;
import java.util.stream.Stream;

/**
 * The MLP of {@code benchmarks/train} (784-256-10, Adam, cross-entropy, same seeded initialisation)
 * trained data-parallel on Spark: {@code --replicas} replicas with the global batch split between
 * them. One {@link SparkTrainer#fit} per epoch, each resuming from the previous one's checkpoint, so
 * the driver can print the test accuracy after every epoch. Run it with
 * {@code benchmarks/train --spark local[2]}, or with spark-submit (README, "Training on Spark").
 */
public final class TrainFashionMnist {
    static final String USAGE = """
            usage: TrainFashionMnist [options]
              --master URL         Spark master (default: spark.master if set, as spark-submit sets it, else local[REPLICAS])
              --replicas N         replicas, one barrier task each (default: N of a local[N] master, else 2)
              --epochs N           epochs (default 10)
              --data DIR           the four Fashion-MNIST IDX files (default /usr/share/datasets/fashion-mnist);
                                   read by the driver
              --seed S             initial weights and shuffling (default 0)
              --lr X               Adam's learning rate (default 0.001)
              --batch-size B       global batch, split over the replicas (default 64)
              --backend NAME       the replicas' backend (default: each executor's default)
              --collective NAME    ring or spark-allgather (default ring)
              --checkpoint-dir D   where the replicas checkpoint, reachable by every executor (default: a new
                                   temporary directory; an existing one with checkpoints is resumed)
            """;

    record Options(String master, int replicas, int epochs, Path data, long seed, double lr, int batchSize,
                   String backend, Collective collective, Path checkpointDir) {

        static Options parse(String[] args) {
            String master = null;
            Integer replicas = null;
            int epochs = 10;
            Path data = FashionMnist.DEFAULT_DIR;
            long seed = 0;
            double lr = 1e-3;
            int batchSize = 64;
            String backend = null;
            Collective collective = Collective.RING;
            Path checkpointDir = null;
            for (int i = 0; i < args.length; i++) {
                String a = args[i];
                switch (a) {
                    case "--master", "--spark" -> master = value(args, ++i, a);
                    case "--replicas" -> replicas = Integer.parseInt(value(args, ++i, a));
                    case "--epochs" -> epochs = Integer.parseInt(value(args, ++i, a));
                    case "--data" -> data = Path.of(value(args, ++i, a));
                    case "--seed" -> seed = Long.parseLong(value(args, ++i, a));
                    case "--lr" -> lr = Double.parseDouble(value(args, ++i, a));
                    case "--batch-size" -> batchSize = Integer.parseInt(value(args, ++i, a));
                    case "--backend" -> backend = value(args, ++i, a);
                    case "--collective" -> collective = switch (value(args, ++i, a)) {
                        case "ring" -> Collective.RING;
                        case "spark-allgather" -> Collective.SPARK_ALLGATHER;
                        default -> throw new IllegalArgumentException("--collective is ring or spark-allgather, got '"
                                + args[i] + "'");
                    };
                    case "--checkpoint-dir" -> checkpointDir = Path.of(value(args, ++i, a));
                    // benchmarks/train's options that mean nothing different here.
                    case "--no-progress" -> { }
                    case "--optimizer" -> {
                        if (!value(args, ++i, a).equalsIgnoreCase("adam")) {
                            throw new IllegalArgumentException("the Spark version trains with Adam only");
                        }
                    }
                    case "--model" -> {
                        if (!value(args, ++i, a).equalsIgnoreCase("mlp")) {
                            throw new IllegalArgumentException("the Spark version trains the MLP (--model mlp) only");
                        }
                    }
                    default -> throw new IllegalArgumentException("unknown option '" + a + "'");
                }
            }
            if (replicas == null) {
                java.util.regex.Matcher local = java.util.regex.Pattern.compile("local\\[(\\d+)(,\\d+)?]")
                        .matcher(master == null ? "" : master);
                replicas = local.matches() ? Integer.parseInt(local.group(1)) : 2;
            }
            if (replicas < 1 || epochs < 1 || batchSize < 1 || !(lr > 0)) {
                throw new IllegalArgumentException("--replicas, --epochs, --batch-size and --lr must be positive");
            }
            return new Options(master, replicas, epochs, data, seed, lr, batchSize, backend, collective, checkpointDir);
        }

        private static String value(String[] args, int i, String option) {
            if (i >= args.length) {
                throw new IllegalArgumentException(option + " needs a value");
            }
            return args[i];
        }
    }

    /** The MLP of benchmarks/train, initialised from the same seeded generators. */
    record Mlp(long seed) implements ModelFactory {
        @Override
        public Module create(Backend backend) {
            Generator generator = new Generator(seed);
            NnContext ctx = NnContext.of(backend, generator.split());
            return new Sequential(new Linear(FashionMnist.IMAGE_SIZE, 256, ctx), new ReLU(), new Linear(256, 10, ctx));
        }
    }

    private TrainFashionMnist() {
    }

    public static void main(String[] args) throws IOException {
        if (Arrays.asList(args).contains("--help") || Arrays.asList(args).contains("-h")) {
            System.out.print(USAGE);
            return;
        }
        Options o;
        try {
            o = Options.parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println("TrainFashionMnist: " + e.getMessage());
            System.err.print(USAGE);
            System.exit(2);
            return;
        }
        Backend driverBackend = o.backend() != null ? Backends.get(o.backend()) : Backends.defaultBackend();
        FashionMnist.Split local;
        try {
            // The driver reads the files: the test split for its evaluation, the training split to hand to Spark.
            local = FashionMnist.load(o.data(), driverBackend);
        } catch (DatasetNotFoundException e) {
            System.err.println("TrainFashionMnist: " + e.getMessage());
            System.exit(3);
            return;
        }
        SparkSession.Builder sessionBuilder = SparkSession.builder().appName("adjoint Fashion-MNIST");
        if (o.master() != null) {
            sessionBuilder.master(o.master());
        } else if (!new org.apache.spark.SparkConf().contains("spark.master")) {
            sessionBuilder.master("local[" + o.replicas() + "]");
        }
        SparkSession spark = sessionBuilder.getOrCreate();
        spark.sparkContext().setLogLevel("WARN");
        Path checkpoints = o.checkpointDir() != null ? o.checkpointDir() : Files.createTempDirectory("adjoint-fashion-mnist");
        try {
            train(o, spark, local, driverBackend, checkpoints);
        } finally {
            spark.stop();
            if (o.checkpointDir() == null) {
                deleteRecursively(checkpoints);
            }
        }
    }

    private static void train(Options o, SparkSession spark, FashionMnist.Split local, Backend driverBackend,
                              Path checkpoints) throws IOException {
        Shards shards = Shards.of(IdxData.examples(spark, trainFile(o.data(), "train-images-idx3-ubyte"),
                trainFile(o.data(), "train-labels-idx1-ubyte"), 1 / 255.0, o.replicas()), o.replicas());
        double lr = o.lr();
        SparkTrainer.Builder trainer = SparkTrainer.builder(new Mlp(o.seed()), model -> new Adam(model.parameters(), lr))
                .replicas(o.replicas()).globalBatchSize(o.batchSize()).seed(o.seed()).collective(o.collective())
                .checkpointDir(checkpoints);
        if (o.backend() != null) {
            trainer.backend(o.backend());
        }
        DataLoader test = DataLoader.builder(local.test()).batchSize(1000).backend(driverBackend).build();
        System.out.printf(Locale.ROOT, "Fashion-MNIST: %d train, %d test images; MLP 784-256-10; Spark %s, master %s; "
                        + "%d replicas x %d examples per step (global batch %d), Adam lr %s, seed %d, %s all-reduce%n",
                local.train().size(), local.test().size(), spark.version(), spark.sparkContext().master(), o.replicas(),
                o.batchSize() / Math.max(1, o.replicas()), o.batchSize(), o.lr(), o.seed(),
                o.collective() == Collective.RING ? "ring" : "spark-allgather");
        double accuracy = 0;
        double trainingSeconds = 0;
        for (int epoch = 1; epoch <= o.epochs(); epoch++) {
            long start = System.nanoTime();
            TrainingResult r = trainer.epochs(epoch).build().fit(shards);
            double wall = (System.nanoTime() - start) / 1e9;
            trainingSeconds += r.secondsTraining();
            double[] testResult = evaluate(r.model(), test);
            accuracy = testResult[1];
            System.out.printf(Locale.ROOT, "epoch %2d/%d  train loss %.4f  test loss %.4f  test acc %.2f%%  "
                            + "(%d steps on backend '%s', %.1f s training, %.0f samples/s, %.1f s all-reduce; %.1f s with "
                            + "the Spark job)%s%n", epoch, o.epochs(), mean(r.losses()), testResult[0], 100 * accuracy,
                    r.steps() - r.firstStep(), r.backend(), r.secondsTraining(), r.samplesPerSecond(),
                    r.secondsCollective(), wall, r.stageAttempt() > 0 ? "  [stage retried " + r.stageAttempt()
                            + "x, resumed at step " + r.firstStep() + "]" : "");
        }
        System.out.printf(Locale.ROOT, "done: test accuracy %.2f%% after %d epochs with %d replicas, %.1f s training%n",
                100 * accuracy, o.epochs(), o.replicas(), trainingSeconds);
    }

    private static Path trainFile(Path dir, String name) {
        Path plain = dir.resolve(name);
        return Files.isRegularFile(plain) ? plain : dir.resolve(name + ".gz");
    }

    private static double mean(double[] values) {
        return Arrays.stream(values).average().orElse(Double.NaN);
    }

    /** Mean cross-entropy and accuracy over {@code loader}, without recording a graph. */
    static double[] evaluate(Module model, DataLoader loader) {
        model.eval();
        double lossSum = 0;
        long correct = 0;
        long seen = 0;
        try (var scope = Tensor.noGrad()) {
            for (DataLoader.Batch batch : loader) {
                Tensor logits = model.forward(batch.features());
                lossSum += dev.adjoint.Functional.crossEntropy(logits, batch.labels()).item() * batch.size();
                long[] predicted = logits.argmax(1, false).toLongArray();
                long[] y = batch.labels().toLongArray();
                for (int i = 0; i < y.length; i++) {
                    if (predicted[i] == y[i]) {
                        correct++;
                    }
                }
                seen += batch.size();
            }
        }
        return new double[] {lossSum / seen, (double) correct / seen};
    }

    private static void deleteRecursively(Path dir) throws IOException {
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
