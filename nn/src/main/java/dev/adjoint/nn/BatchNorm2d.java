package dev.adjoint.nn;

import dev.adjoint.Tensor;
import dev.adjoint.TensorShapeException;

/**
 * Batch normalisation of {@code [N, C, H, W]} inputs over N, H and W per channel, as
 * {@code nn.BatchNorm2d}; see {@link BatchNormLayer} for the parameters, buffers and modes.
 * Defaults as PyTorch: eps 1e-5, momentum 0.1, affine, tracking running statistics.
 */
public final class BatchNorm2d extends BatchNormLayer {
    public BatchNorm2d(int numFeatures, double eps, double momentum, boolean affine, boolean trackRunningStats,
                       NnContext ctx) {
        super("BatchNorm2d", numFeatures, eps, momentum, affine, trackRunningStats, ctx);
    }

    public BatchNorm2d(int numFeatures, NnContext ctx) {
        this(numFeatures, 1e-5, 0.1, true, true, ctx);
    }

    @Override
    void checkRank(Tensor input) {
        if (input.rank() != 4) {
            throw new TensorShapeException("BatchNorm2d: expected a 4-D input [N, C, H, W], got shape " + input.shape());
        }
    }
}
