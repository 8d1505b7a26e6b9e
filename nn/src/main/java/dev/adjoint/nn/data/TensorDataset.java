package dev.adjoint.nn.data;

import dev.adjoint.BackendMismatchException;
import dev.adjoint.DType;
import dev.adjoint.DTypeMismatchException;
import dev.adjoint.Tensor;
import dev.adjoint.TensorShapeException;
import dev.adjoint.spi.Backend;

import java.util.Objects;

/**
 * Examples held as two tensors: {@code features} of shape {@code [N, ...]} and INT64 class
 * {@code labels} of shape {@code [N]}; example {@code i} is row {@code i} of both.
 */
public record TensorDataset(Tensor features, Tensor labels) {
    public TensorDataset {
        Objects.requireNonNull(features, "features");
        Objects.requireNonNull(labels, "labels");
        if (labels.dtype() != DType.INT64) {
            throw new DTypeMismatchException("TensorDataset: labels must be INT64, got " + labels.dtype());
        }
        if (labels.rank() != 1 || features.rank() < 1 || features.size(0) != labels.size(0)) {
            throw new TensorShapeException("TensorDataset: features [N, ...] and labels [N] must agree on N, got "
                    + features.shape() + " and " + labels.shape());
        }
        if (features.backend() != labels.backend()) {
            throw new BackendMismatchException("TensorDataset: features are on '" + features.backend().name()
                    + "' but labels on '" + labels.backend().name() + "'");
        }
    }

    /** The number of examples, N. */
    public int size() {
        return labels.size(0);
    }

    /** The same examples on {@code backend} (this dataset if it is already there). */
    public TensorDataset to(Backend backend) {
        return backend == features.backend() ? this : new TensorDataset(features.to(backend), labels.to(backend));
    }

    /** Examples {@code [from, from + count)}, as views of these tensors. */
    public TensorDataset slice(int from, int count) {
        return new TensorDataset(features.narrow(0, from, count), labels.narrow(0, from, count));
    }
}
