package dev.adjoint.nn.data;

import java.io.IOException;

/** A file that is not a valid IDX file (bad magic, unknown element type, truncated, trailing bytes). */
public final class IdxFormatException extends IOException {
    private static final long serialVersionUID = 1L;

    public IdxFormatException(String source, String problem) {
        super("IDX " + source + ": " + problem);
    }

    public IdxFormatException(String source, String problem, Throwable cause) {
        super("IDX " + source + ": " + problem, cause);
    }
}
