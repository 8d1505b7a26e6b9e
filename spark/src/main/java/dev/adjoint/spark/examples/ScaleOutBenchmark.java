package dev.adjoint.spark.examples;

import dev.adjoint.DType;
import dev.adjoint.Generator;
import dev.adjoint.nn.Linear;
import dev.adjoint.nn.Module;
import dev.adjoint.nn.NnContext;
import dev.adjoint.nn.ReLU;
import dev.adjoint.nn.Sequential;
import dev.adjoint.nn.data.FashionMnist;
import dev.adjoint.nn.optim.Adam;
import dev.adjoint.spark.Collective;
import dev.adjoint.spark.Example;
import dev.adjoint.spark.IdxData;
import dev.adjoint.spark.ModelFactory;
import dev.adjoint.spark.Shards;
import dev.adjoint.spark.SparkTrainer;
import dev.adjoint.spark.TrainingResult;
import dev.adjoint.spark.collective.AllReduce;
import dev.adjoint.spark.collective.ReduceBuffer;
import dev.adjoint.spark.collective.RingAllReduce;
import dev.adjoint.spark.collective.SparkAllGatherReduce;
import dev.adjoint.spi.Backend;
import org.apache.spark.BarrierTaskContext;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;
import scala.reflect.ClassTag$;
import scala.runtime.AbstractFunction1;

