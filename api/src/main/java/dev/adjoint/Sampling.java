package dev.adjoint;

import dev.adjoint.spi.Backend;
import dev.adjoint.spi.FusedKernels;
import dev.adjoint.spi.Layout;
import dev.adjoint.spi.Storage;

import java.util.Arrays;

/**
 * Random draws whose values do not depend on the backend: the generator's numbers are drawn on the
 * host in row-major order and the result is built from them, so every backend gives the same tensor for
 * the same generator state (the replay of {@code Autograd.checkpoint} included).
 */
final class Sampling {
    private Sampling() {
    }

    static Tensor randint(TensorFactory f, long low, long high, Generator generator, Shape shape) {
        if (high <= low) {
            throw new IllegalArgumentException("randint: need low < high, got low=" + low + " high=" + high);
        }
        long[] values = new long[shape.numel()];
        generator.aboutToDraw();
        for (int i = 0; i < values.length; i++) {
            values[i] = low + generator.nextLong(high - low);
        }
        return f.fromArray(values, shape.toArray());
    }

    /**
     * The mask of inverted dropout for a tensor of {@code shape}: one uniform draw per element in
     * row-major order, the element kept where the draw, rounded to {@code dtype}, is at least
     * {@code p} rounded to {@code dtype}, and then worth {@code 1 / (1 - p)} in {@code dtype}; 0
     * where dropped. These are the values of {@code rand(...).ge(p).toType(dtype).mul(1 / (1 - p))}
     * bit for bit, made in one pass instead of four over the tensor (and without the FLOAT64 array of
     * every draw that {@code rand} builds), as PyTorch draws its dropout mask in one kernel: by the
     * backend's fused kernel where it offers one ({@link FusedKernels#dropoutMask}, e.g. in vectors
     * on several threads), else on the host. For {@code 0 < p < 1}.
     */
    static Tensor dropoutMask(Backend backend, DType dtype, Shape shape, double p, Generator generator) {
        int n = shape.numel();
        double kept = 1.0 / (1.0 - p);
        boolean single = dtype == DType.FLOAT32;
        long threshold = single ? smallestDrawAtLeast(k -> (float) (k * 0x1p-53) >= (float) p)
                : smallestDrawAtLeast(k -> k * 0x1p-53 >= p);
        Storage storage;
        generator.aboutToDraw();
        FusedKernels fused = FusedKernels.offered(backend, FusedKernels.Kernel.DROPOUT_MASK, dtype);
        if (fused != null) {
            storage = backend.allocateForOverwrite(dtype, n);
            long gamma = generator.gamma();
            fused.dropoutMask(generator.skipDraws(n), gamma, threshold, single ? (float) kept : kept, storage, n);
        } else if (single) {
            float[] mask = new float[n];
            generator.fillWhereAtLeast(threshold, (float) kept, mask);
            storage = backend.fromFloats(mask);
        } else {
            double[] mask = new double[n];
            generator.fillWhereAtLeast(threshold, kept, mask);
            storage = backend.fromDoubles(mask, dtype);
        }
        return Tensor.fromStorage(storage, Layout.contiguous(shape), backend);
    }

    /**
     * The smallest 53-bit {@code k} whose draw {@code k * 2^-53} passes {@code atLeast}, a comparison
     * that holds from some draw on (rounding to FLOAT32 keeps the draws in order), found by bisection;
     * so comparing {@code k} with it decides exactly what the comparison of the rounded draw would.
     */
    private static long smallestDrawAtLeast(java.util.function.LongPredicate atLeast) {
        long low = 0;
        long high = 1L << 53; // draws are below 1, and 1 is at least every p of a dropout
        while (low < high) {
            long mid = (low + high) >>> 1;
            if (atLeast.test(mid)) {
                high = mid;
            } else {
                low = mid + 1;
            }
        }
        return low;
    }

