package dev.adjoint.spark;

import dev.adjoint.DType;
import dev.adjoint.Tensor;
import dev.adjoint.backend.Backends;
import dev.adjoint.nn.Module;
import dev.adjoint.nn.optim.Optimizer;
import dev.adjoint.spark.collective.AllReduce;
import dev.adjoint.spark.collective.ReduceBuffer;
import dev.adjoint.spark.collective.RingAllReduce;
import dev.adjoint.spark.collective.SparkAllGatherReduce;
import dev.adjoint.spark.collective.StringAllGather;
import dev.adjoint.spi.Backend;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * One replica's training loop, as a barrier task runs it: its shard, its copy of the model and
 * optimizer, and the collectives that keep it in step with the others. Nothing here depends on Spark
 * beyond the {@link StringAllGather} it is handed, so the tests also run replicas as threads.
 *
 * <p>Each step: forward and backward on this replica's micro-batch; the gradients (and the loss) are
 * averaged across replicas in one all-reduce; every replica applies the same optimizer step to the
 * same bits. Every {@code hashEvery} steps the replicas compare a hash of their parameters; every
 * {@code checkpointEvery} steps rank 0 saves model and optimizer.
 */
final class Replica {
    private final TrainingPlan plan;
    private final int rank;
    private final int replicas;
    private final int attempt;
    private final String host;
    private final StringAllGather gather;
    private final float[] features;
    private final long[] labels;
    private final int featureCount;

    /**
     * @param host     the address the other replicas reach this one at (the ring listens on all interfaces)
     * @param features this replica's shard, row after row ({@code labels.length} rows)
     */
    Replica(TrainingPlan plan, int rank, int replicas, int attempt, String host, StringAllGather gather,
            float[] features, long[] labels, int featureCount) {
        this.plan = plan;
        this.rank = rank;
        this.replicas = replicas;
        this.attempt = attempt;
        this.host = host;
        this.gather = gather;
        this.features = features;
        this.labels = labels;
        this.featureCount = featureCount;
    }

