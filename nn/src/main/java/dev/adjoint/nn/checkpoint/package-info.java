/**
 * Saving and resuming training: {@link dev.adjoint.nn.checkpoint.Checkpoint} puts a model's state dict
 * and its optimizer's state in one file in the safetensors layout ({@link dev.adjoint.nn.checkpoint.SafeTensors}),
 * written atomically and read strictly; a bad or mismatched file is a
 * {@link dev.adjoint.nn.checkpoint.CheckpointException} and changes nothing.
 */
package dev.adjoint.nn.checkpoint;
