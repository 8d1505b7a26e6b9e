package dev.adjoint.engine.simd;

import dev.adjoint.DType;
import dev.adjoint.Shape;
import dev.adjoint.spi.FusedKernels;
import dev.adjoint.spi.Layout;
import dev.adjoint.spi.heap.HeapFusedKernels;
import dev.adjoint.spi.heap.HeapStorage;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The vector rows of the fused softmax, layer norm and batch norm, ReLU's backward, and the optimizer updates, against the plain loops of
 * {@link HeapFusedKernels}, at row lengths around and beyond the lane count (tails in every row) and
 * with enough rows (or channels) for a call to be split into parts over threads; NaN and infinite rows
 * follow the plain loops.
 */
class SimdFusedKernelsTest {
    private static final FusedKernels VECTOR = new SimdFusedKernels();
    private static final FusedKernels PLAIN = new HeapFusedKernels();
    private static final int[] LENGTHS = {1, 7, 16, 17, 33, 256, 1000};
    private static final DType[] FLOATING = {DType.FLOAT64, DType.FLOAT32};

    /** Enough rows that the longer lengths pass the threshold for splitting a call into parts. */
    private static int rowsFor(int n) {
        return (int) Math.max(3, RowThreads.PARALLEL_ELEMENTS / n + 5);
    }

    @Test
    void softmaxForwardAndBackwardMatchThePlainLoops() {
        for (DType dtype : FLOATING) {
            for (int n : LENGTHS) {
                int rows = Math.min(rowsFor(n), 2000);
                Shape shape = Shape.of(rows, n);
                Layout layout = Layout.contiguous(shape);
                double[] x = values(rows * n, n, -6, 6);
                double[] g = values(rows * n, n + 1, -1, 1);
                if (n > 16) {
                    x[5] = Double.NaN;
                    x[n + 3] = Double.POSITIVE_INFINITY;
                    x[2 * n + 1] = Double.NEGATIVE_INFINITY;
                }
                for (boolean log : new boolean[] {false, true}) {
                    String what = (log ? "logSoftmax " : "softmax ") + dtype + " " + shape;
                    double[][] y = new double[2][];
                    double[][] dx = new double[2][];
                    FusedKernels[] kernels = {PLAIN, VECTOR};
                    for (int k = 0; k < 2; k++) {
                        HeapStorage out = HeapStorage.allocate(dtype, rows * n);
                        kernels[k].softmax(storage(x, dtype), layout, log, out, layout);
                        y[k] = doubles(out);
                        HeapStorage back = HeapStorage.allocate(dtype, rows * n);
                        // The backward from the plain forward, so both backward kernels read the same y.
                        kernels[k].softmaxBackward(storage(g, dtype), layout, storage(y[0], dtype), layout, log, back,
                                layout);
                        dx[k] = doubles(back);
                    }
                    assertClose(what, y[0], y[1], dtype, 0.01);
                    assertClose(what + " backward", dx[0], dx[1], dtype, 0.01);
                }
            }
        }
    }

    /**
     * The shift is the row's maximum wherever in the row it lies (the maximum is taken in several
     * accumulators): one large value, far past where exp(x - shift) overflows for any smaller shift,
     * at every position of rows of several lengths, against the plain loops.
     */
    @Test
    void softmaxShiftsByTheMaximumWhereverItLies() {
        for (DType dtype : FLOATING) {
            for (int n : new int[] {16, 67, 200}) {
                Shape shape = Shape.of(n, n);
                Layout layout = Layout.contiguous(shape);
                double[] x = values(n * n, n, -6, 6);
                for (int r = 0; r < n; r++) {
                    x[r * n + r] = 400;
                }
                for (boolean log : new boolean[] {false, true}) {
                    HeapStorage plain = HeapStorage.allocate(dtype, n * n);
                    HeapStorage vector = HeapStorage.allocate(dtype, n * n);
                    PLAIN.softmax(storage(x, dtype), layout, log, plain, layout);
                    VECTOR.softmax(storage(x, dtype), layout, log, vector, layout);
                    assertClose((log ? "logSoftmax " : "softmax ") + dtype + " " + shape + ", 400 on the diagonal",
                            doubles(plain), doubles(vector), dtype, 0.01);
                }
            }
        }
    }

