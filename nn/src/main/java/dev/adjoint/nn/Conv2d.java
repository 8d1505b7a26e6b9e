package dev.adjoint.nn;

import dev.adjoint.Functional;
import dev.adjoint.Tensor;

/**
 * 2-D convolution over {@code [N, C_in, H, W]} (or unbatched {@code [C_in, H, W]}) inputs, as
 * {@code nn.Conv2d}: weight {@code [C_out, C_in / groups, kH, kW]}, bias {@code [C_out]}, zero
 * padding given as sizes or as "same" / "valid". PyTorch's default initialisation: weight and bias
 * uniform in +-1/sqrt(C_in / groups * kH * kW).
 */
public final class Conv2d extends Module {
    private final ConvLayer layer;

    /** {@code kernelSize}, {@code stride}, {@code padding} and {@code dilation}: one value for both dimensions or two. */
    public Conv2d(int inChannels, int outChannels, int[] kernelSize, int[] stride, int[] padding, int[] dilation,
                  int groups, boolean bias, NnContext ctx) {
        layer = new ConvLayer(this, "Conv2d", inChannels, outChannels, kernelSize, 2, groups, bias, false, ctx);
        layer.setGeometry(stride, padding, null, dilation);
    }

    /** With {@code padding} "same" (stride 1) or "valid". */
    public Conv2d(int inChannels, int outChannels, int[] kernelSize, int[] stride, String padding, int[] dilation,
                  int groups, boolean bias, NnContext ctx) {
        layer = new ConvLayer(this, "Conv2d", inChannels, outChannels, kernelSize, 2, groups, bias, false, ctx);
        layer.setGeometry(stride, null, padding, dilation);
    }

    /** A square kernel, the same stride and padding in both dimensions, dilation 1, one group, with a bias. */
    public Conv2d(int inChannels, int outChannels, int kernelSize, int stride, int padding, NnContext ctx) {
        this(inChannels, outChannels, new int[] {kernelSize}, new int[] {stride}, new int[] {padding}, new int[] {1}, 1,
                true, ctx);
    }

    /** A square kernel, stride 1, no padding, with a bias. */
    public Conv2d(int inChannels, int outChannels, int kernelSize, NnContext ctx) {
        this(inChannels, outChannels, kernelSize, 1, 0, ctx);
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
        return layer.paddingMode != null
                ? Functional.conv2d(input, weight(), bias(), layer.stride, layer.paddingMode, layer.dilation, layer.groups)
                : Functional.conv2d(input, weight(), bias(), layer.stride, layer.padding, layer.dilation, layer.groups);
    }

    @Override
    protected String describe() {
        return layer.describe();
    }
}
