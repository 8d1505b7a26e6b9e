package dev.adjoint.spark.collective;

import java.io.IOException;

/**
 * A collective operation could not complete: a peer closed its connection or stopped answering, or
 * sent something this rank did not expect. The message names this rank, the peer and the operation.
 * The training task fails with it, and Spark retries the barrier stage.
 */
public class CollectiveException extends IOException {
    public CollectiveException(String message) {
        super(message);
    }

    public CollectiveException(String message, Throwable cause) {
        super(message, cause);
    }
}