import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Measurements for docs/benchmarks.md, in Spark's local mode: all-reduce bandwidth against message
 * size (the TCP ring and Spark's allGather, between two barrier tasks), and training throughput in
 * samples per second with 1 and 2 replicas on the same global batch, for the Fashion-MNIST MLP and a
 * GEMM-heavy MLP. Run it with {@code spark/benchmark} (which says how).
 */
public final class ScaleOutBenchmark {
    private ScaleOutBenchmark() {
    }

    public static void main(String[] args) throws IOException {
        String what = args.length > 0 ? args[0] : "all";
        SparkSession spark = SparkSession.builder().master("local[2]").appName("adjoint scale-out benchmark")
                .config("spark.ui.enabled", "false").getOrCreate();
        spark.sparkContext().setLogLevel("WARN");
        try {
            System.out.printf(Locale.ROOT, "Spark %s, %s, JDK %s, %d processors, adjoint.simd.threads=%s%n",
                    spark.version(), spark.sparkContext().master(), Runtime.version(),
                    Runtime.getRuntime().availableProcessors(), System.getProperty("adjoint.simd.threads", "(default)"));
            if (what.equals("all") || what.equals("allreduce")) {
                allReduce(spark);
            }
            if (what.equals("all") || what.equals("throughput")) {
                throughput(spark, args.length > 1 ? Path.of(args[1]) : FashionMnist.DEFAULT_DIR);
            }
        } finally {
            spark.stop();
        }
    }

    // ---- all-reduce bandwidth ----------------------------------------------------------------------

    /** Message sizes in bytes: 4 KiB to 64 MiB. */
    static final long[] SIZES = {4 << 10, 32 << 10, 256 << 10, 1 << 20, 4 << 20, 16 << 20, 64 << 20};
    /** Spark's allGather carries Base64 strings through the driver: sizes above this take too long to matter. */
    static final long ALLGATHER_MAX = 16 << 20;

    record Timing(String collective, long bytes, double seconds, int repeats) implements Serializable {
        double gigabytesPerSecond() {
            return bytes / seconds / 1e9;
        }
    }

    /** In each of two barrier tasks: the ring and Spark's allGather at every size; rank 0 reports. */
    static final class AllReduceRun extends AbstractFunction1<scala.collection.Iterator<Integer>,
            scala.collection.Iterator<Timing>> implements Serializable {
        @Override
        public scala.collection.Iterator<Timing> apply(scala.collection.Iterator<Integer> ignored) {
            BarrierTaskContext ctx = BarrierTaskContext.get();
            int rank = ctx.partitionId();
            int size = ctx.getTaskInfos().length;
            List<Timing> out = new ArrayList<>();
            try (RingAllReduce ring = RingAllReduce.connect(rank, size, ctx::allGather,
                    new RingAllReduce.Options("127.0.0.1", 0, Duration.ofMinutes(2), 1))) {
                SparkAllGatherReduce gathered = new SparkAllGatherReduce(rank, size, ctx::allGather);
                for (long bytes : SIZES) {
                    out.add(time(ring, bytes, ctx));
                    if (bytes <= ALLGATHER_MAX) {
                        out.add(time(gathered, bytes, ctx));
                    }
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            return scala.jdk.javaapi.CollectionConverters.asScala((rank == 0 ? out : List.<Timing>of()).iterator());
        }

        /** Median of at least 5 calls and 0.5 s (after 2 warm-up calls), FLOAT32, averaging. */
        private static Timing time(AllReduce collective, long bytes, BarrierTaskContext ctx) throws IOException {
            ReduceBuffer buffer = ReduceBuffer.allocate(DType.FLOAT32, (int) (bytes / Float.BYTES));
            for (int i = 0; i < 2; i++) {
                collective.allReduce(buffer, true);
            }
            List<Double> seconds = new ArrayList<>();
            long start = System.nanoTime();
            // Every rank must make the same number of calls: rank 0's clock decides, through a barrier.
            boolean more = true;
            while (more) {
                long t0 = System.nanoTime();
                collective.allReduce(buffer, true);
                seconds.add((System.nanoTime() - t0) / 1e9);
                boolean enough = seconds.size() >= 5 && System.nanoTime() - start > 500_000_000L;
                more = !ctx.allGather(enough ? "stop" : "go")[0].equals("stop");
            }
            double[] sorted = seconds.stream().mapToDouble(Double::doubleValue).sorted().toArray();
            return new Timing(collective.name(), bytes, sorted[sorted.length / 2], sorted.length);
        }
    }

    static void allReduce(SparkSession spark) {
        JavaSparkContext sc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        JavaRDD<Integer> two = sc.parallelize(List.of(0, 1), 2);
        List<Timing> timings = new JavaRDD<>(two.rdd().barrier().mapPartitions(new AllReduceRun(), false,
                ClassTag$.MODULE$.apply(Timing.class)), ClassTag$.MODULE$.apply(Timing.class)).collect();
        System.out.println();
        System.out.println("All-reduce (average) of a FLOAT32 vector between 2 barrier tasks, median time per call;");
        System.out.println("GB/s = vector bytes / time (each task sends and receives the vector once):");
        System.out.println();
        System.out.println("| vector | ring, ms | ring, GB/s | Spark allGather, ms | allGather, GB/s |");
        System.out.println("| ---: | ---: | ---: | ---: | ---: |");
        for (long bytes : SIZES) {
            Timing ring = find(timings, "ring", bytes);
            Timing gathered = find(timings, "spark-allgather", bytes);
            System.out.printf(Locale.ROOT, "| %s | %.3f | %.2f | %s | %s |%n", human(bytes), ring.seconds() * 1e3,
                    ring.gigabytesPerSecond(), gathered == null ? "-" : String.format(Locale.ROOT, "%.3f",
                            gathered.seconds() * 1e3),
                    gathered == null ? "-" : String.format(Locale.ROOT, "%.3f", gathered.gigabytesPerSecond()));
        }
    }

    private static Timing find(List<Timing> timings, String collective, long bytes) {
        return timings.stream().filter(t -> t.collective().equals(collective) && t.bytes() == bytes).findFirst()
                .orElse(null);
    }

    private static String human(long bytes) {
        return bytes >= 1 << 20 ? (bytes >> 20) + " MiB" : (bytes >> 10) + " KiB";
    }

    // ---- training throughput -----------------------------------------------------------------------

    /** An MLP of the given widths, seeded. */
    record Mlp(int[] widths) implements ModelFactory {
        @Override
        public Module create(Backend backend) {
            NnContext ctx = NnContext.of(backend, new Generator(0));
            List<Module> layers = new ArrayList<>();
            for (int i = 0; i + 1 < widths.length; i++) {
                if (i > 0) {
                    layers.add(new ReLU());
                }
                layers.add(new Linear(widths[i], widths[i + 1], ctx));
            }
            return new Sequential(layers);
        }

        String describe() {
            return "MLP " + String.join("-", Arrays.stream(widths).mapToObj(Integer::toString).toList());
        }
    }

    record Workload(String name, Mlp model, int globalBatch, long steps, JavaRDD<Example> data) {
    }

    static void throughput(SparkSession spark, Path fashionMnist) throws IOException {
        List<Workload> workloads = new ArrayList<>();
        JavaRDD<Example> mnist;
        String mnistData;
        if (Files.isDirectory(fashionMnist)) {
            mnist = IdxData.examples(spark, fashionMnist.resolve("train-images-idx3-ubyte.gz"),
                    fashionMnist.resolve("train-labels-idx1-ubyte.gz"), 1 / 255.0, 2);
            mnistData = "Fashion-MNIST";
        } else {
            mnist = synthetic(spark, 60_000, 784, 10);
            mnistData = "synthetic 784-feature data (no Fashion-MNIST in " + fashionMnist + ")";
        }
        workloads.add(new Workload("Fashion-MNIST MLP, " + mnistData, new Mlp(new int[] {784, 256, 10}), 64, 600, mnist));
        workloads.add(new Workload("GEMM-heavy, synthetic data", new Mlp(new int[] {1024, 2048, 2048, 10}), 256, 30,
                synthetic(spark, 8192, 1024, 10)));
        System.out.println();
        System.out.println("Training throughput, Adam, FLOAT32, same global batch split over the replicas:");
        System.out.println();
        System.out.println("| model | global batch | replicas | steps | samples/s | all-reduce share | speed-up |");
        System.out.println("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
        for (Workload w : workloads) {
            double single = 0;
            for (int replicas : new int[] {1, 2}) {
                Shards shards = Shards.of(w.data(), replicas);
                SparkTrainer.Builder trainer = SparkTrainer.builder(w.model(), m -> new Adam(m.parameters(), 1e-3))
                        .replicas(replicas).globalBatchSize(w.globalBatch()).collective(Collective.RING);
                // Warm-up: the JIT compiles the kernels and the shuffle runs once.
                trainer.steps(Math.max(5, w.steps() / 5)).build().fit(shards);
                TrainingResult r = trainer.steps(w.steps()).build().fit(shards);
                if (replicas == 1) {
                    single = r.samplesPerSecond();
                }
                System.out.printf(Locale.ROOT, "| %s (%s) | %d | %d | %d | %.0f | %.0f%% | %.2fx |%n", w.model().describe(),
                        w.name(), w.globalBatch(), replicas, r.steps(), r.samplesPerSecond(),
                        100 * r.secondsCollective() / r.secondsTraining(), r.samplesPerSecond() / single);
            }
        }
    }

    static JavaRDD<Example> synthetic(SparkSession spark, int n, int features, int classes) {
        SplittableRandom random = new SplittableRandom(3);
        List<Example> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            float[] x = new float[features];
            for (int j = 0; j < features; j++) {
                x[j] = (float) random.nextGaussian();
            }
            out.add(new Example(x, random.nextInt(classes)));
        }
        return JavaSparkContext.fromSparkContext(spark.sparkContext()).parallelize(out, 2);
    }
}
