package dev.adjoint.engine.nd4j;

import dev.adjoint.DType;
import dev.adjoint.spi.FusedKernels;

import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;

/**
 * The SPI's fused batch norm ({@link FusedKernels#batchNorm}, {@link FusedKernels#batchNormBackward}) as
 * loops over the native buffers, a channel at a time, sums in double: the plain loops of
 * {@code HeapFusedKernels} on ND4J's memory (FLOAT32 widened to double and rounded once on the way out).
 *
 * <p>libnd4j has batch norm ops, but they cost more than these loops: {@code batchnorm} only normalises,
 * so the batch statistics need reductions of their own first, and {@code batchnorm_bp} runs as a chain of
 * broadcast ops and reductions, 3-13x these loops' time on the CNN's shapes (docs/nd4j.md). It also
 * scales by {@code 1 / N} computed in float, a relative error near 1e-8 in FLOAT64's input gradient, and
 * sums FLOAT32 in float.
 */
final class BatchNormLoops {
    private BatchNormLoops() {
    }

    /** x at {@code offset} viewed as {@code [batch, channels, inner]}; per-channel vectors from element 0. */
    static void forward(Nd4jStorage x, int offset, int batch, int channels, int inner, Nd4jStorage weight,
                        Nd4jStorage bias, boolean training, double eps, Nd4jStorage out, Nd4jStorage mean,
                        Nd4jStorage rstd, Nd4jStorage variance) {
        boolean f32 = x.dtype() == DType.FLOAT32;
        FloatBuffer xf = f32 ? BufferLoops.bytes(x).asFloatBuffer() : null;
        DoubleBuffer xd = f32 ? null : BufferLoops.bytes(x).asDoubleBuffer();
        FloatBuffer of = f32 ? BufferLoops.bytes(out).asFloatBuffer() : null;
        DoubleBuffer od = f32 ? null : BufferLoops.bytes(out).asDoubleBuffer();
        double[] w = weight == null ? null : values(weight, channels);
        double[] b = bias == null ? null : values(bias, channels);
        double[] mu = training ? new double[channels] : values(mean, channels);
        double[] inv = training ? new double[channels] : values(rstd, channels);
        double[] var = new double[channels];
        int stride = channels * inner;
        double count = (double) batch * inner;
        for (int c = 0; c < channels; c++) {
            if (training) {
                double sum = 0;
                for (int n = 0; n < batch; n++) {
                    for (int i = 0, at = offset + n * stride + c * inner; i < inner; i++) {
                        sum += f32 ? xf.get(at + i) : xd.get(at + i);
                    }
                }
                mu[c] = sum / count;
                // Two passes: the mean square of the centred values, not E[x^2] - E[x]^2, which cancels.
                double squares = 0;
                for (int n = 0; n < batch; n++) {
                    for (int i = 0, at = offset + n * stride + c * inner; i < inner; i++) {
                        double d = (f32 ? xf.get(at + i) : xd.get(at + i)) - mu[c];
                        squares += d * d;
                    }
                }
                var[c] = squares / count;
                inv[c] = 1.0 / Math.sqrt(var[c] + eps);
            }
            double scale = w != null ? inv[c] * w[c] : inv[c];
            double shift = b != null ? b[c] : 0;
            for (int n = 0; n < batch; n++) {
                for (int i = 0, at = n * stride + c * inner; i < inner; i++) {
                    if (f32) {
                        of.put(at + i, (float) ((xf.get(offset + at + i) - mu[c]) * scale + shift));
                    } else {
                        od.put(at + i, (xd.get(offset + at + i) - mu[c]) * scale + shift);
                    }
                }
            }
        }
        if (training) {
            store(mu, mean);
            store(inv, rstd);
            if (variance != null) {
                store(var, variance);
            }
        }
    }

