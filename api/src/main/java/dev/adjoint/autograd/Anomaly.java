package dev.adjoint.autograd;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * The state behind {@link Autograd#detectAnomaly()}: process-wide, as PyTorch's is. When no scope is
 * open, recording a node costs one volatile read to find that out.
 */
final class Anomaly {
    private static final AtomicInteger OPEN_SCOPES = new AtomicInteger();

    private Anomaly() {
    }

    static boolean enabled() {
        return OPEN_SCOPES.get() > 0;
    }

    static void open() {
        OPEN_SCOPES.incrementAndGet();
    }

    static void close() {
        OPEN_SCOPES.decrementAndGet();
    }

    static StackTraceElement[] callSite() {
        return new Throwable().getStackTrace();
    }

    /** The recorded frames from the first one outside Adjoint's own op plumbing, one per line. */
    static String format(StackTraceElement[] frames) {
        if (frames == null) {
            return "  (not recorded: the node was created outside detectAnomaly())";
        }
        StringBuilder sb = new StringBuilder();
        boolean user = false;
        int shown = 0;
        for (StackTraceElement f : frames) {
            String c = f.getClassName();
            if (!user && isPlumbing(c)) {
                continue;
            }
            user = true;
            sb.append("  at ").append(f).append('\n');
            if (++shown == 12) {
                break;
            }
        }
        return sb.toString();
    }

    private static boolean isPlumbing(String className) {
        return className.startsWith("dev.adjoint.autograd.") || className.startsWith("dev.adjoint.ops.")
                || className.startsWith("dev.adjoint.spi.") || className.startsWith("dev.adjoint.internal.")
                || className.equals("dev.adjoint.Tensor") || className.startsWith("java.");
    }
}
