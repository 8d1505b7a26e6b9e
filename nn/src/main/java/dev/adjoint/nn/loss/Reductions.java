package dev.adjoint.nn.loss;

import dev.adjoint.Tensor;
import dev.adjoint.TensorShapeException;

final class Reductions {
    private Reductions() {
    }

    /** NONE, MEAN or SUM of {@code perElement}; {@code loss} names the caller if given BATCHMEAN. */
    static Tensor reduce(String loss, Tensor perElement, Reduction reduction) {
        return switch (reduction) {
            case NONE -> perElement;
            case MEAN -> perElement.mean();
            case SUM -> perElement.sum();
            case BATCHMEAN -> throw batchMeanNotSupported(loss);
        };
    }

    static IllegalArgumentException batchMeanNotSupported(String loss) {
        return new IllegalArgumentException(loss + ": reduction BATCHMEAN is for KLDivLoss only; use NONE, MEAN or SUM");
    }

    /** The loss's shape check as PyTorch's elementwise losses make it (equal shapes, no broadcasting). */
    static void checkSameShape(String loss, Tensor input, Tensor target) {
        if (!input.shape().equals(target.shape())) {
            throw new TensorShapeException(loss + ": input shape " + input.shape() + " and target shape "
                    + target.shape() + " must be equal");
        }
    }
}
