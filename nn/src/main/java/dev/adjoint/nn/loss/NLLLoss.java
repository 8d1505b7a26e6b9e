package dev.adjoint.nn.loss;

import dev.adjoint.DType;
import dev.adjoint.DTypeMismatchException;
import dev.adjoint.Tensor;
import dev.adjoint.TensorShapeException;

/**
 * Negative log-likelihood of log-probabilities {@code [N, C]} at INT64 class indices {@code [N]}, as
 * {@code nn.NLLLoss}. Targets equal to {@code ignoreIndex} contribute 0 and, for MEAN, are left out
 * of the count, so the mean is over the remaining targets (NaN when all are ignored, as PyTorch).
 */
public final class NLLLoss implements Loss {
    /** PyTorch's default {@code ignore_index}. */
    public static final long DEFAULT_IGNORE_INDEX = -100;

    private final Reduction reduction;
    private final long ignoreIndex;

    public NLLLoss(Reduction reduction, long ignoreIndex) {
        this.reduction = reduction;
        this.ignoreIndex = ignoreIndex;
    }

    public NLLLoss(Reduction reduction) {
        this(reduction, DEFAULT_IGNORE_INDEX);
    }

    public NLLLoss() {
        this(Reduction.MEAN);
    }

    @Override
    public Tensor forward(Tensor logProbabilities, Tensor target) {
        return nll("NLLLoss", logProbabilities, target, reduction, ignoreIndex);
    }

    static Tensor nll(String op, Tensor logp, Tensor target, Reduction reduction, long ignoreIndex) {
        if (logp.rank() != 2) {
            throw new TensorShapeException(op + ": input must have shape [N, C], got " + logp.shape());
        }
        if (target.dtype() != DType.INT64) {
            throw new DTypeMismatchException(op + ": target must hold INT64 class indices, got " + target.dtype()
                    + " with shape " + target.shape());
        }
        int n = logp.size(0);
        int classes = logp.size(1);
        if (target.rank() != 1 || target.size(0) != n) {
            throw new TensorShapeException(op + ": target shape " + target.shape() + " does not match input shape "
                    + logp.shape() + " (expected [" + n + "])");
        }
        // Targets are data, not part of the graph: read them once, check them, and turn the ignored
        // ones into a mask (INT64 tensors have no elementwise ops).
        long[] classesOf = target.toLongArray();
        long[] safe = new long[n];
        double[] keep = new double[n];
        int kept = 0;
        for (int i = 0; i < n; i++) {
            long c = classesOf[i];
            if (c == ignoreIndex) {
                continue;
            }
            if (c < 0 || c >= classes) {
                throw new IndexOutOfBoundsException(op + ": target " + c + " at position " + i + " is out of range for "
                        + classes + " classes (input shape " + logp.shape() + ")");
            }
            safe[i] = c;
            keep[i] = 1.0;
            kept++;
        }
        var create = Tensor.on(logp.backend());
        Tensor picked = logp.gather(1, create.fromArray(safe, n, 1)).reshape(n);
        Tensor perSample = picked.neg();
        if (kept < n) {
            Tensor mask = create.fromArray(keep, logp.dtype(), n);
            // where(), not a product with the mask: an ignored row's -inf log-probability must not give NaN.
            perSample = Tensor.where(mask, perSample, create.scalar(0.0, logp.dtype()));
        }
        return switch (reduction) {
            case NONE -> perSample;
            case SUM -> perSample.sum();
            case MEAN -> perSample.sum().div(kept);
        };
    }
}
