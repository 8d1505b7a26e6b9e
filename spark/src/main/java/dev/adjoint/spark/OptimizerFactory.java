package dev.adjoint.spark;

import dev.adjoint.nn.Module;
import dev.adjoint.nn.optim.Optimizer;

import java.io.Serializable;

/**
 * Builds the optimizer over a replica's model, e.g. {@code model -> new Adam(model.parameters(), 1e-3)};
 * parameter groups are built here too. Serialized into every task, like {@link ModelFactory}.
 */
@FunctionalInterface
public interface OptimizerFactory extends Serializable {
    Optimizer create(Module model);
}