    /**
     * Rows no longer than a vector go through softmaxRows a vector's worth of rows at a time, a lane per
     * row: every row must get the bits the one-row kernel gives it, forward and backward, whatever its
     * length up to the lane count and wherever it falls among the rows (the last rows % L take the
     * one-row kernel), with NaN, infinities and signed zeros among the values.
     */
    @Test
    void narrowRowsGetTheOneRowKernelsBits() {
        Random random = new Random(11);
        for (int n = 1; n <= 16; n++) {
            for (int rows : new int[] {3, 16, 53}) {
                int size = rows * n;
                float[] xf = new float[size];
                float[] gf = new float[size];
                double[] xd = new double[size];
                double[] gd = new double[size];
                for (int i = 0; i < size; i++) {
                    double v = switch (random.nextInt(40)) {
                        case 0 -> Double.NaN;
                        case 1 -> Double.POSITIVE_INFINITY;
                        case 2 -> Double.NEGATIVE_INFINITY;
                        case 3 -> -0.0;
                        case 4 -> 90 * random.nextGaussian();
                        default -> 4 * random.nextGaussian();
                    };
                    xf[i] = (float) v;
                    xd[i] = v;
                    gf[i] = (float) random.nextGaussian();
                    gd[i] = random.nextGaussian();
                }
                for (boolean log : new boolean[] {false, true}) {
                    String what = (log ? "logSoftmax" : "softmax") + " of " + rows + " rows of " + n;
                    float[] rowsF = new float[size];
                    float[] oneF = new float[size];
                    FloatRows.softmaxRows(xf, 0, rowsF, 0, rows, n, log);
                    double[] rowsD = new double[size];
                    double[] oneD = new double[size];
                    DoubleRows.softmaxRows(xd, 0, rowsD, 0, rows, n, log);
                    for (int r = 0; r < rows; r++) {
                        FloatRows.softmax(xf, r * n, oneF, r * n, n, log);
                        DoubleRows.softmax(xd, r * n, oneD, r * n, n, log);
                    }
                    assertArrayEquals(bits(oneF), bits(rowsF), what + " FLOAT32");
                    assertArrayEquals(bits(oneD), bits(rowsD), what + " FLOAT64");
                    float[] backRowsF = new float[size];
                    float[] backOneF = new float[size];
                    FloatRows.softmaxBackwardRows(gf, 0, oneF, 0, backRowsF, 0, rows, n, log);
                    double[] backRowsD = new double[size];
                    double[] backOneD = new double[size];
                    DoubleRows.softmaxBackwardRows(gd, 0, oneD, 0, backRowsD, 0, rows, n, log);
                    for (int r = 0; r < rows; r++) {
                        FloatRows.softmaxBackward(gf, r * n, oneF, r * n, backOneF, r * n, n, log);
                        DoubleRows.softmaxBackward(gd, r * n, oneD, r * n, backOneD, r * n, n, log);
                    }
                    assertArrayEquals(bits(backOneF), bits(backRowsF), what + " backward FLOAT32");
                    assertArrayEquals(bits(backOneD), bits(backRowsD), what + " backward FLOAT64");
                }
            }
        }
    }

    private static int[] bits(float[] values) {
        int[] bits = new int[values.length];
        for (int i = 0; i < values.length; i++) {
            bits[i] = Float.floatToIntBits(values[i]);
        }
        return bits;
    }

    private static long[] bits(double[] values) {
        long[] bits = new long[values.length];
        for (int i = 0; i < values.length; i++) {
            bits[i] = Double.doubleToLongBits(values[i]);
        }
        return bits;
    }

