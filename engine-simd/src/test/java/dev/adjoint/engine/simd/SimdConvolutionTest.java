package dev.adjoint.engine.simd;

import dev.adjoint.DType;
import dev.adjoint.Shape;
import dev.adjoint.engine.scalar.ScalarBackend;
import dev.adjoint.spi.Backend;
import dev.adjoint.spi.BinaryOp;
import dev.adjoint.spi.Layout;
import dev.adjoint.spi.Storage;
import dev.adjoint.spi.Window2d;
import dev.adjoint.spi.heap.HeapStorage;
import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The convolution primitives on simd (direct kernels for few channels per group, banded GEMM for
 * many) against the scalar backend's composites, over window geometries and channel counts the
 * conformance suite's few samples do not reach, and with bands of one and two output rows, which
 * the image sizes of a test never get from the L2-derived band height, and with chunks of one to
 * three samples, which the batches of a test never get from the L2-derived chunk.
 */
class SimdConvolutionTest {
    private static final Backend SIMD = new SimdBackend();
    private static final Backend SCALAR = new ScalarBackend();

    /** Channels, output channels and groups: depthwise, channel multiplier 2, groups of 2, many channels (banded). */
    private static final int[][] CHANNELS = {{3, 3, 3}, {2, 4, 2}, {4, 8, 2}, {3, 13, 1}, {4, 26, 2}};

    private static List<Window2d> windows(int height, int width) {
        List<Window2d> out = new ArrayList<>();
        for (int k = 1; k <= 3; k++) {
            for (int s = 1; s <= 2; s++) {
                for (int p = 0; p <= 2; p++) {
                    for (int d = 1; d <= 2; d++) {
                        for (int extra = 0; extra <= 1; extra++) {
                            int outH = Window2d.outputSize(height, k, s, p, d, false) + extra;
                            int outW = Window2d.outputSize(width, k + 1, 1, p, d, false) + extra;
                            if (outH > 0 && outW > 0) {
                                out.add(new Window2d(height, width, k, k + 1, s, 1, p, p, d, d, outH, outW));
                            }
                            outW = Window2d.outputSize(width, k + 1, s, p, d, false) + extra;
                            if (outH > 0 && outW > 0) {
                                out.add(new Window2d(height, width, k, k + 1, s, s, p, p, d, d, outH, outW));
                            }
                        }
                    }
                }
            }
        }
        return out;
    }

    @Test
    void everyPrimitiveMatchesTheReference() {
        for (DType dtype : new DType[] {DType.FLOAT64, DType.FLOAT32}) {
            for (Window2d w : windows(5, 19)) {
                for (int[] ch : CHANNELS) {
                    Operands op = new Operands(2, ch[0], ch[1], ch[2], w, dtype);
                    String what = w + ", channels " + ch[0] + " -> " + ch[1] + ", groups " + ch[2] + ", " + dtype;
                    assertClose("conv2d " + what, op.forward(SCALAR), op.forward(SIMD), dtype);
                    assertBiasedMatches(op, what, dtype);
                    assertClose("conv2dInputGrad " + what, op.inputGrad(SCALAR), op.inputGrad(SIMD), dtype);
                    assertClose("conv2dWeightGrad " + what, op.weightGrad(SCALAR), op.weightGrad(SIMD), dtype);
                }
            }
        }
    }

    @Test
    void bandsOfOneAndTwoRowsMatchTheReference() {
        for (DType dtype : new DType[] {DType.FLOAT64, DType.FLOAT32}) {
            for (Window2d w : windows(6, 9)) {
                for (int band = 1; band <= 2; band++) {
                    Operands op = new Operands(3, 4, 26, 2, w, dtype);
                    String what = w + ", band " + band + ", " + dtype;
                    HeapStorage out = (HeapStorage) SIMD.allocate(dtype, op.outShape.numel());
                    SimdConvolution.bandedForward(op.x, op.xl, op.w, op.wl, w, op.groups, out, op.outLayout(), band);
                    assertClose("forward " + what, op.forward(SCALAR), SIMD.toDoubles(out, op.outLayout()), dtype);
                    HeapStorage gx = (HeapStorage) SIMD.allocate(dtype, op.xl.numel());
                    SimdConvolution.bandedInputGrad(op.g, op.gl, op.w, op.wl, w, op.groups, gx, op.xl, band);
                    assertClose("input gradient " + what, op.inputGrad(SCALAR), SIMD.toDoubles(gx, op.xl), dtype);
                    HeapStorage gw = (HeapStorage) SIMD.allocate(dtype, op.wl.numel());
                    SimdConvolution.bandedWeightGrad(op.x, op.xl, op.g, op.gl, w, op.groups, gw, op.wl, band);
                    assertClose("weight gradient " + what, op.weightGrad(SCALAR), SIMD.toDoubles(gw, op.wl), dtype);
                }
            }
        }
    }

