/**
 * Losses as compositions of differentiable Tensor ops (so they work on every backend and can be
 * differentiated twice), each with PyTorch's reductions and numerically stable forms.
 */
package dev.adjoint.nn.loss;
