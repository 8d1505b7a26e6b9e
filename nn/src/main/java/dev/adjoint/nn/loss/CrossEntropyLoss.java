package dev.adjoint.nn.loss;

import dev.adjoint.DTypeMismatchException;
import dev.adjoint.Tensor;
import dev.adjoint.TensorShapeException;

import java.util.Arrays;

/**
 * Cross-entropy of logits, as {@code nn.CrossEntropyLoss}: {@link NLLLoss} of
 * {@code logSoftmax(logits)} along the class dimension, which stays finite for large logits. Inputs
 * {@code [N, C]}, {@code [N, C, d1, ...]} or {@code [C]}; targets either INT64 class indices of the
 * input's shape without the class dimension, or (any floating dtype) class probabilities of the input's
 * own shape.
 *
 * <p>Options, as PyTorch's: class {@code weight}s ({@code [C]}); {@code ignoreIndex}, whose targets are
 * skipped (MEAN then divides by the weights of the rest; with probability targets it must be negative,
 * as there is no class index to skip); and {@code labelSmoothing} {@code s}, which
 * mixes the target with the uniform distribution: the loss is {@code (1 - s) nll + (s / C) smooth},
 * {@code smooth} being {@code -sum_c weight[c] logp[c]} per position, reduced the way the NLL term is.
 */
public final class CrossEntropyLoss implements Loss {
    private final Tensor weight;
    private final long ignoreIndex;
    private final Reduction reduction;
    private final double labelSmoothing;

    /**
     * As {@code nn.CrossEntropyLoss(weight, ignore_index=..., reduction=..., label_smoothing=...)};
     * {@code weight} may be {@code null}.
     */
    public CrossEntropyLoss(Tensor weight, long ignoreIndex, Reduction reduction, double labelSmoothing) {
        if (!(labelSmoothing >= 0 && labelSmoothing <= 1)) {
            throw new IllegalArgumentException("CrossEntropyLoss: labelSmoothing must be in [0, 1], got " + labelSmoothing);
        }
        if (reduction == Reduction.BATCHMEAN) {
            throw Reductions.batchMeanNotSupported("CrossEntropyLoss");
        }
        this.weight = weight == null ? null : weight.detach();
        this.ignoreIndex = ignoreIndex;
        this.reduction = reduction;
        this.labelSmoothing = labelSmoothing;
    }

    public CrossEntropyLoss(Reduction reduction, long ignoreIndex) {
        this(null, ignoreIndex, reduction, 0.0);
    }

    public CrossEntropyLoss(Reduction reduction) {
        this(reduction, NLLLoss.DEFAULT_IGNORE_INDEX);
    }

    public CrossEntropyLoss() {
        this(Reduction.MEAN);
    }

    @Override
    public Tensor forward(Tensor logits, Tensor target) {
        if (logits.rank() < 1) {
            throw new TensorShapeException("CrossEntropyLoss: input must have shape [C], [N, C] or [N, C, d1, ...], got "
                    + logits.shape());
        }
        int classDim = logits.rank() == 1 ? 0 : 1;
        if (target.dtype().isFloatingPoint()) {
            if (target.shape().equals(logits.shape())) {
                // A probability target has no class index to ignore; PyTorch accepts any negative index
                // (none can name a class) and refuses the others rather than silently not ignoring them.
                if (ignoreIndex >= 0) {
                    throw new IllegalArgumentException("CrossEntropyLoss: ignoreIndex " + ignoreIndex + " is not "
                            + "supported with class-probability targets (a " + target.dtype() + " target of the input's "
                            + "shape " + logits.shape() + "); use a negative ignoreIndex such as the default "
                            + NLLLoss.DEFAULT_IGNORE_INDEX + ", or INT64 class-index targets");
                }
                return withProbabilities(logits.logSoftmax(classDim), target, classDim);
            }
            int[] indexShape = NLLLoss.ClassTargets.withoutDim(logits.shape().toArray(), classDim);
            if (Arrays.equals(indexShape, target.shape().toArray())) {
                throw new DTypeMismatchException("CrossEntropyLoss: target of shape " + target.shape() + " must hold INT64 "
                        + "class indices, got " + target.dtype() + " (class probabilities would have the input's shape "
                        + logits.shape() + ")");
            }
            throw new TensorShapeException("CrossEntropyLoss: a " + target.dtype() + " target holds class probabilities "
                    + "and must have the input's shape " + logits.shape() + ", got " + target.shape());
        }
        NLLLoss.ClassTargets t = NLLLoss.ClassTargets.read("CrossEntropyLoss", logits, target, weight, ignoreIndex);
        Tensor logp = logits.logSoftmax(classDim);
        Tensor nll = t.reduce(t.nll(logp), reduction);
        if (labelSmoothing == 0) {
            return nll;
        }
        Tensor smooth = t.maskIgnored(weighted(logp, classDim).sum(classDim, false).neg());
        return nll.mul(1 - labelSmoothing).add(t.reduce(smooth, reduction).mul(labelSmoothing / t.classes));
    }

    /** PyTorch's cross-entropy with class probabilities: {@code -sum_c weight[c] y[c] logp[c]} per position. */
    private Tensor withProbabilities(Tensor logp, Tensor target, int classDim) {
        if (target.dtype() != logp.dtype()) {
            throw new DTypeMismatchException("CrossEntropyLoss: class-probability target dtype " + target.dtype()
                    + " differs from the input's " + logp.dtype());
        }
        int classes = logp.size(classDim);
        Tensor y = labelSmoothing == 0 ? target : target.mul(1 - labelSmoothing).add(labelSmoothing / classes);
        Tensor perPosition = weighted(logp, classDim).mul(y).sum(classDim, false).neg();
        return switch (reduction) {
            case NONE -> perPosition;
            case SUM -> perPosition.sum();
            // Over the positions (N times d1 ...), not weighted: PyTorch's rule for probability targets.
            case MEAN -> perPosition.sum().div(logp.numel() / (double) classes);
            case BATCHMEAN -> throw Reductions.batchMeanNotSupported("CrossEntropyLoss");
        };
    }

    /** {@code logp} times the class weights broadcast along the class dimension (or logp itself). */
    private Tensor weighted(Tensor logp, int classDim) {
        if (weight == null) {
            return logp;
        }
        int classes = logp.size(classDim);
        if (weight.rank() != 1 || weight.size(0) != classes) {
            throw new TensorShapeException("CrossEntropyLoss: weight must have shape [" + classes + "] (one per class of "
                    + "input shape " + logp.shape() + "), got " + weight.shape());
        }
        int[] shape = new int[logp.rank()];
        Arrays.fill(shape, 1);
        shape[classDim] = classes;
        return logp.mul(weight.to(logp.backend()).toType(logp.dtype()).reshape(shape));
    }
}