    /**
     * Stride 2 along the width on rows several vectors wide, so that the phased scratch rows are
     * filled ({@code evenLanes}) and read back ({@code interleave}) by whole vectors as well as by
     * masked last ones: even and odd widths and paddings (each phase's first column moves with
     * them), and the last row of the batch at the end of its array. (The 3 x 3 window with padding 1
     * takes the in-place kernels instead: {@link #depthwiseStrideTwoTakesTheInPlaceKernels}.)
     */
    @Test
    void depthwiseStrideTwoOnWideRowsMatchesTheReference() {
        for (DType dtype : new DType[] {DType.FLOAT64, DType.FLOAT32}) {
            for (int width : new int[] {33, 56, 57, 70}) {
                for (int kernel = 2; kernel <= 3; kernel++) {
                    for (int pad = 0; pad <= 2; pad++) {
                        Window2d w = new Window2d(6, width, kernel, kernel, 2, 2, pad, pad, 1, 1,
                                Window2d.outputSize(6, kernel, 2, pad, 1, false),
                                Window2d.outputSize(width, kernel, 2, pad, 1, false));
                        Operands op = new Operands(2, 3, 3, 3, w, dtype);
                        assertSimdTakesAndMatches(op, w, w + ", depthwise, " + dtype, dtype);
                    }
                }
            }
        }
    }

    /**
     * Depthwise 3 x 3 windows at stride 2 with padding 1 take the in-place kernels
     * ({@code stride2x3x3Forward} and its gradients): even and odd heights and widths (a last input
     * row and column that only the padding's side of a window reaches, or that a window's middle
     * does), images one pixel high or wide, outputs a row and a column larger than the input gives
     * (their windows read padding only), a channel multiplier of 2, the bias added as the sums are
     * stored, and outputs holding NaN beforehand, as every pixel must be written.
     */
    @Test
    void depthwiseStrideTwoTakesTheInPlaceKernels() {
        int[][] channels = {{3, 3, 3}, {2, 4, 2}};
        for (DType dtype : new DType[] {DType.FLOAT64, DType.FLOAT32}) {
            for (int height : new int[] {1, 2, 5, 6}) {
                for (int width : new int[] {1, 3, 17, 34, 57}) {
                    for (int extra = 0; extra <= 1; extra++) {
                        Window2d w = new Window2d(height, width, 3, 3, 2, 2, 1, 1, 1, 1,
                                Window2d.outputSize(height, 3, 2, 1, 1, false) + extra,
                                Window2d.outputSize(width, 3, 2, 1, 1, false) + extra);
                        assertTrue(SimdConvolution.stride2x3x3(w, 1), w.toString());
                        for (int[] ch : channels) {
                            Operands op = new Operands(2, ch[0], ch[1], ch[2], w, dtype);
                            String what = w + ", channels " + ch[0] + " -> " + ch[1] + ", " + dtype;
                            HeapStorage out = nans(dtype, op.outShape.numel());
                            assertTrue(SimdConvolution.conv2d(op.x, op.xl, op.w, op.wl, w, op.groups, out, op.gl), what);
                            assertClose("forward " + what, op.forward(SCALAR), SIMD.toDoubles(out, op.gl), dtype);
                            HeapStorage gx = nans(dtype, op.xl.numel());
                            assertTrue(SimdConvolution.inputGrad(op.g, op.gl, op.w, op.wl, w, op.groups, gx, op.xl), what);
                            assertClose("input gradient " + what, op.inputGrad(SCALAR), SIMD.toDoubles(gx, op.xl), dtype);
                            HeapStorage gw = nans(dtype, op.wl.numel());
                            assertTrue(SimdConvolution.weightGrad(op.x, op.xl, op.g, op.gl, w, op.groups, gw, op.wl), what);
                            assertClose("weight gradient " + what, op.weightGrad(SCALAR), SIMD.toDoubles(gw, op.wl), dtype);
                            assertBiasAddedAsAfter(op, what);
                        }
                    }
                }
            }
        }
    }

    /** A storage of {@code n} NaNs: what a kernel leaves unwritten shows. */
    private static HeapStorage nans(DType dtype, int n) {
        HeapStorage s = (HeapStorage) SIMD.allocate(dtype, n);
        if (dtype == DType.FLOAT32) {
            java.util.Arrays.fill(s.f32, Float.NaN);
        } else {
            java.util.Arrays.fill(s.f64, Double.NaN);
        }
        return s;
    }

    @Test
    void depthwiseStridedAlongTheWidthTakesTheDirectKernels() {
        for (DType dtype : new DType[] {DType.FLOAT64, DType.FLOAT32}) {
            for (int stride = 2; stride <= 3; stride++) {
                for (int pad = 0; pad <= 2; pad++) {
                    Window2d w = new Window2d(7, 23, 3, 3, 1, stride, pad, pad, 1, 2,
                            Window2d.outputSize(7, 3, 1, pad, 1, false), Window2d.outputSize(23, 3, stride, pad, 2, false));
                    Operands op = new Operands(2, 5, 5, 5, w, dtype);
                    String what = w + ", depthwise, " + dtype;
                    assertSimdTakesAndMatches(op, w, what, dtype);
                }
            }
        }
    }

