/**
 * Saving and resuming training: {@link dev.adjoint.nn.io.Checkpoint} puts a model's state dict
 * and its optimizer's state in one file in the safetensors layout ({@link dev.adjoint.nn.io.SafeTensors}),
 * written atomically and read strictly; a bad or mismatched file is a
 * {@link dev.adjoint.nn.io.CheckpointException} and changes nothing.
 */
package dev.adjoint.nn.io;
