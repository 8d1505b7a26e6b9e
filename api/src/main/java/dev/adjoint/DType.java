package dev.adjoint;

/** Element types. Floating types are differentiable; {@link #INT64} is for index tensors. */
public enum DType {
    FLOAT32(4, true),
    FLOAT64(8, true),
    INT64(8, false);

    private final int byteSize;
    private final boolean floating;

    DType(int byteSize, boolean floating) {
        this.byteSize = byteSize;
        this.floating = floating;
    }

    public int byteSize() {
        return byteSize;
    }

    public boolean isFloatingPoint() {
        return floating;
    }
}