    /**
     * Windows of stride 1 whose output rows are as wide as the input's take the flat kernels, whose
     * vectors run across rows: images narrower than a vector, several vectors long with a partial
     * last one, taps reaching past the left and right edges (kernel 5, dilation 2) and a taller
     * output than input.
     */
    @Test
    void sameWidthWindowsTakeTheFlatKernels() {
        int[][] geometries = {
            // height, width, kernelH, kernelW, padH, padW, dilation, extra output rows
            {9, 28, 3, 3, 1, 1, 1, 0}, {4, 3, 3, 3, 1, 1, 1, 0}, {6, 11, 5, 5, 2, 4, 2, 0}, {5, 7, 1, 3, 1, 1, 1, 1},
            {3, 17, 2, 1, 0, 0, 1, 0},
        };
        for (DType dtype : new DType[] {DType.FLOAT64, DType.FLOAT32}) {
            for (int[] q : geometries) {
                int outH = Window2d.outputSize(q[0], q[2], 1, q[4], q[6], false) + q[7];
                Window2d w = new Window2d(q[0], q[1], q[2], q[3], 1, 1, q[4], q[5], q[6], q[6], outH, q[1]);
                assertTrue(SimdConvolution.flat(w), w.toString());
                for (int[] ch : new int[][] {{6, 6, 6}, {2, 4, 2}, {4, 6, 2}}) {
                    Operands op = new Operands(3, ch[0], ch[1], ch[2], w, dtype);
                    String what = w + ", channels " + ch[0] + " -> " + ch[1] + ", groups " + ch[2] + ", " + dtype;
                    assertSimdTakesAndMatches(op, w, what, dtype);
                }
            }
        }
    }

    /**
     * Flat 3 x 3 windows on one input channel per group take the in-place kernels
     * ({@link SimdConvolution#flat3x3}), which load whole vectors where every tap stays inside the
     * input's plane and masked loads elsewhere: images narrower than a vector, a single row, odd
     * sizes of several vectors with a partial last one, no padding above (a shorter output), more
     * padding above than the kernel reaches (a taller output, rows that read only padding), dilation
     * 2, a channel multiplier of 2, two input channels to one output channel (the input gradient's
     * in-place case) and batches of one and three, so that the first and last planes of the
     * storage, whose taps would reach past the array, are read too.
     */
    @Test
    void threeByThreeOnOneChannelTakesTheInPlaceKernels() {
        int[][] geometries = {
            // height, width, padH, dilation, extra output rows
            {28, 28, 1, 1, 0}, {3, 3, 1, 1, 0}, {1, 5, 1, 1, 0}, {4, 3, 0, 1, 0}, {17, 19, 1, 1, 0},
            {9, 13, 3, 1, 1}, {6, 11, 2, 2, 0}, {11, 33, 1, 2, 0},
        };
        for (DType dtype : new DType[] {DType.FLOAT64, DType.FLOAT32}) {
            for (int[] q : geometries) {
                int outH = Window2d.outputSize(q[0], 3, 1, q[2], q[3], false) + q[4];
                Window2d w = new Window2d(q[0], q[1], 3, 3, 1, 1, q[2], q[3], q[3], q[3], outH, q[1]);
                assertTrue(SimdConvolution.flat3x3(w, 1), w.toString());
                // Depthwise; channel multiplier 2 (forward, weight gradient); two input channels to one
                // output channel per group (input gradient).
                for (int[] ch : new int[][] {{5, 5, 5, 1}, {5, 5, 5, 3}, {3, 6, 3, 3}, {4, 2, 2, 3}}) {
                    Operands op = new Operands(ch[3], ch[0], ch[1], ch[2], w, dtype);
                    String what = w + ", channels " + ch[0] + " -> " + ch[1] + ", groups " + ch[2] + ", batch "
                            + ch[3] + ", " + dtype;
                    assertSimdTakesAndMatches(op, w, what, dtype);
                    if (ch[0] == ch[2]) {
                        assertBiasAddedAsAfter(op, what);
                    }
                }
            }
        }
    }

    /**
     * The in-place depthwise kernel, and the implicit kernel with rows of output channels
     * ({@code FloatConvolution.implicitForward}), add the bias to each sum as they store it: the same
     * bits as the convolution followed by the addition it saves (the SPI's default {@code conv2dBiased}).
     */
    private static void assertBiasAddedAsAfter(Operands op, String what) {
        DType dtype = op.x.dtype;
        HeapStorage fused = (HeapStorage) SIMD.allocate(dtype, op.outShape.numel());
        assertTrue(SimdConvolution.conv2dBiased(op.x, op.xl, op.w, op.wl, op.bias, op.biasLayout(), op.window,
                op.groups, fused, op.gl), "conv2dBiased took the in-place kernel: " + what);
        Storage after = SIMD.allocate(dtype, op.outShape.numel());
        SIMD.conv2d(op.x, op.xl, op.w, op.wl, op.window, op.groups, after, op.gl);
        SIMD.binary(BinaryOp.ADD, after, op.gl, op.bias, op.biasLayout(), after, op.gl);
        double[] a = SIMD.toDoubles(fused, op.gl);
        double[] b = SIMD.toDoubles(after, op.gl);
        for (int i = 0; i < a.length; i++) {
            assertEquals(Double.doubleToRawLongBits(b[i]), Double.doubleToRawLongBits(a[i]),
                    "conv2dBiased against conv2d then add at " + i + ": " + what);
        }
    }

