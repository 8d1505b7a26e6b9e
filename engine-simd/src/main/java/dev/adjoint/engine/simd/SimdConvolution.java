package dev.adjoint.engine.simd;

import dev.adjoint.DType;
import dev.adjoint.spi.Layout;
import dev.adjoint.spi.Window2d;
import dev.adjoint.spi.heap.HeapStorage;
import java.util.Arrays;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;

/**
 * The convolution primitives on engine-simd: which geometries take the direct, implicit, chunked or
 * banded kernels of {@link FloatConvolution} / {@link DoubleConvolution}, and how their work is
 * shared between threads. Each method returns false when the operands do not suit it, and the
 * caller takes the SPI's default (unfold of the whole batch, the packed GEMM, fold).
 *
 * <p>The direct kernels serve groups with fewer output channels than the GEMM's micro-kernel has
 * rows ({@link FloatGemm#MR}): there the packed A panels would be mostly padding, and a depthwise
 * convolution would be one product of a single row per channel. At stride 1 with output rows as
 * wide as the input's ({@link #flat}) they run along each image as one flat run; a depthwise 3 x 3
 * window at stride 2 ({@link #stride2x3x3}) reads its image in place, every other column by lane
 * shuffles; any other window strided along the width reads phased scratch images
 * ({@link PaddedImage#phased}). Forward and input
 * gradient take one (sample, group) per item; the weight gradient one group per item, summing the
 * samples in order, so no result depends on the number of threads. 3 x 3 stride-1 convolutions of
 * enough channels take Winograd F(2 x 2, 3 x 3) ({@link #winograd}, {@link FloatWinograd}): forward and
 * input gradient a block of tiles per item, the weight gradient ({@link #winogradWeights}) a chunk of
 * samples, or for large layers a part of the weights, per item. Other stride-1 convolutions whose
 * sample fits half of L2 take the implicit-GEMM kernels ({@link #implicit}), a (sample, group) per
 * item whatever the batch. Other convolutions, when the batch has a sample for every thread, take
 * the chunked kernels (a chunk of samples per item) where a sample's columns fit the band's share
 * of L2, else the banded ones (a sample per item).
 */
final class SimdConvolution {
    private SimdConvolution() {
    }

    static boolean conv2d(HeapStorage x, Layout xl, HeapStorage weight, Layout wl, Window2d w, int groups,
                          HeapStorage out, Layout ol) {
        int channels = xl.shape().dim(1);
        int outChannels = wl.shape().dim(0);
        if (!direct(x, out, w, outChannels / groups)) {
            int batch = xl.shape().dim(0);
            if (winograd(x, out, w, groups, channels, outChannels)) {
                return winogradForward(x, xl, weight, wl.offset(), false, w, null, 0, out, ol);
            }
            if (implicit(x, out, w, channels / groups, outChannels / groups)) {
                return implicitForward(x, xl, weight, wl.offset(), w, groups, out, ol);
            }
            if (!banded(x, out, batch)) {
                return false;
            }
            int chunk = narrow(w, x.dtype) ? Math.min(chunkSamples(w, channels, outChannels, x.dtype, batch),
                    perThread(batch)) : 0;
            return chunk > 0 ? chunkedForward(x, xl, weight, wl, w, groups, out, ol, chunk)
                    : bandedForward(x, xl, weight, wl, w, groups, out, ol, bandRows(w, channels, x.dtype));
        }
        int batch = xl.shape().dim(0);
        int cg = channels / groups;
        int og = outChannels / groups;
        int pixels = w.height() * w.width();
        int groupWeights = og * cg * w.taps();
        boolean f32 = x.dtype == DType.FLOAT32;
        if (flat3x3(w, cg)) {
            depthwise3x3Forward(x, xl, weight, wl, null, 0, w, groups, out, ol, false);
            return true;
        }
        if (flat(w)) {
            long[] masks = f32 ? FloatConvolution.flatMasks(w) : DoubleConvolution.flatMasks(w);
            SimdWindows.run(batch * groups, (long) ol.numel() * cg * w.taps(), i -> {
                int n = i / groups;
                int g = i % groups;
                int plane = xl.offset() + (n * channels + g * cg) * pixels;
                int at = ol.offset() + (n * outChannels + g * og) * w.positions();
                if (f32) {
                    FloatConvolution.flatForward(x.f32, plane, weight.f32, wl.offset() + g * groupWeights, w, masks,
                            cg, og, out.f32, at);
                } else {
                    DoubleConvolution.flatForward(x.f64, plane, weight.f64, wl.offset() + g * groupWeights, w, masks,
                            cg, og, out.f64, at);
                }
            });
            return true;
        }
        if (stride2x3x3(w, cg)) {
            depthwise3x3Forward(x, xl, weight, wl, null, 0, w, groups, out, ol, true);
            return true;
        }
        PaddedImage pad = PaddedImage.phased(w);
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
            int batch = gl.shape().dim(0);
            Window2d flipped = flipped(w);
            if (flipped != null && winograd(grad, out, flipped, groups, outChannels, channels)) {
                return winogradForward(grad, gl, weight, wl.offset(), true, flipped, null, 0, out, ol);
            }
            if (flipped != null && implicit(grad, out, flipped, outChannels / groups, channels / groups)) {
                // The input gradient as the forward convolution of the output gradient (see below).
                HeapStorage transposed = flippedTransposed(weight, wl.offset(), groups, outChannels / groups,
                        channels / groups, w.taps());
                return implicitForward(grad, gl, transposed, 0, flipped, groups, out, ol);
            }
            if (polyphase(grad, out, w, outChannels / groups, channels / groups)) {
                return polyphaseInputGrad(grad, gl, weight, wl, w, groups, out, ol);
            }
            if (!banded(grad, out, batch)) {
                return false;
            }
            int chunk = narrow(w, grad.dtype) ? Math.min(chunkSamples(w, channels, outChannels, grad.dtype, batch),
                    perThread(batch)) : 0;
            return chunk > 0 ? chunkedInputGrad(grad, gl, weight, wl, w, groups, out, ol, chunk)
                    : bandedInputGrad(grad, gl, weight, wl, w, groups, out, ol, bandRows(w, channels, grad.dtype));
        }
        int batch = gl.shape().dim(0);
        int cg = channels / groups;
        int og = outChannels / groups;
        int pixels = w.height() * w.width();
        int groupWeights = og * cg * w.taps();
        boolean f32 = grad.dtype == DType.FLOAT32;
        Window2d flipped = flipped(w);
        if (flipped != null) {
            // The forward kernel, which sums in registers where the scatter below adds into memory
            // once per tap.
            HeapStorage transposed = flippedTransposed(weight, wl.offset(), groups, og, cg, w.taps());
            if (flat3x3(flipped, og)) {
                long[] masks = f32 ? FloatConvolution.flatTapMasks(flipped) : DoubleConvolution.flatTapMasks(flipped);
                SimdWindows.run(batch * groups, (long) gl.numel() * cg * w.taps(), i -> {
                    int n = i / groups;
                    int g = i % groups;
                    int at = gl.offset() + (n * outChannels + g) * w.positions();
                    int plane = ol.offset() + (n * channels + g * cg) * pixels;
                    if (f32) {
                        FloatConvolution.flat3x3Forward(grad.f32, at, transposed.f32, g * groupWeights, flipped, masks,
                                cg, null, 0, out.f32, plane);
                    } else {
                        DoubleConvolution.flat3x3Forward(grad.f64, at, transposed.f64, g * groupWeights, flipped, masks,
                                cg, null, 0, out.f64, plane);
                    }
                });
                return true;
            }
            if (flat(flipped)) {
                long[] masks = f32 ? FloatConvolution.flatMasks(flipped) : DoubleConvolution.flatMasks(flipped);
                SimdWindows.run(batch * groups, (long) gl.numel() * cg * w.taps(), i -> {
                    int n = i / groups;
                    int g = i % groups;
                    int at = gl.offset() + (n * outChannels + g * og) * w.positions();
                    int plane = ol.offset() + (n * channels + g * cg) * pixels;
                    if (f32) {
                        FloatConvolution.flatForward(grad.f32, at, transposed.f32, g * groupWeights, flipped, masks,
                                og, cg, out.f32, plane);
                    } else {
                        DoubleConvolution.flatForward(grad.f64, at, transposed.f64, g * groupWeights, flipped, masks,
                                og, cg, out.f64, plane);
                    }
                });
                return true;
            }
            PaddedImage pad = PaddedImage.of(flipped);
            SimdWindows.run(batch * groups, (long) gl.numel() * cg * w.taps(), i -> {
                int n = i / groups;
                int g = i % groups;
                int at = gl.offset() + (n * outChannels + g * og) * w.positions();
                int plane = ol.offset() + (n * channels + g * cg) * pixels;
                if (f32) {
                    FloatConvolution.forward(grad.f32, at, transposed.f32, g * groupWeights, flipped, pad, og, cg,
                            out.f32, plane);
                } else {
                    DoubleConvolution.forward(grad.f64, at, transposed.f64, g * groupWeights, flipped, pad, og, cg,
                            out.f64, plane);
                }
            });
            return true;
        }
        if (stride2x3x3(w, cg)) {
            long[] masks = f32 ? FloatConvolution.stride2x3x3GradMasks(w) : DoubleConvolution.stride2x3x3GradMasks(w);
            SimdWindows.run(batch * groups, (long) gl.numel() * w.taps(), i -> {
                int n = i / groups;
                int g = i % groups;
                int at = gl.offset() + (n * outChannels + g * og) * w.positions();
                int plane = ol.offset() + (n * channels + g) * pixels;
                if (f32) {
                    FloatConvolution.stride2x3x3InputGrad(grad.f32, at, weight.f32, wl.offset() + g * groupWeights, w,
                            masks, og, out.f32, plane);
                } else {
                    DoubleConvolution.stride2x3x3InputGrad(grad.f64, at, weight.f64, wl.offset() + g * groupWeights, w,
                            masks, og, out.f64, plane);
                }
            });
            return true;
        }
        PaddedImage pad = PaddedImage.phased(w);
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

    /**
     * Runs of groups per thread in a depthwise weight gradient ({@link FloatConvolution#flat3x3WeightGrad}):
     * a few, so that a helper that starts late holds back little (as {@link SimdWindows} cuts its
     * items), and no more, as each run is one long read of every sample's images.
     */
    private static final int WEIGHT_RUNS_PER_THREAD = 4;

    /**
     * A depthwise weight-gradient kernel over {@code count} consecutive groups, the first one's input
     * images at {@code plane}, output gradient images at {@code at} and weights at {@code wAt}.
     */
    @FunctionalInterface
    private interface DepthwiseWeightRun {
        void run(int plane, int at, int count, int wAt);
    }

