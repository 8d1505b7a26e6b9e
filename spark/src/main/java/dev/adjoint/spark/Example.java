package dev.adjoint.spark;

import java.io.Serializable;
import java.util.Objects;

/**
 * One training example as the trainer receives it from Spark: a row of FLOAT32 features (converted
 * to the model's dtype on the replica) and an integer class label.
 */
public record Example(float[] features, long label) implements Serializable {
    public Example {
        Objects.requireNonNull(features, "features");
    }
}
