package dev.adjoint.spi;

/**
 * The reference arithmetic of the row kernels ({@link Backend#scan}, {@link Backend#sort}) over
 * row-major {@code double} arrays, one row of {@code rowLength} elements after another. The defaults
 * of those kernels copy a view out, run these and copy the result back; a backend with kernels of its
 * own must agree with them.
 */
public final class RowKernels {
    private RowKernels() {
    }

    /** Running sums or products of every row in place, in double (so FLOAT32 values round once, at the end). */
    public static void scan(ScanOp op, boolean reverse, double[] data, int rowLength) {
        if (rowLength == 0) {
            return;
        }
        for (int start = 0; start < data.length; start += rowLength) {
            int first = reverse ? start + rowLength - 1 : start;
            int step = reverse ? -1 : 1;
            double acc = data[first];
            for (int k = 1, at = first + step; k < rowLength; k++, at += step) {
                acc = op == ScanOp.SUM ? acc + data[at] : acc * data[at];
                data[at] = acc;
            }
        }
    }

    /**
     * Sorts every row in place, stably (equal elements keep their order, -0.0 and 0.0 count as equal),
     * NaN above every number as torch.sort: last when ascending, first when descending. Writes each
     * sorted element's position in its original row to {@code indices}.
     */
    public static void sort(double[] data, int rowLength, boolean descending, long[] indices) {
        if (rowLength == 0) {
            return;
        }
        int[] order = new int[rowLength];
        int[] scratch = new int[rowLength];
        double[] row = new double[rowLength];
        for (int start = 0; start < data.length; start += rowLength) {
            System.arraycopy(data, start, row, 0, rowLength);
            for (int i = 0; i < rowLength; i++) {
                order[i] = i;
            }
            mergeSort(row, order, scratch, 0, rowLength, descending);
            for (int i = 0; i < rowLength; i++) {
                data[start + i] = row[order[i]];
                indices[start + i] = order[i];
            }
        }
    }

    /** Stable merge sort of {@code order[from, to)} by {@code row}'s values; a merge sort because it is stable. */
    private static void mergeSort(double[] row, int[] order, int[] scratch, int from, int to, boolean descending) {
        if (to - from < 2) {
            return;
        }
        int mid = (from + to) >>> 1;
        mergeSort(row, order, scratch, from, mid, descending);
        mergeSort(row, order, scratch, mid, to, descending);
        if (!before(row[order[mid]], row[order[mid - 1]], descending)) {
            return; // already in order
        }
        System.arraycopy(order, from, scratch, from, to - from);
        int i = from;
        int j = mid;
        for (int k = from; k < to; k++) {
            // Take from the right half only when strictly before the left: ties keep their order.
            if (j < to && (i >= mid || before(row[scratch[j]], row[scratch[i]], descending))) {
                order[k] = scratch[j++];
            } else {
                order[k] = scratch[i++];
            }
        }
    }

    /** Whether {@code a} sorts strictly before {@code b}: NaN is above every number and equal to NaN. */
    private static boolean before(double a, double b, boolean descending) {
        return descending ? above(a, b) : above(b, a);
    }

    private static boolean above(double a, double b) {
        return a > b || (Double.isNaN(a) && !Double.isNaN(b));
    }
}
