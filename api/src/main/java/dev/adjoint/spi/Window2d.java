package dev.adjoint.spi;

/**
 * Where a 2-D sliding window reads an image of {@code height x width}: a {@code kernelH x kernelW}
 * window, its taps {@code dilation} apart, placed at {@code outH x outW} positions {@code stride}
 * apart, the first one {@code padH} rows above and {@code padW} columns left of the image. Position
 * {@code (oh, ow)}, tap {@code (kh, kw)} reads pixel
 * {@code (oh * strideH - padH + kh * dilationH, ow * strideW - padW + kw * dilationW)}; a tap outside
 * the image reads the padding (zero for unfold, nothing for pooling).
 *
 * <p>The output extent is part of the geometry rather than derived from it, so one record serves
 * every caller: convolutions (floor of the usual formula), ceil-mode pooling (one more position
 * that may hang over the far edge), padding "same" with an even kernel (more padding after the
 * image than before it) and transposed convolutions. The api computes and checks it; kernels only read it.
 */
public record Window2d(int height, int width, int kernelH, int kernelW, int strideH, int strideW,
                       int padH, int padW, int dilationH, int dilationW, int outH, int outW) {

    public Window2d {
        if (height < 0 || width < 0 || outH < 0 || outW < 0 || kernelH < 1 || kernelW < 1 || strideH < 1
                || strideW < 1 || padH < 0 || padW < 0 || dilationH < 1 || dilationW < 1) {
            throw new IllegalArgumentException("window: invalid geometry " + describe(height, width, kernelH, kernelW,
                    strideH, strideW, padH, padW, dilationH, dilationW, outH, outW));
        }
    }

    /** Taps per window, {@code kernelH * kernelW}. */
    public int taps() {
        return kernelH * kernelW;
    }

    /** Window positions, {@code outH * outW}. */
    public int positions() {
        return outH * outW;
    }

    /** Image row read by output row {@code oh} at kernel row {@code kh} (may be outside the image). */
    public int row(int oh, int kh) {
        return oh * strideH - padH + kh * dilationH;
    }

    /** Image column read by output column {@code ow} at kernel column {@code kw} (may be outside the image). */
    public int column(int ow, int kw) {
        return ow * strideW - padW + kw * dilationW;
    }

    /**
     * The output extent along one dimension for an image of {@code size}: PyTorch's
     * {@code floor((size + 2 pad - dilation (kernel - 1) - 1) / stride) + 1}, or the ceiling in ceil
     * mode, where a last window that would start beyond the image and its leading padding is dropped.
     * Negative when the window does not fit at all.
     */
    public static int outputSize(int size, int kernel, int stride, int pad, int dilation, boolean ceil) {
        long span = (long) size + 2L * pad - (long) dilation * (kernel - 1) - 1;
        if (span < 0) {
            return -1;
        }
        long out = (ceil ? (span + stride - 1) / stride : span / stride) + 1;
        if (ceil && (out - 1) * stride >= (long) size + pad) {
            out--;
        }
        return (int) Math.min(out, Integer.MAX_VALUE);
    }

    @Override
    public String toString() {
        return describe(height, width, kernelH, kernelW, strideH, strideW, padH, padW, dilationH, dilationW, outH, outW);
    }

    private static String describe(int height, int width, int kernelH, int kernelW, int strideH, int strideW,
                                   int padH, int padW, int dilationH, int dilationW, int outH, int outW) {
        return "image " + height + "x" + width + ", kernel " + kernelH + "x" + kernelW + ", stride " + strideH + "x"
                + strideW + ", padding " + padH + "x" + padW + ", dilation " + dilationH + "x" + dilationW
                + " -> " + outH + "x" + outW;
    }
}
