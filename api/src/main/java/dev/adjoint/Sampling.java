package dev.adjoint;

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