    /**
     * gradX = k (g - mean(g) - xhat mean(g xhat)) with k = rstd * weight, written as
     * {@code g k + (x - mean) slope + shift} per channel (slope and shift 0 outside training).
     */
    static void backward(Nd4jStorage grad, int gradOffset, Nd4jStorage x, int xOffset, Nd4jStorage mean,
                         Nd4jStorage rstd, Nd4jStorage weight, boolean training, int batch, int channels, int inner,
                         Nd4jStorage gradX, Nd4jStorage gradWeight, Nd4jStorage gradBias) {
        boolean f32 = x.dtype() == DType.FLOAT32;
        FloatBuffer xf = f32 ? BufferLoops.bytes(x).asFloatBuffer() : null;
        DoubleBuffer xd = f32 ? null : BufferLoops.bytes(x).asDoubleBuffer();
        FloatBuffer gf = f32 ? BufferLoops.bytes(grad).asFloatBuffer() : null;
        DoubleBuffer gd = f32 ? null : BufferLoops.bytes(grad).asDoubleBuffer();
        FloatBuffer of = gradX != null && f32 ? BufferLoops.bytes(gradX).asFloatBuffer() : null;
        DoubleBuffer od = gradX != null && !f32 ? BufferLoops.bytes(gradX).asDoubleBuffer() : null;
        double[] mu = values(mean, channels);
        double[] inv = values(rstd, channels);
        double[] w = weight == null ? null : values(weight, channels);
        double[] sumG = new double[channels];
        double[] sumGX = new double[channels];
        int stride = channels * inner;
        double count = (double) batch * inner;
        boolean sums = training && gradX != null || gradWeight != null || gradBias != null;
        for (int c = 0; c < channels; c++) {
            if (sums) {
                double sg = 0;
                double sgx = 0;
                for (int n = 0; n < batch; n++) {
                    int at = n * stride + c * inner;
                    for (int i = 0; i < inner; i++) {
                        double gi = f32 ? gf.get(gradOffset + at + i) : gd.get(gradOffset + at + i);
                        double xi = f32 ? xf.get(xOffset + at + i) : xd.get(xOffset + at + i);
                        sg += gi;
                        sgx += gi * (xi - mu[c]);
                    }
                }
                sumG[c] = sg;
                sumGX[c] = sgx;
            }
            if (gradX == null) {
                continue;
            }
            double k = w != null ? inv[c] * w[c] : inv[c];
            double slope = training ? -k * inv[c] * inv[c] * sumGX[c] / count : 0;
            double shift = training ? -k * sumG[c] / count : 0;
            for (int n = 0; n < batch; n++) {
                int at = n * stride + c * inner;
                for (int i = 0; i < inner; i++) {
                    double gi = f32 ? gf.get(gradOffset + at + i) : gd.get(gradOffset + at + i);
                    double xi = f32 ? xf.get(xOffset + at + i) : xd.get(xOffset + at + i);
                    double v = gi * k + (xi - mu[c]) * slope + shift;
                    if (f32) {
                        of.put(at + i, (float) v);
                    } else {
                        od.put(at + i, v);
                    }
                }
            }
        }
        if (gradWeight != null) {
            for (int c = 0; c < channels; c++) {
                sumGX[c] *= inv[c];
            }
            store(sumGX, gradWeight);
        }
        if (gradBias != null) {
            store(sumG, gradBias);
        }
    }

    /** The first {@code n} elements of a per-channel vector. */
    private static double[] values(Nd4jStorage s, int n) {
        return s.buffer().getDoublesAt(0, n);
    }

    /** Writes {@code values} to the first elements of {@code s}, rounded to its dtype. */
    private static void store(double[] values, Nd4jStorage s) {
        if (s.dtype() == DType.FLOAT32) {
            FloatBuffer f = BufferLoops.bytes(s).asFloatBuffer();
            for (int i = 0; i < values.length; i++) {
                f.put(i, (float) values[i]);
            }
        } else {
            BufferLoops.bytes(s).asDoubleBuffer().put(0, values);
        }
    }
}
