/**
 * Neural-network building blocks in the manner of {@code torch.nn}: {@link dev.adjoint.nn.Module} (named
 * parameters, buffers and children; train/eval; strict state dicts), the layers, {@link dev.adjoint.nn.Init}
 * and {@link dev.adjoint.nn.ClipGrad}. Layers are built on a backend, dtype and seeded generator given
 * by an {@link dev.adjoint.nn.NnContext}. Losses are in {@code dev.adjoint.nn.loss}; optimizers and
 * learning-rate schedulers in {@code dev.adjoint.nn.optim}.
 */
package dev.adjoint.nn;