    ReplicaReport run() throws IOException {
        int microBatch = plan.globalBatchSize() / replicas;
        CheckpointDirectory checkpoints = plan.checkpointDir() == null ? null
                : new CheckpointDirectory(Path.of(plan.checkpointDir()), plan.keepCheckpoints());
        RingAllReduce.Listener listener = plan.collective() == Collective.RING
                ? RingAllReduce.listen(new RingAllReduce.Options(host, plan.chunkBytes(), plan.collectiveTimeout(),
                        plan.runId() * 31 + attempt))
                : null;
        AllReduce collective;
        int stepsPerEpoch;
        long first;
        try (listener) {
            // One exchange for everything the replicas must agree on before they start: Spark's allGather
            // takes about a second per call (BarrierTaskContext polls for the reply once a second). Rank 0
            // picks the checkpoint and everyone loads that one, even if a newer file appears meanwhile.
            long proposed = rank == 0 && checkpoints != null ? checkpoints.latestStep() : 0;
            String[] all = gather.allGather(labels.length + " " + featureCount + " " + proposed + " "
                    + (listener == null ? "-" : listener.address()));
            try {
                stepsPerEpoch = agreeOnStepsPerEpoch(all, microBatch);
            } catch (SetUpProblem e) {
                // Every replica found it in the same exchange; the driver reports it without retrying.
                return ReplicaReport.problem(rank, replicas, attempt, e.getMessage());
            }
            first = Long.parseLong(all[0].split(" ")[2]);
            if (listener != null) {
                String[] addresses = new String[all.length];
                for (int r = 0; r < all.length; r++) {
                    addresses[r] = all[r].split(" ")[3];
                }
                collective = listener.connect(rank, replicas, addresses);
            } else {
                collective = new SparkAllGatherReduce(rank, replicas, gather);
            }
        }
        long total = plan.steps() > 0 ? plan.steps() : (long) plan.epochs() * stepsPerEpoch;

        Backend backend = plan.backend() == null ? Backends.defaultBackend() : Backends.get(plan.backend());
        Module model = plan.model().create(backend);
        Optimizer optimizer = plan.optimizer().create(model);
        ParameterVector parameters = new ParameterVector("parameter", model.parameters());
        List<Tensor> floatingBuffers = new ArrayList<>();
        for (Tensor b : model.namedBuffers().values()) {
            if (b.dtype().isFloatingPoint()) {
                floatingBuffers.add(b);
            }
        }
        ParameterVector buffers = new ParameterVector("buffer", floatingBuffers);
        DType dtype = parameters.dtype();
        Tensor x = Tensor.on(backend).fromArray(features, labels.length, featureCount);
        if (dtype != DType.FLOAT32) {
            try (var scope = Tensor.noGrad()) {
                x = x.toType(dtype);
            }
        }

        try (collective) {
            if (first > 0) {
                checkpoints.restore(first, model, optimizer);
            } else {
                // Every replica starts from rank 0's initial weights, seeded factory or not.
                ReduceBuffer initial = parameters.values();
                collective.broadcastFromRank0(initial);
                parameters.load(initial);
            }
            syncBuffers(collective, buffers);
            String[] hashes = compareHashes(collective, parameters);
            if (hashes != null) {
                return report(first, first, stepsPerEpoch, backend, collective, new double[0], 0, 0, first, hashes,
                        null, null);
            }

            ShardSampler sampler = new ShardSampler(plan.seed(), rank, labels.length, microBatch, stepsPerEpoch);
            double[] losses = new double[(int) Math.max(0, total - first)];
            ReduceBuffer gradients = null;
            long collectiveNanos = 0;
            long start = System.nanoTime();
            long done = first;
            while (done < total) {
                int[] rows = sampler.rows(done);
                Tensor batchFeatures;
                long[] batchLabels = new long[rows.length];
                long[] rowIndex = new long[rows.length];
                for (int i = 0; i < rows.length; i++) {
                    rowIndex[i] = rows[i];
                    batchLabels[i] = labels[rows[i]];
                }
                try (var scope = Tensor.noGrad()) {
                    batchFeatures = x.indexSelect(0, Tensor.on(backend).fromArray(rowIndex, rows.length));
                }
                Tensor batchTargets = Tensor.on(backend).fromArray(batchLabels, rows.length);

                optimizer.zeroGrad();
                long t0 = System.nanoTime();
                syncBuffers(collective, buffers);
                collectiveNanos += System.nanoTime() - t0;
                Tensor loss = plan.loss().compute(model.call(batchFeatures), batchTargets);
                loss.backward();

                gradients = parameters.gradients(gradients, 1);
                ParameterVector.set(gradients, parameters.extraSlot(0), loss.item());
                t0 = System.nanoTime();
                collective.allReduce(gradients, true);
                collectiveNanos += System.nanoTime() - t0;
                parameters.setGradients(gradients);
                optimizer.step();

                losses[(int) (done - first)] = ParameterVector.get(gradients, parameters.extraSlot(0));
                done++;
                if ((plan.hashEvery() > 0 && done % plan.hashEvery() == 0) || done == total) {
                    hashes = compareHashes(collective, parameters);
                    if (hashes != null) {
                        return report(first, done, stepsPerEpoch, backend, collective,
                                java.util.Arrays.copyOf(losses, (int) (done - first)), seconds(start), collectiveNanos / 1e9,
                                done, hashes, null, null);
                    }
                }
                if (rank == 0 && checkpoints != null
                        && ((plan.checkpointEvery() > 0 && done % plan.checkpointEvery() == 0) || done == total)) {
                    checkpoints.save(done, model, optimizer);
                }
            }
            double seconds = seconds(start);
            if (rank != 0) {
                return report(first, done, stepsPerEpoch, backend, collective, null, seconds, collectiveNanos / 1e9, -1,
                        null, null, null);
            }
            return report(first, done, stepsPerEpoch, backend, collective, losses, seconds, collectiveNanos / 1e9, -1,
                    null, TensorSnapshot.of(model.stateDict()), TensorSnapshot.of(optimizer.stateDict()));
        }
    }

