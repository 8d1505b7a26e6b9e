package dev.adjoint.nn;

import dev.adjoint.Functional;
import dev.adjoint.Tensor;
import dev.adjoint.TensorShapeException;

/**
 * What BatchNorm1d and BatchNorm2d share, as torch's {@code _BatchNorm}: weight (ones) and bias
 * (zeros) when {@code affine}; with {@code trackRunningStats} the buffers {@code running_mean}
 * (zeros), {@code running_var} (ones) and {@code num_batches_tracked} (INT64, 0-d), all in the
 * state dict. Training normalises with the batch's statistics and moves the running ones towards
 * them by {@code momentum} in place; evaluation normalises with the running statistics (or with the
 * batch's, without {@code trackRunningStats}).
 */
abstract class BatchNormLayer extends Module {
    private final String name;
    private final int numFeatures;
    private final double eps;
    private final double momentum;
    private final boolean affine;
    private final boolean trackRunningStats;

    BatchNormLayer(String name, int numFeatures, double eps, double momentum, boolean affine,
                   boolean trackRunningStats, NnContext ctx) {
        if (numFeatures <= 0) {
            throw new IllegalArgumentException(name + ": num_features must be positive, got " + numFeatures);
        }
        if (!(momentum >= 0 && momentum <= 1) || !(eps >= 0)) {
            throw new IllegalArgumentException(name + ": need 0 <= momentum <= 1 and eps >= 0, got momentum="
                    + momentum + " eps=" + eps);
        }
        this.name = name;
        this.numFeatures = numFeatures;
        this.eps = eps;
        this.momentum = momentum;
        this.affine = affine;
        this.trackRunningStats = trackRunningStats;
        var create = Tensor.on(ctx.backend());
        if (affine) {
            registerParameter("weight", create.ones(ctx.dtype(), numFeatures));
            registerParameter("bias", create.zeros(ctx.dtype(), numFeatures));
        }
        if (trackRunningStats) {
            registerBuffer("running_mean", create.zeros(ctx.dtype(), numFeatures));
            registerBuffer("running_var", create.ones(ctx.dtype(), numFeatures));
            registerBuffer("num_batches_tracked", create.fromArray(new long[] {0}));
        }
    }

    /** Throws unless {@code input} has a rank this layer accepts; the op checks the channels. */
    abstract void checkRank(Tensor input);

    public Tensor weight() {
        return affine ? parameter("weight") : null;
    }

    public Tensor bias() {
        return affine ? parameter("bias") : null;
    }

    /** The running mean, or {@code null} without {@code trackRunningStats}. */
    public Tensor runningMean() {
        return trackRunningStats ? buffer("running_mean") : null;
    }

    /** The running (unbiased) variance, or {@code null} without {@code trackRunningStats}. */
    public Tensor runningVar() {
        return trackRunningStats ? buffer("running_var") : null;
    }

    /** How many training batches have updated the running statistics (0 without {@code trackRunningStats}). */
    public long numBatchesTracked() {
        return trackRunningStats ? buffer("num_batches_tracked").toLongArray()[0] : 0;
    }

    @Override
    public Tensor forward(Tensor input) {
        checkRank(input);
        if (input.size(1) != numFeatures) {
            throw new TensorShapeException(name + ": input shape " + input.shape() + " has "
                    + input.size(1) + " channels in dimension 1, expected num_features=" + numFeatures);
        }
        boolean batchStatistics = isTraining() || !trackRunningStats;
        if (isTraining() && trackRunningStats) {
            Tensor count = buffer("num_batches_tracked");
            try (var scope = Tensor.noGrad()) {
                count.copyFrom(Tensor.on(count.backend()).fromArray(new long[] {count.toLongArray()[0] + 1}));
            }
        }
        return Functional.batchNorm(input, runningMean(), runningVar(), weight(), bias(), batchStatistics, momentum,
                eps);
    }

    @Override
    protected String describe() {
        return numFeatures + ", eps=" + eps + ", momentum=" + momentum + ", affine=" + (affine ? "True" : "False")
                + ", track_running_stats=" + (trackRunningStats ? "True" : "False");
    }
}
