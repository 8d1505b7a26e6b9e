package dev.adjoint.engine.simd;

import dev.adjoint.DType;
import dev.adjoint.Shape;
import dev.adjoint.spi.Backend;
import dev.adjoint.spi.Layout;
import dev.adjoint.spi.Window2d;
import dev.adjoint.spi.heap.HeapStorage;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Winograd F(2 x 2, 3 x 3) convolution ({@link FloatWinograd}, {@link DoubleWinograd}) against a plain
 * FLOAT64 loop: forward with and without bias and input gradient, padding 0 to 2, odd and even image
 * sizes (partial edge tiles), batches of 1 and 3, channel counts that are not multiples of the
 * vector length, and a channel count whose L2-derived blocks of tiles end inside samples and tile rows.
 * On a machine without the 32 vector registers Winograd's register block needs, the same cases check
 * the kernels that run there instead.
 *
 * <p>Tolerance, from a first-order bound on the rounding with inputs and weights in [-1, 1]: a
 * transformed input tile's elements are sums of at most 4 inputs (|V| <= 4), a transformed
 * weight's of 9 weights halved twice (|U| <= 9/4), so each of the depth-{@code c} sums M of products
 * is within {@code (c + 4) u * 9 c} of exact (u the unit roundoff: recursive summation of c terms
 * of at most 9, plus the few roundings of U, V and the product); an output adds 9 of them with
 * signs and rounds 4 more times: {@code |y - exact| <= 81 c (c + 8) u}.
 */
class WinogradConvolutionTest {
    private static final Backend SIMD = new SimdBackend();
    /** Image sizes (height, width): single pixel, partial tiles both ways, fmnist2's, odd by odd. */
    private static final int[][] SIZES = {{1, 1}, {2, 3}, {5, 7}, {14, 14}, {15, 9}};
    /** Input and output channels: neither a multiple of 8 or 16; and blocks of tiles that cut samples. */
    private static final int[][] CHANNELS = {{25, 27}, {33, 70}};

    @Test
    void forwardAndInputGradientMatchAPlainLoop() {
        for (DType dtype : new DType[] {DType.FLOAT32, DType.FLOAT64}) {
            for (int[] size : SIZES) {
                for (int pad = 0; pad <= 2; pad++) {
                    int outH = size[0] + 2 * pad - 2;
                    int outW = size[1] + 2 * pad - 2;
                    if (outH <= 0 || outW <= 0) {
                        continue;
                    }
                    Window2d w = new Window2d(size[0], size[1], 3, 3, 1, 1, pad, pad, 1, 1, outH, outW);
                    for (int batch : new int[] {1, 3}) {
                        for (int[] ch : CHANNELS) {
                            check(dtype, w, batch, ch[0], ch[1]);
                        }
                    }
                }
            }
        }
    }

    /**
     * The weight gradient ({@link FloatWinograd#gradientBlock}) against a plain FLOAT64 loop, for the
     * same windows, with output channels in whole register blocks of its product (64 and 128 in
     * FLOAT32, also whole ones in FLOAT64); in its narrow blocks alone (32: FLOAT32 on 16 lanes) or
     * after whole ones (96; 48 in FLOAT64 on 8 lanes, and on 16 padded to 64); and a count no vector
     * length divides (27), padded; batches of 1, 3 and 6 (fewer samples than chunks, and chunks of
     * several), 100 -> 64 channels, whose blocks of tiles end inside samples, and 300 -> 128, 96 and
     * 45, whose sums outgrow L2 (the last part of output channels narrow or padded).
     * Tolerance as above over the sums of the tiles: {@code T} tiles' terms {@code V Z}, each factor
     * a sum of at most 4 elements in [-1, 1], summed into the 16 sums M, of which a weight takes
     * coefficients of absolute sum at most 4: {@code |dW - exact| <= 64 T (T + 8) u}.
     */
    @Test
    void weightGradientMatchesAPlainLoop() {
        int[][] channels = {{25, 64}, {20, 128}, {32, 32}, {24, 48}, {20, 96}, {25, 27}};
        for (DType dtype : new DType[] {DType.FLOAT32, DType.FLOAT64}) {
            for (int[] size : SIZES) {
                for (int pad = 0; pad <= 2; pad++) {
                    int outH = size[0] + 2 * pad - 2;
                    int outW = size[1] + 2 * pad - 2;
                    if (outH <= 0 || outW <= 0) {
                        continue;
                    }
                    Window2d w = new Window2d(size[0], size[1], 3, 3, 1, 1, pad, pad, 1, 1, outH, outW);
                    for (int batch : new int[] {1, 3, 6}) {
                        for (int[] ch : channels) {
                            checkWeightGrad(dtype, w, batch, ch[0], ch[1]);
                        }
                    }
                }
            }
        }
        for (DType dtype : new DType[] {DType.FLOAT32, DType.FLOAT64}) {
            checkWeightGrad(dtype, new Window2d(14, 14, 3, 3, 1, 1, 1, 1, 1, 1, 14, 14), 5, 100, 64);
            // Sums larger than half of L2 (2.4 MB in FLOAT32, twice that in FLOAT64): the weights cut
            // into parts of input and output channels, each over the whole batch.
            checkWeightGrad(dtype, new Window2d(9, 7, 3, 3, 1, 1, 1, 1, 1, 1, 9, 7), 3, 300, 128);
            checkWeightGrad(dtype, new Window2d(9, 7, 3, 3, 1, 1, 1, 1, 1, 1, 9, 7), 3, 300, 96);
            checkWeightGrad(dtype, new Window2d(7, 8, 3, 3, 1, 1, 0, 0, 1, 1, 5, 6), 2, 300, 45);
            // The ResNet block's layer: 32 -> 32 at 32 x 32, blocks of tiles that cut samples.
            checkWeightGrad(dtype, new Window2d(32, 32, 3, 3, 1, 1, 1, 1, 1, 1, 32, 32), 3, 32, 32);
        }
    }

