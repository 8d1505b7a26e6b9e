package dev.adjoint.nn.io;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A checkpoint file that cannot be used: truncated, with a corrupt header, of an unknown format
 * version, or holding tensors that do not fit the model or optimizer it is restored into. The message
 * names the file and the problem. Extends {@link IOException} so that a caller handling "could not
 * restore from this file" catches I/O failures and bad contents in one place.
 */
public final class CheckpointException extends IOException {
    private static final long serialVersionUID = 1L;

    private final transient Path file;

    public CheckpointException(Path file, String problem) {
        super("checkpoint " + file + ": " + problem);
        this.file = file;
    }

    public CheckpointException(Path file, String problem, Throwable cause) {
        super("checkpoint " + file + ": " + problem, cause);
        this.file = file;
    }

    /** The file the problem was found in. */
    public Path file() {
        return file;
    }
}
