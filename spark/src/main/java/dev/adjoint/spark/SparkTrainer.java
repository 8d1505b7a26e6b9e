package dev.adjoint.spark;

import dev.adjoint.backend.Backends;
import dev.adjoint.nn.Module;
import dev.adjoint.nn.optim.Optimizer;
import dev.adjoint.spi.Backend;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.rdd.RDD;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import scala.reflect.ClassTag;
import scala.reflect.ClassTag$;

import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;

/**
 * Synchronous data-parallel training on Apache Spark, as PyTorch's DistributedDataParallel: the model
 * is replicated, each replica trains on its shard of the data, and after every backward pass the
 * replicas average their gradients, so every replica applies the same step and they stay
 * bit-identical.
 *
 * <pre>{@code
 * SparkTrainer trainer = SparkTrainer.builder(
 *                 backend -> new Sequential(new Linear(784, 256, NnContext.of(backend, new Generator(0))), new ReLU(),
 *                                           new Linear(256, 10, NnContext.of(backend, new Generator(1)))),
 *                 model -> new Adam(model.parameters(), 1e-3))
 *         .globalBatchSize(64).epochs(10).replicas(2)
 *         .checkpointDir(Path.of("/shared/run-1")).checkpointEvery(500)
 *         .build();
 * TrainingResult result = trainer.fit(IdxData.examples(spark, images, labels, 1 / 255.0, 2));
 * Module model = result.model();
 * }</pre>
 *
 * <p>{@link #fit} runs one Spark job whose training stage is a barrier stage of {@code replicas} tasks
 * (all start together or none). Each task is one replica: it builds the model with the
 * {@link ModelFactory} and the optimizer with the {@link OptimizerFactory}, takes rank 0's initial
 * weights, and runs the steps. Step {@code s} takes {@code globalBatchSize / replicas} examples from
 * each replica's shard ({@link ShardSampler}); the gradients are averaged by an {@link Collective}
 * all-reduce whose sums run in rank order, so every replica gets the same bits. Every
 * {@code hashEvery} steps the replicas compare a hash of their parameters, and a difference fails the
 * job with {@link ReplicaDivergenceException}.
 *
 * <p>With a checkpoint directory (a path every executor reaches: a local path in local mode or on one
 * machine, a shared file system on a cluster), rank 0 saves model and optimizer there every
 * {@code checkpointEvery} steps and at the end. If a task fails, Spark stops the stage and runs it
 * again, up to {@code spark.stage.maxConsecutiveAttempts} (4) times; the new attempt resumes from the
 * newest checkpoint and, since the batches are a function of the step, ends exactly where an
 * uninterrupted run ends. A later {@code fit} with the same directory continues from it too.
 *
 * <p>Without a session, {@code fit} uses Spark's active one or makes one, with master
 * {@code local[replicas]} unless {@code spark.master} is set (as spark-submit sets it), so it runs on
 * one machine with no set-up.
 */
public final class SparkTrainer {
    private final Builder config;

    private SparkTrainer(Builder config) {
        this.config = config;
    }

    /** A trainer for the models {@code model} builds, trained by the optimizers {@code optimizer} builds. */
    public static Builder builder(ModelFactory model, OptimizerFactory optimizer) {
        return new Builder(model, optimizer);
    }

    /**
     * The active Spark session, or a new one: master {@code local[localThreads]} unless
     * {@code spark.master} is configured (spark-submit, or {@code -Dspark.master=...}).
     */
    public static SparkSession session(int localThreads) {
        SparkSession.Builder builder = SparkSession.builder().appName("adjoint");
        if (!new SparkConf().contains("spark.master")) {
            builder.master("local[" + (localThreads > 0 ? Integer.toString(localThreads) : "*") + "]");
        }
        return builder.getOrCreate();
    }

    /** Trains on a DataFrame with an array column {@code features} and an integral column {@code label}. */
    public TrainingResult fit(Dataset<Row> data) {
        return fit(data, "features", "label");
    }

    /** Trains on a DataFrame's numeric array column {@code featuresColumn} and integral {@code labelColumn}. */
    public TrainingResult fit(Dataset<Row> data, String featuresColumn, String labelColumn) {
        return fit(IdxData.toExamples(data, featuresColumn, labelColumn));
    }