    @Test
    void layerNormForwardAndBackwardMatchThePlainLoops() {
        for (DType dtype : FLOATING) {
            for (int n : LENGTHS) {
                int rows = Math.min(rowsFor(n), 2000);
                double[] x = values(rows * n, n, -3, 5);
                double[] g = values(rows * n, n + 1, -1, 1);
                double[] w = values(n, n + 2, 0.5, 1.5);
                double[] b = values(n, n + 3, -1, 1);
                for (boolean affine : new boolean[] {false, true}) {
                    String what = "layerNorm " + dtype + " [" + rows + ", " + n + "]" + (affine ? " affine" : "");
                    double[][][] results = new double[2][][];
                    FusedKernels[] kernels = {PLAIN, VECTOR};
                    for (int k = 0; k < 2; k++) {
                        HeapStorage sw = affine ? storage(w, dtype) : null;
                        HeapStorage out = HeapStorage.allocate(dtype, rows * n);
                        HeapStorage mean = HeapStorage.allocate(dtype, rows);
                        HeapStorage rstd = HeapStorage.allocate(dtype, rows);
                        kernels[k].layerNorm(storage(x, dtype), 0, rows, n, sw, affine ? storage(b, dtype) : null, 1e-5,
                                out, mean, rstd);
                        HeapStorage gx = HeapStorage.allocate(dtype, rows * n);
                        HeapStorage gw = affine ? HeapStorage.allocate(dtype, n) : null;
                        HeapStorage gb = affine ? HeapStorage.allocate(dtype, n) : null;
                        kernels[k].layerNormBackward(storage(g, dtype), 0, storage(x, dtype), 0, mean, rstd, sw, rows,
                                n, gx, gw, gb);
                        results[k] = new double[][] {doubles(out), doubles(mean), doubles(rstd), doubles(gx),
                                affine ? doubles(gw) : new double[0], affine ? doubles(gb) : new double[0]};
                    }
                    String[] names = {"out", "mean", "rstd", "gradX", "gradWeight", "gradBias"};
                    for (int i = 0; i < names.length; i++) {
                        // Column sums over rows cancel: measured against the rows' magnitude, not the sum's.
                        double floor = i >= 4 ? 0.01 * rows : 0.01;
                        assertClose(what + " " + names[i], results[0][i], results[1][i], dtype, floor);
                    }
                }
            }
        }
    }

    @Test
    void columnSumsDoNotDependOnTheThreadsThatRan() {
        // Parts are fixed by the work: the same call twice gives bit-identical gradients.
        int rows = rowsFor(256);
        int n = 256;
        assertTrue(RowThreads.parts(rows, n) > 1, "the call must be split for this test to mean anything");
        double[] x = values(rows * n, 1, -3, 5);
        double[] g = values(rows * n, 2, -1, 1);
        double[][] gw = new double[2][];
        for (int k = 0; k < 2; k++) {
            HeapStorage mean = HeapStorage.allocate(DType.FLOAT32, rows);
            HeapStorage rstd = HeapStorage.allocate(DType.FLOAT32, rows);
            HeapStorage out = HeapStorage.allocate(DType.FLOAT32, rows * n);
            VECTOR.layerNorm(storage(x, DType.FLOAT32), 0, rows, n, null, null, 1e-5, out, mean, rstd);
            HeapStorage w = HeapStorage.allocate(DType.FLOAT32, n);
            VECTOR.layerNormBackward(storage(g, DType.FLOAT32), 0, storage(x, DType.FLOAT32), 0, mean, rstd, null,
                    rows, n, null, w, null);
            gw[k] = doubles(w);
        }
        for (int i = 0; i < n; i++) {
            assertEquals(gw[0][i], gw[1][i], 0.0, "gradWeight " + i);
        }
    }

