package dev.adjoint.spi;

import dev.adjoint.DType;

/**
 * A flat buffer of elements owned by one {@link Backend}. The api never looks inside: a backend may
 * keep its data on the Java heap, off-heap or in a native library's buffers. Elements are read and
 * written only through the backend's kernels and its copy-in/copy-out calls.
 */
public interface Storage {
    DType dtype();

    /** Number of elements. */
    int size();
}