    private static void checkWeightGrad(DType dtype, Window2d w, int batch, int channels, int outChannels) {
        Random random = new Random(channels * 31 + w.height() * 7 + w.padH() + batch);
        double[] x = uniform(random, batch * channels * w.height() * w.width());
        double[] grad = uniform(random, batch * outChannels * w.positions());
        Layout xl = Layout.contiguous(Shape.of(batch, channels, w.height(), w.width()));
        Layout wl = Layout.contiguous(Shape.of(outChannels, channels, 3, 3));
        Layout gl = Layout.contiguous(Shape.of(batch, outChannels, w.outH(), w.outW()));
        String what = dtype + ", batch " + batch + ", " + channels + " -> " + outChannels + ", " + w;
        HeapStorage xs = storage(dtype, x), gs = storage(dtype, grad);
        assertTrue(!SimdConvolution.IMPLICIT_BLOCK_FITS
                        || SimdConvolution.winogradWeights(xs, xs, w, 1, channels, outChannels),
                "weight gradient not on Winograd: " + what);
        double[] expected = weightGrad(x, grad, w, batch, channels, outChannels);
        HeapStorage out = HeapStorage.allocate(dtype, expected.length);
        SIMD.conv2dWeightGrad(xs, xl, gs, gl, w, 1, out, wl);
        int tiles = batch * ((w.outH() + 1) / 2) * ((w.outW() + 1) / 2);
        double u = dtype == DType.FLOAT32 ? 0x1p-24 : 0x1p-53;
        double tolerance = 64.0 * tiles * (tiles + 8) * u;
        for (int i = 0; i < expected.length; i++) {
            double error = Math.abs(out.get(i) - expected[i]);
            if (!(error <= tolerance)) {
                throw new AssertionError("conv2dWeightGrad " + what + ": element " + i + " is " + out.get(i)
                        + ", expected " + expected[i] + " within " + tolerance);
            }
        }
    }

    private static void check(DType dtype, Window2d w, int batch, int channels, int outChannels) {
        Random random = new Random(channels * 31 + w.height() * 7 + w.padH());
        double[] x = uniform(random, batch * channels * w.height() * w.width());
        double[] weights = uniform(random, outChannels * channels * 9);
        double[] bias = uniform(random, outChannels);
        double[] grad = uniform(random, batch * outChannels * w.positions());
        Layout xl = Layout.contiguous(Shape.of(batch, channels, w.height(), w.width()));
        Layout wl = Layout.contiguous(Shape.of(outChannels, channels, 3, 3));
        // The [O] bias broadcast as [1, O, 1, 1] to the output's shape, as the ops pass it.
        Layout bl = new Layout(Shape.of(batch, outChannels, w.outH(), w.outW()), new int[] {0, 1, 0, 0}, 0);
        Layout ol = Layout.contiguous(Shape.of(batch, outChannels, w.outH(), w.outW()));
        String what = dtype + ", batch " + batch + ", " + channels + " -> " + outChannels + ", " + w;
        HeapStorage xs = storage(dtype, x), ws = storage(dtype, weights), bs = storage(dtype, bias);
        // Without 32 vector registers (AVX2) Winograd is never chosen: the cases then check the kernels that run instead.
        assertTrue(!SimdConvolution.IMPLICIT_BLOCK_FITS || SimdConvolution.winograd(xs, xs, w, 1, channels, outChannels),
                "not on Winograd: " + what);

        double[] expected = forward(x, weights, null, w, batch, channels, outChannels);
        HeapStorage out = HeapStorage.allocate(dtype, expected.length);
        SIMD.conv2d(xs, xl, ws, wl, w, 1, out, ol);
        assertClose("conv2d " + what, expected, out, channels, dtype);

        expected = forward(x, weights, bias, w, batch, channels, outChannels);
        out = HeapStorage.allocate(dtype, expected.length);
        SIMD.conv2dBiased(xs, xl, ws, wl, bs, bl, w, 1, out, ol);
        // The bias adds one rounding and a term of at most 1: one more of the depth.
        assertClose("conv2dBiased " + what, expected, out, channels + 1, dtype);

        expected = inputGrad(grad, weights, w, batch, channels, outChannels);
        out = HeapStorage.allocate(dtype, expected.length);
        SIMD.conv2dInputGrad(storage(dtype, grad), ol, ws, wl, w, 1, out, xl);
        assertClose("conv2dInputGrad " + what, expected, out, outChannels, dtype);
    }