    @Test
    void batchNormForwardAndBackwardMatchThePlainLoops() {
        // {batch, channels, inner}: one value per row, rows shorter than a vector, tails, a channel-split call.
        // Rows shorter than a vector go by columns: [N, C] inputs, and a column-split call of each kind.
        int[][] shapes = {{5, 3, 1}, {2, 3, 7}, {1, 3, 17}, {3, 4, 33}, {4, 5, 256},
                {2, 3, (int) (RowThreads.PARALLEL_ELEMENTS / 6 + 37)},
                {64, (int) (RowThreads.PARALLEL_ELEMENTS / 64 + 3), 1}, {8, (int) (RowThreads.PARALLEL_ELEMENTS / 40), 5}};
        for (DType dtype : FLOATING) {
            for (int[] shape : shapes) {
                int batch = shape[0];
                int channels = shape[1];
                int inner = shape[2];
                int size = batch * channels * inner;
                double[] x = values(size, inner, -3, 5);
                double[] g = values(size, inner + 1, -1, 1);
                double[] w = values(channels, 3, 0.5, 1.5);
                double[] b = values(channels, 4, -1, 1);
                double[] runningMean = values(channels, 5, -1, 1);
                double[] runningRstd = values(channels, 6, 0.5, 2);
                for (boolean training : new boolean[] {true, false}) {
                    for (boolean affine : new boolean[] {false, true}) {
                        String what = "batchNorm " + dtype + " [" + batch + ", " + channels + ", " + inner + "]"
                                + (training ? " training" : " eval") + (affine ? " affine" : "");
                        double[][][] results = new double[2][][];
                        FusedKernels[] kernels = {PLAIN, VECTOR};
                        for (int k = 0; k < 2; k++) {
                            HeapStorage sw = affine ? storage(w, dtype) : null;
                            HeapStorage out = HeapStorage.allocate(dtype, size);
                            HeapStorage mean = training ? HeapStorage.allocate(dtype, channels)
                                    : storage(runningMean, dtype);
                            HeapStorage rstd = training ? HeapStorage.allocate(dtype, channels)
                                    : storage(runningRstd, dtype);
                            HeapStorage variance = HeapStorage.allocate(dtype, channels);
                            kernels[k].batchNorm(storage(x, dtype), 0, batch, channels, inner, sw,
                                    affine ? storage(b, dtype) : null, training, 1e-5, out, mean, rstd, variance);
                            HeapStorage gx = HeapStorage.allocate(dtype, size);
                            HeapStorage gw = HeapStorage.allocate(dtype, channels);
                            HeapStorage gb = HeapStorage.allocate(dtype, channels);
                            kernels[k].batchNormBackward(storage(g, dtype), 0, storage(x, dtype), 0, mean, rstd, sw,
                                    training, batch, channels, inner, gx, gw, gb);
                            results[k] = new double[][] {doubles(out), doubles(mean), doubles(rstd),
                                    training ? doubles(variance) : new double[0], doubles(gx), doubles(gw),
                                    doubles(gb)};
                        }
                        String[] names = {"out", "mean", "rstd", "variance", "gradX", "gradWeight", "gradBias"};
                        for (int i = 0; i < names.length; i++) {
                            // Channel sums cancel: measured against the values' magnitude, not the sum's.
                            double floor = i >= 5 ? 0.01 * batch * inner : 0.01;
                            assertClose(what + " " + names[i], results[0][i], results[1][i], dtype, floor);
                        }
                    }
                }
            }
        }
    }

    @Test
    void batchNormChannelsDoNotDependOnTheThreadsThatRan() {
        // A call large enough to be split over threads against each channel alone in a call of its own:
        // every channel's results are bit-identical, so no split (no thread count) changes them. By
        // channels (long rows) and by columns (rows of 1 and 3, the columns split anywhere).
        int[][] shapes = {{3, 5, (int) (RowThreads.PARALLEL_ELEMENTS / 4)},
                {64, (int) (RowThreads.PARALLEL_ELEMENTS / 64 + 5), 1}, {16, (int) (RowThreads.PARALLEL_ELEMENTS / 40), 3}};
        for (int[] shape : shapes) {
            for (DType dtype : FLOATING) {
                assertChannelsComputedAlone(shape[0], shape[1], shape[2], dtype);
            }
        }
    }

