package dev.adjoint.nn.loss;

import dev.adjoint.Tensor;
import dev.adjoint.TensorShapeException;

/**
 * Binary cross-entropy on logits, as {@code nn.BCEWithLogitsLoss}, in the form that never
 * overflows: {@code (1 - y) x + w (log1p(exp(-|x|)) + max(-x, 0))} with {@code w = 1 + (posWeight - 1) y}
 * (w = 1 without a posWeight, where this is {@code max(x, 0) - x y + log1p(exp(-|x|))}). exp only ever
 * sees {@code -|x|}, so a logit of 1000 gives a finite loss and gradient {@code sigmoid(x) - y}.
 */
public final class BCEWithLogitsLoss implements Loss {
    private final Reduction reduction;
    private final Tensor posWeight;

    /** {@code posWeight} (broadcast against the input, e.g. one per class) may be {@code null}. */
    public BCEWithLogitsLoss(Reduction reduction, Tensor posWeight) {
        this.reduction = reduction;
        this.posWeight = posWeight;
    }

    public BCEWithLogitsLoss(Reduction reduction) {
        this(reduction, null);
    }

    public BCEWithLogitsLoss() {
        this(Reduction.MEAN, null);
    }

    @Override
    public Tensor forward(Tensor x, Tensor y) {
        if (!x.shape().equals(y.shape())) {
            throw new TensorShapeException("BCEWithLogitsLoss: input shape " + x.shape() + " and target shape "
                    + y.shape() + " must be equal");
        }
        // maximum() splits the gradient at x = 0, so the total there is sigmoid(0) - y as in PyTorch.
        Tensor softplusNeg = x.abs().neg().exp().log1p().add(x.neg().maximum(0.0));
        Tensor loss;
        if (posWeight == null) {
            loss = y.neg().add(1.0).mul(x).add(softplusNeg);
        } else {
            Tensor logWeight = posWeight.sub(1.0).mul(y).add(1.0);
            loss = y.neg().add(1.0).mul(x).add(logWeight.mul(softplusNeg));
        }
        return Reductions.reduce("BCEWithLogitsLoss", loss, reduction);
    }
}
