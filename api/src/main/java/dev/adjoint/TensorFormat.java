package dev.adjoint;

import java.util.function.IntFunction;

/** PyTorch-like printing: nested brackets, elided in the middle for large tensors. */
final class TensorFormat {
    private static final int EDGE = 3;
    private static final int FULL_LIMIT = 1000;

    private TensorFormat() {
    }

    static String format(Tensor t) {
        StringBuilder sb = new StringBuilder("tensor(");
        int[] dims = t.shape().toArray();
        // Integers read as longs: through double, INT64 neighbours above 2^53 would print alike.
        IntFunction<String> element;
        if (t.dtype().isFloatingPoint()) {
            double[] values = t.toDoubleArray();
            element = i -> formatNumber(values[i]);
        } else {
            long[] values = t.toLongArray();
            boolean bool = t.dtype() == DType.BOOL;
            element = i -> bool ? (values[i] != 0 ? "true" : "false") : Long.toString(values[i]);
        }
        appendLevel(sb, element, dims, 0, 0, t.numel() > FULL_LIMIT);
        sb.append(", shape=").append(t.shape()).append(", dtype=").append(t.dtype())
                .append(", backend=").append(t.backend().name());
        if (t.gradFn() != null) {
            sb.append(", gradFn=").append(t.gradFn().name());
        } else if (t.requiresGrad()) {
            sb.append(", requiresGrad=true");
        }
        return sb.append(')').toString();
    }

    private static void appendLevel(StringBuilder sb, IntFunction<String> element, int[] dims, int level, int base,
                                    boolean elide) {
        if (level == dims.length) {
            sb.append(element.apply(base));
            return;
        }
        int n = dims[level];
        int block = 1;
        for (int i = level + 1; i < dims.length; i++) {
            block *= dims[i];
        }
        sb.append('[');
        for (int i = 0; i < n; i++) {
            if (elide && n > 2 * EDGE && i == EDGE) {
                sb.append("..., ");
                i = n - EDGE;
            }
            appendLevel(sb, element, dims, level + 1, base + i * block, elide);
            if (i < n - 1) {
                sb.append(", ");
            }
        }
        sb.append(']');
    }

    private static String formatNumber(double x) {
        if (x == Math.rint(x) && Math.abs(x) < 1e15) {
            return (long) x + ".";
        }
        return String.format("%.4g", x);
    }
}
