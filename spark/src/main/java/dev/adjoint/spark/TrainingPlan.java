package dev.adjoint.spark;

import java.io.Serializable;
import java.time.Duration;

/**
 * Everything a replica needs to know about the run, as the driver sends it to every task.
 *
 * @param steps total optimizer steps, or 0 to take {@code epochs} epochs of the smallest shard
 * @param runId one per {@link SparkTrainer#fit} call; with the stage attempt it tells the ring's
 *              connections apart from those of other runs and attempts
 */
record TrainingPlan(ModelFactory model, OptimizerFactory optimizer, LossFunction loss, int globalBatchSize,
                    long steps, int epochs, long seed, String backend, int hashEvery, String checkpointDir,
                    int checkpointEvery, int keepCheckpoints, Collective collective, int chunkBytes,
                    Duration collectiveTimeout, long runId) implements Serializable {
}
