package dev.adjoint.nn.loss;

import dev.adjoint.Tensor;
import dev.adjoint.TensorShapeException;

/**
 * Binary cross-entropy of probabilities in [0, 1], as {@code nn.BCELoss}:
 * {@code -w (y log x + (1 - y) log(1 - x))}, each log clamped at -100 as PyTorch does, so a
 * probability of exactly 0 or 1 gives a finite loss and gradient. An optional {@code weight}
 * broadcasts against the input (e.g. one per element of the last dimension). Prefer
 * {@link BCEWithLogitsLoss} on logits: it avoids the sigmoid's saturation altogether.
 */
public final class BCELoss implements Loss {
    private final Reduction reduction;
    private final Tensor weight;

    /** {@code weight} may be {@code null}. */
    public BCELoss(Tensor weight, Reduction reduction) {
        this.weight = weight == null ? null : weight.detach();
        this.reduction = reduction;
    }

    public BCELoss(Reduction reduction) {
        this(null, reduction);
    }

    public BCELoss() {
        this(null, Reduction.MEAN);
    }

    @Override
    public Tensor forward(Tensor input, Tensor target) {
        Reductions.checkSameShape("BCELoss", input, target);
        if (reduction == Reduction.BATCHMEAN) {
            throw Reductions.batchMeanNotSupported("BCELoss");
        }
        // PyTorch refuses probabilities outside [0, 1] (and NaN): the loss would silently be NaN.
        if (input.numel() > 0) {
            Tensor inRange = input.detach().ge(0.0).mul(input.detach().le(1.0));
            if (inRange.sum().item() != input.numel()) {
                throw new IllegalArgumentException("BCELoss: every element of the input (shape " + input.shape()
                        + ") must be a probability in [0, 1]; apply sigmoid first, or use BCEWithLogitsLoss on logits");
            }
        }
        Tensor w;
        if (weight == null) {
            w = input.onesLike().detach();
        } else {
            try {
                w = weight.to(input.backend()).toType(input.dtype()).expand(input.shape().toArray());
            } catch (TensorShapeException e) {
                throw new TensorShapeException("BCELoss: weight shape " + weight.shape()
                        + " does not broadcast to the input shape " + input.shape());
            }
        }
        Tensor loss = new BinaryCrossEntropy().applyOne(input, target, w);
        return Reductions.reduce("BCELoss", loss, reduction);
    }
}