    /**
     * Stride-1 convolutions with enough output channels per group, and input channels for their input
     * gradient, take the implicit-GEMM kernels where the machine has 32 vector registers: output
     * channels not a multiple of the register block's rows, groups, a batch of one (fewer samples than
     * threads), dilation and windows reaching past the image.
     */
    @Test
    void implicitKernelsMatchTheReference() {
        int implicit = 0;
        for (DType dtype : new DType[] {DType.FLOAT64, DType.FLOAT32}) {
            for (Window2d w : windows(6, 9)) {
                if (w.strideH() != 1 || w.strideW() != 1) {
                    continue;
                }
                for (int[] ch : new int[][] {{5, 20, 1}, {16, 26, 2}}) {
                    for (int n = 1; n <= 2; n++) {
                        Operands op = new Operands(n, ch[0], ch[1], ch[2], w, dtype);
                        String what = w + ", batch " + n + ", channels " + ch[0] + " -> " + ch[1] + ", groups " + ch[2]
                                + ", " + dtype;
                        HeapStorage out = (HeapStorage) SIMD.allocate(dtype, op.outShape.numel());
                        if (SimdConvolution.implicit(op.x, out, w, ch[0] / ch[2], ch[1] / ch[2])) {
                            implicit++;
                            assertTrue(SimdConvolution.conv2d(op.x, op.xl, op.w, op.wl, w, op.groups, out,
                                    op.outLayout()), what);
                            if (!SimdConvolution.channelsAlongVectors(op.x, ch[1] / ch[2])
                                    && !SimdConvolution.samplePairs(op.x, w, ch[0] / ch[2], ch[1] / ch[2])) {
                                assertBiasAddedAsAfter(op, what);
                            }
                        }
                        assertClose("conv2d " + what, op.forward(SCALAR), op.forward(SIMD), dtype);
                        assertBiasedMatches(op, what, dtype);
                        assertClose("conv2dInputGrad " + what, op.inputGrad(SCALAR), op.inputGrad(SIMD), dtype);
                        assertClose("conv2dWeightGrad " + what, op.weightGrad(SCALAR), op.weightGrad(SIMD), dtype);
                    }
                }
            }
        }
        System.out.println("SimdConvolutionTest: " + implicit + " of the stride-1 cases took the implicit kernels");
    }

    /**
     * Convolutions with a whole register block of output channels per group take the kernels with
     * the output channels along the vectors where the machine has 32 vector registers (the implicit
     * weight gradient, and the forward's {@code implicitChannelsForward}), strided windows on their
     * phase images ({@link ImplicitGrid}): output channels past the last whole block (a vector and
     * a part), two and three vectors of them and no whole block (the weight gradient's pairs of
     * narrow panels, as a ResNet stem's 3 -> 32 takes), rows of taps not a multiple of the block's,
     * positions not a multiple of the forward's block, groups, one and three samples, stride 2 along
     * one axis or both, dilation, and windows reaching past the image.
     */
    @Test
    void outputChannelsAlongTheVectorsMatchTheReference() {
        int implicit = 0;
        int biased = 0;
        for (DType dtype : new DType[] {DType.FLOAT64, DType.FLOAT32}) {
            for (Window2d w : windows(5, 7)) {
                for (int[] ch : new int[][] {{3, 80, 1}, {10, 132, 2}, {4, 40, 1}, {3, 32, 1}}) {
                    for (int n = 1; n <= 3; n += 2) {
                        Operands op = new Operands(n, ch[0], ch[1], ch[2], w, dtype);
                        String what = w + ", batch " + n + ", channels " + ch[0] + " -> " + ch[1] + ", groups " + ch[2]
                                + ", " + dtype;
                        if (SimdConvolution.implicitWeights(op.x, op.w, w, ch[1] / ch[2])) {
                            implicit++;
                        }
                        assertClose("conv2d " + what, op.forward(SCALAR), op.forward(SIMD), dtype);
                        biased += assertBiasedMatches(op, what, dtype);
                        assertClose("conv2dWeightGrad " + what, op.weightGrad(SCALAR), op.weightGrad(SIMD), dtype);
                    }
                }
            }
        }
        System.out.println("SimdConvolutionTest: " + implicit + " convolutions took the kernels with output channels"
                + " along the vectors, " + biased + " forwards took the bias in the kernel");
    }

