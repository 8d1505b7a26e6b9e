package dev.adjoint.spark;

import dev.adjoint.nn.Module;
import dev.adjoint.spi.Backend;

import java.io.Serializable;

/**
 * Builds the model on a replica (and on the driver, to hold the result). Spark serializes it into
 * every task, so a lambda must only capture serializable values. Rank 0's initial parameters are
 * broadcast to the other replicas, so the factory need not be seeded for the replicas to agree;
 * seed it (e.g. {@code NnContext.of(backend, new Generator(0))}) for runs to repeat.
 */
@FunctionalInterface
public interface ModelFactory extends Serializable {
    Module create(Backend backend);
}