    private static void assertChannelsComputedAlone(int batch, int channels, int inner, DType dtype) {
        assertTrue(RowThreads.parts(channels, batch * inner) > 1, "the call must be split for this test to mean anything");
        {
            int size = batch * channels * inner;
            double[] x = values(size, 7, 90, 110);
            double[] g = values(size, 8, -1, 1);
            HeapStorage out = HeapStorage.allocate(dtype, size);
            HeapStorage mean = HeapStorage.allocate(dtype, channels);
            HeapStorage rstd = HeapStorage.allocate(dtype, channels);
            VECTOR.batchNorm(storage(x, dtype), 0, batch, channels, inner, null, null, true, 1e-5, out, mean, rstd,
                    null);
            HeapStorage gx = HeapStorage.allocate(dtype, size);
            HeapStorage gw = HeapStorage.allocate(dtype, channels);
            VECTOR.batchNormBackward(storage(g, dtype), 0, storage(x, dtype), 0, mean, rstd, null, true, batch,
                    channels, inner, gx, gw, null);
            for (int c = 0; c < channels; c++) {
                double[] xc = new double[batch * inner];
                double[] gc = new double[batch * inner];
                for (int n = 0; n < batch; n++) {
                    System.arraycopy(x, (n * channels + c) * inner, xc, n * inner, inner);
                    System.arraycopy(g, (n * channels + c) * inner, gc, n * inner, inner);
                }
                HeapStorage out1 = HeapStorage.allocate(dtype, batch * inner);
                HeapStorage mean1 = HeapStorage.allocate(dtype, 1);
                HeapStorage rstd1 = HeapStorage.allocate(dtype, 1);
                VECTOR.batchNorm(storage(xc, dtype), 0, batch, 1, inner, null, null, true, 1e-5, out1, mean1, rstd1,
                        null);
                HeapStorage gx1 = HeapStorage.allocate(dtype, batch * inner);
                HeapStorage gw1 = HeapStorage.allocate(dtype, 1);
                VECTOR.batchNormBackward(storage(gc, dtype), 0, storage(xc, dtype), 0, mean1, rstd1, null, true,
                        batch, 1, inner, gx1, gw1, null);
                String what = dtype + " [" + batch + ", " + channels + ", " + inner + "] channel " + c;
                assertEquals(mean.get(c), mean1.get(0), 0.0, what + " mean");
                assertEquals(rstd.get(c), rstd1.get(0), 0.0, what + " rstd");
                assertEquals(gw.get(c), gw1.get(0), 0.0, what + " gradWeight");
                for (int n = 0; n < batch; n++) {
                    for (int i = 0; i < inner; i++) {
                        int at = (n * channels + c) * inner + i;
                        assertEquals(out.get(at), out1.get(n * inner + i), 0.0, what + " out");
                        assertEquals(gx.get(at), gx1.get(n * inner + i), 0.0, what + " gradX");
                    }
                }
            }
        }
    }

