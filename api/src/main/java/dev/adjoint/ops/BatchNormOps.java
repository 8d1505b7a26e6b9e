package dev.adjoint.ops;

import dev.adjoint.Tensor;
import dev.adjoint.TensorShapeException;

/** Batch normalisation, composed of differentiable reductions and elementwise ops. */
public final class BatchNormOps {
    private BatchNormOps() {
    }

    /**
     * torch.nn.functional.batch_norm over dimension 1 of {@code input} ({@code [N, C, ...]}). In
     * training the batch's own mean and biased variance over every dimension but 1 normalise it,
     * and the running statistics, when given, move towards them by {@code momentum} in place (the
     * variance unbiased, {@code n / (n - 1)} times the batch's, as PyTorch). In evaluation the running
     * statistics normalise it and nothing changes. {@code weight} and {@code bias} ({@code [C]}) are optional.
     */
    public static Tensor batchNorm(Tensor input, Tensor runningMean, Tensor runningVar, Tensor weight, Tensor bias,
                                   boolean training, double momentum, double eps) {
        String op = "batchNorm";
        Dispatch.checkFloating(op, input);
        if (input.rank() < 2) {
            throw new TensorShapeException(op + ": expected an input of shape [N, C, ...] with at least 2 dimensions, "
                    + "got " + input.shape());
        }
        int channels = input.size(1);
        checkPerChannel(op, input, runningMean, "running mean", channels);
        checkPerChannel(op, input, runningVar, "running variance", channels);
        checkPerChannel(op, input, weight, "weight", channels);
        checkPerChannel(op, input, bias, "bias", channels);
        if ((runningMean == null) != (runningVar == null)) {
            throw new IllegalArgumentException(op + ": give both running statistics or neither");
        }
        long count = input.numel() / Math.max(channels, 1);
        // Statistics and the normalisation run on the [N, C, L] view (L the product of the trailing dims):
        // each reduction is then a sum along rows followed by a sum over the batch, and each broadcast of
        // a per-channel value covers whole rows of L elements.
        int n = input.size(0);
        Tensor x = input.reshape(n, channels, -1);
        Tensor y;
        if (training) {
            if (count <= 1) {
                throw new IllegalArgumentException(op + ": expected more than 1 value per channel when training, got "
                        + "input shape " + input.shape());
            }
            Tensor mean = channelSum(x).div((double) count);
            Tensor centered = x.sub(mean.reshape(1, channels, 1));
            // The biased variance normalises, as PyTorch; mean of squares of the centred values, not E[x^2] - E[x]^2,
            // which cancels catastrophically when the mean is large against the spread.
            Tensor variance = channelSum(centered.square()).div((double) count);
            y = centered.mul(scale(variance, weight, eps).reshape(1, channels, 1));
            if (runningMean != null) {
                try (var scope = Tensor.noGrad()) {
                    runningMean.mul_(1 - momentum).add_(mean.detach(), momentum);
                    // The running variance estimates the population's: unbiased, n / (n - 1) times the batch's.
                    runningVar.mul_(1 - momentum).add_(variance.detach(), momentum * count / (count - 1));
                }
            }
        } else {
            if (runningMean == null) {
                throw new IllegalArgumentException(op + ": the running mean and variance are needed in evaluation mode "
                        + "(input shape " + input.shape() + ")");
            }
            y = x.sub(runningMean.reshape(1, channels, 1)).mul(scale(runningVar, weight, eps).reshape(1, channels, 1));
        }
        if (bias != null) {
            y = y.add(bias.reshape(1, channels, 1));
        }
        return y.reshape(input.shape().toArray());
    }

    /** Sum over dimensions 0 and 2 of {@code [N, C, L]}: along the rows first, then over the batch. */
    private static Tensor channelSum(Tensor x) {
        return x.sum(2, false).sum(0, false);
    }

    /** {@code weight / sqrt(variance + eps)} per channel ({@code [C]}), the factor the centred input is multiplied by. */
    private static Tensor scale(Tensor variance, Tensor weight, double eps) {
        Tensor inverseStd = variance.add(eps).sqrt().pow(-1.0);
        return weight == null ? inverseStd : inverseStd.mul(weight);
    }

    private static void checkPerChannel(String op, Tensor input, Tensor t, String what, int channels) {
        if (t == null) {
            return;
        }
        Dispatch.checkSameBackend(op, input, t);
        Dispatch.checkSameDType(op, input, t);
        if (t.rank() != 1 || t.size(0) != channels) {
            throw new TensorShapeException(op + ": " + what + " shape " + t.shape() + " must be [" + channels
                    + "] for input shape " + input.shape() + " (one value per channel, dimension 1)");
        }
    }
}
