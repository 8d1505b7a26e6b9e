package dev.adjoint.nn;

import dev.adjoint.Functional;
import dev.adjoint.Tensor;

/**
 * {@code x} clamped to {@code [minVal, maxVal]}, as {@code nn.Hardtanh} (default [-1, 1]). The
 * derivative is 1 strictly inside the interval and 0 at and beyond its ends, as PyTorch's hardtanh
 * (unlike clamp, whose derivative passes at the ends).
 */
public final class Hardtanh extends Module {
    private final double minVal;
    private final double maxVal;

    public Hardtanh(double minVal, double maxVal) {
        if (!(minVal <= maxVal)) {
            throw new IllegalArgumentException("Hardtanh: need minVal <= maxVal, got " + minVal + " and " + maxVal);
        }
        this.minVal = minVal;
        this.maxVal = maxVal;
    }

    public Hardtanh() {
        this(-1.0, 1.0);
    }

    @Override
    public Tensor forward(Tensor x) {
        return Functional.hardtanh(x, minVal, maxVal);
    }

    @Override
    protected String describe() {
        return "min_val=" + minVal + ", max_val=" + maxVal;
    }
}