    /**
     * Strided 1 x 1 convolutions (ResNet's projection shortcuts), whose forward and weight gradient
     * read a single phase image, the subsampled input, where the implicit kernels run them
     * ({@link ImplicitGrid}): strides of 2 both ways, along one axis and of 3, padding 0 and 1, an
     * output row and column past the image, channels few and many, groups, one and three samples.
     */
    @Test
    void stridedPointwiseMatchesTheReference() {
        for (DType dtype : new DType[] {DType.FLOAT64, DType.FLOAT32}) {
            for (int[] s : new int[][] {{2, 2}, {2, 1}, {1, 3}, {3, 2}}) {
                for (int p = 0; p <= 1; p++) {
                    for (int extra = 0; extra <= 1; extra++) {
                        int outH = Window2d.outputSize(9, 1, s[0], p, 1, false) + extra;
                        int outW = Window2d.outputSize(10, 1, s[1], p, 1, false) + extra;
                        Window2d w = new Window2d(9, 10, 1, 1, s[0], s[1], p, p, 1, 1, outH, outW);
                        for (int[] ch : new int[][] {{3, 80, 1}, {80, 3, 1}, {64, 40, 1}, {16, 130, 2}, {132, 20, 2}}) {
                            for (int n = 1; n <= 3; n += 2) {
                                Operands op = new Operands(n, ch[0], ch[1], ch[2], w, dtype);
                                String what = w + ", batch " + n + ", channels " + ch[0] + " -> " + ch[1] + ", groups "
                                        + ch[2] + ", " + dtype;
                                assertClose("conv2d " + what, op.forward(SCALAR), op.forward(SIMD), dtype);
                                assertClose("conv2dInputGrad " + what, op.inputGrad(SCALAR), op.inputGrad(SIMD), dtype);
                                assertClose("conv2dWeightGrad " + what, op.weightGrad(SCALAR), op.weightGrad(SIMD),
                                        dtype);
                            }
                        }
                    }
                }
            }
        }
    }

    /**
     * 1 x 1 windows without padding read their columns in place and store their input gradient in
     * place ({@code pointwise}), banded and chunked: strides of 1, 2 and 3, an output row past the
     * image (which takes the padded images), bands of one and two rows, groups; the input gradient into
     * an output that is not zero beforehand, as every pixel between the strided ones must be written.
     */
    @Test
    void pointwiseWindowsMatchTheReference() {
        for (DType dtype : new DType[] {DType.FLOAT64, DType.FLOAT32}) {
            for (int[] s : new int[][] {{1, 1}, {2, 2}, {2, 1}, {3, 2}}) {
                for (int extra = 0; extra <= 1; extra++) {
                    int outH = Window2d.outputSize(7, 1, s[0], 0, 1, false) + extra;
                    int outW = Window2d.outputSize(9, 1, s[1], 0, 1, false);
                    Window2d w = new Window2d(7, 9, 1, 1, s[0], s[1], 0, 0, 1, 1, outH, outW);
                    Operands op = new Operands(3, 4, 26, 2, w, dtype);
                    for (int band = 1; band <= 3; band++) {
                        String what = w + ", band " + band + ", " + dtype;
                        HeapStorage out = (HeapStorage) SIMD.allocate(dtype, op.outShape.numel());
                        if (band < 3) {
                            SimdConvolution.bandedForward(op.x, op.xl, op.w, op.wl, w, op.groups, out, op.outLayout(),
                                    band);
                        } else {
                            SimdConvolution.chunkedForward(op.x, op.xl, op.w, op.wl, w, op.groups, out, op.outLayout(),
                                    2);
                        }
                        assertClose("forward " + what, op.forward(SCALAR), SIMD.toDoubles(out, op.outLayout()), dtype);
                        HeapStorage gx = (HeapStorage) SIMD.allocate(dtype, op.xl.numel());
                        for (int i = 0; i < op.xl.numel(); i++) {
                            gx.set(i, 7);
                        }
                        if (band < 3) {
                            SimdConvolution.bandedInputGrad(op.g, op.gl, op.w, op.wl, w, op.groups, gx, op.xl, band);
                        } else {
                            SimdConvolution.chunkedInputGrad(op.g, op.gl, op.w, op.wl, w, op.groups, gx, op.xl, 2);
                        }
                        assertClose("input gradient " + what, op.inputGrad(SCALAR), SIMD.toDoubles(gx, op.xl), dtype);
                    }
                }
            }
        }
    }

