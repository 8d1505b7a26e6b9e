package dev.adjoint.engine.nd4j;

import dev.adjoint.DType;

import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * The nd4j backend ran out of native memory. The message names the Tensor operation the allocation
 * was for (and the outermost one it ran under, e.g. {@code Tensor.backward}), the dtype, element
 * count and bytes asked for, and what this backend's storages held at the time; the cause, if any,
 * is what JavaCPP or ND4J threw.
 */
public final class Nd4jOutOfMemoryError extends OutOfMemoryError {
    /** The public classes whose methods are the operations a user calls. */
    private static final Set<String> API = Set.of("dev.adjoint.Tensor", "dev.adjoint.Functional",
            "dev.adjoint.TensorFactory");

    /**
     * @param what      the allocation, e.g. "allocating 1,000 FLOAT32 elements (3.9 KiB)"
     * @param reason    why it failed
     * @param liveBytes what this backend's storages held
     */
    Nd4jOutOfMemoryError(String what, String reason, long liveBytes, Throwable cause) {
        super("nd4j backend: out of native memory " + what + operation() + ": " + reason
                + "; this backend's storages hold " + size(liveBytes)
                + " (see adjoint.nd4j.gcThreshold and adjoint.nd4j.maxBytes)");
        if (cause != null) {
            initCause(cause);
        }
    }

    /** "allocating 1,000 FLOAT32 elements (3.9 KiB)". */
    static String allocating(DType dtype, long elements, long bytes) {
        return String.format(Locale.ROOT, "allocating %,d %s elements (%s)", elements, dtype, size(bytes));
    }

    /**
     * " for Tensor.matmul (under Tensor.backward)": the innermost and outermost calls of the public
     * api on this thread's stack, found only when an allocation has already failed.
     */
    private static String operation() {
        List<String> calls = StackWalker.getInstance().walk(frames -> frames
                .filter(f -> API.contains(f.getClassName()))
                .map(f -> f.getClassName().substring(f.getClassName().lastIndexOf('.') + 1) + "." + f.getMethodName())
                .toList());
        if (calls.isEmpty()) {
            return "";
        }
        String inner = calls.get(0);
        String outer = calls.get(calls.size() - 1);
        return " for " + inner + (outer.equals(inner) ? "" : " (under " + outer + ")");
    }

    /** Bytes in binary units, e.g. "3.9 KiB", "1.0 GiB". */
    static String size(long bytes) {
        if (bytes < 1024) {
            return bytes + " B";
        }
        String[] units = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
        double v = bytes;
        int u = -1;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return String.format(Locale.ROOT, "%.1f %s", v, units[u]);
    }
}
