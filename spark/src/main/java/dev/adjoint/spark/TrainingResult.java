package dev.adjoint.spark;

import dev.adjoint.nn.Module;
import dev.adjoint.nn.optim.Optimizer;

/**
 * What {@link SparkTrainer#fit} returns: the trained model and its optimizer on the driver (rank 0's
 * state, which every replica shares bit for bit), the loss per step, and how the run went.
 *
 * @param losses            the loss averaged over each global batch, for steps {@code firstStep} to
 *                          {@code steps - 1} (the steps the final attempt ran)
 * @param firstStep         0, or the step of the checkpoint the final attempt resumed from
 * @param stageAttempt      0 unless a task failed and Spark retried the barrier stage
 * @param secondsTraining   rank 0's time in the training loop of the final attempt
 * @param secondsCollective of which spent in the all-reduce (including waiting for slower replicas)
 */
public record TrainingResult(Module model, Optimizer optimizer, double[] losses, long firstStep, long steps,
                             int stepsPerEpoch, int replicas, int globalBatchSize, int stageAttempt, String backend,
                             String collective, double secondsTraining, double secondsCollective) {

    /** Examples per second over the final attempt's steps (global batch times steps over wall time). */
    public double samplesPerSecond() {
        return secondsTraining == 0 ? 0 : (steps - firstStep) * (double) globalBatchSize / secondsTraining;
    }

    /** The last step's loss, or NaN when the final attempt ran no step. */
    public double lastLoss() {
        return losses.length == 0 ? Double.NaN : losses[losses.length - 1];
    }
}