    /**
     * Input gradients of windows strided by 2 both ways, taken as four stride-1 convolutions of the
     * output gradient, one per phase of the input ({@code SimdConvolution.polyphase}): kernels of
     * 1 to 4 each way (a phase without taps is zero; 1 x 1 keeps the other kernels), padding 0 to 2
     * (a padding the phases cannot take keeps the other kernels), odd and even images, an output row
     * and column past the image, channel counts that take each implicit kernel, groups, one and
     * three samples.
     */
    @Test
    void stridedInputGradientsByPhasesMatchTheReference() {
        int phased = 0;
        for (DType dtype : new DType[] {DType.FLOAT64, DType.FLOAT32}) {
            for (int[] size : new int[][] {{8, 8}, {7, 9}}) {
                for (int[] k : new int[][] {{1, 1}, {1, 3}, {2, 2}, {3, 3}, {3, 2}, {4, 4}}) {
                    for (int p = 0; p <= 2; p++) {
                        for (int extra = 0; extra <= 1; extra++) {
                            int outH = Window2d.outputSize(size[0], k[0], 2, p, 1, false) + extra;
                            int outW = Window2d.outputSize(size[1], k[1], 2, p, 1, false) + extra;
                            if (outH <= 0 || outW <= 0) {
                                continue;
                            }
                            Window2d w = new Window2d(size[0], size[1], k[0], k[1], 2, 2, p, p, 1, 1, outH, outW);
                            for (int[] ch : new int[][] {{80, 3, 1}, {32, 64, 1}, {64, 20, 1}, {24, 16, 2}}) {
                                for (int n = 1; n <= 3; n += 2) {
                                    Operands op = new Operands(n, ch[0], ch[1], ch[2], w, dtype);
                                    if (SimdConvolution.polyphase(op.g, op.x, w, ch[1] / ch[2], ch[0] / ch[2])) {
                                        phased++;
                                    }
                                    String what = w + ", batch " + n + ", channels " + ch[0] + " -> " + ch[1]
                                            + ", groups " + ch[2] + ", " + dtype;
                                    assertClose("conv2dInputGrad " + what, op.inputGrad(SCALAR), op.inputGrad(SIMD),
                                            dtype);
                                }
                            }
                        }
                    }
                }
            }
        }
        System.out.println("SimdConvolutionTest: " + phased + " strided input gradients took the phases");
        assertTrue(phased > 0 || !SimdConvolution.IMPLICIT_BLOCK_FITS, "no input gradient took the phases");
    }

    /**
     * Stride-1 convolutions with more than one vector of output channels per group and at most two,
     * or input channels so for their input gradient, take the kernel with two samples per register
     * block where it is less work than the rows of channels and the depth is long enough (64 input
     * channels per group): both dtypes (FLOAT32's 16 to 32 channels and FLOAT64's 8 to 16 on
     * AVX-512), channels short of the two vectors, groups, batches of one to three (a lone last
     * sample), positions not a multiple of the block's, dilation and windows reaching past the image.
     */
    @Test
    void twoSamplesPerBlockMatchTheReference() {
        int[] taken = new int[2];
        for (DType dtype : new DType[] {DType.FLOAT64, DType.FLOAT32}) {
            for (Window2d w : windows(5, 7)) {
                if (w.strideH() != 1 || w.strideW() != 1) {
                    continue;
                }
                for (int[] ch : new int[][] {{64, 32, 1}, {32, 64, 1}, {128, 40, 2}, {64, 13, 1}, {26, 128, 2}}) {
                    for (int n = 1; n <= 3; n++) {
                        Operands op = new Operands(n, ch[0], ch[1], ch[2], w, dtype);
                        String what = w + ", batch " + n + ", channels " + ch[0] + " -> " + ch[1] + ", groups " + ch[2]
                                + ", " + dtype;
                        taken[dtype == DType.FLOAT32 ? 0 : 1] += takesPairs(op, w, ch[0] / ch[2], ch[1] / ch[2], false)
                                + takesPairs(op, w, ch[0] / ch[2], ch[1] / ch[2], true);
                        assertClose("conv2d " + what, op.forward(SCALAR), op.forward(SIMD), dtype);
                        assertBiasedMatches(op, what, dtype);
                        assertClose("conv2dInputGrad " + what, op.inputGrad(SCALAR), op.inputGrad(SIMD), dtype);
                        assertClose("conv2dWeightGrad " + what, op.weightGrad(SCALAR), op.weightGrad(SIMD), dtype);
                    }
                }
            }
        }
        System.out.println("SimdConvolutionTest: FLOAT32 " + taken[0] + ", FLOAT64 " + taken[1]
                + " forward and input-gradient products took the kernel with two samples per block");
        if (SimdConvolution.implicit(HeapStorage.allocate(DType.FLOAT32, 1), HeapStorage.allocate(DType.FLOAT32, 1),
                new Window2d(5, 7, 3, 3, 1, 1, 1, 1, 1, 1, 5, 7), 64, 32)
                && FloatVector.SPECIES_PREFERRED.length() == 16) {
            // 32 FLOAT32 and 16 FLOAT64 channels are two vectors on AVX-512: both dtypes must take it.
            assertTrue(taken[0] > 0 && taken[1] > 0, "FLOAT32 " + taken[0] + ", FLOAT64 " + taken[1]);
        }
    }

