package dev.adjoint.ops;

import dev.adjoint.Tensor;
import dev.adjoint.TensorShapeException;

/** Batch normalisation, composed of differentiable reductions and elementwise ops. */
public final class NormOps {
    private NormOps() {
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
        int[] statShape = new int[input.rank()];
        java.util.Arrays.fill(statShape, 1);
        statShape[1] = channels;
        int[] reduced = new int[input.rank() - 1];
        reduced[0] = 0;
        for (int d = 2; d < input.rank(); d++) {
            reduced[d - 1] = d;
        }
        long count = input.numel() / Math.max(channels, 1);
        Tensor normalized;
        if (training) {
            if (count <= 1) {
                throw new IllegalArgumentException(op + ": expected more than 1 value per channel when training, got "
                        + "input shape " + input.shape());
            }
            Tensor mean = input.mean(reduced, true);
            Tensor centered = input.sub(mean);
            Tensor variance = centered.square().mean(reduced, true);
            normalized = centered.div(variance.add(eps).sqrt());
            if (runningMean != null) {
                try (var scope = Tensor.noGrad()) {
                    runningMean.mul_(1 - momentum).add_(mean.detach().reshape(channels), momentum);
                    // The running variance estimates the population's: unbiased, n / (n - 1) times the batch's.
                    runningVar.mul_(1 - momentum).add_(variance.detach().reshape(channels),
                            momentum * count / (count - 1));
                }
            }
        } else {
            if (runningMean == null) {
                throw new IllegalArgumentException(op + ": the running mean and variance are needed in evaluation mode "
                        + "(input shape " + input.shape() + ")");
            }
            normalized = input.sub(runningMean.reshape(statShape))
                    .div(runningVar.reshape(statShape).add(eps).sqrt());
        }
        if (weight != null) {
            normalized = normalized.mul(weight.reshape(statShape));
        }
        return bias == null ? normalized : normalized.add(bias.reshape(statShape));
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
