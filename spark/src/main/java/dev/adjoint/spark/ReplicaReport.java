package dev.adjoint.spark;

import java.io.Serializable;

/**
 * What one replica sends back to the driver. Only rank 0's carries the losses and the final state
 * (the replicas are bit-identical, so one copy says it all).
 *
 * @param firstStep   the step this attempt started from (0, or the checkpoint it resumed)
 * @param steps       the step count reached
 * @param losses      rank 0: the loss averaged over the global batch, per step from {@code firstStep}
 * @param divergedAt  the step count at which the parameter hashes differed, or -1
 * @param problem     a mistake in the run's set-up that every replica found (retrying cannot help), or null
 */
record ReplicaReport(int rank, int replicas, int stageAttempt, long firstStep, long steps, int stepsPerEpoch,
                     String backend, String collective, double[] losses, double secondsTraining,
                     double secondsCollective, long divergedAt, String[] hashes, TensorSnapshot[] model,
                     TensorSnapshot[] optimizer, String problem) implements Serializable {

    static ReplicaReport problem(int rank, int replicas, int stageAttempt, String problem) {
        return new ReplicaReport(rank, replicas, stageAttempt, 0, 0, 0, null, null, null, 0, 0, -1, null, null, null,
                problem);
    }
}
