package dev.adjoint.engine.simd;

import dev.adjoint.DType;
import dev.adjoint.spi.Layout;
import dev.adjoint.spi.Window2d;
import dev.adjoint.spi.heap.HeapStorage;

/**
 * The convolution primitives on engine-simd: which geometries take the direct kernels of
 * {@link FloatConvolution} / {@link DoubleConvolution}, and how their work is shared between
 * threads. Each method returns false when the operands do not suit it, and the caller takes the
 * SPI's default (unfold, the packed GEMM, fold).
 *
 * <p>The direct kernels serve groups with fewer output channels than the GEMM's micro-kernel has
 * rows ({@link FloatGemm#MR}): there the packed A panels would be mostly padding, and a depthwise
 * convolution would be one product of a single row per channel. They need stride 1 along the width
 * (a tap's reads along an output row are then one dense run). Forward and input gradient take one
 * (sample, group) per item; the weight gradient one group per item, summing the samples in order,
 * so no result depends on the number of threads.
 */
final class SimdConvolution {
    private SimdConvolution() {
    }

    static boolean conv2d(HeapStorage x, Layout xl, HeapStorage weight, Layout wl, Window2d w, int groups,
                          HeapStorage out, Layout ol) {
        int channels = xl.shape().dim(1);
        int outChannels = wl.shape().dim(0);
        if (!direct(x, out, w, outChannels / groups)) {
            return false;
        }
        int batch = xl.shape().dim(0);
        int cg = channels / groups;
        int og = outChannels / groups;
        int pixels = w.height() * w.width();
        int groupWeights = og * cg * w.taps();
        boolean f32 = x.dtype == DType.FLOAT32;
        PaddedImage pad = PaddedImage.of(w);
        SimdWindows.run(batch * groups, (long) ol.numel() * cg * w.taps(), i -> {
            int n = i / groups;
            int g = i % groups;
            int plane = xl.offset() + (n * channels + g * cg) * pixels;
            int at = ol.offset() + (n * outChannels + g * og) * w.positions();
            if (f32) {
                FloatConvolution.forward(x.f32, plane, weight.f32, wl.offset() + g * groupWeights, w, pad, cg, og,
                        out.f32, at);
            } else {
                DoubleConvolution.forward(x.f64, plane, weight.f64, wl.offset() + g * groupWeights, w, pad, cg, og,
                        out.f64, at);
            }
        });
        return true;
    }

    static boolean inputGrad(HeapStorage grad, Layout gl, HeapStorage weight, Layout wl, Window2d w, int groups,
                             HeapStorage out, Layout ol) {
        int channels = ol.shape().dim(1);
        int outChannels = gl.shape().dim(1);
        if (!direct(grad, out, w, outChannels / groups)) {
            return false;
        }
        int batch = gl.shape().dim(0);
        int cg = channels / groups;
        int og = outChannels / groups;
        int pixels = w.height() * w.width();
        int groupWeights = og * cg * w.taps();
        boolean f32 = grad.dtype == DType.FLOAT32;
        PaddedImage pad = PaddedImage.of(w);
        SimdWindows.run(batch * groups, (long) gl.numel() * cg * w.taps(), i -> {
            int n = i / groups;
            int g = i % groups;
            int at = gl.offset() + (n * outChannels + g * og) * w.positions();
            int plane = ol.offset() + (n * channels + g * cg) * pixels;
            if (f32) {
                FloatConvolution.inputGrad(grad.f32, at, weight.f32, wl.offset() + g * groupWeights, w, pad, cg, og,
                        out.f32, plane);
            } else {
                DoubleConvolution.inputGrad(grad.f64, at, weight.f64, wl.offset() + g * groupWeights, w, pad, cg, og,
                        out.f64, plane);
            }
        });
        return true;
    }

    static boolean weightGrad(HeapStorage x, Layout xl, HeapStorage grad, Layout gl, Window2d w, int groups,
                              HeapStorage out, Layout ol) {
        int channels = xl.shape().dim(1);
        int outChannels = gl.shape().dim(1);
        if (!direct(x, out, w, outChannels / groups)) {
            return false;
        }
        int batch = xl.shape().dim(0);
        int cg = channels / groups;
        int og = outChannels / groups;
        int pixels = w.height() * w.width();
        int groupWeights = og * cg * w.taps();
        boolean f32 = x.dtype == DType.FLOAT32;
        PaddedImage pad = PaddedImage.of(w);
        SimdWindows.run(groups, (long) gl.numel() * cg * w.taps(), g -> {
            int plane = xl.offset() + g * cg * pixels;
            int at = gl.offset() + g * og * w.positions();
            int wAt = ol.offset() + g * groupWeights;
            if (f32) {
                FloatConvolution.weightGrad(x.f32, plane, channels * pixels, grad.f32, at, outChannels * w.positions(),
                        batch, w, pad, cg, og, out.f32, wAt);
            } else {
                DoubleConvolution.weightGrad(x.f64, plane, channels * pixels, grad.f64, at,
                        outChannels * w.positions(), batch, w, pad, cg, og, out.f64, wAt);
            }
        });
        return true;
    }

    /** Whether a convolution with {@code og} output channels per group takes the direct kernels. */
    private static boolean direct(HeapStorage a, HeapStorage b, Window2d w, int og) {
        if (a.dtype != b.dtype || !a.dtype.isFloatingPoint() || w.strideW() != 1) {
            return false;
        }
        return og < (a.dtype == DType.FLOAT32 ? FloatGemm.MR : DoubleGemm.MR);
    }
}