    private static double seconds(long start) {
        return (System.nanoTime() - start) / 1e9;
    }

    private ReplicaReport report(long first, long steps, int stepsPerEpoch, Backend backend, AllReduce collective,
                                 double[] losses, double seconds, double collectiveSeconds, long divergedAt,
                                 String[] hashes, TensorSnapshot[] model, TensorSnapshot[] optimizer) {
        return new ReplicaReport(rank, replicas, attempt, first, steps, stepsPerEpoch, backend.name(), collective.name(),
                losses, seconds, collectiveSeconds, hashes == null ? -1 : divergedAt, hashes, model, optimizer, null);
    }

    /** DDP's broadcast_buffers: rank 0's floating buffers (running statistics, ...) before each forward. */
    private static void syncBuffers(AllReduce collective, ParameterVector buffers) throws IOException {
        if (buffers.count() > 0) {
            ReduceBuffer values = buffers.values();
            collective.broadcastFromRank0(values);
            buffers.load(values);
        }
    }

    /**
     * Every rank's parameter hash, in rank order, if they are not all equal; null if they are. The
     * comparison runs over the collective, so it costs a tiny all-reduce: the hash's eight bytes
     * {@code b} and their squares are summed over the ranks, and all ranks held the same byte exactly when
     * {@code n * sum(b^2) == sum(b)^2} (equality in Cauchy-Schwarz; every sum is an integer below 2^53, so
     * exact in FLOAT64). Every rank sees the same sums and so decides the same; only then are the hashes
     * themselves gathered, for the message.
     */
    private String[] compareHashes(AllReduce collective, ParameterVector parameters) throws IOException {
        long hash = parameters.values().bitHash();
        double[] pieces = new double[16];
        for (int i = 0; i < 8; i++) {
            double b = (hash >>> (8 * i)) & 0xff;
            pieces[i] = b;
            pieces[8 + i] = b * b;
        }
        collective.allReduce(new ReduceBuffer.Float64(pieces), false);
        boolean agree = true;
        for (int i = 0; i < 8; i++) {
            agree &= replicas * pieces[8 + i] == pieces[i] * pieces[i];
        }
        return agree ? null : gather.allGather(Long.toHexString(hash));
    }

    /** A mistake in the run's set-up, found alike by every replica from the exchanged shard sizes. */
    private static final class SetUpProblem extends Exception {
        SetUpProblem(String message) {
            super(message);
        }
    }

    /**
     * From the exchanged shard sizes: every replica runs the steps the smallest shard allows, and all
     * must see the same number of features ({@code featureCount} is -1 for a shard whose examples disagree).
     */
    private int agreeOnStepsPerEpoch(String[] all, int microBatch) throws SetUpProblem {
        int smallest = Integer.MAX_VALUE;
        int smallestRank = 0;
        int width = -2;
        int widthRank = 0;
        for (int r = 0; r < all.length; r++) {
            String[] parts = all[r].split(" ");
            int size = Integer.parseInt(parts[0]);
            int w = Integer.parseInt(parts[1]);
            if (w == -1) {
                throw new SetUpProblem("SparkTrainer: the examples of replica " + r + "'s shard do not all have the"
                        + " same number of features");
            }
            if (size > 0) {
                if (width == -2) {
                    width = w;
                    widthRank = r;
                } else if (w != width) {
                    throw new SetUpProblem("SparkTrainer: replica " + widthRank + "'s examples have " + width
                            + " features, replica " + r + "'s have " + w + "; every example needs the same number");
                }
            }
            if (size < smallest) {
                smallest = size;
                smallestRank = r;
            }
        }
        if (smallest < microBatch) {
            throw new SetUpProblem("SparkTrainer: replica " + smallestRank + " holds " + smallest
                    + " examples, fewer than one micro-batch (global batch " + plan.globalBatchSize() + " / " + replicas
                    + " replicas = " + microBatch + "); use fewer replicas, a smaller batch or more data");
        }
        return ShardSampler.stepsPerEpoch(smallest, microBatch);
    }
}