    /**
     * A stride-1 convolution whose padded images of one sample take more than half of L2, but whose
     * bands of output positions read rows of them that fit, takes the kernel with output channels
     * along the vectors rather than the banded unfold (as resnet3x3's [64, 56, 56] does on 1 MB of
     * L2): [1, 64, height, 56] to 80 channels (a wide panel and a narrow one), the height from this
     * machine's L2; forward, forward with a bias and input gradient (64 channels from 80) against
     * the reference.
     */
    @Test
    void imagesPastHalfOfL2TakeTheChannelsKernelByBands() {
        HeapStorage one = HeapStorage.allocate(DType.FLOAT32, 1);
        if (!SimdConvolution.implicit(one, one, new Window2d(5, 7, 3, 3, 1, 1, 1, 1, 1, 1, 5, 7), 64, 80)) {
            return; // no register block of 32 vectors here: the implicit kernels are not taken at all
        }
        int height = GemmBlocking.CACHES.l2Bytes() / 2 / (64 * 58 * Float.BYTES) + 1;
        Window2d w = new Window2d(height, 56, 3, 3, 1, 1, 1, 1, 1, 1, height, 56);
        Operands op = new Operands(1, 64, 80, 1, w, DType.FLOAT32);
        assertTrue(SimdConvolution.implicit(op.x, op.x, w, 64, 80) && SimdConvolution.channelsAlongVectors(op.x, 80),
                w + ": forward");
        assertTrue(SimdConvolution.implicit(op.x, op.x, w, 80, 64) && SimdConvolution.channelsAlongVectors(op.x, 64),
                w + ": input gradient");
        String what = w + ", 64 -> 80 channels, FLOAT32";
        assertClose("conv2d " + what, op.forward(SCALAR), op.forward(SIMD), DType.FLOAT32);
        assertEquals(1, assertBiasedMatches(op, what, DType.FLOAT32), "conv2dBiased " + what + " added the bias after");
        assertClose("conv2dInputGrad " + what, op.inputGrad(SCALAR), op.inputGrad(SIMD), DType.FLOAT32);
    }

    /**
     * The convolution plus a bias through the backend ({@code conv2dBiased}) against the scalar
     * reference's; 1 where simd's kernels started the sums at the bias rather than adding it after.
     */
    private static int assertBiasedMatches(Operands op, String what, DType dtype) {
        assertClose("conv2dBiased " + what, op.forwardBiased(SCALAR), op.forwardBiased(SIMD), dtype);
        HeapStorage out = (HeapStorage) SIMD.allocate(dtype, op.outShape.numel());
        return SimdConvolution.conv2dBiased(op.x, op.xl, op.w, op.wl, op.bias, op.biasLayout(), op.window, op.groups,
                out, op.outLayout()) ? 1 : 0;
    }

    /**
     * 1 where {@code op}'s forward ({@code cg} to {@code og} channels per group), or its input
     * gradient (the forward of the output gradient, {@code og} to {@code cg}, through the flipped
     * window), takes {@link FloatConvolution#implicitPairForward}.
     */
    private static int takesPairs(Operands op, Window2d w, int cg, int og, boolean inputGrad) {
        if (inputGrad) {
            int padH = w.dilationH() * (w.kernelH() - 1) - w.padH();
            int padW = w.dilationW() * (w.kernelW() - 1) - w.padW();
            if (padH < 0 || padW < 0) {
                return 0;
            }
            w = new Window2d(w.outH(), w.outW(), w.kernelH(), w.kernelW(), 1, 1, padH, padW, w.dilationH(),
                    w.dilationW(), w.height(), w.width());
            int swap = cg;
            cg = og;
            og = swap;
        }
        return SimdConvolution.implicit(op.x, op.x, w, cg, og) && !SimdConvolution.channelsAlongVectors(op.x, og)
                && SimdConvolution.samplePairs(op.x, w, cg, og) ? 1 : 0;
    }

    @Test
    void chunksOfOneToThreeSamplesMatchTheReference() {
        for (DType dtype : new DType[] {DType.FLOAT64, DType.FLOAT32}) {
            for (Window2d w : windows(6, 9)) {
                for (int chunk = 1; chunk <= 3; chunk++) {
                    // A batch of 5: chunks of 2 and 3 leave a shorter last chunk.
                    Operands op = new Operands(5, 4, 26, 2, w, dtype);
                    String what = w + ", chunks of " + chunk + ", " + dtype;
                    HeapStorage out = (HeapStorage) SIMD.allocate(dtype, op.outShape.numel());
                    SimdConvolution.chunkedForward(op.x, op.xl, op.w, op.wl, w, op.groups, out, op.outLayout(), chunk);
                    assertClose("forward " + what, op.forward(SCALAR), SIMD.toDoubles(out, op.outLayout()), dtype);
                    HeapStorage gx = (HeapStorage) SIMD.allocate(dtype, op.xl.numel());
                    SimdConvolution.chunkedInputGrad(op.g, op.gl, op.w, op.wl, w, op.groups, gx, op.xl, chunk);
                    assertClose("input gradient " + what, op.inputGrad(SCALAR), SIMD.toDoubles(gx, op.xl), dtype);
                    HeapStorage gw = (HeapStorage) SIMD.allocate(dtype, op.wl.numel());
                    SimdConvolution.chunkedWeightGrad(op.x, op.xl, op.g, op.gl, w, op.groups, gw, op.wl, chunk);
                    assertClose("weight gradient " + what, op.weightGrad(SCALAR), SIMD.toDoubles(gw, op.wl), dtype);
                }
            }
        }
    }

