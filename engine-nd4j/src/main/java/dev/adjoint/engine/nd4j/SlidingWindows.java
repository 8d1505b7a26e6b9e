package dev.adjoint.engine.nd4j;

import dev.adjoint.DType;
import dev.adjoint.Shape;
import dev.adjoint.spi.Layout;
import dev.adjoint.spi.Window2d;
import dev.adjoint.spi.heap.HeapStorage;
import dev.adjoint.spi.heap.WindowKernels;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.DynamicCustomOp;
import org.nd4j.linalg.factory.Nd4j;

import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;

/**
 * unfold, fold, the convolution's forward and max pooling on ND4J buffers. unfold and fold run libnd4j's
 * native {@code im2col} and {@code col2im}, which read and write any strides: the api's {@code [N, C * taps, positions]}
 * columns are handed over as the 6-D {@code [N, C, kH, kW, outH, outW]} view libnd4j expects, over
 * the same memory. im2col with more window positions than its own formula gives (padding "same" with
 * an even kernel, ceil-mode average pooling) goes through the heap reference loop on a copy. Max pooling
 * with torch-style indices, which libnd4j does not give (its {@code maxpool2d} returns no indices, its
 * {@code max_pool_with_argmax} has TensorFlow's conventions), is a loop over the native buffers.
 */
final class SlidingWindows {
    private SlidingWindows() {
    }

    static void unfold(Nd4jStorage x, Layout xLayout, Window2d w, Nd4jStorage out, Layout outLayout) {
        if (!matchesNativeExtent(w)) {
            HeapStorage heapOut = HeapStorage.allocate(DType.FLOAT64, outLayout.numel());
            Layout dense = Layout.contiguous(outLayout.shape());
            WindowKernels.unfold(onHeap(x, xLayout), Layout.contiguous(xLayout.shape()), w, heapOut, dense);
            out.view(outLayout).assign(Nd4j.create(heapOut.f64, toLongs(outLayout.shape())));
            return;
        }
        INDArray cols = out.createView(columns(outLayout, w), 'c');
        Nd4j.exec(DynamicCustomOp.builder("im2col").addInputs(x.view(xLayout)).addOutputs(cols)
                .addIntegerArguments(w.kernelH(), w.kernelW(), w.strideH(), w.strideW(), w.padH(), w.padW(),
                        w.dilationH(), w.dilationW(), 0)
                .build());
    }

    static void fold(Nd4jStorage cols, Layout colsLayout, Window2d w, Nd4jStorage out, Layout outLayout) {
        INDArray columns = cols.createView(columns(colsLayout, w), 'c');
        // col2im zeroes its output before adding into it, and takes the window positions from the columns' shape.
        Nd4j.exec(DynamicCustomOp.builder("col2im").addInputs(columns).addOutputs(out.view(outLayout))
                .addIntegerArguments(w.strideH(), w.strideW(), w.padH(), w.padW(), w.height(), w.width(),
                        w.dilationH(), w.dilationW(), 0)
                .build());
    }

    /**
     * Whether libnd4j's fused {@code conv2d} computes the SPI's forward convolution for {@code groups} and
     * {@code w}: it has no groups, and pads both sides alike (as im2col).
     */
    static boolean nativeConvolution(Window2d w, int groups) {
        return groups == 1 && matchesNativeExtent(w);
    }

    /**
     * The forward convolution without bias through libnd4j's {@code conv2d} (NCHW input, weight as
     * {@code [O, C, kH, kW]}): in one thread it takes 1.8-4.8x less CPU than im2col and a matmul, and keeps
     * its columns to itself instead of materialising them as native storage (docs/nd4j.md).
     */
    static void conv2d(Nd4jStorage x, Layout xLayout, Nd4jStorage weight, Layout weightLayout, Window2d w,
                       Nd4jStorage out, Layout outLayout) {
        Nd4j.exec(DynamicCustomOp.builder("conv2d").addInputs(x.view(xLayout), weight.view(weightLayout))
                .addOutputs(out.view(outLayout))
                .addIntegerArguments(w.kernelH(), w.kernelW(), w.strideH(), w.strideW(), w.padH(), w.padW(),
                        w.dilationH(), w.dilationW(), 0, 0, 1)
                .build());
    }

