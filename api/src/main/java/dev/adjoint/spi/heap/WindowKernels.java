package dev.adjoint.spi.heap;

import dev.adjoint.spi.Layout;
import dev.adjoint.spi.Window2d;

/**
 * The sliding-window kernels ({@code unfold}, {@code fold}, {@code maxPool2d}) as plain loops over
 * {@link HeapStorage}, any strides and every floating dtype: the scalar reference backend's, and the
 * fallback of faster heap backends. Values pass through double; fold sums each image in double and
 * rounds once.
 */
public final class WindowKernels {
    private WindowKernels() {
    }

    /** See {@link dev.adjoint.spi.Backend#unfold}. */
    public static void unfold(HeapStorage x, Layout xl, Window2d w, HeapStorage o, Layout ol) {
        int batch = xl.shape().dim(0);
        int channels = xl.shape().dim(1);
        for (int n = 0; n < batch; n++) {
            for (int c = 0; c < channels; c++) {
                int plane = xl.offset() + n * xl.stride(0) + c * xl.stride(1);
                for (int kh = 0; kh < w.kernelH(); kh++) {
                    for (int kw = 0; kw < w.kernelW(); kw++) {
                        int row = (c * w.kernelH() + kh) * w.kernelW() + kw;
                        int at = ol.offset() + n * ol.stride(0) + row * ol.stride(1);
                        for (int oh = 0; oh < w.outH(); oh++) {
                            int h = w.row(oh, kh);
                            for (int ow = 0; ow < w.outW(); ow++, at += ol.stride(2)) {
                                int x0 = w.column(ow, kw);
                                boolean inside = h >= 0 && h < w.height() && x0 >= 0 && x0 < w.width();
                                o.set(at, inside ? x.get(plane + h * xl.stride(2) + x0 * xl.stride(3)) : 0.0);
                            }
                        }
                    }
                }
            }
        }
    }

    /** See {@link dev.adjoint.spi.Backend#fold}; {@code ol} is contiguous. */
    public static void fold(HeapStorage cols, Layout cl, Window2d w, HeapStorage o, Layout ol) {
        int batch = ol.shape().dim(0);
        int channels = ol.shape().dim(1);
        int pixels = w.height() * w.width();
        double[] image = new double[pixels];
        for (int n = 0; n < batch; n++) {
            for (int c = 0; c < channels; c++) {
                java.util.Arrays.fill(image, 0.0);
                for (int kh = 0; kh < w.kernelH(); kh++) {
                    for (int kw = 0; kw < w.kernelW(); kw++) {
                        int row = (c * w.kernelH() + kh) * w.kernelW() + kw;
                        int at = cl.offset() + n * cl.stride(0) + row * cl.stride(1);
                        for (int oh = 0; oh < w.outH(); oh++) {
                            int h = w.row(oh, kh);
                            for (int ow = 0; ow < w.outW(); ow++, at += cl.stride(2)) {
                                int x0 = w.column(ow, kw);
                                if (h >= 0 && h < w.height() && x0 >= 0 && x0 < w.width()) {
                                    image[h * w.width() + x0] += cols.get(at);
                                }
                            }
                        }
                    }
                }
                int out = ol.offset() + (n * channels + c) * pixels;
                for (int i = 0; i < pixels; i++) {
                    o.set(out + i, image[i]);
                }
            }
        }
    }

    /** See {@link dev.adjoint.spi.Backend#maxPool2d}; {@code ol} and {@code il} are contiguous. */
    public static void maxPool2d(HeapStorage x, Layout xl, Window2d w, HeapStorage o, Layout ol, HeapStorage indices,
                                 Layout il) {
        int batch = xl.shape().dim(0);
        int channels = xl.shape().dim(1);
        int out = 0;
        for (int n = 0; n < batch; n++) {
            for (int c = 0; c < channels; c++) {
                int plane = xl.offset() + n * xl.stride(0) + c * xl.stride(1);
                for (int oh = 0; oh < w.outH(); oh++) {
                    for (int ow = 0; ow < w.outW(); ow++, out++) {
                        double best = Double.NEGATIVE_INFINITY;
                        int bestAt = -1;
                        for (int kh = 0; kh < w.kernelH(); kh++) {
                            int h = w.row(oh, kh);
                            if (h < 0 || h >= w.height()) {
                                continue;
                            }
                            for (int kw = 0; kw < w.kernelW(); kw++) {
                                int x0 = w.column(ow, kw);
                                if (x0 < 0 || x0 >= w.width()) {
                                    continue;
                                }
                                double v = x.get(plane + h * xl.stride(2) + x0 * xl.stride(3));
                                // PyTorch's rule: a larger value or any NaN takes over; the first tap
                                // inside the image is the answer when every tap is -inf.
                                if (bestAt < 0 || v > best || Double.isNaN(v)) {
                                    best = v;
                                    bestAt = h * w.width() + x0;
                                }
                            }
                        }
                        o.set(ol.offset() + out, best);
                        indices.i64[il.offset() + out] = bestAt;
                    }
                }
            }
        }
    }
}