    /**
     * The optimizer updates, vector against plain loops, bit for bit: every SGD and Adam variant, lengths
     * with and without vector tails and one of several pieces (split over threads), each storage read at
     * its own offset (the elements before it must stay untouched), four steps with the state carried.
     */
    @Test
    void optimizerStepsMatchThePlainLoopsBitForBit() {
        int[] lengths = {0, 1, 17, 33, 1000, 2 * SimdBackend.RUN_PIECE + 9};
        // {lr, momentum, dampening, weightDecay, nesterov}
        double[][] sgd = {{0.1, 0, 0, 0, 0}, {0.1, 0, 0, 0.01, 0}, {0.1, 0.9, 0, 0, 0}, {0.1, 0.9, 0.3, 0, 0},
                {0.05, 0.9, 0.1, 0.02, 0}, {0.1, 0.9, 0, 0, 1}, {0.1, 0.8, 0, 0.03, 1}};
        // {lr, beta1, beta2, eps, weightDecay, amsgrad, decoupled}
        double[][] adam = {{1e-2, 0.9, 0.999, 1e-8, 0, 0, 0}, {1e-2, 0.8, 0.99, 1e-6, 0.1, 0, 0},
                {1e-2, 0.9, 0.999, 1e-8, 0, 1, 0}, {1e-2, 0.9, 0.999, 1e-8, 0.01, 0, 1},
                {3e-3, 0.85, 0.995, 1e-7, 0.05, 1, 1}};
        int[] offsets = {3, 5, 7, 9, 11};
        for (DType dtype : FLOATING) {
            for (int n : lengths) {
                for (double[] h : sgd) {
                    HeapStorage[][] st = new HeapStorage[2][];
                    for (int k = 0; k < 2; k++) {
                        st[k] = new HeapStorage[] {storage(values(n + 3, 1, -2, 2), dtype),
                                storage(values(n + 5, 2, -1, 1), dtype), HeapStorage.allocate(dtype, n + 7)};
                    }
                    for (int step = 1; step <= 4; step++) {
                        double[] g = values(n + 5, 10 + step, -1, 1);
                        FusedKernels[] kernels = {PLAIN, VECTOR};
                        for (int k = 0; k < 2; k++) {
                            st[k][1] = storage(g, dtype);
                            kernels[k].sgdStep(st[k][0], offsets[0], st[k][1], offsets[1], h[1] != 0 ? st[k][2] : null,
                                    offsets[2], n, h[0], h[1], h[2], h[3], h[4] != 0, step == 1);
                        }
                        String what = "sgdStep " + Arrays.toString(h) + " " + dtype + " n=" + n + " step " + step;
                        assertArrayEquals(doubles(st[0][0]), doubles(st[1][0]), what);
                        assertArrayEquals(doubles(st[0][2]), doubles(st[1][2]), what);
                    }
                }
                for (double[] h : adam) {
                    boolean amsgrad = h[5] != 0;
                    HeapStorage[][] st = new HeapStorage[2][];
                    for (int k = 0; k < 2; k++) {
                        st[k] = new HeapStorage[] {storage(values(n + 3, 1, -2, 2), dtype), null,
                                HeapStorage.allocate(dtype, n + 7), HeapStorage.allocate(dtype, n + 9),
                                HeapStorage.allocate(dtype, n + 11)};
                    }
                    for (int step = 1; step <= 4; step++) {
                        double[] g = values(n + 5, 20 + step, -1, 1);
                        double stepSize = h[0] / (1 - Math.pow(h[1], step));
                        double correction = Math.sqrt(1 - Math.pow(h[2], step));
                        FusedKernels[] kernels = {PLAIN, VECTOR};
                        for (int k = 0; k < 2; k++) {
                            st[k][1] = storage(g, dtype);
                            kernels[k].adamStep(st[k][0], offsets[0], st[k][1], offsets[1], st[k][2], offsets[2], st[k][3],
                                    offsets[3], amsgrad ? st[k][4] : null, offsets[4], n, h[0], h[1], h[2], h[3], h[4],
                                    h[6] != 0, stepSize, correction);
                        }
                        String what = "adamStep " + Arrays.toString(h) + " " + dtype + " n=" + n + " step " + step;
                        for (int s = 0; s < 5; s++) {
                            if (s != 1) {
                                assertArrayEquals(doubles(st[0][s]), doubles(st[1][s]),
                                        what + " storage " + s);
                            }
                        }
                    }
                }
            }
        }
    }

