package dev.adjoint.nn;

import dev.adjoint.Functional;
import dev.adjoint.Tensor;

/**
 * Transposed 2-D convolution, as {@code nn.ConvTranspose2d}: weight {@code [C_in, C_out / groups,
 * kH, kW]}, bias {@code [C_out]}; the output is {@code (H - 1) stride - 2 padding + dilation (kH - 1)
 * + outputPadding + 1} high, and likewise wide. PyTorch's default initialisation: weight and bias
 * uniform in +-1/sqrt(C_out / groups * kH * kW) (torch counts the fan from the weight's dimension 1).
 */
public final class ConvTranspose2d extends Module {
    private final ConvLayer layer;

    /** Argument order as {@code nn.ConvTranspose2d}; sizes are one value for both dimensions or two. */
    public ConvTranspose2d(int inChannels, int outChannels, int[] kernelSize, int[] stride, int[] padding,
                           int[] outputPadding, int groups, boolean bias, int[] dilation, NnContext ctx) {
        layer = new ConvLayer(this, "ConvTranspose2d", inChannels, outChannels, kernelSize, 2, groups, bias, true, ctx);
        layer.setGeometry(stride, padding, null, dilation);
        layer.outputPadding = layer.perDim("output padding", outputPadding, 0);
    }

    /** A square kernel, the same stride and padding in both dimensions, no output padding, one group, with a bias. */
    public ConvTranspose2d(int inChannels, int outChannels, int kernelSize, int stride, int padding, NnContext ctx) {
        this(inChannels, outChannels, new int[] {kernelSize}, new int[] {stride}, new int[] {padding}, new int[] {0}, 1,
                true, new int[] {1}, ctx);
    }

    public Tensor weight() {
        return parameter("weight");
    }

    /** The bias, or {@code null} when built without one. */
    public Tensor bias() {
        return layer.hasBias ? parameter("bias") : null;
    }

    @Override
    public Tensor forward(Tensor input) {
        layer.checkInput(input);
        return Functional.convTranspose2d(input, weight(), bias(), layer.stride, layer.padding, layer.outputPadding,
                layer.groups, layer.dilation);
    }

    @Override
    protected String describe() {
        return layer.describe();
    }
}