    /**
     * {@code kernel} over runs of consecutive groups, a few for each thread
     * ({@link #WEIGHT_RUNS_PER_THREAD}): each group's sums are the same however the groups are cut,
     * so the cut may follow the threads.
     */
    private static void depthwiseWeightRuns(int groups, Layout xl, Layout gl, Layout ol, Window2d w, int og,
                                            DepthwiseWeightRun kernel) {
        int pixels = w.height() * w.width();
        int runs = Math.min(groups, WEIGHT_RUNS_PER_THREAD * MatmulThreads.THREADS);
        SimdWindows.run(runs, (long) gl.numel() * w.taps(), r -> {
            int g0 = MatmulThreads.from(groups, r, runs, 1);
            int g1 = MatmulThreads.from(groups, r + 1, runs, 1);
            kernel.run(xl.offset() + g0 * pixels, gl.offset() + g0 * og * w.positions(), g1 - g0,
                    ol.offset() + g0 * og * w.taps());
        });
    }

    static boolean weightGrad(HeapStorage x, Layout xl, HeapStorage grad, Layout gl, Window2d w, int groups,
                              HeapStorage out, Layout ol) {
        int channels = xl.shape().dim(1);
        int outChannels = gl.shape().dim(1);
        if (!direct(x, out, w, outChannels / groups)) {
            int batch = xl.shape().dim(0);
            if (winogradWeights(x, out, w, groups, channels, outChannels)) {
                return winogradWeightGrad(x, xl, grad, gl, w, out, ol);
            }
            if (implicitWeights(x, out, w, outChannels / groups)) {
                return implicitWeightGrad(x, xl, grad, gl, w, groups, out, ol);
            }
            if (!banded(x, out, batch)) {
                return false;
            }
            // Not limited by the thread count, as forward and input gradient are: the chunk is the
            // depth of each product, so it decides the order of the sums and must not vary with threads.
            int chunk = chunkSamples(w, channels, outChannels, x.dtype, batch);
            return chunk > 0 ? chunkedWeightGrad(x, xl, grad, gl, w, groups, out, ol, chunk)
                    : bandedWeightGrad(x, xl, grad, gl, w, groups, out, ol, bandRows(w, channels, x.dtype));
        }
        int batch = xl.shape().dim(0);
        int cg = channels / groups;
        int og = outChannels / groups;
        int pixels = w.height() * w.width();
        int groupWeights = og * cg * w.taps();
        boolean f32 = x.dtype == DType.FLOAT32;
        boolean stride2 = stride2x3x3(w, cg);
        if (stride2 || flat3x3(w, cg)) {
            long[] masks = depthwise3x3Masks(w, f32, stride2);
            int xSample = channels * pixels;
            int gSample = outChannels * w.positions();
            depthwiseWeightRuns(groups, xl, gl, ol, w, og, (plane, at, count, wAt) -> {
                if (f32 && stride2) {
                    FloatConvolution.stride2x3x3WeightGrad(x.f32, plane, xSample, grad.f32, at, gSample, batch, w,
                            masks, count, og, out.f32, wAt);
                } else if (f32) {
                    FloatConvolution.flat3x3WeightGrad(x.f32, plane, xSample, grad.f32, at, gSample, batch, w, masks,
                            count, og, out.f32, wAt);
                } else if (stride2) {
                    DoubleConvolution.stride2x3x3WeightGrad(x.f64, plane, xSample, grad.f64, at, gSample, batch, w,
                            masks, count, og, out.f64, wAt);
                } else {
                    DoubleConvolution.flat3x3WeightGrad(x.f64, plane, xSample, grad.f64, at, gSample, batch, w, masks,
                            count, og, out.f64, wAt);
                }
            });
            return true;
        }
        if (flat(w)) {
            long[] masks = f32 ? FloatConvolution.flatMasks(w) : DoubleConvolution.flatMasks(w);
            SimdWindows.run(groups, (long) gl.numel() * cg * w.taps(), g -> {
                int plane = xl.offset() + g * cg * pixels;
                int at = gl.offset() + g * og * w.positions();
                int wAt = ol.offset() + g * groupWeights;
                if (f32) {
                    FloatConvolution.flatWeightGrad(x.f32, plane, channels * pixels, grad.f32, at,
                            outChannels * w.positions(), batch, w, masks, cg, og, out.f32, wAt);
                } else {
                    DoubleConvolution.flatWeightGrad(x.f64, plane, channels * pixels, grad.f64, at,
                            outChannels * w.positions(), batch, w, masks, cg, og, out.f64, wAt);
                }
            });
            return true;
        }
        PaddedImage pad = PaddedImage.phased(w);
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

    /** A convolution {@code samples} samples at a time ({@link FloatConvolution#chunkForward}), a chunk per item. */
    static boolean chunkedForward(HeapStorage x, Layout xl, HeapStorage weight, Layout wl, Window2d w, int groups,
                                  HeapStorage out, Layout ol, int samples) {
        int batch = xl.shape().dim(0);
        int channels = xl.shape().dim(1);
        int outChannels = wl.shape().dim(0);
        int pixels = w.height() * w.width();
        boolean f32 = x.dtype == DType.FLOAT32;
        PaddedImage pad = PaddedImage.of(w);
        int chunks = (batch + samples - 1) / samples;
        int threads = MatmulThreads.partsFor(flops(w, channels, outChannels, groups, batch));
        SimdWindows.runOn(chunks, threads, i -> {
            int n = i * samples;
            int count = Math.min(samples, batch - n);
            int plane = xl.offset() + n * channels * pixels;
            int at = ol.offset() + n * outChannels * w.positions();
            if (f32) {
                FloatConvolution.chunkForward(x.f32, plane, channels, weight.f32, wl.offset(), w, pad, groups,
                        outChannels, count, out.f32, at);
            } else {
                DoubleConvolution.chunkForward(x.f64, plane, channels, weight.f64, wl.offset(), w, pad, groups,
                        outChannels, count, out.f64, at);
            }
        });
        return true;
    }

    /** An input gradient {@code samples} samples at a time ({@link FloatConvolution#chunkInputGrad}), a chunk per item. */
    static boolean chunkedInputGrad(HeapStorage grad, Layout gl, HeapStorage weight, Layout wl, Window2d w,
                                    int groups, HeapStorage out, Layout ol, int samples) {
        int batch = gl.shape().dim(0);
        int channels = ol.shape().dim(1);
        int outChannels = gl.shape().dim(1);
        int pixels = w.height() * w.width();
        boolean f32 = grad.dtype == DType.FLOAT32;
        PaddedImage pad = PaddedImage.of(w);
        int chunks = (batch + samples - 1) / samples;
        int threads = MatmulThreads.partsFor(flops(w, channels, outChannels, groups, batch));
        SimdWindows.runOn(chunks, threads, i -> {
            int n = i * samples;
            int count = Math.min(samples, batch - n);
            int at = gl.offset() + n * outChannels * w.positions();
            int plane = ol.offset() + n * channels * pixels;
            if (f32) {
                FloatConvolution.chunkInputGrad(grad.f32, at, weight.f32, wl.offset(), w, pad, groups, channels,
                        outChannels, count, out.f32, plane);
            } else {
                DoubleConvolution.chunkInputGrad(grad.f64, at, weight.f64, wl.offset(), w, pad, groups, channels,
                        outChannels, count, out.f64, plane);
            }
        });
        return true;
    }

    /**
     * A weight gradient {@code samples} samples at a time ({@link FloatConvolution#chunkWeightGrad}):
     * each chunk's sum into a slice of its own, then the slices added in chunk order and turned into
     * the weight's layout, so the result does not depend on which thread took which chunk.
     */
    static boolean chunkedWeightGrad(HeapStorage x, Layout xl, HeapStorage grad, Layout gl, Window2d w,
                                     int groups, HeapStorage out, Layout ol, int samples) {
        int batch = xl.shape().dim(0);
        int channels = xl.shape().dim(1);
        int outChannels = gl.shape().dim(1);
        int pixels = w.height() * w.width();
        int depth = channels / groups * w.taps();
        int og = outChannels / groups;
        int size = ol.numel();
        boolean f32 = x.dtype == DType.FLOAT32;
        PaddedImage pad = PaddedImage.of(w);
        int chunks = (batch + samples - 1) / samples;
        HeapStorage partials = HeapStorage.allocate(x.dtype, chunks * size);
        int threads = MatmulThreads.partsFor(flops(w, channels, outChannels, groups, batch));
        SimdWindows.runOn(chunks, threads, i -> {
            int n = i * samples;
            int count = Math.min(samples, batch - n);
            int plane = xl.offset() + n * channels * pixels;
            int at = gl.offset() + n * outChannels * w.positions();
            if (f32) {
                FloatConvolution.chunkWeightGrad(x.f32, plane, channels, grad.f32, at, w, pad, groups, outChannels,
                        count, partials.f32, i * size);
            } else {
                DoubleConvolution.chunkWeightGrad(x.f64, plane, channels, grad.f64, at, w, pad, groups, outChannels,
                        count, partials.f64, i * size);
            }
        });
        untransposeSum(partials, chunks, size, groups, depth, og, out, ol);
        return true;
    }

    /**
     * The {@code count} transposed weight gradients of {@code size} in {@code partials} (from
     * {@link FloatConvolution#chunkWeightGrad} or {@link FloatConvolution#bandedWeightGrad}) added in
     * order into the first, which is then written to {@code out} in the weight's layout.
     */
    private static void untransposeSum(HeapStorage partials, int count, int size, int groups, int depth, int og,
                                       HeapStorage out, Layout ol) {
        boolean f32 = partials.dtype == DType.FLOAT32;
        for (int i = 1; i < count; i++) {
            if (f32) {
                FloatConvolution.addInto(partials.f32, i * size, partials.f32, 0, size);
            } else {
                DoubleConvolution.addInto(partials.f64, i * size, partials.f64, 0, size);
            }
        }
        if (f32) {
            FloatConvolution.untransposeGroups(partials.f32, 0, groups, depth, og, out.f32, ol.offset());
        } else {
            DoubleConvolution.untransposeGroups(partials.f64, 0, groups, depth, og, out.f64, ol.offset());
        }
    }

    static boolean bandedForward(HeapStorage x, Layout xl, HeapStorage weight, Layout wl, Window2d w,
                                         int groups, HeapStorage out, Layout ol, int band) {
        int batch = xl.shape().dim(0);
        int channels = xl.shape().dim(1);
        int outChannels = wl.shape().dim(0);
        int pixels = w.height() * w.width();
        boolean f32 = x.dtype == DType.FLOAT32;
        PaddedImage pad = PaddedImage.of(w);
        int threads = MatmulThreads.partsFor(flops(w, channels, outChannels, groups, batch));
        SimdWindows.runOn(batch, threads, n -> {
            int plane = xl.offset() + n * channels * pixels;
            int at = ol.offset() + n * outChannels * w.positions();
            if (f32) {
                FloatConvolution.bandedForward(x.f32, plane, channels, weight.f32, wl.offset(), w, pad, groups,
                        outChannels, band, out.f32, at);
            } else {
                DoubleConvolution.bandedForward(x.f64, plane, channels, weight.f64, wl.offset(), w, pad, groups,
                        outChannels, band, out.f64, at);
            }
        });
        return true;
    }

    static boolean bandedInputGrad(HeapStorage grad, Layout gl, HeapStorage weight, Layout wl, Window2d w,
                                           int groups, HeapStorage out, Layout ol, int band) {
        int batch = gl.shape().dim(0);
        int channels = ol.shape().dim(1);
        int outChannels = gl.shape().dim(1);
        int pixels = w.height() * w.width();
        boolean f32 = grad.dtype == DType.FLOAT32;
        PaddedImage pad = PaddedImage.of(w);
        int threads = MatmulThreads.partsFor(flops(w, channels, outChannels, groups, batch));
        SimdWindows.runOn(batch, threads, n -> {
            int at = gl.offset() + n * outChannels * w.positions();
            int plane = ol.offset() + n * channels * pixels;
            if (f32) {
                FloatConvolution.bandedInputGrad(grad.f32, at, weight.f32, wl.offset(), w, pad, groups, channels,
                        outChannels, band, out.f32, plane);
            } else {
                DoubleConvolution.bandedInputGrad(grad.f64, at, weight.f64, wl.offset(), w, pad, groups, channels,
                        outChannels, band, out.f64, plane);
            }
        });
        return true;
    }

    /**
     * Each sample's weight gradient into a slice of its own, then the slices summed in sample order
     * and turned into the weight's layout: the result does not depend on which thread took which sample.
     */
    static boolean bandedWeightGrad(HeapStorage x, Layout xl, HeapStorage grad, Layout gl, Window2d w,
                                            int groups, HeapStorage out, Layout ol, int band) {
        int batch = xl.shape().dim(0);
        int channels = xl.shape().dim(1);
        int outChannels = gl.shape().dim(1);
        int pixels = w.height() * w.width();
        int size = ol.numel();
        boolean f32 = x.dtype == DType.FLOAT32;
        PaddedImage pad = PaddedImage.of(w);
        HeapStorage partials = HeapStorage.allocate(x.dtype, batch * size);
        int threads = MatmulThreads.partsFor(flops(w, channels, outChannels, groups, batch));
        SimdWindows.runOn(batch, threads, n -> {
            int plane = xl.offset() + n * channels * pixels;
            int at = gl.offset() + n * outChannels * w.positions();
            if (f32) {
                FloatConvolution.bandedWeightGrad(x.f32, plane, channels, grad.f32, at, w, pad, groups, outChannels,
                        band, partials.f32, n * size);
            } else {
                DoubleConvolution.bandedWeightGrad(x.f64, plane, channels, grad.f64, at, w, pad, groups, outChannels,
                        band, partials.f64, n * size);
            }
        });
        untransposeSum(partials, batch, size, groups, channels / groups * w.taps(), outChannels / groups, out, ol);
        return true;
    }

    /**
     * At stride 1 the input gradient is a convolution of the output gradient, padded by the kernel's
     * span less the padding, with the kernel flipped and each group's weights transposed
     * ({@link #flippedTransposed}): this is its window, or null where the padding exceeds the span
     * or the stride is not 1.
     */
    private static Window2d flipped(Window2d w) {
        if (w.strideH() != 1 || w.strideW() != 1 || w.padH() > w.dilationH() * (w.kernelH() - 1)
                || w.padW() > w.dilationW() * (w.kernelW() - 1)) {
            return null;
        }
        return new Window2d(w.outH(), w.outW(), w.kernelH(), w.kernelW(), 1, 1,
                w.dilationH() * (w.kernelH() - 1) - w.padH(), w.dilationW() * (w.kernelW() - 1) - w.padW(),
                w.dilationH(), w.dilationW(), w.height(), w.width());
    }

    /**
     * Phase {@code (a, b)} of a stride-2 window's input gradient as a stride-1 window over the output
     * gradient: along each axis, the input's pixels {@code 2 i + a} take the taps {@code r + 2 t}
     * with {@code r = (a + pad) % 2}, from output position {@code i + (a + pad) / 2 - t}, so the phase
     * is the correlation of the output gradient with those taps in reverse order, padded by their
     * count less one less {@code (a + pad) / 2}. Null where no tap reaches the phase or that padding
     * is below zero ({@link #phaseFits} tells them apart).
     */
    private static Window2d phaseWindow(Window2d w, int a, int b) {
        int taps0 = phaseTaps(w.kernelH(), (a + w.padH()) % 2);
        int taps1 = phaseTaps(w.kernelW(), (b + w.padW()) % 2);
        int pad0 = taps0 - 1 - (a + w.padH()) / 2;
        int pad1 = taps1 - 1 - (b + w.padW()) / 2;
        if (taps0 == 0 || taps1 == 0 || pad0 < 0 || pad1 < 0) {
            return null;
        }
        return new Window2d(w.outH(), w.outW(), taps0, taps1, 1, 1, pad0, pad1, 1, 1, (w.height() - a + 1) / 2,
                (w.width() - b + 1) / 2);
    }

    /** Whether phase {@code (a, b)} has no tap, or a {@link #phaseWindow}: false where its padding would be below zero. */
    private static boolean phaseFits(Window2d w, int a, int b) {
        int taps0 = phaseTaps(w.kernelH(), (a + w.padH()) % 2);
        int taps1 = phaseTaps(w.kernelW(), (b + w.padW()) % 2);
        return taps0 == 0 || taps1 == 0 || phaseWindow(w, a, b) != null;
    }

    /** The taps {@code r, r + 2, ...} of a kernel of {@code k}. */
    private static int phaseTaps(int k, int r) {
        return r < k ? (k - r + 1) / 2 : 0;
    }

    /**
     * Whether an input gradient takes {@link #polyphaseInputGrad}: stride 2 both ways, no dilation,
     * and every phase that some tap reaches a stride-1 window, padded by zero or more, that the
     * implicit kernels take ({@link #implicit}, {@code og} output-gradient channels in, {@code cg}
     * input channels out). Each phase then runs on the kernels of a stride-1 convolution, with only
     * the taps that reach it (a 3 x 3 window's nine over the four phases), where the unfold, GEMM and
     * fold of the chunked and banded kernels copy each sample's columns out and add them back tap by
     * tap. Not a 1 x 1 window, whose one phase of a single tap has no columns to save and pays the
     * phase images' copies, as in the strided forward's rule ({@link #implicit}). Measured on AMD
     * EPYC Zen 5 (FLOAT32, one thread, paired ConvAB, CPU time, batch 32, banded or chunked ->
     * phases): 32 -> 64 channels, 3 x 3 from [32, 32], 4.17 -> 3.66 ms; 64 -> 128 from [16, 16],
     * level (3.20 -> 3.24, 3.05 -> 2.92 in another run); but 1 x 1, 64 -> 128 from [16, 16],
     * 0.62 -> 0.75 ms.
     */
    static boolean polyphase(HeapStorage a, HeapStorage b, Window2d w, int og, int cg) {
        if (w.strideH() != 2 || w.strideW() != 2 || w.dilationH() != 1 || w.dilationW() != 1 || w.height() < 2
                || w.width() < 2 || w.taps() == 1) {
            return false;
        }
        for (int p = 0; p < 4; p++) {
            Window2d phase = phaseWindow(w, p / 2, p % 2);
            if (!phaseFits(w, p / 2, p % 2) || phase != null && !implicit(a, b, phase, og, cg)) {
                return false;
            }
        }
        return true;
    }

    /** Per thread: the phase images of {@link #polyphaseInputGrad}'s items, grown to the largest seen. */
    private static final ThreadLocal<Object[]> PHASES = ThreadLocal.withInitial(() -> new Object[1]);

    /**
     * A stride-2 input gradient ({@link #polyphase}) as four stride-1 convolutions of the output
     * gradient, one per phase of the input ({@link #phaseWindow}), each on the implicit kernels
     * ({@link ImplicitPlan}) with its taps' weights flipped and transposed. An item is two samples'
     * group (the pair kernel's item): its four phases into phase images of those samples (the
     * running thread's scratch, which stays in L2), then its input images put together from them
     * ({@link FloatConvolution#interleavePhases}); so the output gradient's images are read while
     * they are in cache and there is one pass of the threads, not one per phase and one more to
     * interleave. Every input pixel is one phase's sum, in the order of its own kernel, whatever the threads.
     */
    private static boolean polyphaseInputGrad(HeapStorage grad, Layout gl, HeapStorage weight, Layout wl, Window2d w,
                                              int groups, HeapStorage out, Layout ol) {
        int batch = gl.shape().dim(0);
        int channels = ol.shape().dim(1);
        int outChannels = gl.shape().dim(1);
        int cg = channels / groups;
        int og = outChannels / groups;
        boolean f32 = grad.dtype == DType.FLOAT32;
        ImplicitPlan[] plans = new ImplicitPlan[4];
        int[] starts = new int[4];
        int[] positions = new int[4];
        int size = 0;
        long work = 0;
        for (int p = 0; p < 4; p++) {
            Window2d pw = phaseWindow(w, p / 2, p % 2);
            starts[p] = pw == null ? -1 : size;
            if (pw == null) {
                continue;
            }
            HeapStorage taps = phaseWeights(weight, wl.offset(), w, p / 2, p % 2, pw, groups, og, cg);
            plans[p] = ImplicitPlan.of(grad, taps, 0, pw, groups, og, cg).owned();
            positions[p] = pw.positions();
            // Two samples' images of every channel: an item writes its group's.
            size += 2 * channels * pw.positions();
            work += (long) batch * channels * pw.positions() * og * pw.taps();
        }
        int pixels = w.height() * w.width();
        int gSample = outChannels * w.positions();
        int gEnd = gl.offset() + batch * gSample;
        int scratch = size;
        SimdWindows.run((batch + 1) / 2 * groups, work, i -> {
            int n = i / groups * 2;
            int g = i % groups;
            int samples = Math.min(2, batch - n);
            Object[] held = PHASES.get();
            boolean fits = f32 ? held[0] instanceof float[] h32 && h32.length >= scratch
                    : held[0] instanceof double[] h64 && h64.length >= scratch;
            if (!fits) {
                held[0] = f32 ? new float[scratch] : new double[scratch];
            }
            HeapStorage phases = f32 ? HeapStorage.ofFloats((float[]) held[0]) : HeapStorage.ofDoubles((double[]) held[0]);
            int plane = gl.offset() + (n * outChannels + g * og) * w.positions();
            // The next item's output gradient images, read ahead by the first phase: the later ones
            // find this item's in cache.
            int ahead = Math.min(gEnd, gl.offset() + ((i + 1) / groups * 2 * outChannels + (i + 1) % groups * og)
                    * w.positions());
            int aheadEnd = Math.min(gEnd, ahead + (groups == 1 ? 2 * gSample : og * w.positions()));
            for (int p = 0; p < 4; p++) {
                if (plans[p] != null) {
                    plans[p].run(grad, plane, gSample, samples, g, null, 0, phases, starts[p] + g * cg * positions[p],
                            channels * positions[p], ahead, aheadEnd, 0, 0);
                    ahead = aheadEnd;
                }
            }
            for (int s = 0; s < samples; s++) {
                for (int c = g * cg; c < (g + 1) * cg; c++) {
                    int at = ol.offset() + ((n + s) * channels + c) * pixels;
                    if (f32) {
                        FloatConvolution.interleavePhases(phases.f32, starts, positions, s * channels + c, out.f32, at,
                                w.height(), w.width());
                    } else {
                        DoubleConvolution.interleavePhases(phases.f64, starts, positions, s * channels + c, out.f64,
                                at, w.height(), w.width());
                    }
                }
            }
        });
        return true;
    }

    /**
     * The weights of phase {@code (a, b)}'s convolution ({@link #phaseWindow} {@code pw}) from the
     * forward's {@code [groups * og, cg, kH, kW]} at {@code offset}: {@code [groups * cg, og, pw.kernelH(),
     * pw.kernelW()]}, each group's transposed, tap {@code (u, v)} the forward's
     * {@code (r + 2 (kernelH - 1 - u), s + 2 (kernelW - 1 - v))}.
     */
    private static HeapStorage phaseWeights(HeapStorage weight, int offset, Window2d w, int a, int b, Window2d pw,
                                            int groups, int og, int cg) {
        int r = (a + w.padH()) % 2;
        int s = (b + w.padW()) % 2;
        int kh = pw.kernelH();
        int kw = pw.kernelW();
        // Where each of the phase's taps comes from in a kernel, worked out once.
        int[] taps = new int[kh * kw];
        for (int u = 0; u < kh; u++) {
            for (int v = 0; v < kw; v++) {
                taps[u * kw + v] = (r + 2 * (kh - 1 - u)) * w.kernelW() + s + 2 * (kw - 1 - v);
            }
        }
        HeapStorage out = HeapStorage.allocate(weight.dtype, groups * cg * og * taps.length);
        boolean f32 = weight.dtype == DType.FLOAT32;
        for (int g = 0; g < groups; g++) {
            for (int c = 0; c < cg; c++) {
                for (int o = 0; o < og; o++) {
                    int from = offset + ((g * og + o) * cg + c) * w.taps();
                    int to = ((g * cg + c) * og + o) * taps.length;
                    for (int t = 0; t < taps.length; t++) {
                        if (f32) {
                            out.f32[to + t] = weight.f32[from + taps[t]];
                        } else {
                            out.f64[to + t] = weight.f64[from + taps[t]];
                        }
                    }
                }
            }
        }
        return out;
    }

    /** Whether the machine has the 32 vector registers the implicit kernels' register block needs. */
    static final boolean IMPLICIT_BLOCK_FITS = GemmBlocking.vectorRegisters(System.getProperty("os.arch"),
            FloatVector.SPECIES_PREFERRED.vectorBitSize()) >= 32;

    /**
     * Whether a stride-1 convolution with {@code cg} input and {@code og} output channels per group
     * takes the implicit-GEMM kernels ({@link FloatConvolution#implicitForward}): a group's padded
     * images of one sample fit half of L2, as the GEMM's packed B does ({@link GemmBlocking}), so
     * that the product's B, read in place from them, stays there while each panel of output
     * channels passes over it (a register block's reads, a few rows of each channel, stay in L1);
     * and the output channels fill at least half of the register block's {@link FloatConvolution#ROWS}
     * rows. The unfold these kernels do without copied each sample's columns out and back, once
     * per tap. The batch is not limited: every item is one sample's group.
     * <p>
     * Where the output channels run along the vectors ({@link #channelsAlongVectors}) the kernel
     * passes over the images one band of output positions at a time, every panel of output channels
     * and run of the depth inside the band ({@link FloatConvolution#channelsBand}), so what must stay
     * in half of L2 is the rows of every channel that a band reads, not the whole images. On AMD
     * EPYC Zen 4 (1 MB of L2) resnet3x3's 64 padded images of [58, 58] (861 KB) took the banded
     * unfold and GEMM by the whole-image rule; through this kernel its forward went from 100 to
     * 79 ms and its input gradient from 100 to 77 ms (one thread, ConvAB, CPU time).
     * <p>
     * A strided window takes the kernel with output channels along the vectors on phase images
     * ({@link ImplicitGrid}) where it has more than one tap. On AMD EPYC Zen 4 (FLOAT32, one thread,
     * ConvAB, CPU time, batch 32) its forward against the chunked unfold and GEMM: 32 -> 64 channels,
     * 3 x 3 stride 2 from [32, 32], 6.2 -> 5.0 ms; 64 -> 128 from [16, 16] 5.1 -> 4.4 ms. A 1 x 1
     * window (ResNet's projection shortcut, 64 -> 128 from [16, 16]) ran slower there, 1.2 -> 1.7-3.5
     * ms: its depth of 64 leaves the per-sample copies and transposes of the kernel little to pay for.
     */
    static boolean implicit(HeapStorage a, HeapStorage b, Window2d w, int cg, int og) {
        boolean strided = w.strideH() != 1 || w.strideW() != 1;
        if (!IMPLICIT_BLOCK_FITS || a.dtype != b.dtype || !a.dtype.isFloatingPoint()
                || strided && (!channelsAlongVectors(a, og) || w.taps() == 1) || og < FloatConvolution.ROWS / 2) {
            return false;
        }
        boolean f32 = a.dtype == DType.FLOAT32;
        int elementBytes = f32 ? Float.BYTES : Double.BYTES;
        if (channelsAlongVectors(a, og)) {
            ImplicitGrid grid = ImplicitGrid.of(w, 1);
            int band = f32 ? FloatConvolution.channelsBand(og) : DoubleConvolution.channelsBand(og);
            // A band's positions span at most band / outW + 2 output rows, which read kernelH rows
            // dilationH apart (of a strided window's phases: all of its images).
            long rows = (long) band / w.outW() + 2 + (long) (w.kernelH() - 1) * w.dilationH();
            long bytes = (long) cg * (strided ? grid.size() : Math.min(rows * grid.row(), grid.size())) * elementBytes;
            return bytes <= GemmBlocking.CACHES.l2Bytes() / 2;
        }
        ImplicitGrid grid = ImplicitGrid.of(w, f32 ? FloatConvolution.BLOCK_COLUMNS : DoubleConvolution.BLOCK_COLUMNS);
        long bytes = (long) cg * grid.size() * elementBytes;
        return bytes <= GemmBlocking.CACHES.l2Bytes() / 2;
    }

    /**
     * A stride-1 convolution of {@code x} by the weights {@code [groups * og, cg, kH, kW]} from
     * {@code weight[wAt ..]} through the implicit-GEMM kernels, a sample's group per item (two
     * samples' for {@link #samplePairs}): each output element is one sum in one order, whatever the
     * threads. Where the output channels fill a register block of vectors ({@link #channelsAlongVectors})
     * they run along the vectors ({@link FloatConvolution#implicitChannelsForward}, positions taken six
     * at a time across rows, so the grid needs no whole blocks of columns); where they fill two vectors
     * at most, and that is less work, along two vectors against two samples' positions at once
     * ({@link FloatConvolution#implicitPairForward}); otherwise along the register block's rows.
     */
    private static boolean implicitForward(HeapStorage x, Layout xl, HeapStorage weight, int wAt, Window2d w,
                                           int groups, HeapStorage out, Layout ol) {
        return implicitForward(x, xl, weight, wAt, w, groups, null, 0, out, ol);
    }

    /**
     * {@link #conv2d} plus a bias per output channel ({@code bias[biasAt ..]}, contiguous), the bias the
     * first term of every output's sum, where the implicit kernels that keep their sums in memory run
     * the convolution ({@link #channelsAlongVectors}, {@link #samplePairs}), or added to each sum as
     * it is stored where the other implicit kernel ({@link FloatConvolution#implicitForward}) or a
     * depthwise kernel ({@link #flat3x3}, {@link #stride2x3x3}) runs it; false elsewhere, and the caller
     * adds the bias after.
     */
    static boolean conv2dBiased(HeapStorage x, Layout xl, HeapStorage weight, Layout wl, HeapStorage bias, Layout bl,
                                Window2d w, int groups, HeapStorage out, Layout ol) {
        int cg = xl.shape().dim(1) / groups;
        int og = wl.shape().dim(0) / groups;
        if (bias.dtype != x.dtype || bl.stride(1) != 1) {
            return false;
        }
        boolean direct = direct(x, out, w, og);
        if (!direct && winograd(x, out, w, groups, xl.shape().dim(1), wl.shape().dim(0))) {
            return winogradForward(x, xl, weight, wl.offset(), false, w, bias, bl.offset(), out, ol);
        }
        if (direct && flat3x3(w, cg)) {
            depthwise3x3Forward(x, xl, weight, wl, bias, bl.offset(), w, groups, out, ol, false);
            return true;
        }
        if (direct && stride2x3x3(w, cg)) {
            depthwise3x3Forward(x, xl, weight, wl, bias, bl.offset(), w, groups, out, ol, true);
            return true;
        }
        if (direct || !implicit(x, out, w, cg, og)) {
            return false;
        }
        return implicitForward(x, xl, weight, wl.offset(), w, groups, bias, bl.offset(), out, ol);
    }

    /**
     * A depthwise 3 x 3 convolution through {@link FloatConvolution#flat3x3Forward} ({@link #flat3x3})
     * or, {@code stride2}, {@link FloatConvolution#stride2x3x3Forward} ({@link #stride2x3x3}), a
     * (sample, group) per item, adding output channel {@code o}'s {@code bias[biasAt + o]} to its sums
     * if a bias is given (else null).
     */
    private static void depthwise3x3Forward(HeapStorage x, Layout xl, HeapStorage weight, Layout wl, HeapStorage bias,
                                            int biasAt, Window2d w, int groups, HeapStorage out, Layout ol,
                                            boolean stride2) {
        int batch = xl.shape().dim(0);
        int channels = xl.shape().dim(1);
        int outChannels = wl.shape().dim(0);
        int og = outChannels / groups;
        int pixels = w.height() * w.width();
        int groupWeights = og * w.taps();
        boolean f32 = x.dtype == DType.FLOAT32;
        long[] masks = depthwise3x3Masks(w, f32, stride2);
        SimdWindows.run(batch * groups, (long) ol.numel() * w.taps(), i -> {
            int n = i / groups;
            int g = i % groups;
            int plane = xl.offset() + (n * channels + g) * pixels;
            int wAt = wl.offset() + g * groupWeights;
            int at = ol.offset() + (n * outChannels + g * og) * w.positions();
            if (f32 && stride2) {
                FloatConvolution.stride2x3x3Forward(x.f32, plane, weight.f32, wAt, w, masks, og,
                        bias == null ? null : bias.f32, biasAt + g * og, out.f32, at);
            } else if (f32) {
                FloatConvolution.flat3x3Forward(x.f32, plane, weight.f32, wAt, w, masks, og,
                        bias == null ? null : bias.f32, biasAt + g * og, out.f32, at);
            } else if (stride2) {
                DoubleConvolution.stride2x3x3Forward(x.f64, plane, weight.f64, wAt, w, masks, og,
                        bias == null ? null : bias.f64, biasAt + g * og, out.f64, at);
            } else {
                DoubleConvolution.flat3x3Forward(x.f64, plane, weight.f64, wAt, w, masks, og,
                        bias == null ? null : bias.f64, biasAt + g * og, out.f64, at);
            }
        });
    }

    /**
     * {@link #implicitForward} with {@code bias[biasAt + o]} in each of output channel {@code o}'s sums, if a
     * bias is given: their first term, or added as they are stored ({@link FloatConvolution#implicitForward}).
     */
    private static boolean implicitForward(HeapStorage x, Layout xl, HeapStorage weight, int wAt, Window2d w,
                                           int groups, HeapStorage bias, int biasAt, HeapStorage out, Layout ol) {
        int batch = xl.shape().dim(0);
        int channels = xl.shape().dim(1);
        int outChannels = ol.shape().dim(1);
        int cg = channels / groups;
        int og = outChannels / groups;
        int pixels = w.height() * w.width();
        ImplicitPlan plan = ImplicitPlan.of(x, weight, wAt, w, groups, cg, og);
        // The ends of the input and the output: the kernels read the next item's images and output
        // images ahead, up to there.
        int xEnd = xl.offset() + batch * channels * pixels;
        int outEnd = ol.offset() + batch * outChannels * w.positions();
        int xSample = channels * pixels;
        int outSample = outChannels * w.positions();
        if (plan.pairs()) {
            SimdWindows.run((batch + 1) / 2 * groups, (long) ol.numel() * plan.offsets().length, i -> {
                int n = i / groups * 2;
                int g = i % groups;
                int plane = xl.offset() + (n * channels + g * cg) * pixels;
                int at = ol.offset() + (n * outChannels + g * og) * w.positions();
                int samples = Math.min(2, batch - n);
                // The next item's images: its two samples' when they are contiguous (one group).
                int ahead = Math.min(xEnd, xl.offset() + ((i + 1) / groups * 2 * channels + (i + 1) % groups * cg)
                        * pixels);
                int aheadEnd = Math.min(xEnd, ahead + (groups == 1 ? 2 * xSample : cg * pixels));
                int outAhead = Math.min(outEnd, ol.offset() + ((i + 1) / groups * 2 * outChannels
                        + (i + 1) % groups * og) * w.positions());
                int outAheadEnd = Math.min(outEnd, outAhead + (groups == 1 ? 2 * outSample : og * w.positions()));
                plan.run(x, plane, xSample, samples, g, bias, biasAt, out, at, outSample, ahead, aheadEnd, outAhead,
                        outAheadEnd);
            });
            return true;
        }
        SimdWindows.run(batch * groups, (long) ol.numel() * plan.offsets().length, i -> {
            int n = i / groups;
            int g = i % groups;
            int plane = xl.offset() + (n * channels + g * cg) * pixels;
            int at = ol.offset() + (n * outChannels + g * og) * w.positions();
            // The next item's images follow this item's: the next group's, or the next sample's first.
            int ahead = Math.min(xEnd, plane + cg * pixels);
            int aheadEnd = Math.min(xEnd, ahead + cg * pixels);
            // The next item's output images follow this item's too.
            int outAhead = Math.min(outEnd, at + og * w.positions());
            int outAheadEnd = Math.min(outEnd, outAhead + og * w.positions());
            plan.run(x, plane, xSample, 1, g, bias, biasAt, out, at, outSample, ahead, aheadEnd, outAhead, outAheadEnd);
        });
        return true;
    }

    /**
     * An implicit convolution's set-up ({@link #implicitForward}), made once per call: which kernel
     * runs it, its grid, where each step of the depth reads and the weights packed for that kernel;
     * {@link #run} then computes one item.
     */
    private record ImplicitPlan(Window2d w, int groups, int cg, int og, boolean f32, boolean alongVectors,
                                boolean pairs, ImplicitGrid grid, int[] offsets, int[] bases, float[] packed32,
                                double[] packed64, int groupPanels) {

        /** The plan of {@code x}'s convolution by {@code [groups * og, cg, kH, kW]} from {@code weight[wAt ..]}. */
        static ImplicitPlan of(HeapStorage x, HeapStorage weight, int wAt, Window2d w, int groups, int cg, int og) {
            int depth = cg * w.taps();
            boolean f32 = x.dtype == DType.FLOAT32;
            boolean alongVectors = channelsAlongVectors(x, og);
            boolean pairs = !alongVectors && samplePairs(x, w, cg, og);
            ImplicitGrid grid = ImplicitGrid.of(w, alongVectors || pairs ? 1
                    : f32 ? FloatConvolution.BLOCK_COLUMNS : DoubleConvolution.BLOCK_COLUMNS);
            int[] offsets = f32 ? FloatConvolution.implicitOffsets(grid, w, cg)
                    : DoubleConvolution.implicitOffsets(grid, w, cg);
            int blockRows = !alongVectors && !pairs ? FloatConvolution.ROWS
                    : f32 ? FloatVector.SPECIES_PREFERRED.length() : DoubleVector.SPECIES_PREFERRED.length();
            int groupPanels = (og + blockRows - 1) / blockRows * blockRows * depth;
            int vectors = pairs ? FloatConvolution.PAIR_VECTORS : FloatConvolution.WEIGHT_VECTORS;
            float[] packed32 = !f32 ? null : alongVectors || pairs
                    ? FloatConvolution.channelPanels(weight.f32, wAt, groups, og, depth, vectors)
                    : FloatConvolution.packPanels(weight.f32, wAt, groups, og, depth);
            double[] packed64 = f32 ? null : alongVectors || pairs
                    ? DoubleConvolution.channelPanels(weight.f64, wAt, groups, og, depth, vectors)
                    : DoubleConvolution.packPanels(weight.f64, wAt, groups, og, depth);
            int[] bases = alongVectors || pairs ? FloatConvolution.positionBases(w, grid) : null;
            return new ImplicitPlan(w, groups, cg, og, f32, alongVectors, pairs, grid, offsets, bases, packed32,
                    packed64, groupPanels);
        }

        /**
         * This plan with its packed weights copied out of the calling thread's room for them, which
         * the next plan's packing reuses: for plans that must outlive the next one.
         */
        ImplicitPlan owned() {
            int size = groups * groupPanels;
            return new ImplicitPlan(w, groups, cg, og, f32, alongVectors, pairs, grid, offsets, bases,
                    packed32 == null ? null : Arrays.copyOf(packed32, size),
                    packed64 == null ? null : Arrays.copyOf(packed64, size), groupPanels);
        }

        /**
         * Group {@code g} of {@code samples} consecutive samples (two at most): their {@code cg} images
         * from {@code x[plane ..]}, a sample every {@code xSample}, and their {@code og} output images
         * from {@code out[at ..]}, a sample every {@code outSample}. The kernels of one sample take
         * them one after the other; the pair kernel together. {@code [ahead, aheadEnd)} of {@code x}
         * and {@code [outAhead, outAheadEnd)} of {@code out} are read ahead where the kernel does.
         */
        void run(HeapStorage x, int plane, int xSample, int samples, int g, HeapStorage bias, int biasAt,
                 HeapStorage out, int at, int outSample, int ahead, int aheadEnd, int outAhead, int outAheadEnd) {
            int pAt = g * groupPanels;
            int b = biasAt + g * og;
            if (pairs) {
                if (f32) {
                    FloatConvolution.implicitPairForward(x.f32, plane, xSample, samples, packed32, pAt, offsets, bases,
                            w, grid, cg, og, bias == null ? null : bias.f32, b, out.f32, at, outSample, ahead,
                            aheadEnd, outAhead, outAheadEnd);
                } else {
                    DoubleConvolution.implicitPairForward(x.f64, plane, xSample, samples, packed64, pAt, offsets,
                            bases, w, grid, cg, og, bias == null ? null : bias.f64, b, out.f64, at, outSample, ahead,
                            aheadEnd, outAhead, outAheadEnd);
                }
                return;
            }
            for (int s = 0; s < samples; s++, plane += xSample, at += outSample) {
                if (f32 && alongVectors) {
                    FloatConvolution.implicitChannelsForward(x.f32, plane, packed32, pAt, offsets, bases, w, grid, cg,
                            og, bias == null ? null : bias.f32, b, out.f32, at, ahead, aheadEnd, outAhead,
                            outAheadEnd);
                } else if (f32) {
                    FloatConvolution.implicitForward(x.f32, plane, packed32, pAt, offsets, w, grid, cg, og,
                            bias == null ? null : bias.f32, b, out.f32, at);
                } else if (alongVectors) {
                    DoubleConvolution.implicitChannelsForward(x.f64, plane, packed64, pAt, offsets, bases, w, grid,
                            cg, og, bias == null ? null : bias.f64, b, out.f64, at, ahead, aheadEnd, outAhead,
                            outAheadEnd);
                } else {
                    DoubleConvolution.implicitForward(x.f64, plane, packed64, pAt, offsets, w, grid, cg, og,
                            bias == null ? null : bias.f64, b, out.f64, at);
                }
            }
        }
    }

    /**
     * Whether an implicit convolution ({@link #implicit}) with {@code cg} input and {@code og} output
     * channels per group takes {@link FloatConvolution#implicitPairForward}: more than one vector of
     * output channels and at most {@link FloatConvolution#PAIR_VECTORS}; fewer multiply-adds than
     * {@link FloatConvolution#implicitBlock}'s blocks do, their rows of channels and grid columns
     * padded (each kernel's lanes of channels times the positions its blocks cover); a depth of at
     * least one of its runs (the panel rows that fill half of L1); and two samples' padded images
     * within half of L2, as {@link #implicit} asks of one. For [64, 32, 14, 14]'s input gradient (32
     * channels from 64, FLOAT32 on 16 lanes): 32 x 198 against 32 x 240 multiply-adds per step of
     * the depth. The depth because its sums go through memory, loaded and stored once per run and
     * gathered into the output images at the end, a cost per output the positions saved repay only
     * over a long chain of multiply-adds: measured on an Intel Xeon, FLOAT32, one thread, that
     * input gradient (depth 576) took 4.4 ms where the rows of channels took 6.9, but [64, 1, 28, 28]
     * to 32 channels (depth 9) 3.3 ms where they took 2.2.
     */
    static boolean samplePairs(HeapStorage a, Window2d w, int cg, int og) {
        boolean f32 = a.dtype == DType.FLOAT32;
        int lanes = f32 ? FloatVector.SPECIES_PREFERRED.length() : DoubleVector.SPECIES_PREFERRED.length();
        if (og <= lanes || og > FloatConvolution.PAIR_VECTORS * lanes) {
            return false;
        }
        int columns = f32 ? FloatConvolution.BLOCK_COLUMNS : DoubleConvolution.BLOCK_COLUMNS;
        ImplicitGrid rowsGrid = ImplicitGrid.of(w, columns);
        long rowsWork = (long) (og + FloatConvolution.ROWS - 1) / FloatConvolution.ROWS * FloatConvolution.ROWS
                * rowsGrid.blocks() * columns;
        int positions = (w.positions() + FloatConvolution.CHANNEL_POSITIONS - 1) / FloatConvolution.CHANNEL_POSITIONS
                * FloatConvolution.CHANNEL_POSITIONS;
        long pairsWork = (long) FloatConvolution.PAIR_VECTORS * lanes * positions;
        int bytesPer = f32 ? Float.BYTES : Double.BYTES;
        int run = GemmBlocking.CACHES.l1Bytes() / 2 / (FloatConvolution.PAIR_VECTORS * lanes * bytesPer);
        long bytes = 2L * cg * ImplicitGrid.of(w, 1).size() * bytesPer;
        return pairsWork < rowsWork && cg * w.taps() >= run && bytes <= GemmBlocking.CACHES.l2Bytes() / 2;
    }

    /**
     * Whether an implicit convolution with {@code og} output channels per group takes
     * {@link FloatConvolution#implicitChannelsForward}, output channels along the vectors: at least one
     * whole register block of them ({@link FloatConvolution#WEIGHT_VECTORS} vectors), as the weight gradient's kernel.
     */
    static boolean channelsAlongVectors(HeapStorage a, int og) {
        int lanes = a.dtype == DType.FLOAT32 ? FloatVector.SPECIES_PREFERRED.length()
                : DoubleVector.SPECIES_PREFERRED.length();
        return og >= FloatConvolution.WEIGHT_VECTORS * lanes;
    }

    /**
     * Whether a weight gradient with {@code og} output channels per group takes the implicit kernel
     * ({@link FloatConvolution#implicitWeightGrad}): a machine with the 32 vector registers its
     * register block needs, and at least two vectors of output channels, which its narrow panels take
     * in pairs (one alone would load a vector per six multiply-adds besides the broadcasts).
     * Whatever the batch or image size: a call reads one sample's images of its channels at a time.
     * A strided window's on phase images ({@link ImplicitGrid}); on AMD EPYC Zen 4 (FLOAT32, one
     * thread, ConvAB, CPU time, batch 32) against the chunked unfold and GEMM: 32 -> 64 channels, 3 x 3
     * stride 2 from [32, 32], 7.4 -> 5.0 ms; 64 -> 128 from [16, 16], 9.8 -> 4.5 ms; 1 x 1 stride 2,
     * 32 -> 64 from [32, 32], 1.7 -> 1.3 ms. A ResNet stem's 3 -> 32 channels at [32, 32] (two vectors
     * of FLOAT32 on AMD EPYC Zen 5): 0.89 ms through unfold and GEMM, 0.89 in single columns, 0.65 in
     * pairs.
     */
    static boolean implicitWeights(HeapStorage a, HeapStorage b, Window2d w, int og) {
        int lanes = a.dtype == DType.FLOAT32 ? FloatVector.SPECIES_PREFERRED.length()
                : DoubleVector.SPECIES_PREFERRED.length();
        return IMPLICIT_BLOCK_FITS && a.dtype == b.dtype && a.dtype.isFloatingPoint() && og >= 2 * lanes;
    }

    /**
     * Sample chunks of {@link #implicitWeightGrad}: a whole chunk for each of two or four threads, and
     * no more, as each costs its partial sums' zeroing and addition (on one thread, FLOAT32, AMD EPYC
     * Zen 5, fmnist2's weight gradient ran about 2.5% slower than one chain over the batch in 4
     * chunks, 3% in 8). A constant, not the thread count: the chunks decide the order of the sums.
     */
    static final int WEIGHT_CHUNKS = 4;

    /**
     * A weight gradient through {@link FloatConvolution#implicitWeightGrad}, the batch cut into
     * {@link #sampleChunks} chunks: an item per (chunk, group), each summing its samples into sums of
     * its own, which are then added in chunk order and stored as the weights. Each thread so
     * transposes and pads only its own samples' images, where cutting the rows of taps had every
     * thread transpose every sample's output gradient. Where the chunks and groups give fewer than two
     * items per thread (a batch of one, weights larger than the input, or many threads), each group's
     * rows of taps are also cut into ranges, whole register blocks each. Every weight is summed in one
     * fixed order, chunk by chunk, that depends on the batch and the shapes but not on the threads, so
     * no bit does.
     */
    private static boolean implicitWeightGrad(HeapStorage x, Layout xl, HeapStorage grad, Layout gl, Window2d w,
                                              int groups, HeapStorage out, Layout ol) {
        int batch = xl.shape().dim(0);
        int channels = xl.shape().dim(1);
        int outChannels = gl.shape().dim(1);
        int cg = channels / groups;
        int og = outChannels / groups;
        int depth = cg * w.taps();
        int pixels = w.height() * w.width();
        boolean f32 = x.dtype == DType.FLOAT32;
        int chunks = sampleChunks(batch, xl.numel(), outChannels * depth);
        int threads = MatmulThreads.partsFor(flops(w, channels, outChannels, groups, batch));
        int blocks = (depth + FloatConvolution.WEIGHT_TAPS - 1) / FloatConvolution.WEIGHT_TAPS;
        // Rows of taps cut too where the items would be fewer than two per thread; the cut changes no bit.
        int parts = threads == 1 ? 1
                : Math.max(1, Math.min(blocks, (2 * threads + chunks * groups - 1) / (chunks * groups)));
        // Part p's rows of taps, [taps[p], taps[p + 1]): empty where the blocks are fewer than the parts.
        int[] taps = new int[parts + 1];
        for (int p = 0; p <= parts; p++) {
            taps[p] = MatmulThreads.from(depth, p, parts, FloatConvolution.WEIGHT_TAPS);
        }
        // Item i's sums, [k1 - k0, og] (og rounded up to whole vectors; k1 - k0 up to whole register
        // blocks), from i * itemSums of this thread's reused array: item (chunk, group, part) is
        // i = (chunk * groups + group) * parts + part.
        int ogPad = f32 ? FloatConvolution.weightSumsWidth(og) : DoubleConvolution.weightSumsWidth(og);
        int partRows = 0;
        for (int p = 0; p < parts; p++) {
            partRows = Math.max(partRows, taps[p + 1] - taps[p]);
        }
        int itemSums = (partRows + FloatConvolution.WEIGHT_TAPS - 1) / FloatConvolution.WEIGHT_TAPS
                * FloatConvolution.WEIGHT_TAPS * ogPad;
        int itemCount = chunks * groups * parts;
        float[] sums32 = f32 ? FloatConvolution.weightSums(itemCount * itemSums) : null;
        double[] sums64 = f32 ? null : DoubleConvolution.weightSums(itemCount * itemSums);
        SimdWindows.runOn(itemCount, threads, i -> {
            int chunk = i / (groups * parts);
            int g = i / parts % groups;
            int part = i % parts;
            int k0 = taps[part];
            int k1 = taps[part + 1];
            if (k0 == k1) {
                return;
            }
            int n0 = MatmulThreads.from(batch, chunk, chunks, 1);
            int n1 = MatmulThreads.from(batch, chunk + 1, chunks, 1);
            int plane = xl.offset() + (n0 * channels + g * cg) * pixels;
            int at = gl.offset() + (n0 * outChannels + g * og) * w.positions();
            if (f32) {
                FloatConvolution.implicitWeightGrad(x.f32, plane, channels * pixels, grad.f32, at,
                        outChannels * w.positions(), n1 - n0, batch - n0, w, cg, og, k0, k1, sums32, i * itemSums);
            } else {
                DoubleConvolution.implicitWeightGrad(x.f64, plane, channels * pixels, grad.f64, at,
                        outChannels * w.positions(), n1 - n0, batch - n0, w, cg, og, k0, k1, sums64, i * itemSums);
            }
        });
        int items = groups * parts;
        SimdWindows.run(items, (long) outChannels * depth * chunks, i -> {
            int g = i / parts;
            int part = i % parts;
            int k0 = taps[part];
            int k1 = taps[part + 1];
            if (k0 == k1) {
                return;
            }
            int wAt = ol.offset() + g * og * depth;
            // The rows of taps [k0, k1) only: the register blocks' rows past k1 are never stored.
            int size = (k1 - k0) * ogPad;
            if (f32) {
                for (int chunk = 1; chunk < chunks; chunk++) {
                    FloatConvolution.addInto(sums32, (chunk * items + i) * itemSums, sums32, i * itemSums, size);
                }
                FloatConvolution.storeWeightSums(sums32, i * itemSums, og, depth, k0, k1, out.f32, wAt);
            } else {
                for (int chunk = 1; chunk < chunks; chunk++) {
                    DoubleConvolution.addInto(sums64, (chunk * items + i) * itemSums, sums64, i * itemSums, size);
                }
                DoubleConvolution.storeWeightSums(sums64, i * itemSums, og, depth, k0, k1, out.f64, wAt);
            }
        });
        return true;
    }

    /**
     * The sample chunks of {@link #implicitWeightGrad}: {@link #WEIGHT_CHUNKS}, at most one per sample,
     * and no more than keep the partial sums within the input's size (a layer whose weights outgrow
     * its batch's images takes fewer, down to one, and its threads cut the rows of taps instead).
     */
    static int sampleChunks(int batch, long inputElements, int weights) {
        return (int) Math.max(1, Math.min(Math.min(batch, WEIGHT_CHUNKS), inputElements / weights));
    }

    /** The floating operations of a convolution, its input gradient or its weight gradient: the GEMM's measure for threads. */
    private static long flops(Window2d w, int channels, int outChannels, int groups, int batch) {
        return 2L * batch * outChannels * (channels / groups) * w.taps() * w.positions();
    }

    /**
     * Output rows per band: a band's columns ({@code channels * taps} rows of {@code rows * outW})
     * get a quarter of this core's L2, so that they, the GEMM's packed block of them (half of L2,
     * see {@link GemmBlocking}) and the weights stay there while the band is multiplied.
     */
    private static int bandRows(Window2d w, int channels, DType dtype) {
        long row = (long) channels * w.taps() * w.outW() * (dtype == DType.FLOAT32 ? Float.BYTES : Double.BYTES);
        return (int) Math.max(1, Math.min(w.outH(), GemmBlocking.CACHES.l2Bytes() / 4 / row));
    }

    /**
     * Samples per chunk for {@link #chunkedForward} and its gradients: as many as the band's share of
     * L2 holds whole samples' columns and output (gradient) images side by side (see {@link #bandRows}),
     * at most the batch; 0 when one sample's do not fit, and the convolution takes the banded kernels
     * instead. The images count as much as the columns where the channels are few: [64, 1, 28, 28]
     * to 32 channels has 9 rows of columns and 32 of images a sample, and chunks sized by the
     * columns alone (37 samples) had the images spill from L2 (forward 0.9 -> 1.4 ms against a
     * sample at a time, Intel Xeon).
     */
    static int chunkSamples(Window2d w, int channels, int outChannels, DType dtype, int batch) {
        long sample = ((long) channels * w.taps() + outChannels) * w.positions()
                * (dtype == DType.FLOAT32 ? Float.BYTES : Double.BYTES);
        return (int) Math.min(batch, GemmBlocking.CACHES.l2Bytes() / 4 / Math.max(1, sample));
    }

    /**
     * Whether a forward or input gradient product of one sample is narrow: fewer positions than 8
     * micro-panels of B ({@link FloatGemm#NR} columns each), so that each packed panel of A meets
     * few panels of B and the last, partly padded panel is a large share of them; chunks of samples
     * then pay for the copy of their outputs. Wider, a sample at a time is as fast and copies
     * nothing: measured on an Intel Xeon, FLOAT32, one thread, [64, 32, 14, 14] to 64 channels (196
     * positions, 6 panels) ran its forward 7.1 -> 6.2 ms in chunks, [64, 1, 28, 28] to 32 channels
     * (784 positions) 0.9 -> 1.1 ms. The weight gradient takes chunks whatever the width: there
     * they lengthen the product's depth.
     */
    private static boolean narrow(Window2d w, DType dtype) {
        return w.positions() < 8 * (dtype == DType.FLOAT32 ? FloatGemm.NR : DoubleGemm.NR);
    }

    /** A chunk small enough that the batch gives every thread one. */
    private static int perThread(int batch) {
        return Math.max(1, (batch + MatmulThreads.THREADS - 1) / MatmulThreads.THREADS);
    }

    /**
     * Whether a convolution takes the chunked or banded kernels, a chunk or a sample per work item:
     * from two samples on. A single sample takes the default, whose one product the GEMM shares
     * between threads. The choice must not depend on the thread count: the two paths add the
     * gradients' terms in different orders, so choosing by threads would change the bits.
     */
    private static boolean banded(HeapStorage a, HeapStorage b, int batch) {
        return a.dtype == b.dtype && a.dtype.isFloatingPoint() && batch >= 2;
    }

    /**
     * The weights {@code [groups * og, cg, taps]} from {@code offset} as {@code [groups, cg, og, taps]}
     * with the taps in reverse order (the kernel turned by 180 degrees), a new storage.
     */
    private static HeapStorage flippedTransposed(HeapStorage weight, int offset, int groups, int og, int cg, int taps) {
        HeapStorage out = HeapStorage.allocate(weight.dtype, groups * og * cg * taps);
        for (int g = 0; g < groups; g++) {
            for (int o = 0; o < og; o++) {
                for (int c = 0; c < cg; c++) {
                    int from = offset + ((g * og + o) * cg + c) * taps;
                    int to = ((g * cg + c) * og + o) * taps;
                    for (int t = 0; t < taps; t++) {
                        out.set(to + t, weight.get(from + taps - 1 - t));
                    }
                }
            }
        }
        return out;
    }

    /**
     * Whether a window suits the flat kernels: stride 1 both ways and output rows exactly as wide as
     * the input's ("same" padding along the width), so that every tap reads the output's positions
     * at one constant offset in the image taken as one flat run, and a vector may cross rows. A
     * depthwise 28 x 28 image is then 49 whole vectors of 16 floats, where row by row it was 28
     * vectors of which half were masked tails.
     */
    static boolean flat(Window2d w) {
        return w.strideH() == 1 && w.strideW() == 1 && w.outW() == w.width();
    }

    /**
     * Whether a {@link #flat} window takes {@link FloatConvolution#flat3x3Forward} and its weight
     * gradient: a 3 x 3 kernel (padded by its dilation along the width, as a flat one must be) and
     * one input channel per group, the depthwise convolution of MobileNet-style networks. Its nine
     * weights fit in registers and its input is read in place, where the general flat kernels copy
     * each image into a zero-bordered scratch first and reload every weight for every four vectors.
     */
    static boolean flat3x3(Window2d w, int cg) {
        return flat(w) && cg == 1 && w.kernelH() == 3 && w.kernelW() == 3 && w.padW() == w.dilationW();
    }

    /**
     * The row masks of the depthwise 3 x 3 kernels for {@code w} in the element type: the stride-2
     * kernels' ({@link FloatConvolution#stride2x3x3Masks}) or the flat ones' taps
     * ({@link FloatConvolution#flatTapMasks}).
     */
    private static long[] depthwise3x3Masks(Window2d w, boolean f32, boolean stride2) {
        if (stride2) {
            return f32 ? FloatConvolution.stride2x3x3Masks(w) : DoubleConvolution.stride2x3x3Masks(w);
        }
        return f32 ? FloatConvolution.flatTapMasks(w) : DoubleConvolution.flatTapMasks(w);
    }

    /**
     * Whether a window takes the depthwise kernels at stride 2 ({@link FloatConvolution#stride2x3x3Forward}
     * and its gradients): 3 x 3, stride 2, padding 1, no dilation, one input channel per group, the
     * downsampling depthwise layers of MobileNet-style networks. They read the input in place, taking
     * every other column by lane shuffles, where the general kernels copy each image into phased
     * scratch images and add the input gradient into them tap by tap.
     */
    static boolean stride2x3x3(Window2d w, int cg) {
        return cg == 1 && w.kernelH() == 3 && w.kernelW() == 3 && w.strideH() == 2 && w.strideW() == 2
                && w.padH() == 1 && w.padW() == 1 && w.dilationH() == 1 && w.dilationW() == 1;
    }

    /**
     * Whether Winograd convolution may be chosen at all: the property {@code adjoint.simd.winograd}
     * ({@code false} turns it off), read once, so that A/B runs and tests can compare it with the
     * kernels it replaces.
     */
    static final boolean WINOGRAD = !"false".equals(System.getProperty("adjoint.simd.winograd"));

    /**
     * Whether a convolution takes {@link FloatWinograd} (F(2 x 2, 3 x 3)): 3 x 3, stride 1, no
     * dilation, one group, padding 0 to 2, and channels enough ({@link #WINOGRAD_CHANNELS}). With 16
     * vector registers too (AVX2), where its products take smaller register blocks and the implicit
     * kernels, which need 32, are not there to take it instead.
     */
    static boolean winograd(HeapStorage a, HeapStorage b, Window2d w, int groups, int channels, int outChannels) {
        return WINOGRAD && a.dtype == b.dtype && a.dtype.isFloatingPoint() && groups == 1
                && w.kernelH() == 3 && w.kernelW() == 3 && w.strideH() == 1 && w.strideW() == 1
                && w.dilationH() == 1 && w.dilationW() == 1 && w.padH() <= 2 && w.padW() <= 2
                && w.outH() == w.height() + 2 * w.padH() - 2 && w.outW() == w.width() + 2 * w.padW() - 2
                && w.outH() > 0 && w.outW() > 0
                && (long) channels * outChannels >= (long) WINOGRAD_CHANNELS * (channels + outChannels);
    }

    /**
     * The least {@code channels * outChannels / (channels + outChannels)} for which Winograd
     * convolution is chosen: per tile, it saves 20 of every 36 multiply-adds of each (input, output)
     * channel pair, and pays a transform per input channel and one per output channel. Measured on
     * AMD EPYC Zen 4 (FLOAT32, one thread, batch 64, 14 x 14, padding 1, median ms, implicit kernels
     * -> Winograd): 8 -> 32 channels (6.4) 0.93 -> 0.90, level; 16 -> 16 (8) 0.79 -> 0.6-0.77 forward,
     * 0.87 -> 0.6-0.76 input gradient; 16 -> 32 (10.7) 1.55 -> 1.32 and 1.71 -> 1.37; 24 -> 24 (12)
     * 1.67 -> 1.04 and 1.67 -> 1.03; 16 -> 64 (12.8) 3.1 -> 1.95; 32 -> 32 (16) input gradient
     * 3.0 -> 1.8; 64 -> 64 at 7 x 7 (32) 2.6 -> 2.0. fmnist1's single input channel stays on its kernel.
     */
    static final int WINOGRAD_CHANNELS = 8;

    /**
     * A convolution by {@link #winograd} through {@link FloatWinograd#block}, adding {@code bias[biasAt + o]}
     * to output channel o if a bias is given: the weights transformed once, then a block of tiles
     * per item ({@link FloatWinograd#blockTiles}, from the cache and the channels, not the threads).
     * {@code flippedWeights}: {@code weight} holds the forward convolution's weights of an input
     * gradient, read as their {@link #flippedTransposed} without that copy.
     */
    private static boolean winogradForward(HeapStorage x, Layout xl, HeapStorage weight, int wAt,
                                           boolean flippedWeights, Window2d w, HeapStorage bias, int biasAt,
                                           HeapStorage out, Layout ol) {
        int batch = xl.shape().dim(0);
        int channels = xl.shape().dim(1);
        int outChannels = ol.shape().dim(1);
        boolean f32 = x.dtype == DType.FLOAT32;
        int tiles = batch * ((w.outH() + 1) / 2) * ((w.outW() + 1) / 2);
        int block = f32 ? FloatWinograd.blockTiles(channels, outChannels)
                : DoubleWinograd.blockTiles(channels, outChannels);
        float[] u32 = f32 ? FloatWinograd.weightScratch(outChannels, channels) : null;
        double[] u64 = f32 ? null : DoubleWinograd.weightScratch(outChannels, channels);
        int panels = FloatWinograd.paddedRows(outChannels) / FloatWinograd.ROWS;
        SimdWindows.runOn(panels, winogradWeightThreads(channels, outChannels), q -> {
            if (f32) {
                FloatWinograd.transformWeights(weight.f32, wAt, outChannels, channels, flippedWeights, u32, q);
            } else {
                DoubleWinograd.transformWeights(weight.f64, wAt, outChannels, channels, flippedWeights, u64, q);
            }
        });
        int blocks = (tiles + block - 1) / block;
        SimdWindows.runOn(blocks, MatmulThreads.partsFor(flops(w, channels, outChannels, 1, batch)), i -> {
            int t0 = i * block;
            int t1 = Math.min(tiles, t0 + block);
            if (f32) {
                FloatWinograd.block(x.f32, xl.offset(), channels, w.height(), w.width(), w.padH(), w.padW(), u32,
                        outChannels, bias == null ? null : bias.f32, biasAt, out.f32, ol.offset(), w.outH(), w.outW(),
                        t0, t1);
            } else {
                DoubleWinograd.block(x.f64, xl.offset(), channels, w.height(), w.width(), w.padH(), w.padW(), u64,
                        outChannels, bias == null ? null : bias.f64, biasAt, out.f64, ol.offset(), w.outH(), w.outW(),
                        t0, t1);
            }
        });
        return true;
    }

    /**
     * The (input, output) channel pairs from which {@link #winogradForward} transforms the weights on
     * every thread, a panel of output channels per item. Measured on AMD EPYC Zen 4 (FLOAT32, back-to-back
     * transforms, best of five, one thread -> two): 32 x 64 pairs 19 -> 17 us, 64 x 64 61 -> 29,
     * 128 x 128 159 -> 88, 512 x 512 3.5 -> 2.2 ms; from 64 x 64 on the work outweighs waking a
     * parked helper (10-50 us, {@link MatmulThreads}).
     */
    static final int WINOGRAD_PARALLEL_PAIRS = 64 * 64;

    /** The threads that transform a Winograd convolution's weights: each U element is one pair's, whichever thread. */
    private static int winogradWeightThreads(int channels, int outChannels) {
        return (long) channels * outChannels >= WINOGRAD_PARALLEL_PAIRS ? MatmulThreads.THREADS : 1;
    }

    /**
     * Whether a weight gradient takes {@link FloatWinograd#gradientBlock}: a convolution whose forward
     * takes Winograd ({@link #winograd}), with output channels that its register blocks pad
     * ({@link FloatWinograd#gradientColumns}) by at most half: its 16 multiply-adds per tile and
     * (input, output) channel pair then stay at most 24, padding included, of the 36 the banded and
     * implicit kernels do (17 channels, padded to 32 with 16-lane vectors, would take 30 and the
     * transforms besides).
     */
    static boolean winogradWeights(HeapStorage a, HeapStorage b, Window2d w, int groups, int channels,
                                   int outChannels) {
        if (!winograd(a, b, w, groups, channels, outChannels)) {
            return false;
        }
        int columns = a.dtype == DType.FLOAT32 ? FloatWinograd.gradientColumns(outChannels)
                : DoubleWinograd.gradientColumns(outChannels);
        return 2L * columns <= 3L * outChannels;
    }

    /**
     * A weight gradient through {@link FloatWinograd#gradientBlock}. Where its sums
     * ({@link FloatWinograd#gradientSums}) fit half of L2, the batch is cut into {@link #WEIGHT_CHUNKS}
     * chunks of samples (at most one per sample), an item per chunk, each adding its tiles, a block
     * at a time ({@link FloatWinograd#gradientBlockTiles}), into sums of its own; then the chunks'
     * sums are added in chunk order and transformed into the weights, a range of input channels per
     * item. Larger layers (512 -> 512
     * channels: 16 MB of sums in FLOAT32) cut the weights instead, into one register block of output
     * channels by as many input channels as keep their sums within a quarter of L2: an item per
     * part, over the whole batch, transforming its own channels' tiles (each input channel's once
     * per block of output channels, 8 times for 512 of them in FLOAT32, against 16 x 512 multiply-adds
     * per tile and input channel in the products). The cuts come from the batch, the cache and the
     * channels, so no bit depends on the threads.
     */
    private static boolean winogradWeightGrad(HeapStorage x, Layout xl, HeapStorage grad, Layout gl, Window2d w,
                                              HeapStorage out, Layout ol) {
        int batch = xl.shape().dim(0);
        int channels = xl.shape().dim(1);
        int outChannels = gl.shape().dim(1);
        boolean f32 = x.dtype == DType.FLOAT32;
        int bytes = f32 ? Float.BYTES : Double.BYTES;
        int tiles = batch * ((w.outH() + 1) / 2) * ((w.outW() + 1) / 2);
        int perSample = tiles / batch;
        int threads = MatmulThreads.partsFor(flops(w, channels, outChannels, 1, batch));
        long l2 = GemmBlocking.CACHES.l2Bytes();
        int size = f32 ? FloatWinograd.gradientSums(channels, outChannels)
                : DoubleWinograd.gradientSums(channels, outChannels);
        if ((long) size * bytes > l2 / 2) {
            int width = f32 ? FloatWinograd.GRADIENT_WIDTH : DoubleWinograd.GRADIENT_WIDTH;
            int most = (int) Math.max(2, l2 / 4 / ((long) FloatWinograd.POSITIONS * width * bytes));
            int cParts = (channels + most - 1) / most;
            // Whole register blocks of output channels, the last part the rest.
            int oParts = (outChannels + width - 1) / width;
            SimdWindows.runOn(cParts * oParts, threads, i -> {
                int c0 = MatmulThreads.from(channels, i % cParts, cParts, 1);
                int c1 = MatmulThreads.from(channels, i % cParts + 1, cParts, 1);
                int o0 = i / cParts * width;
                int o1 = Math.min(outChannels, o0 + width);
                int partSize = f32 ? FloatWinograd.gradientSums(c1 - c0, o1 - o0)
                        : DoubleWinograd.gradientSums(c1 - c0, o1 - o0);
                int block = f32 ? FloatWinograd.gradientBlockTiles(c1 - c0, o1 - o0)
                        : DoubleWinograd.gradientBlockTiles(c1 - c0, o1 - o0);
                float[] sums32 = f32 ? FloatWinograd.gradientScratch(partSize) : null;
                double[] sums64 = f32 ? null : DoubleWinograd.gradientScratch(partSize);
                for (int t0 = 0; t0 < tiles; t0 += block) {
                    int t1 = Math.min(tiles, t0 + block);
                    if (f32) {
                        FloatWinograd.gradientBlock(x.f32, xl.offset(), channels, w.height(), w.width(), w.padH(),
                                w.padW(), grad.f32, gl.offset(), outChannels, w.outH(), w.outW(), c0, c1, o0,
                                o1, t0, t1, sums32, 0);
                    } else {
                        DoubleWinograd.gradientBlock(x.f64, xl.offset(), channels, w.height(), w.width(), w.padH(),
                                w.padW(), grad.f64, gl.offset(), outChannels, w.outH(), w.outW(), c0, c1, o0,
                                o1, t0, t1, sums64, 0);
                    }
                }
                if (f32) {
                    FloatWinograd.storeGradient(sums32, 0, channels, c0, c1, o0, o1, out.f32, ol.offset());
                } else {
                    DoubleWinograd.storeGradient(sums64, 0, channels, c0, c1, o0, o1, out.f64, ol.offset());
                }
            });
            return true;
        }
        int block = f32 ? FloatWinograd.gradientBlockTiles(channels, outChannels)
                : DoubleWinograd.gradientBlockTiles(channels, outChannels);
        int chunks = Math.min(batch, WEIGHT_CHUNKS);
        float[] sums32 = f32 ? FloatConvolution.weightSums(chunks * size) : null;
        double[] sums64 = f32 ? null : DoubleConvolution.weightSums(chunks * size);
        SimdWindows.runOn(chunks, threads, i -> {
            int first = MatmulThreads.from(batch, i, chunks, 1) * perSample;
            int end = MatmulThreads.from(batch, i + 1, chunks, 1) * perSample;
            if (f32) {
                java.util.Arrays.fill(sums32, i * size, (i + 1) * size, 0f);
            } else {
                java.util.Arrays.fill(sums64, i * size, (i + 1) * size, 0d);
            }
            for (int t0 = first; t0 < end; t0 += block) {
                int t1 = Math.min(end, t0 + block);
                if (f32) {
                    FloatWinograd.gradientBlock(x.f32, xl.offset(), channels, w.height(), w.width(), w.padH(),
                            w.padW(), grad.f32, gl.offset(), outChannels, w.outH(), w.outW(), 0, channels, 0,
                            outChannels, t0, t1, sums32, i * size);
                } else {
                    DoubleWinograd.gradientBlock(x.f64, xl.offset(), channels, w.height(), w.width(), w.padH(),
                            w.padW(), grad.f64, gl.offset(), outChannels, w.outH(), w.outW(), 0, channels, 0,
                            outChannels, t0, t1, sums64, i * size);
                }
            }
        });
        // Added and stored a range of input channels per item, so that the threads share this tail
        // rather than one reading all the chunks while the others wait.
        int parts = threads == 1 ? 1 : Math.min(channels, 2 * threads);
        SimdWindows.runOn(parts, threads, p -> {
            int c0 = MatmulThreads.from(channels, p, parts, 1);
            int c1 = MatmulThreads.from(channels, p + 1, parts, 1);
            if (f32) {
                FloatWinograd.addAndStoreGradient(sums32, chunks, channels, outChannels, c0, c1, out.f32, ol.offset());
            } else {
                DoubleWinograd.addAndStoreGradient(sums64, chunks, channels, outChannels, c0, c1, out.f64,
                        ol.offset());
            }
        });
        return true;
    }

    /** Whether a convolution with {@code og} output channels per group takes the direct kernels. */
    private static boolean direct(HeapStorage a, HeapStorage b, Window2d w, int og) {
        if (a.dtype != b.dtype || !a.dtype.isFloatingPoint()) {
            return false;
        }
        return og < (a.dtype == DType.FLOAT32 ? FloatGemm.MR : DoubleGemm.MR);
    }
}
