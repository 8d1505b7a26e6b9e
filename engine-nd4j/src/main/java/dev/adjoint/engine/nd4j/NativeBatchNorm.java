package dev.adjoint.engine.nd4j;

import dev.adjoint.DType;
import dev.adjoint.Shape;
import dev.adjoint.spi.FusedKernels;
import dev.adjoint.spi.Layout;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.DynamicCustomOp;
import org.nd4j.linalg.api.ops.impl.summarystats.Variance;
import org.nd4j.linalg.factory.Nd4j;

import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * The SPI's fused batch norm ({@link FusedKernels#batchNorm}, {@link FusedKernels#batchNormBackward}) through
 * libnd4j's {@code batchnorm} and {@code batchnorm_bp} on the {@code [batch, channels, inner]} view, channel
 * axis 1: 2-7x less time than the api's composite of reductions and elementwise ops (docs/nd4j.md).
 *
 * <p>libnd4j's {@code batchnorm} only normalises with the mean and variance it is given, as DL4J's layer
 * uses it; the batch statistics come first. Their mean is summed here in double for FLOAT32 (libnd4j sums
 * float in float: relative error near 1e-5 over 50,000 values per channel, where the api's reductions sum
 * in double), their biased variance by libnd4j's variance, which is centred on its own mean and accurate.
 * {@code batchnorm_bp} gives the training-mode gradient, the batch statistics' dependence on x included
 * (the SPI's formula); its sums over each channel run in the dtype, so FLOAT32 weight and bias gradients
 * carry relative errors near 1e-5 at that size, as float accumulation does in PyTorch.
 *
 * <p>Where the SPI hands over {@code rstd} instead of the variance (evaluation, and the backward), libnd4j
 * gets the variance {@code 1 / rstd^2} with epsilon 0, so that its {@code 1 / sqrt(variance + epsilon)}
 * gives {@code rstd} back within a few ulps. In evaluation the output is affine in x with slope
 * {@code rstd * weight} per channel: the input gradient is {@code batchnorm} of the output gradient
 * with mean 0, and {@code batchnorm_bp} (whose weight and bias gradients are evaluation's too) gives only those.
 */
final class NativeBatchNorm {
    private NativeBatchNorm() {
    }

    static void forward(Nd4jStorage x, int offset, int batch, int channels, int inner, Nd4jStorage weight,
                        Nd4jStorage bias, boolean training, double eps, Nd4jStorage out, Nd4jStorage mean,
                        Nd4jStorage rstd, Nd4jStorage variance) {
        INDArray xv = x.createView(volume(batch, channels, inner, offset), 'c');
        INDArray meanV = mean.view(perChannel(channels));
        INDArray rstdV = rstd.view(perChannel(channels));
        DType dtype = x.dtype();
        try (Temporaries temps = new Temporaries(dtype, channels)) {
            INDArray varianceV;
            double epsilon;
            if (training) {
                varianceV = variance != null ? variance.view(perChannel(channels)) : temps.array();
                channelMeans(x, offset, batch, channels, inner, meanV);
                Nd4j.getExecutioner().exec(new Variance(xv, varianceV, false, 0, 2));
                for (int c = 0; c < channels; c++) {
                    rstdV.putScalar(c, 1.0 / Math.sqrt(varianceV.getDouble(c) + eps));
                }
                epsilon = eps;
            } else {
                varianceV = varianceOf(rstdV, temps.array(), channels);
                epsilon = 0;
            }
            normalize(xv, meanV, varianceV, epsilon, weight == null ? null : weight.view(perChannel(channels)),
                    bias == null ? null : bias.view(perChannel(channels)), out.createView(
                            volume(batch, channels, inner, 0), 'c'), temps);
        }
    }

    static void backward(Nd4jStorage grad, int gradOffset, Nd4jStorage x, int xOffset, Nd4jStorage mean,
                         Nd4jStorage rstd, Nd4jStorage weight, boolean training, int batch, int channels, int inner,
                         Nd4jStorage gradX, Nd4jStorage gradWeight, Nd4jStorage gradBias) {
        DType dtype = x.dtype();
        INDArray g = grad.createView(volume(batch, channels, inner, gradOffset), 'c');
        INDArray meanV = mean.view(perChannel(channels));
        INDArray w = weight == null ? null : weight.view(perChannel(channels));
        try (Temporaries temps = new Temporaries(dtype, channels)) {
            INDArray variance = varianceOf(rstd.view(perChannel(channels)), temps.array(), channels);
            INDArray gx = gradX == null ? null : gradX.createView(volume(batch, channels, inner, 0), 'c');
            if (training || gradWeight != null || gradBias != null) {
                INDArray inputGrad = training && gx != null ? gx : temps.volume(batch, inner);
                INDArray gamma = w != null ? w : temps.filled(1.0);
                Nd4j.exec(DynamicCustomOp.builder("batchnorm_bp")
                        .addInputs(x.createView(volume(batch, channels, inner, xOffset), 'c'), meanV, variance, gamma,
                                temps.filled(0.0), g)
                        .addOutputs(inputGrad, temps.array(), temps.array(),
                                gradWeight != null ? gradWeight.view(perChannel(channels)) : temps.array(),
                                gradBias != null ? gradBias.view(perChannel(channels)) : temps.array())
                        .addIntegerArguments(1, 1, 1).addFloatingPointArguments(0.0).build());
            }
            if (!training && gx != null) {
                normalize(g, temps.filled(0.0), variance, 0, w, null, gx, temps);
            }
        }
    }

    /** {@code out = (x - mean) / sqrt(variance + epsilon) * weight + bias} per channel (axis 1). */
    private static void normalize(INDArray x, INDArray mean, INDArray variance, double epsilon, INDArray weight,
                                  INDArray bias, INDArray out, Temporaries temps) {
        // libnd4j takes gamma and beta by position, so one left out is passed as the identity.
        boolean affine = weight != null || bias != null;
        INDArray[] inputs = affine
                ? new INDArray[] {x, mean, variance, weight != null ? weight : temps.filled(1.0),
                        bias != null ? bias : temps.filled(0.0)}
                : new INDArray[] {x, mean, variance};
        Nd4j.exec(DynamicCustomOp.builder("batchnorm").addInputs(inputs).addOutputs(out)
                .addIntegerArguments(affine ? 1 : 0, affine ? 1 : 0, 1).addFloatingPointArguments(epsilon).build());
    }

    /** {@code 1 / rstd^2} per channel, the variance for which libnd4j computes {@code rstd} with epsilon 0. */
    private static INDArray varianceOf(INDArray rstd, INDArray into, int channels) {
        for (int c = 0; c < channels; c++) {
            double r = rstd.getDouble(c);
            into.putScalar(c, 1.0 / (r * r));
        }
        return into;
    }

    /** Each channel's mean over batch and inner, summed in double (one contiguous row of inner per batch entry). */
    private static void channelMeans(Nd4jStorage x, int offset, int batch, int channels, int inner, INDArray mean) {
        double[] sums = new double[channels];
        if (x.dtype() == DType.FLOAT32) {
            FloatBuffer in = BufferLoops.bytes(x).asFloatBuffer();
            for (int n = 0; n < batch; n++) {
                for (int c = 0; c < channels; c++) {
                    sums[c] += BufferLoops.rowSum(in, offset + (n * channels + c) * inner, 1, inner);
                }
            }
        } else {
            DoubleBuffer in = BufferLoops.bytes(x).asDoubleBuffer();
            for (int n = 0; n < batch; n++) {
                for (int c = 0; c < channels; c++) {
                    for (int i = 0, at = offset + (n * channels + c) * inner; i < inner; i++) {
                        sums[c] += in.get(at + i);
                    }
                }
            }
        }
        double count = (double) batch * inner;
        for (int c = 0; c < channels; c++) {
            mean.putScalar(c, sums[c] / count);
        }
    }

    private static Layout volume(int batch, int channels, int inner, int offset) {
        return new Layout(Shape.of(batch, channels, inner), new int[] {channels * inner, inner, 1}, offset);
    }

    private static Layout perChannel(int channels) {
        return Layout.contiguous(Shape.of(channels));
    }

    /** libnd4j arrays for one call (per-channel constants, outputs nobody asked for), freed when it returns. */
    private static final class Temporaries implements AutoCloseable {
        private final DataType type;
        private final int channels;
        private final List<INDArray> arrays = new ArrayList<>();

        Temporaries(DType dtype, int channels) {
            this.type = Nd4jStorage.nd4jType(dtype);
            this.channels = channels;
        }

        /** {@code [channels]}, contents unspecified. */
        INDArray array() {
            return keep(Nd4j.createUninitialized(type, channels));
        }

        /** {@code [channels]} holding {@code value}. */
        INDArray filled(double value) {
            return keep(Nd4j.valueArrayOf(new long[] {channels}, value, type));
        }

        /** {@code [batch, channels, inner]}, contents unspecified. */
        INDArray volume(int batch, int inner) {
            return keep(Nd4j.createUninitialized(type, batch, channels, inner));
        }

        private INDArray keep(INDArray array) {
            arrays.add(array);
            return array;
        }

        @Override
        public void close() {
            for (INDArray a : arrays) {
                a.close();
            }
        }
    }
}