    private static void assertClose(String what, double[] expected, HeapStorage actual, int depth, DType dtype) {
        double u = dtype == DType.FLOAT32 ? 0x1p-24 : 0x1p-53;
        double tolerance = 81.0 * depth * (depth + 8) * u;
        for (int i = 0; i < expected.length; i++) {
            double error = Math.abs(actual.get(i) - expected[i]);
            if (!(error <= tolerance)) {
                throw new AssertionError(what + ": element " + i + " is " + actual.get(i) + ", expected "
                        + expected[i] + " within " + tolerance);
            }
        }
    }

    private static double[] uniform(Random random, int n) {
        double[] a = new double[n];
        for (int i = 0; i < n; i++) {
            a[i] = 2 * random.nextDouble() - 1;
        }
        return a;
    }

    /** The values as {@code dtype}; the reference then uses the rounded values too. */
    private static HeapStorage storage(DType dtype, double[] values) {
        HeapStorage s = HeapStorage.allocate(dtype, values.length);
        for (int i = 0; i < values.length; i++) {
            s.set(i, values[i]);
            values[i] = s.get(i);
        }
        return s;
    }

    /** The convolution in FLOAT64, a plain loop over every tap. */
    static double[] forward(double[] x, double[] weights, double[] bias, Window2d w, int batch, int channels,
                            int outChannels) {
        double[] y = new double[batch * outChannels * w.positions()];
        for (int n = 0; n < batch; n++) {
            for (int o = 0; o < outChannels; o++) {
                for (int oh = 0; oh < w.outH(); oh++) {
                    for (int ow = 0; ow < w.outW(); ow++) {
                        double sum = bias == null ? 0 : bias[o];
                        for (int c = 0; c < channels; c++) {
                            for (int kh = 0; kh < 3; kh++) {
                                int h = oh + kh - w.padH();
                                for (int kw = 0; kw < 3; kw++) {
                                    int x0 = ow + kw - w.padW();
                                    if (h >= 0 && h < w.height() && x0 >= 0 && x0 < w.width()) {
                                        sum += weights[((o * channels + c) * 3 + kh) * 3 + kw]
                                                * x[((n * channels + c) * w.height() + h) * w.width() + x0];
                                    }
                                }
                            }
                        }
                        y[((n * outChannels + o) * w.outH() + oh) * w.outW() + ow] = sum;
                    }
                }
            }
        }
        return y;
    }

    /** The weight gradient in FLOAT64: each weight's sum over the samples and output positions. */
    static double[] weightGrad(double[] x, double[] grad, Window2d w, int batch, int channels, int outChannels) {
        double[] dw = new double[outChannels * channels * 9];
        for (int o = 0; o < outChannels; o++) {
            for (int c = 0; c < channels; c++) {
                for (int kh = 0; kh < 3; kh++) {
                    for (int kw = 0; kw < 3; kw++) {
                        double sum = 0;
                        for (int n = 0; n < batch; n++) {
                            for (int oh = 0; oh < w.outH(); oh++) {
                                int h = oh + kh - w.padH();
                                for (int ow = 0; ow < w.outW(); ow++) {
                                    int x0 = ow + kw - w.padW();
                                    if (h >= 0 && h < w.height() && x0 >= 0 && x0 < w.width()) {
                                        sum += grad[((n * outChannels + o) * w.outH() + oh) * w.outW() + ow]
                                                * x[((n * channels + c) * w.height() + h) * w.width() + x0];
                                    }
                                }
                            }
                        }
                        dw[((o * channels + c) * 3 + kh) * 3 + kw] = sum;
                    }
                }
            }
        }
        return dw;
    }

    /** The input gradient in FLOAT64: each output gradient element scattered through every tap. */
    static double[] inputGrad(double[] grad, double[] weights, Window2d w, int batch, int channels, int outChannels) {
        double[] dx = new double[batch * channels * w.height() * w.width()];
        for (int n = 0; n < batch; n++) {
            for (int o = 0; o < outChannels; o++) {
                for (int oh = 0; oh < w.outH(); oh++) {
                    for (int ow = 0; ow < w.outW(); ow++) {
                        double g = grad[((n * outChannels + o) * w.outH() + oh) * w.outW() + ow];
                        for (int c = 0; c < channels; c++) {
                            for (int kh = 0; kh < 3; kh++) {
                                int h = oh + kh - w.padH();
                                for (int kw = 0; kw < 3; kw++) {
                                    int x0 = ow + kw - w.padW();
                                    if (h >= 0 && h < w.height() && x0 >= 0 && x0 < w.width()) {
                                        dx[((n * channels + c) * w.height() + h) * w.width() + x0] +=
                                                g * weights[((o * channels + c) * 3 + kh) * 3 + kw];
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return dx;
    }
}
