package dev.adjoint.nn;

import dev.adjoint.Tensor;
import dev.adjoint.TensorShapeException;

/**
 * Batch normalisation of {@code [N, C]} or {@code [N, C, L]} inputs per channel, as
 * {@code nn.BatchNorm1d}; see {@link BatchNormLayer} for the parameters, buffers and modes.
 * Defaults as PyTorch: eps 1e-5, momentum 0.1, affine, tracking running statistics.
 */
public final class BatchNorm1d extends BatchNormLayer {
    public BatchNorm1d(int numFeatures, double eps, double momentum, boolean affine, boolean trackRunningStats,
                       NnContext ctx) {
        super("BatchNorm1d", numFeatures, eps, momentum, affine, trackRunningStats, ctx);
    }

    public BatchNorm1d(int numFeatures, NnContext ctx) {
        this(numFeatures, 1e-5, 0.1, true, true, ctx);
    }

    @Override
    void checkRank(Tensor input) {
        if (input.rank() != 2 && input.rank() != 3) {
            throw new TensorShapeException("BatchNorm1d: expected a 2-D or 3-D input [N, C] or [N, C, L], got shape "
                    + input.shape());
        }
    }
}