    /**
     * The SPI's max pooling, read and written in place in the native buffers (FLOAT32 widened to double,
     * which orders and rounds back exactly): the first largest tap inside the image wins, a NaN tap
     * takes over from anything, as {@link WindowKernels#maxPool2d}. Other dtypes take that loop on a copy.
     */
    static void maxPool2d(Nd4jStorage x, Layout xLayout, Window2d w, Nd4jStorage out, Layout outLayout,
                          Nd4jStorage indices, Layout indicesLayout) {
        if (!x.dtype().isFloatingPoint()) {
            maxPool2dOnHeap(x, xLayout, w, out, outLayout, indices, indicesLayout);
            return;
        }
        boolean f32 = x.dtype() == DType.FLOAT32;
        FloatBuffer xf = f32 ? BufferLoops.bytes(x).asFloatBuffer() : null;
        DoubleBuffer xd = f32 ? null : BufferLoops.bytes(x).asDoubleBuffer();
        FloatBuffer of = f32 ? BufferLoops.bytes(out).asFloatBuffer() : null;
        DoubleBuffer od = f32 ? null : BufferLoops.bytes(out).asDoubleBuffer();
        LongBuffer at = BufferLoops.bytes(indices).asLongBuffer();
        int batch = xLayout.shape().dim(0);
        int channels = xLayout.shape().dim(1);
        int sh = xLayout.stride(2);
        int sw = xLayout.stride(3);
        int o = outLayout.offset();
        int i = indicesLayout.offset();
        for (int n = 0; n < batch; n++) {
            for (int c = 0; c < channels; c++) {
                int plane = xLayout.offset() + n * xLayout.stride(0) + c * xLayout.stride(1);
                for (int oh = 0; oh < w.outH(); oh++) {
                    for (int ow = 0; ow < w.outW(); ow++, o++, i++) {
                        double best = Double.NEGATIVE_INFINITY;
                        int bestAt = -1;
                        for (int kh = 0; kh < w.kernelH(); kh++) {
                            int h = w.row(oh, kh);
                            if (h < 0 || h >= w.height()) {
                                continue;
                            }
                            for (int kw = 0; kw < w.kernelW(); kw++) {
                                int col = w.column(ow, kw);
                                if (col < 0 || col >= w.width()) {
                                    continue;
                                }
                                int e = plane + h * sh + col * sw;
                                double v = f32 ? xf.get(e) : xd.get(e);
                                if (bestAt < 0 || v > best || Double.isNaN(v)) {
                                    best = v;
                                    bestAt = h * w.width() + col;
                                }
                            }
                        }
                        if (f32) {
                            of.put(o, (float) best);
                        } else {
                            od.put(o, best);
                        }
                        at.put(i, bestAt);
                    }
                }
            }
        }
    }

    private static void maxPool2dOnHeap(Nd4jStorage x, Layout xLayout, Window2d w, Nd4jStorage out, Layout outLayout,
                                        Nd4jStorage indices, Layout indicesLayout) {
        int n = outLayout.numel();
        HeapStorage values = HeapStorage.allocate(DType.FLOAT64, n);
        HeapStorage positions = HeapStorage.allocate(DType.INT64, n);
        Layout dense = Layout.contiguous(outLayout.shape());
        WindowKernels.maxPool2d(onHeap(x, xLayout), Layout.contiguous(xLayout.shape()), w, values, dense, positions,
                dense);
        long[] shape = toLongs(outLayout.shape());
        out.view(outLayout).assign(Nd4j.create(values.f64, shape));
        indices.view(indicesLayout).assign(Nd4j.createFromArray(positions.i64).reshape(shape));
    }

