package dev.adjoint.nn.loss;

import dev.adjoint.Tensor;

final class Reductions {
    private Reductions() {
    }

    static Tensor reduce(Tensor perElement, Reduction reduction) {
        return switch (reduction) {
            case NONE -> perElement;
            case MEAN -> perElement.mean();
            case SUM -> perElement.sum();
        };
    }
}
