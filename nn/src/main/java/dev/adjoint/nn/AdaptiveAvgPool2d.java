package dev.adjoint.nn;

import dev.adjoint.Functional;
import dev.adjoint.Tensor;

/** Averages over windows that tile the image into {@code outputSize}, as {@code nn.AdaptiveAvgPool2d}. */
public final class AdaptiveAvgPool2d extends Module {
    private final int[] outputSize;

    /** One value for both dimensions, or two. */
    public AdaptiveAvgPool2d(int... outputSize) {
        this.outputSize = outputSize.clone();
    }

    @Override
    public Tensor forward(Tensor input) {
        return Functional.adaptiveAvgPool2d(input, outputSize);
    }

    @Override
    protected String describe() {
        return "output_size=" + MaxPool2d.size(outputSize);
    }
}