    /**
     * engine-simd's own convolution, input gradient and weight gradient of {@code op} (each must take
     * one of its kernels, not leave the call to the SPI default) against the scalar reference.
     */
    private static void assertSimdTakesAndMatches(Operands op, Window2d w, String what, DType dtype) {
        HeapStorage out = (HeapStorage) SIMD.allocate(dtype, op.outShape.numel());
        assertTrue(SimdConvolution.conv2d(op.x, op.xl, op.w, op.wl, w, op.groups, out, op.outLayout()), what);
        assertClose("forward " + what, op.forward(SCALAR), SIMD.toDoubles(out, op.outLayout()), dtype);
        HeapStorage gx = (HeapStorage) SIMD.allocate(dtype, op.xl.numel());
        assertTrue(SimdConvolution.inputGrad(op.g, op.gl, op.w, op.wl, w, op.groups, gx, op.xl), what);
        assertClose("input gradient " + what, op.inputGrad(SCALAR), SIMD.toDoubles(gx, op.xl), dtype);
        HeapStorage gw = (HeapStorage) SIMD.allocate(dtype, op.wl.numel());
        assertTrue(SimdConvolution.weightGrad(op.x, op.xl, op.g, op.gl, w, op.groups, gw, op.wl), what);
        assertClose("weight gradient " + what, op.weightGrad(SCALAR), SIMD.toDoubles(gw, op.wl), dtype);
    }

    /** Random input, weight and output gradient for one geometry, held as heap storages both backends read. */
    private static final class Operands {
        final int groups;
        final Window2d window;
        final Shape outShape;
        final HeapStorage x, w, g, bias;
        final Layout xl, wl, gl;

        Operands(int n, int channels, int outChannels, int groups, Window2d window, DType dtype) {
            this.groups = groups;
            this.window = window;
            Random random = new Random(window.hashCode() * 31L + channels * 7L + outChannels);
            Shape xs = Shape.of(n, channels, window.height(), window.width());
            Shape ws = Shape.of(outChannels, channels / groups, window.kernelH(), window.kernelW());
            outShape = Shape.of(n, outChannels, window.outH(), window.outW());
            xl = Layout.contiguous(xs);
            wl = Layout.contiguous(ws);
            gl = Layout.contiguous(outShape);
            x = values(xs.numel(), random, dtype);
            w = values(ws.numel(), random, dtype);
            g = values(outShape.numel(), random, dtype);
            bias = values(outChannels, random, dtype);
        }

        Layout outLayout() {
            return gl;
        }

        /** The bias along the output's channels, stride 0 elsewhere, as the api hands it to conv2dBiased. */
        Layout biasLayout() {
            return new Layout(outShape, new int[] {0, 1, 0, 0}, 0);
        }

        double[] forwardBiased(Backend b) {
            Storage out = b.allocate(x.dtype(), outShape.numel());
            b.conv2dBiased(x, xl, w, wl, bias, biasLayout(), window, groups, out, gl);
            return b.toDoubles(out, gl);
        }

        double[] forward(Backend b) {
            Storage out = b.allocate(x.dtype(), outShape.numel());
            b.conv2d(x, xl, w, wl, window, groups, out, gl);
            return b.toDoubles(out, gl);
        }

        double[] inputGrad(Backend b) {
            Storage out = b.allocate(x.dtype(), xl.numel());
            b.conv2dInputGrad(g, gl, w, wl, window, groups, out, xl);
            return b.toDoubles(out, xl);
        }

        double[] weightGrad(Backend b) {
            Storage out = b.allocate(x.dtype(), wl.numel());
            b.conv2dWeightGrad(x, xl, g, gl, window, groups, out, wl);
            return b.toDoubles(out, wl);
        }

        private static HeapStorage values(int size, Random random, DType dtype) {
            HeapStorage s = HeapStorage.allocate(dtype, size);
            for (int i = 0; i < size; i++) {
                s.set(i, random.nextDouble() * 4 - 2);
            }
            return s;
        }
    }

    /** Sums of up to a few hundred products of values in [-2, 2], in another order than the reference's. */
    private static void assertClose(String what, double[] expected, double[] actual, DType dtype) {
        assertEquals(expected.length, actual.length, what);
        double tolerance = dtype == DType.FLOAT32 ? 1e-3 : 1e-10;
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], actual[i], tolerance * Math.max(1, Math.abs(expected[i])), what + " at " + i);
        }
    }
}
