package dev.adjoint.nn;

import dev.adjoint.Functional;
import dev.adjoint.Tensor;

/** 2-D max pooling, as {@code nn.MaxPool2d}; the stride defaults to the kernel size. */
public final class MaxPool2d extends Module {
    private final int[] kernelSize;
    private final int[] stride;
    private final int[] padding;
    private final int[] dilation;
    private final boolean ceilMode;

    /** Sizes are one value for both dimensions or two; a null or empty {@code stride} means the kernel size. */
    public MaxPool2d(int[] kernelSize, int[] stride, int[] padding, int[] dilation, boolean ceilMode) {
        this.kernelSize = kernelSize.clone();
        this.stride = stride == null || stride.length == 0 ? kernelSize.clone() : stride.clone();
        this.padding = padding.clone();
        this.dilation = dilation.clone();
        this.ceilMode = ceilMode;
    }

    public MaxPool2d(int kernelSize, int stride, int padding) {
        this(new int[] {kernelSize}, new int[] {stride}, new int[] {padding}, new int[] {1}, false);
    }

    /** Stride equal to the kernel size, no padding. */
    public MaxPool2d(int kernelSize) {
        this(kernelSize, kernelSize, 0);
    }

    @Override
    public Tensor forward(Tensor input) {
        return Functional.maxPool2d(input, kernelSize, stride, padding, dilation, ceilMode);
    }

    @Override
    protected String describe() {
        return "kernel_size=" + size(kernelSize) + ", stride=" + size(stride) + ", padding=" + size(padding)
                + ", dilation=" + size(dilation) + ", ceil_mode=" + (ceilMode ? "True" : "False");
    }

    /** A single value as PyTorch prints it, two as a tuple. */
    static String size(int[] values) {
        return values.length == 1 ? Integer.toString(values[0]) : ConvLayer.tuple(values);
    }
}
