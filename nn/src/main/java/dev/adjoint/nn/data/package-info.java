/**
 * Data for training: the IDX format of MNIST-style files ({@link dev.adjoint.nn.data.Idx}, plain or
 * gzip), examples as tensors ({@link dev.adjoint.nn.data.TensorDataset}), batches with seeded
 * per-epoch shuffling ({@link dev.adjoint.nn.data.DataLoader}) and Fashion-MNIST
 * ({@link dev.adjoint.nn.data.FashionMnist}).
 */
package dev.adjoint.nn.data;