    static Tensor bernoulli(Tensor p, Generator generator) {
        if (!p.dtype().isFloatingPoint()) {
            throw new DTypeMismatchException("bernoulli: the probabilities must be FLOAT32 or FLOAT64, got " + p.dtype()
                    + " with shape " + p.shape());
        }
        double[] probabilities = p.toDoubleArray();
        for (int i = 0; i < probabilities.length; i++) {
            if (!(probabilities[i] >= 0 && probabilities[i] <= 1)) {
                throw new IllegalArgumentException("bernoulli: probability " + probabilities[i] + " at position "
                        + Arrays.toString(p.shape().unravel(i)) + " is outside [0, 1] (shape " + p.shape() + ")");
            }
        }
        double[] draws = new double[probabilities.length];
        generator.aboutToDraw();
        for (int i = 0; i < draws.length; i++) {
            draws[i] = generator.nextUniform() < probabilities[i] ? 1 : 0;
        }
        return Tensor.on(p.backend()).fromArray(draws, p.dtype(), p.shape().toArray());
    }

    static Tensor multinomial(Tensor weights, int numSamples, boolean replacement, Generator generator) {
        String shape = " (shape " + weights.shape() + ")";
        if (!weights.dtype().isFloatingPoint()) {
            throw new DTypeMismatchException("multinomial: the weights must be FLOAT32 or FLOAT64, got " + weights.dtype()
                    + shape);
        }
        if (weights.rank() != 1 && weights.rank() != 2) {
            throw new IllegalArgumentException("multinomial: the weights must be 1-D or 2-D" + shape);
        }
        int categories = weights.size(-1);
        if (numSamples <= 0) {
            throw new IllegalArgumentException("multinomial: cannot draw " + numSamples + " samples" + shape);
        }
        if (!replacement && numSamples > categories) {
            throw new IllegalArgumentException("multinomial: cannot draw " + numSamples + " samples from " + categories
                    + " categories without replacement" + shape);
        }
        int rows = weights.rank() == 1 ? 1 : weights.size(0);
        double[] all = weights.toDoubleArray();
        long[] drawn = new long[rows * numSamples];
        generator.aboutToDraw();
        for (int r = 0; r < rows; r++) {
            double[] w = Arrays.copyOfRange(all, r * categories, (r + 1) * categories);
            int nonZero = 0;
            for (int c = 0; c < categories; c++) {
                if (!(w[c] >= 0) || Double.isInfinite(w[c])) {
                    throw new IllegalArgumentException("multinomial: weight " + w[c] + " of category " + c
                            + (rows > 1 ? " in row " + r : "") + " is not a finite number >= 0" + shape);
                }
                nonZero += w[c] > 0 ? 1 : 0;
            }
            if (nonZero == 0) {
                throw new IllegalArgumentException("multinomial: the weights" + (rows > 1 ? " of row " + r : "")
                        + " sum to 0" + shape);
            }
            if (!replacement && nonZero < numSamples) {
                throw new IllegalArgumentException("multinomial: only " + nonZero + " categories" + (rows > 1 ? " of row " + r : "")
                        + " have a weight above 0, too few to draw " + numSamples + " without replacement" + shape);
            }
            for (int s = 0; s < numSamples; s++) {
                int c = draw(w, generator.nextUniform());
                drawn[r * numSamples + s] = c;
                if (!replacement) {
                    w[c] = 0;
                }
            }
        }
        Tensor out = Tensor.on(weights.backend()).fromArray(drawn, rows * numSamples);
        return weights.rank() == 1 ? out : out.reshape(rows, numSamples);
    }

    /** The category whose share of the running total first exceeds {@code u} in [0, 1). */
    private static int draw(double[] w, double u) {
        double total = 0;
        for (double v : w) {
            total += v;
        }
        double target = u * total;
        double running = 0;
        int last = -1;
        for (int c = 0; c < w.length; c++) {
            if (w[c] > 0) {
                running += w[c];
                last = c;
                if (running > target) {
                    return c;
                }
            }
        }
        // Rounding left the running total at or below the target: the last category with weight.
        return last;
    }
}
