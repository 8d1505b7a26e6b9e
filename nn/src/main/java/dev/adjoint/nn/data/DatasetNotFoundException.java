package dev.adjoint.nn.data;

import java.io.FileNotFoundException;

/** A data set's files are not where they were looked for; the message says how to get them. */
public final class DatasetNotFoundException extends FileNotFoundException {
    private static final long serialVersionUID = 1L;

    public DatasetNotFoundException(String message) {
        super(message);
    }
}
