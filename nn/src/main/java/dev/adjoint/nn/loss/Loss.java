package dev.adjoint.nn.loss;

import dev.adjoint.Tensor;

/** A loss: compares a prediction with a target, differentiably in the prediction. */
public interface Loss {
    Tensor forward(Tensor input, Tensor target);
}
