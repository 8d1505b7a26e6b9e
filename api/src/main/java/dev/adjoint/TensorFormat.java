package dev.adjoint;

/** PyTorch-like printing: nested brackets, elided in the middle for large tensors. */
final class TensorFormat {
    private static final int EDGE = 3;
    private static final int FULL_LIMIT = 1000;

    private TensorFormat() {
    }

    static String format(Tensor t) {
        StringBuilder sb = new StringBuilder("tensor(");
        double[] values = t.toDoubleArray();
        int[] dims = t.shape().toArray();
        boolean integral = t.dtype() == DType.INT64;
        appendLevel(sb, values, dims, 0, 0, integral, values.length > FULL_LIMIT);
        sb.append(", shape=").append(t.shape()).append(", dtype=").append(t.dtype())
                .append(", backend=").append(t.backend().name());
        if (t.gradFn() != null) {
            sb.append(", gradFn=").append(t.gradFn().name());
        } else if (t.requiresGrad()) {
            sb.append(", requiresGrad=true");
        }
        return sb.append(')').toString();
    }

    private static void appendLevel(StringBuilder sb, double[] v, int[] dims, int level, int base,
                                    boolean integral, boolean elide) {
        if (level == dims.length) {
            sb.append(integral ? Long.toString((long) v[base]) : formatNumber(v[base]));
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
            appendLevel(sb, v, dims, level + 1, base + i * block, integral, elide);
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
