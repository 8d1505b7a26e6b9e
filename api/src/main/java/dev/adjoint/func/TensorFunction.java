package dev.adjoint.func;

import dev.adjoint.Tensor;

import java.util.List;

/** A function of several tensors to several tensors, for the transforms in {@link Transforms}. */
@FunctionalInterface
public interface TensorFunction {
    List<Tensor> apply(List<Tensor> inputs);
}
