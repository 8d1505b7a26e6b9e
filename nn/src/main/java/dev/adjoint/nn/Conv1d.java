package dev.adjoint.nn;

import dev.adjoint.Functional;
import dev.adjoint.Tensor;

/**
 * 1-D convolution over {@code [N, C_in, L]} (or unbatched {@code [C_in, L]}) inputs, as
 * {@code nn.Conv1d}: weight {@code [C_out, C_in / groups, k]}, bias {@code [C_out]}, zero padding
 * given as a size or as "same" / "valid". PyTorch's default initialisation: weight and bias uniform
 * in +-1/sqrt(C_in / groups * k).
 */
public final class Conv1d extends Module {
    private final ConvLayer layer;

    public Conv1d(int inChannels, int outChannels, int kernelSize, int stride, int padding, int dilation, int groups,
                  boolean bias, NnContext ctx) {
        layer = new ConvLayer(this, "Conv1d", inChannels, outChannels, new int[] {kernelSize}, 1, groups, bias, false,
                ctx);
        layer.setGeometry(new int[] {stride}, new int[] {padding}, null, new int[] {dilation});
    }

    /** With {@code padding} "same" (stride 1) or "valid". */
    public Conv1d(int inChannels, int outChannels, int kernelSize, int stride, String padding, int dilation,
                  int groups, boolean bias, NnContext ctx) {
        layer = new ConvLayer(this, "Conv1d", inChannels, outChannels, new int[] {kernelSize}, 1, groups, bias, false,
                ctx);
        layer.setGeometry(new int[] {stride}, null, padding, new int[] {dilation});
    }

    /** Dilation 1, one group, with a bias. */
    public Conv1d(int inChannels, int outChannels, int kernelSize, int stride, int padding, NnContext ctx) {
        this(inChannels, outChannels, kernelSize, stride, padding, 1, 1, true, ctx);
    }

    /** Stride 1, no padding. */
    public Conv1d(int inChannels, int outChannels, int kernelSize, NnContext ctx) {
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
                ? Functional.conv1d(input, weight(), bias(), layer.stride[0], layer.paddingMode, layer.dilation[0],
                        layer.groups)
                : Functional.conv1d(input, weight(), bias(), layer.stride[0], layer.padding[0], layer.dilation[0],
                        layer.groups);
    }

    @Override
    protected String describe() {
        return layer.describe();
    }
}
