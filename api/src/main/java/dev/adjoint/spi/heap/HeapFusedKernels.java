package dev.adjoint.spi.heap;

import dev.adjoint.DType;
import dev.adjoint.Shape;
import dev.adjoint.spi.FusedKernels;
import dev.adjoint.spi.Layout;
import dev.adjoint.spi.StridedCursor;
import dev.adjoint.spi.Storage;

/**
 * {@link FusedKernels} over heap arrays as plain loops: one pass per row, sums in double, no
 * temporaries. Offers every kernel but attention's and the dropout mask's. A backend with vector kernels overrides
 * the rows it can do faster and keeps these for the rest.
 */
public class HeapFusedKernels implements FusedKernels {

    @Override
    public boolean offers(Kernel kernel, DType dtype) {
        // Attention has no plain loops here: a loop per score would be slower than the composite's GEMMs.
        // The dropout mask's plain loop is the api's own (Generator), which runs when no kernel is offered.
        return kernel != Kernel.ATTENTION && kernel != Kernel.ATTENTION_BACKWARD && kernel != Kernel.DROPOUT_MASK;
    }

    @Override
    public void softmax(Storage x, Layout xLayout, boolean log, Storage out, Layout outLayout) {
        HeapStorage in = (HeapStorage) x;
        HeapStorage o = (HeapStorage) out;
        int n = lastSize(xLayout);
        int stride = lastStride(xLayout);
        StridedCursor c = rows(xLayout);
        int rows = rowCount(xLayout);
        for (int r = 0; r < rows; r++, c.advance()) {
            softmaxRow(in, c.position[0], stride, o, outLayout.offset() + r * n, n, log);
        }
    }

