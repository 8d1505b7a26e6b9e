package dev.adjoint.nn;

import dev.adjoint.Tensor;

/** Collapses dimensions {@code startDim..endDim} into one, as {@code nn.Flatten} (default 1..-1). */
public final class Flatten extends Module {
    private final int startDim;
    private final int endDim;

    public Flatten(int startDim, int endDim) {
        this.startDim = startDim;
        this.endDim = endDim;
    }

    public Flatten() {
        this(1, -1);
    }

    @Override
    public Tensor forward(Tensor input) {
        int start = input.shape().normalizeDim(startDim, "Flatten");
        int end = input.shape().normalizeDim(endDim, "Flatten");
        if (start > end) {
            throw new IllegalArgumentException("Flatten: start dim " + startDim + " comes after end dim " + endDim
                    + " for input shape " + input.shape());
        }
        int[] dims = input.shape().toArray();
        int[] out = new int[dims.length - (end - start)];
        int k = 0;
        for (int d = 0; d < start; d++) {
            out[k++] = dims[d];
        }
        int merged = 1;
        for (int d = start; d <= end; d++) {
            merged *= dims[d];
        }
        out[k++] = merged;
        for (int d = end + 1; d < dims.length; d++) {
            out[k++] = dims[d];
        }
        return input.reshape(out);
    }

    @Override
    protected String describe() {
        return "start_dim=" + startDim + ", end_dim=" + endDim;
    }
}