    /**
     * ReLU's fused backward is the select {@code y > 0 ? g : +0} bit for bit, as the plain loop and the
     * composite {@code where(y > 0, g, 0)}: infinities and NaNs of g where y is not positive give +0, a NaN
     * y gives +0, a -0 gradient where y > 0 stays -0; at lengths around the lane count, past the size at
     * which a call is split over threads, from offsets, and written over the gradient itself.
     */
    @Test
    void reluBackwardIsTheSelectOfTheComposite() {
        double[] special = {0.0, -0.0, 1.5, -2.5, Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY,
                Double.MIN_VALUE, -Double.MIN_VALUE, 3e-39};
        int[] lengths = {0, 1, 15, 16, 17, 33, 1000, 2 * SimdBackend.RUN_PIECE + 9};
        for (DType dtype : FLOATING) {
            for (int n : lengths) {
                double[] g = values(n + 3, 31, -3, 3);
                double[] y = values(n + 5, 32, -1, 1);
                for (int i = 0; i < n; i++) {
                    if (i % 3 == 0) {
                        g[3 + i] = special[i / 3 % special.length];
                    }
                    if (i % 4 == 1) {
                        y[5 + i] = special[(i / 4 + 3) % special.length];
                    }
                }
                HeapStorage gs = storage(g, dtype);
                HeapStorage ys = storage(y, dtype);
                double[] expected = new double[n];
                for (int i = 0; i < n; i++) {
                    expected[i] = ys.get(5 + i) > 0 ? gs.get(3 + i) : 0.0;
                }
                String what = "reluBackward " + dtype + " n=" + n;
                for (FusedKernels kernels : new FusedKernels[] {PLAIN, VECTOR}) {
                    HeapStorage out = HeapStorage.allocate(dtype, n + 7);
                    kernels.reluBackward(gs, 3, ys, 5, out, 7, n);
                    assertArrayEquals(expected, Arrays.copyOfRange(doubles(out), 7, 7 + n), what + " " + kernels);
                }
                HeapStorage inPlace = storage(g, dtype);
                VECTOR.reluBackward(inPlace, 3, ys, 5, inPlace, 3, n);
                assertArrayEquals(expected, Arrays.copyOfRange(doubles(inPlace), 3, 3 + n), what + " in place");
            }
        }
    }

    private static HeapStorage storage(double[] values, DType dtype) {
        HeapStorage s = HeapStorage.allocate(dtype, values.length);
        for (int i = 0; i < values.length; i++) {
            s.set(i, values[i]);
        }
        return s;
    }

    private static double[] doubles(HeapStorage s) {
        double[] v = new double[s.size()];
        for (int i = 0; i < v.length; i++) {
            v[i] = s.get(i);
        }
        return v;
    }

    private static double[] values(int n, long seed, double lo, double hi) {
        Random random = new Random(seed);
        double[] v = new double[n];
        for (int i = 0; i < n; i++) {
            v[i] = lo + (hi - lo) * random.nextDouble();
        }
        return v;
    }

    /**
     * NaN where the plain loop gives NaN; otherwise FLOAT64 within 1e-12 and FLOAT32 within 2e-5 of the
     * larger of |expected| and {@code floor} (FLOAT32 sums run in float lanes, and the outputs are O(1)
     * or gradients scaled by O(1) row statistics).
     */
    private static void assertClose(String what, double[] expected, double[] actual, DType dtype, double floor) {
        assertEquals(expected.length, actual.length, what + ": element count");
        double tol = dtype == DType.FLOAT64 ? 1e-12 : 2e-5;
        for (int i = 0; i < expected.length; i++) {
            double e = expected[i];
            double a = actual[i];
            boolean ok = Double.isNaN(e) ? Double.isNaN(a)
                    : Double.isInfinite(e) ? e == a
                    : Math.abs(a - e) <= tol * Math.max(Math.abs(e), floor);
            if (!ok) {
                throw new AssertionError(what + ": element " + i + " is " + a + " but the plain loop gives " + e);
            }
        }
    }
}
