package dev.adjoint;

/** How {@link Functional#interpolate} computes each output element, as torch.nn.functional.interpolate's {@code mode}. */
public enum InterpolationMode {
    /** The input element at {@code floor(i * in / out)}, PyTorch's "nearest" (any rank from 3 to 5). */
    NEAREST,
    /** The input element at {@code floor((i + 0.5) * in / out)}, PyTorch's "nearest-exact": centres aligned. */
    NEAREST_EXACT,
    /** Linear between the two nearest input elements along the one spatial dimension of an {@code [N, C, L]} input. */
    LINEAR,
    /** Linear along each of the two spatial dimensions of an {@code [N, C, H, W]} input. */
    BILINEAR,
    /** Linear along each of the three spatial dimensions of an {@code [N, C, D, H, W]} input. */
    TRILINEAR,
    /**
     * Cubic convolution (a = -0.75, as PyTorch's) over the 4 x 4 nearest input elements of an {@code [N, C, H, W]}
     * input, the taps beyond an edge reading the edge element; can overshoot the input's range.
     */
    BICUBIC,
    /** The mean of the input elements each output element covers, PyTorch's "area": an adaptive average pool. */
    AREA
}