    /**
     * Whether libnd4j's {@code avgpool2d} and {@code avgpool2d_bp} compute torch's average pooling over
     * {@code w}: they size the output by the floor formula (no ceil mode), so a ceil-mode window that
     * hangs over the far edge has no counterpart. Without such a window every window ends within the
     * padded image, where libnd4j's divisors are torch's: the kernel's area (mode 1) with the padding
     * counted, the taps inside the image (mode 0) without. No dilation, which the api never asks for.
     */
    static boolean nativeAveragePooling(Window2d w) {
        return w.dilationH() == 1 && w.dilationW() == 1 && matchesNativeExtent(w);
    }

    /** Average pooling through libnd4j's {@code avgpool2d}, which reads any strides. */
    static void avgPool2d(Nd4jStorage x, Layout xLayout, Window2d w, boolean countIncludePad, Nd4jStorage out,
                          Layout outLayout) {
        Nd4j.exec(DynamicCustomOp.builder("avgpool2d").addInputs(x.view(xLayout)).addOutputs(out.view(outLayout))
                .addIntegerArguments(poolArguments(w, countIncludePad))
                .build());
    }

    /**
     * Average pooling's input gradient through libnd4j's {@code avgpool2d_bp}, which overwrites its
     * output. Its first operand, the forward's input, only gives the shape (average pooling's gradient
     * does not read the input): the output stands in for it.
     */
    static void avgPool2dInputGrad(Nd4jStorage grad, Layout gradLayout, Window2d w, boolean countIncludePad,
                                   Nd4jStorage out, Layout outLayout) {
        INDArray inputGrad = out.view(outLayout);
        Nd4j.exec(DynamicCustomOp.builder("avgpool2d_bp").addInputs(inputGrad, grad.view(gradLayout))
                .addOutputs(inputGrad)
                .addIntegerArguments(poolArguments(w, countIncludePad))
                .build());
    }

    /** kH, kW, sH, sW, pH, pW, dH, dW, same mode (0), the divisor mode, NCHW (0). */
    private static int[] poolArguments(Window2d w, boolean countIncludePad) {
        return new int[] {w.kernelH(), w.kernelW(), w.strideH(), w.strideW(), w.padH(), w.padW(), w.dilationH(),
                w.dilationW(), 0, countIncludePad ? 1 : 0, 0};
    }

    /** Whether libnd4j's im2col, which sizes its output by the floor formula with the padding on both sides, gives {@code w}'s positions. */
    private static boolean matchesNativeExtent(Window2d w) {
        return w.outH() == Window2d.outputSize(w.height(), w.kernelH(), w.strideH(), w.padH(), w.dilationH(), false)
                && w.outW() == Window2d.outputSize(w.width(), w.kernelW(), w.strideW(), w.padW(), w.dilationW(), false);
    }

    /** {@code [N, C * taps, positions]} with its strides, seen as libnd4j's {@code [N, C, kH, kW, outH, outW]}. */
    private static Layout columns(Layout layout, Window2d w) {
        int rowStride = layout.stride(1);
        int positionStride = layout.stride(2);
        int channels = layout.shape().dim(1) / w.taps();
        return new Layout(Shape.of(layout.shape().dim(0), channels, w.kernelH(), w.kernelW(), w.outH(), w.outW()),
                new int[] {layout.stride(0), rowStride * w.taps(), rowStride * w.kernelW(), rowStride,
                        positionStride * w.outW(), positionStride},
                layout.offset());
    }

    /** The view's elements, row-major, in a FLOAT64 heap storage (exact for FLOAT32). */
    private static HeapStorage onHeap(Nd4jStorage x, Layout layout) {
        return HeapStorage.ofDoubles(x.view(layout).dup('c').data().asDouble());
    }

    private static long[] toLongs(Shape shape) {
        long[] out = new long[shape.rank()];
        for (int d = 0; d < out.length; d++) {
            out[d] = shape.dim(d);
        }
        return out;
    }
}