    /**
     * Trains on {@code examples}, split into {@code replicas} shards by {@link Shards#of} (the replica
     * count set on the builder, else Spark's default parallelism).
     */
    public TrainingResult fit(JavaRDD<Example> examples) {
        JavaSparkContext sc = JavaSparkContext.fromSparkContext(examples.context());
        return fit(Shards.of(examples, config.replicas > 0 ? config.replicas : sc.defaultParallelism()));
    }

    /** Trains one replica per shard. */
    @SuppressWarnings({"unchecked", "rawtypes"})
    public TrainingResult fit(Shards shards) {
        int replicas = shards.replicas();
        if (config.replicas > 0 && config.replicas != replicas) {
            throw new IllegalArgumentException("SparkTrainer: set for " + config.replicas + " replicas, given "
                    + replicas + " shards");
        }
        if (config.globalBatchSize % replicas != 0) {
            throw new IllegalArgumentException("SparkTrainer: the global batch (" + config.globalBatchSize
                    + ") must split evenly over " + replicas + " replicas");
        }
        TrainingPlan plan = config.plan(new SecureRandom().nextLong());
        JavaSparkContext sc = JavaSparkContext.fromSparkContext(shards.byReplica().context());
        ClassTag<ReplicaReport> reportTag = ClassTag$.MODULE$.apply(ReplicaReport.class);
        RDD<ReplicaReport> training = ((RDD) shards.byReplica().rdd()).barrier().mapPartitions(new ReplicaTask(plan),
                false, reportTag);

        sc.setJobDescription("adjoint: data-parallel training, " + replicas + " replicas");
        // Interrupt the other replicas' threads when Spark cancels a failed attempt, so that they
        // stop at once rather than when their next read fails.
        sc.setLocalProperty("spark.job.interruptOnCancel", "true");
        List<ReplicaReport> reports;
        try {
            // Spark never retries a barrier stage whose tasks produce the job's result (its tasks may have
            // committed output), but re-runs a failed barrier stage that feeds a shuffle. The
            // one-partition shuffle after the training stage makes it such a stage.
            reports = new ArrayList<>(new JavaRDD<>(training, reportTag).repartition(1).collect());
        } finally {
            sc.setLocalProperty("spark.job.interruptOnCancel", null);
            sc.setJobDescription(null);
        }
        reports.sort(Comparator.comparingInt(ReplicaReport::rank));
        for (ReplicaReport r : reports) {
            if (r.problem() != null) {
                throw new IllegalArgumentException(r.problem());
            }
            if (r.divergedAt() >= 0) {
                throw new ReplicaDivergenceException(r.divergedAt(), r.hashes());
            }
        }
        ReplicaReport first = reports.get(0);
        Backend backend = driverBackend(first.backend());
        Module model = plan.model().create(backend);
        model.loadStateDict(TensorSnapshot.toStateDict(first.model(), backend));
        Optimizer optimizer = plan.optimizer().create(model);
        optimizer.loadStateDict(TensorSnapshot.toStateDict(first.optimizer(), backend));
        return new TrainingResult(model, optimizer, first.losses(), first.firstStep(), first.steps(),
                first.stepsPerEpoch(), first.replicas(), config.globalBatchSize, first.stageAttempt(), first.backend(),
                first.collective(), first.secondsTraining(), first.secondsCollective());
    }

    /** The replicas' backend if the driver has it too, else the driver's default: the values are the same. */
    private static Backend driverBackend(String name) {
        try {
            return Backends.get(name);
        } catch (RuntimeException unavailable) {
            return Backends.defaultBackend();
        }
    }

    /** The settings of a {@link SparkTrainer}; {@link #globalBatchSize} and one of epochs/steps are required. */
    public static final class Builder {
        private final ModelFactory model;
        private final OptimizerFactory optimizer;
        private LossFunction loss = LossFunction.crossEntropy();
        private int globalBatchSize;
        private int epochs;
        private long steps;
        private long seed;
        private String backend;
        private int replicas;
        private int hashEvery = 100;
        private String checkpointDir;
        private int checkpointEvery;
        private int keepCheckpoints = 2;
        private Collective collective = Collective.RING;
        private int ringChunkBytes;
        private Duration collectiveTimeout = Duration.ofMinutes(10);

        private Builder(ModelFactory model, OptimizerFactory optimizer) {
            this.model = Objects.requireNonNull(model, "model");
            this.optimizer = Objects.requireNonNull(optimizer, "optimizer");
        }

        /** The loss of a micro-batch; cross-entropy of logits against class labels unless set. */
        public Builder loss(LossFunction loss) {
            this.loss = Objects.requireNonNull(loss, "loss");
            return this;
        }

