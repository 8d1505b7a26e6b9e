/**
 * Optimizers and learning-rate schedulers with the exact update rules of {@code torch.optim} 1.13
 * (single-tensor code path), checked against PyTorch trajectories.
 */
package dev.adjoint.nn.optim;