    /** One row: x at {@code xo + i * stride}, out contiguous at {@code oo}. */
    protected void softmaxRow(HeapStorage x, int xo, int stride, HeapStorage o, int oo, int n, boolean log) {
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            // Math.max propagates NaN, as amax does.
            max = Math.max(max, x.get(xo + i * stride));
        }
        double sum = 0;
        for (int i = 0; i < n; i++) {
            double e = Math.exp(x.get(xo + i * stride) - max);
            sum += e;
            if (!log) {
                o.set(oo + i, e);
            }
        }
        if (log) {
            double logSum = Math.log(sum);
            for (int i = 0; i < n; i++) {
                o.set(oo + i, x.get(xo + i * stride) - max - logSum);
            }
        } else {
            for (int i = 0; i < n; i++) {
                o.set(oo + i, o.get(oo + i) / sum);
            }
        }
    }

    @Override
    public void softmaxBackward(Storage grad, Layout gradLayout, Storage y, Layout yLayout, boolean log,
                                Storage out, Layout outLayout) {
        HeapStorage g = (HeapStorage) grad;
        HeapStorage s = (HeapStorage) y;
        HeapStorage o = (HeapStorage) out;
        int n = lastSize(gradLayout);
        int gs = lastStride(gradLayout);
        int ys = lastStride(yLayout);
        StridedCursor c = StridedCursor.over(outer(gradLayout.shape()), gradLayout, yLayout);
        int rows = rowCount(gradLayout);
        for (int r = 0; r < rows; r++, c.advance()) {
            int go = c.position[0];
            int yo = c.position[1];
            int oo = outLayout.offset() + r * n;
            double total = 0;
            for (int i = 0; i < n; i++) {
                double gi = g.get(go + i * gs);
                total += log ? gi : gi * s.get(yo + i * ys);
            }
            for (int i = 0; i < n; i++) {
                double gi = g.get(go + i * gs);
                double yi = s.get(yo + i * ys);
                o.set(oo + i, log ? gi - Math.exp(yi) * total : yi * (gi - total));
            }
        }
    }

    @Override
    public void layerNorm(Storage x, int offset, int rows, int normalized, Storage weight, Storage bias, double eps,
                          Storage out, Storage mean, Storage rstd) {
        HeapStorage in = (HeapStorage) x;
        HeapStorage w = (HeapStorage) weight;
        HeapStorage b = (HeapStorage) bias;
        HeapStorage o = (HeapStorage) out;
        HeapStorage m = (HeapStorage) mean;
        HeapStorage r = (HeapStorage) rstd;
        for (int row = 0; row < rows; row++) {
            int base = offset + row * normalized;
            double sum = 0;
            for (int i = 0; i < normalized; i++) {
                sum += in.get(base + i);
            }
            double mu = sum / normalized;
            // Two passes: the variance of centred values, not E[x^2] - E[x]^2, which cancels badly.
            double squares = 0;
            for (int i = 0; i < normalized; i++) {
                double d = in.get(base + i) - mu;
                squares += d * d;
            }
            double inv = 1.0 / Math.sqrt(squares / normalized + eps);
            m.set(row, mu);
            r.set(row, inv);
            int ob = row * normalized;
            for (int i = 0; i < normalized; i++) {
                double v = (in.get(base + i) - mu) * inv;
                if (w != null) {
                    v *= w.get(i);
                }
                if (b != null) {
                    v += b.get(i);
                }
                o.set(ob + i, v);
            }
        }
    }

    @Override
    public void layerNormBackward(Storage grad, int gradOffset, Storage x, int xOffset, Storage mean, Storage rstd,
                                  Storage weight, int rows, int normalized, Storage gradX, Storage gradWeight,
                                  Storage gradBias) {
        HeapStorage g = (HeapStorage) grad;
        HeapStorage in = (HeapStorage) x;
        HeapStorage m = (HeapStorage) mean;
        HeapStorage r = (HeapStorage) rstd;
        HeapStorage w = (HeapStorage) weight;
        HeapStorage gx = (HeapStorage) gradX;
        double[] gw = gradWeight == null ? null : new double[normalized];
        double[] gb = gradBias == null ? null : new double[normalized];
        for (int row = 0; row < rows; row++) {
            int gbase = gradOffset + row * normalized;
            int xbase = xOffset + row * normalized;
            double mu = m.get(row);
            double inv = r.get(row);
            double sumH = 0;
            double sumHX = 0;
            for (int i = 0; i < normalized; i++) {
                double gi = g.get(gbase + i);
                double xhat = (in.get(xbase + i) - mu) * inv;
                double h = w != null ? gi * w.get(i) : gi;
                sumH += h;
                sumHX += h * xhat;
                if (gw != null) {
                    gw[i] += gi * xhat;
                }
                if (gb != null) {
                    gb[i] += gi;
                }
            }
            if (gx != null) {
                double meanH = sumH / normalized;
                double meanHX = sumHX / normalized;
                int ob = row * normalized;
                for (int i = 0; i < normalized; i++) {
                    double xhat = (in.get(xbase + i) - mu) * inv;
                    double h = w != null ? g.get(gbase + i) * w.get(i) : g.get(gbase + i);
                    gx.set(ob + i, inv * (h - meanH - xhat * meanHX));
                }
            }
        }
        for (int i = 0; i < normalized; i++) {
            if (gw != null) {
                ((HeapStorage) gradWeight).set(i, gw[i]);
            }
            if (gb != null) {
                ((HeapStorage) gradBias).set(i, gb[i]);
            }
        }
    }

    @Override
    public void batchNorm(Storage x, int offset, int batch, int channels, int inner, Storage weight, Storage bias,
                          boolean training, double eps, Storage out, Storage mean, Storage rstd, Storage variance) {
        HeapStorage in = (HeapStorage) x;
        HeapStorage w = (HeapStorage) weight;
        HeapStorage b = (HeapStorage) bias;
        HeapStorage o = (HeapStorage) out;
        HeapStorage m = (HeapStorage) mean;
        HeapStorage r = (HeapStorage) rstd;
        int stride = channels * inner;
        long count = (long) batch * inner;
        for (int c = 0; c < channels; c++) {
            int first = c * inner;
            double mu;
            double inv;
            if (training) {
                double sum = 0;
                for (int n = 0; n < batch; n++) {
                    for (int i = 0; i < inner; i++) {
                        sum += in.get(offset + n * stride + first + i);
                    }
                }
                mu = sum / count;
                // Two passes: the variance of centred values, not E[x^2] - E[x]^2, which cancels badly.
                double squares = 0;
                for (int n = 0; n < batch; n++) {
                    for (int i = 0; i < inner; i++) {
                        double d = in.get(offset + n * stride + first + i) - mu;
                        squares += d * d;
                    }
                }
                double var = squares / count;
                inv = 1.0 / Math.sqrt(var + eps);
                m.set(c, mu);
                r.set(c, inv);
                if (variance != null) {
                    ((HeapStorage) variance).set(c, var);
                }
            } else {
                mu = m.get(c);
                inv = r.get(c);
            }
            double scale = w != null ? inv * w.get(c) : inv;
            double shift = b != null ? b.get(c) : 0;
            for (int n = 0; n < batch; n++) {
                for (int i = 0; i < inner; i++) {
                    int at = n * stride + first + i;
                    o.set(at, (in.get(offset + at) - mu) * scale + shift);
                }
            }
        }
    }

    @Override
    public void batchNormBackward(Storage grad, int gradOffset, Storage x, int xOffset, Storage mean, Storage rstd,
                                  Storage weight, boolean training, int batch, int channels, int inner,
                                  Storage gradX, Storage gradWeight, Storage gradBias) {
        HeapStorage g = (HeapStorage) grad;
        HeapStorage in = (HeapStorage) x;
        HeapStorage w = (HeapStorage) weight;
        HeapStorage gx = (HeapStorage) gradX;
        int stride = channels * inner;
        long count = (long) batch * inner;
        boolean sums = training && gradX != null || gradWeight != null || gradBias != null;
        for (int c = 0; c < channels; c++) {
            int first = c * inner;
            double mu = ((HeapStorage) mean).get(c);
            double inv = ((HeapStorage) rstd).get(c);
            double sumG = 0;
            double sumGX = 0;
            if (sums) {
                for (int n = 0; n < batch; n++) {
                    for (int i = 0; i < inner; i++) {
                        double gi = g.get(gradOffset + n * stride + first + i);
                        sumG += gi;
                        sumGX += gi * (in.get(xOffset + n * stride + first + i) - mu);
                    }
                }
            }
            if (gradWeight != null) {
                ((HeapStorage) gradWeight).set(c, sumGX * inv);
            }
            if (gradBias != null) {
                ((HeapStorage) gradBias).set(c, sumG);
            }
            if (gx == null) {
                continue;
            }
            double k = w != null ? inv * w.get(c) : inv;
            // gradX = k (g - mean(g) - xhat mean(g xhat)) = k g + (x - mean) slope + shift.
            double slope = training ? -k * inv * inv * sumGX / count : 0;
            double shift = training ? -k * sumG / count : 0;
            for (int n = 0; n < batch; n++) {
                for (int i = 0; i < inner; i++) {
                    int at = n * stride + first + i;
                    double xc = in.get(xOffset + at) - mu;
                    gx.set(at, g.get(gradOffset + at) * k + xc * slope + shift);
                }
            }
        }
    }

    // ---- rows ------------------------------------------------------------------------------------------

    // ---- optimizer updates ----------------------------------------------------------------------
    // Worked in double and rounded to the dtype after every operation: for FLOAT32 that is each float
    // operation's own result (a float sum, product, quotient or square root computed in double and
    // rounded once is the correctly rounded float result), so these loops round exactly where the
    // in-place ops they replace round.

    @Override
    public void reluBackward(Storage grad, int gradOffset, Storage y, int yOffset, Storage out, int outOffset, int n) {
        HeapStorage g = (HeapStorage) grad;
        HeapStorage ys = (HeapStorage) y;
        HeapStorage o = (HeapStorage) out;
        for (int i = 0; i < n; i++) {
            o.set(outOffset + i, ys.get(yOffset + i) > 0 ? g.get(gradOffset + i) : 0.0);
        }
    }

    @Override
    public void sgdStep(Storage param, int paramOffset, Storage grad, int gradOffset, Storage momentumBuffer,
                        int bufferOffset, int n, double lr, double momentum, double dampening, double weightDecay,
                        boolean nesterov, boolean firstStep) {
        HeapStorage p = (HeapStorage) param;
        HeapStorage g = (HeapStorage) grad;
        HeapStorage buf = (HeapStorage) momentumBuffer;
        boolean single = p.dtype() == DType.FLOAT32;
        double negLr = round(-lr, single);
        double m = round(momentum, single);
        double keep = round(1 - dampening, single);
        double decay = round(weightDecay, single);
        for (int i = 0; i < n; i++) {
            double pi = p.get(paramOffset + i);
            double d = g.get(gradOffset + i);
            if (weightDecay != 0) {
                d = round(d + round(pi * decay, single), single);
            }
            if (momentum != 0) {
                double b = firstStep ? d
                        : round(round(buf.get(bufferOffset + i) * m, single) + round(keep * d, single), single);
                buf.set(bufferOffset + i, b);
                d = nesterov ? round(d + round(b * m, single), single) : b;
            }
            p.set(paramOffset + i, round(pi + round(negLr * d, single), single));
        }
    }

    @Override
    public void adamStep(Storage param, int paramOffset, Storage grad, int gradOffset, Storage expAvg,
                         int expAvgOffset, Storage expAvgSq, int expAvgSqOffset, Storage maxExpAvgSq,
                         int maxExpAvgSqOffset, int n, double lr, double beta1, double beta2, double eps,
                         double weightDecay, boolean decoupled, double stepSize, double biasCorrection2Sqrt) {
        HeapStorage p = (HeapStorage) param;
        HeapStorage g = (HeapStorage) grad;
        HeapStorage mStore = (HeapStorage) expAvg;
        HeapStorage vStore = (HeapStorage) expAvgSq;
        HeapStorage maxStore = (HeapStorage) maxExpAvgSq;
        boolean single = p.dtype() == DType.FLOAT32;
        double shrink = round(1 - lr * weightDecay, single);
        double decay = round(weightDecay, single);
        double b1 = round(beta1, single);
        double oneMinusB1 = round(1 - beta1, single);
        double b2 = round(beta2, single);
        double oneMinusB2 = round(1 - beta2, single);
        double negStep = round(-stepSize, single);
        double correction = round(biasCorrection2Sqrt, single);
        double epsilon = round(eps, single);
        for (int i = 0; i < n; i++) {
            double pi = p.get(paramOffset + i);
            double gi = g.get(gradOffset + i);
            if (decoupled) {
                pi = round(pi * shrink, single);
            } else if (weightDecay != 0) {
                gi = round(gi + round(pi * decay, single), single);
            }
            double m = round(round(mStore.get(expAvgOffset + i) * b1, single) + round(oneMinusB1 * gi, single), single);
            mStore.set(expAvgOffset + i, m);
            double v = round(round(vStore.get(expAvgSqOffset + i) * b2, single)
                    + round(round(gi * oneMinusB2, single) * gi, single), single);
            vStore.set(expAvgSqOffset + i, v);
            double second = v;
            if (maxStore != null) {
                double old = maxStore.get(maxExpAvgSqOffset + i);
                // Math.max propagates NaN, as maximum does.
                second = Math.max(old, v);
                maxStore.set(maxExpAvgSqOffset + i, second);
            }
            double denom = round(round(round(Math.sqrt(second), single) / correction, single) + epsilon, single);
            p.set(paramOffset + i, round(pi + round(round(m * negStep, single) / denom, single), single));
        }
    }

    /** {@code x} rounded to float when {@code single}, else itself. */
    private static double round(double x, boolean single) {
        return single ? (float) x : x;
    }

    protected static int lastSize(Layout layout) {
        return layout.rank() == 0 ? 1 : layout.shape().dim(layout.rank() - 1);
    }

    protected static int lastStride(Layout layout) {
        return layout.rank() == 0 ? 1 : layout.stride(layout.rank() - 1);
    }

    protected static int rowCount(Layout layout) {
        int n = lastSize(layout);
        return n == 0 ? 0 : layout.numel() / n;
    }

    /** A cursor over the first element of every row. */
    protected static StridedCursor rows(Layout layout) {
        return StridedCursor.over(outer(layout.shape()), layout);
    }

    /** The shape without its last dimension. */
    protected static Shape outer(Shape shape) {
        int[] dims = new int[Math.max(shape.rank() - 1, 0)];
        for (int i = 0; i < dims.length; i++) {
            dims[i] = shape.dim(i);
        }
        return Shape.of(dims);
    }
}