        /** Examples per step over all replicas; each replica takes {@code globalBatchSize / replicas}. */
        public Builder globalBatchSize(int globalBatchSize) {
            this.globalBatchSize = positive("globalBatchSize", globalBatchSize);
            return this;
        }

        /** Train for this many epochs of the smallest shard (see {@link ShardSampler}). */
        public Builder epochs(int epochs) {
            this.epochs = positive("epochs", epochs);
            this.steps = 0;
            return this;
        }

        /** Train until this many optimizer steps have been taken (counting a resumed checkpoint's). */
        public Builder steps(long steps) {
            if (steps < 1) {
                throw new IllegalArgumentException("SparkTrainer: steps must be at least 1, got " + steps);
            }
            this.steps = steps;
            this.epochs = 0;
            return this;
        }

        /** Seeds each epoch's shuffling of each shard; 0 unless set. */
        public Builder seed(long seed) {
            this.seed = seed;
            return this;
        }

        /** The backend replicas compute on, by name; the executor's default backend unless set. */
        public Builder backend(String backend) {
            this.backend = backend;
            return this;
        }

        /** Replicas (barrier tasks); Spark's default parallelism unless set. */
        public Builder replicas(int replicas) {
            this.replicas = positive("replicas", replicas);
            return this;
        }

        /** Compare the replicas' parameter hashes every this many steps (and after the last); 100 unless set. */
        public Builder hashEvery(int hashEvery) {
            this.hashEvery = positive("hashEvery", hashEvery);
            return this;
        }

        /** Where rank 0 saves checkpoints and where a retried or later run resumes from; none unless set. */
        public Builder checkpointDir(Path dir) {
            this.checkpointDir = dir.toAbsolutePath().toString();
            return this;
        }

        /** Save a checkpoint every this many steps (and after the last); only after the last unless set. */
        public Builder checkpointEvery(int steps) {
            this.checkpointEvery = positive("checkpointEvery", steps);
            return this;
        }

        /** How many of the newest checkpoints to keep; 2 unless set. */
        public Builder keepCheckpoints(int keep) {
            this.keepCheckpoints = positive("keepCheckpoints", keep);
            return this;
        }

        /** How gradients are averaged; {@link Collective#RING} unless set. */
        public Builder collective(Collective collective) {
            this.collective = Objects.requireNonNull(collective, "collective");
            return this;
        }

        /** Bytes per ring message; chosen per call from the vector size unless set (see docs/benchmarks.md). */
        public Builder ringChunkBytes(int bytes) {
            this.ringChunkBytes = positive("ringChunkBytes", bytes);
            return this;
        }

        /** How long a replica waits for a peer that makes no progress before failing; 10 minutes unless set. */
        public Builder collectiveTimeout(Duration timeout) {
            this.collectiveTimeout = Objects.requireNonNull(timeout, "timeout");
            return this;
        }

        public SparkTrainer build() {
            if (globalBatchSize == 0) {
                throw new IllegalStateException("SparkTrainer: set globalBatchSize");
            }
            if (epochs == 0 && steps == 0) {
                throw new IllegalStateException("SparkTrainer: set epochs or steps");
            }
            Builder copy = new Builder(model, optimizer);
            copy.loss = loss;
            copy.globalBatchSize = globalBatchSize;
            copy.epochs = epochs;
            copy.steps = steps;
            copy.seed = seed;
            copy.backend = backend;
            copy.replicas = replicas;
            copy.hashEvery = hashEvery;
            copy.checkpointDir = checkpointDir;
            copy.checkpointEvery = checkpointEvery;
            copy.keepCheckpoints = keepCheckpoints;
            copy.collective = collective;
            copy.ringChunkBytes = ringChunkBytes;
            copy.collectiveTimeout = collectiveTimeout;
            return new SparkTrainer(copy);
        }

        TrainingPlan plan(long runId) {
            return new TrainingPlan(model, optimizer, loss, globalBatchSize, steps, epochs, seed, backend, hashEvery,
                    checkpointDir, checkpointEvery, keepCheckpoints, collective, ringChunkBytes, collectiveTimeout, runId);
        }

        private static int positive(String name, int value) {
            if (value < 1) {
                throw new IllegalArgumentException("SparkTrainer: " + name + " must be at least 1, got " + value);
            }
            return value;
        }
    }
}
