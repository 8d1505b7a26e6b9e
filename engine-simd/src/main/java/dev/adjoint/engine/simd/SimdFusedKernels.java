package dev.adjoint.engine.simd;

import dev.adjoint.DType;
import dev.adjoint.spi.Layout;
import dev.adjoint.spi.Storage;
import dev.adjoint.spi.heap.HeapFusedKernels;
import dev.adjoint.spi.heap.HeapStorage;

import java.util.Arrays;

/**
 * Scaled dot-product attention a (batch, head) matrix at a time with its scores in cache
 * ({@link FloatAttention}). The fused softmax and layer norm with vector rows ({@link FloatRows}, {@link DoubleRows}) wherever a
 * row is contiguous, and the plain loops of {@link HeapFusedKernels} for strided rows (a softmax over a
 * dim other than the last); the fused batch norm a channel at a time ({@link FloatBatchNorm},
 * {@link DoubleBatchNorm}). Large calls split their rows, or channels, over the matmul's threads
 * ({@link RowThreads}); each row or channel is computed the same way whichever thread takes it, and
 * the layer norm's column sums are combined part by part in part order, so results do not depend on
 * the number of threads that ran. Batch norm over rows shorter than a vector (a {@code [N, C]} input)
 * goes by columns instead: a row of the batch, all channels, at a time.
 */
final class SimdFusedKernels extends HeapFusedKernels {

    @Override
    public boolean offers(Kernel kernel, DType dtype) {
        return kernel == Kernel.ATTENTION || kernel == Kernel.ATTENTION_BACKWARD
                || kernel == Kernel.DROPOUT_MASK && (dtype == DType.FLOAT32 || dtype == DType.FLOAT64)
                || super.offers(kernel, dtype);
    }

    /**
     * A compare and a select per vector ({@link FloatKernels#reluBackward}, {@link DoubleKernels#reluBackward}),
     * a large gradient in pieces over the matmul's threads as the elementwise kernels split a run.
     */
    @Override
    public void reluBackward(Storage grad, int gradOffset, Storage y, int yOffset, Storage out, int outOffset, int n) {
        HeapStorage g = (HeapStorage) grad;
        HeapStorage ys = (HeapStorage) y;
        HeapStorage o = (HeapStorage) out;
        RowThreads.inPieces(n, (at, length) -> {
            if (o.dtype == DType.FLOAT32) {
                FloatKernels.reluBackward(g.f32, gradOffset + at, ys.f32, yOffset + at, o.f32, outOffset + at, length);
            } else {
                DoubleKernels.reluBackward(g.f64, gradOffset + at, ys.f64, yOffset + at, o.f64, outOffset + at, length);
            }
        });
    }

    /**
     * In vectors ({@link FloatDropoutMasks}, {@link DoubleDropoutMasks}), a large mask in pieces over the
     * matmul's threads.
     */
    @Override
    public void dropoutMask(long seed, long gamma, long threshold, double value, Storage out, int n) {
        HeapStorage o = (HeapStorage) out;
        RowThreads.inPieces(n, (at, length) -> {
            if (o.dtype == DType.FLOAT32) {
                FloatDropoutMasks.fill(seed, gamma, threshold, (float) value, o.f32, at, at + length);
            } else {
                DoubleDropoutMasks.fill(seed, gamma, threshold, value, o.f64, at, at + length);
            }
        });
    }

    /**
     * A (batch, head) matrix at a time with its scores in cache, each query over the keys it sees (causal,
     * or a mask's trailing -inf): {@link FloatAttention}, {@link DoubleAttention}.
     */
    @Override
    public void attention(Storage q, Layout qLayout, Storage k, Layout kLayout, Storage v, Layout vLayout,
                          Storage mask, Layout maskLayout, boolean causal, double scale, Storage dropout,
                          Layout dropoutLayout, Storage out, Storage probs) {
        HeapStorage sq = (HeapStorage) q;
        HeapStorage sk = (HeapStorage) k;
        HeapStorage sv = (HeapStorage) v;
        HeapStorage sm = (HeapStorage) mask;
        HeapStorage sd = (HeapStorage) dropout;
        HeapStorage so = (HeapStorage) out;
        HeapStorage sp = (HeapStorage) probs;
        if (so.dtype == DType.FLOAT32) {
            FloatAttention.forward(sq.f32, qLayout, sk.f32, kLayout, sv.f32, vLayout, sm == null ? null : sm.f32,
                    maskLayout, causal, scale, sd == null ? null : sd.f32, dropoutLayout, so.f32,
                    sp == null ? null : sp.f32);
        } else {
            DoubleAttention.forward(sq.f64, qLayout, sk.f64, kLayout, sv.f64, vLayout, sm == null ? null : sm.f64,
                    maskLayout, causal, scale, sd == null ? null : sd.f64, dropoutLayout, so.f64,
                    sp == null ? null : sp.f64);
        }
    }

    @Override
    public void attentionBackward(Storage grad, Layout gradLayout, Storage q, Layout qLayout, Storage k,
                                  Layout kLayout, Storage v, Layout vLayout, Storage dropout, Layout dropoutLayout,
                                  Storage probs, double scale, Storage gradQ, Storage gradK, Storage gradV) {
        HeapStorage g = (HeapStorage) grad;
        HeapStorage sd = (HeapStorage) dropout;
        HeapStorage sq = (HeapStorage) q;
        HeapStorage sk = (HeapStorage) k;
        HeapStorage sv = (HeapStorage) v;
        HeapStorage sp = (HeapStorage) probs;
        HeapStorage gq = (HeapStorage) gradQ;
        HeapStorage gk = (HeapStorage) gradK;
        HeapStorage gv = (HeapStorage) gradV;
        if (g.dtype == DType.FLOAT32) {
            FloatAttention.backward(g.f32, gradLayout, sq.f32, qLayout, sk.f32, kLayout, sv.f32, vLayout,
                    sd == null ? null : sd.f32, dropoutLayout, sp.f32, scale, gq == null ? null : gq.f32,
                    gk == null ? null : gk.f32, gv == null ? null : gv.f32);
        } else {
            DoubleAttention.backward(g.f64, gradLayout, sq.f64, qLayout, sk.f64, kLayout, sv.f64, vLayout,
                    sd == null ? null : sd.f64, dropoutLayout, sp.f64, scale, gq == null ? null : gq.f64,
                    gk == null ? null : gk.f64, gv == null ? null : gv.f64);
        }
    }

    @Override
    protected void softmaxRow(HeapStorage x, int xo, int stride, HeapStorage o, int oo, int n, boolean log) {
        if (stride != 1) {
            super.softmaxRow(x, xo, stride, o, oo, n, log);
        } else if (o.dtype == DType.FLOAT32) {
            FloatRows.softmax(x.f32, xo, o.f32, oo, n, log);
        } else {
            DoubleRows.softmax(x.f64, xo, o.f64, oo, n, log);
        }
    }

    @Override
    public void softmax(Storage x, Layout xLayout, boolean log, Storage out, Layout outLayout) {
        HeapStorage in = (HeapStorage) x;
        HeapStorage o = (HeapStorage) out;
        if (!xLayout.isContiguous() || !outLayout.isContiguous()) {
            super.softmax(x, xLayout, log, out, outLayout);
            return;
        }
        int n = lastSize(xLayout);
        int xo = xLayout.offset();
        int oo = outLayout.offset();
        RowThreads.forRows(rowCount(xLayout), n, (from, to, part) -> {
            if (o.dtype == DType.FLOAT32) {
                FloatRows.softmaxRows(in.f32, xo + from * n, o.f32, oo + from * n, to - from, n, log);
            } else {
                DoubleRows.softmaxRows(in.f64, xo + from * n, o.f64, oo + from * n, to - from, n, log);
            }
        });
    }

    @Override
    public void softmaxBackward(Storage grad, Layout gradLayout, Storage y, Layout yLayout, boolean log, Storage out,
                                Layout outLayout) {
        if (!gradLayout.isContiguous() || !yLayout.isContiguous() || !outLayout.isContiguous()) {
            super.softmaxBackward(grad, gradLayout, y, yLayout, log, out, outLayout);
            return;
        }
        HeapStorage g = (HeapStorage) grad;
        HeapStorage s = (HeapStorage) y;
        HeapStorage o = (HeapStorage) out;
        int n = lastSize(gradLayout);
        int go = gradLayout.offset();
        int yo = yLayout.offset();
        int oo = outLayout.offset();
        RowThreads.forRows(rowCount(gradLayout), n, (from, to, part) -> {
            if (o.dtype == DType.FLOAT32) {
                FloatRows.softmaxBackwardRows(g.f32, go + from * n, s.f32, yo + from * n, o.f32, oo + from * n,
                        to - from, n, log);
            } else {
                DoubleRows.softmaxBackwardRows(g.f64, go + from * n, s.f64, yo + from * n, o.f64, oo + from * n,
                        to - from, n, log);
            }
        });
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
        boolean f32 = in.dtype == DType.FLOAT32;
        RowThreads.forRows(rows, normalized, (from, to, part) -> {
            double[] stats = new double[2];
            for (int row = from; row < to; row++) {
                int xo = offset + row * normalized;
                int oo = row * normalized;
                if (f32) {
                    FloatRows.layerNorm(in.f32, xo, normalized, w == null ? null : w.f32, b == null ? null : b.f32, eps,
                            o.f32, oo, stats);
                } else {
                    DoubleRows.layerNorm(in.f64, xo, normalized, w == null ? null : w.f64, b == null ? null : b.f64,
                            eps, o.f64, oo, stats);
                }
                m.set(row, stats[0]);
                r.set(row, stats[1]);
            }
        });
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
        boolean f32 = in.dtype == DType.FLOAT32;
        int parts = RowThreads.parts(rows, normalized);
        // Column sums per part, added in part order at the end: the same sums on one thread or two.
        // Part p's weight sums from p * normalized, its bias sums after all parts' weight sums; in this
        // thread's kept accumulators, as the backend's column reductions (a step makes several calls).
        int sumsLength = parts * normalized;
        double[] sums = gradWeight == null && gradBias == null ? null
                : SimdBackend.columnAccumulators(2 * sumsLength);
        double[] gw = gradWeight == null ? null : sums;
        double[] gb = gradBias == null ? null : sums;
        RowThreads.forRows(rows, normalized, (from, to, part) -> {
            int gwo = part * normalized;
            int gbo = sumsLength + part * normalized;
            if (sums != null) {
                Arrays.fill(sums, gwo, gwo + normalized, 0.0);
                Arrays.fill(sums, gbo, gbo + normalized, 0.0);
            }
            for (int row = from; row < to; row++) {
                int go = gradOffset + row * normalized;
                int xo = xOffset + row * normalized;
                int oo = row * normalized;
                if (f32) {
                    FloatRows.layerNormBackward(g.f32, go, in.f32, xo, m.get(row), r.get(row), w == null ? null : w.f32,
                            normalized, gx == null ? null : gx.f32, oo, gw, gwo, gb, gbo);
                } else {
                    DoubleRows.layerNormBackward(g.f64, go, in.f64, xo, m.get(row), r.get(row),
                            w == null ? null : w.f64, normalized, gx == null ? null : gx.f64, oo, gw, gwo, gb, gbo);
                }
            }
        });
        writeColumnSums(gw, 0, parts, (HeapStorage) gradWeight, normalized);
        writeColumnSums(gb, sumsLength, parts, (HeapStorage) gradBias, normalized);
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
        HeapStorage v = (HeapStorage) variance;
        boolean f32 = in.dtype == DType.FLOAT32;
        if (f32 ? FloatBatchNorm.byColumns(inner) : DoubleBatchNorm.byColumns(inner)) {
            double[] wc = perChannel(w, channels, 1);
            double[] bc = perChannel(b, channels, 0);
            double[] mc = training ? new double[channels] : perChannel(m, channels, 0);
            double[] rc = training ? new double[channels] : perChannel(r, channels, 0);
            double[] vc = new double[channels];
            if (f32) {
                FloatBatchNorm.forwardByColumns(in.f32, offset, o.f32, batch, channels, inner, training, eps, wc, bc,
                        mc, rc, vc);
            } else {
                DoubleBatchNorm.forwardByColumns(in.f64, offset, o.f64, batch, channels, inner, training, eps, wc, bc,
                        mc, rc, vc);
            }
            if (training) {
                for (int c = 0; c < channels; c++) {
                    m.set(c, mc[c]);
                    r.set(c, rc[c]);
                    if (v != null) {
                        v.set(c, vc[c]);
                    }
                }
            }
            return;
        }
        RowThreads.forRows(channels, batch * inner, (from, to, part) -> {
            double[] stats = new double[3];
            for (int c = from; c < to; c++) {
                if (!training) {
                    stats[0] = m.get(c);
                    stats[1] = r.get(c);
                }
                double wc = w == null ? 1 : w.get(c);
                double bc = b == null ? 0 : b.get(c);
                if (f32) {
                    FloatBatchNorm.forward(in.f32, offset, o.f32, c, batch, channels, inner, training, eps, wc, bc,
                            stats);
                } else {
                    DoubleBatchNorm.forward(in.f64, offset, o.f64, c, batch, channels, inner, training, eps, wc, bc,
                            stats);
                }
                if (training) {
                    m.set(c, stats[0]);
                    r.set(c, stats[1]);
                    if (v != null) {
                        v.set(c, stats[2]);
                    }
                }
            }
        });
    }

    @Override
    public void batchNormBackward(Storage grad, int gradOffset, Storage x, int xOffset, Storage mean, Storage rstd,
                                  Storage weight, boolean training, int batch, int channels, int inner,
                                  Storage gradX, Storage gradWeight, Storage gradBias) {
        HeapStorage g = (HeapStorage) grad;
        HeapStorage in = (HeapStorage) x;
        HeapStorage m = (HeapStorage) mean;
        HeapStorage r = (HeapStorage) rstd;
        HeapStorage w = (HeapStorage) weight;
        HeapStorage gx = (HeapStorage) gradX;
        HeapStorage gw = (HeapStorage) gradWeight;
        HeapStorage gb = (HeapStorage) gradBias;
        boolean f32 = in.dtype == DType.FLOAT32;
        boolean wantSums = gw != null || gb != null;
        if (f32 ? FloatBatchNorm.byColumns(inner) : DoubleBatchNorm.byColumns(inner)) {
            double[] mc = perChannel(m, channels, 0);
            double[] rc = perChannel(r, channels, 0);
            double[] wc = perChannel(w, channels, 1);
            double[] sumG = new double[channels];
            double[] sumGX = new double[channels];
            if (f32) {
                FloatBatchNorm.backwardByColumns(g.f32, gradOffset, in.f32, xOffset, gx == null ? null : gx.f32, batch,
                        channels, inner, training, mc, rc, wc, wantSums, sumG, sumGX);
            } else {
                DoubleBatchNorm.backwardByColumns(g.f64, gradOffset, in.f64, xOffset, gx == null ? null : gx.f64,
                        batch, channels, inner, training, mc, rc, wc, wantSums, sumG, sumGX);
            }
            for (int c = 0; c < channels; c++) {
                if (gw != null) {
                    gw.set(c, sumGX[c] * rc[c]);
                }
                if (gb != null) {
                    gb.set(c, sumG[c]);
                }
            }
            return;
        }
        RowThreads.forRows(channels, batch * inner, (from, to, part) -> {
            double[] sums = new double[2];
            for (int c = from; c < to; c++) {
                double mu = m.get(c);
                double inv = r.get(c);
                double wc = w == null ? 1 : w.get(c);
                if (f32) {
                    FloatBatchNorm.backward(g.f32, gradOffset, in.f32, xOffset, gx == null ? null : gx.f32, c, batch,
                            channels, inner, training, mu, inv, wc, wantSums, sums);
                } else {
                    DoubleBatchNorm.backward(g.f64, gradOffset, in.f64, xOffset, gx == null ? null : gx.f64, c, batch,
                            channels, inner, training, mu, inv, wc, wantSums, sums);
                }
                if (gw != null) {
                    gw.set(c, sums[1] * inv);
                }
                if (gb != null) {
                    gb.set(c, sums[0]);
                }
            }
        });
    }

    /**
     * One pass per parameter ({@link FloatOptimizerSteps}, {@link DoubleOptimizerSteps}), in pieces of
     * {@link SimdBackend#RUN_PIECE} over the matmul's threads when the parameter is large, as the
     * elementwise kernels split a run; every element is computed alone, so the thread count never
     * changes a result.
     */
    @Override
    public void sgdStep(Storage param, int paramOffset, Storage grad, int gradOffset, Storage momentumBuffer,
                        int bufferOffset, int n, double lr, double momentum, double dampening, double weightDecay,
                        boolean nesterov, boolean firstStep) {
        HeapStorage p = (HeapStorage) param;
        HeapStorage g = (HeapStorage) grad;
        HeapStorage buf = momentum != 0 ? (HeapStorage) momentumBuffer : null;
        boolean hasDecay = weightDecay != 0;
        RowThreads.inPieces(n, (at, length) -> {
            if (p.dtype == DType.FLOAT32) {
                FloatOptimizerSteps.sgd(p.f32, paramOffset + at, g.f32, gradOffset + at, buf == null ? null : buf.f32,
                        bufferOffset + at, length, (float) -lr, (float) momentum, (float) (1 - dampening),
                        (float) weightDecay, hasDecay, nesterov, firstStep);
            } else {
                DoubleOptimizerSteps.sgd(p.f64, paramOffset + at, g.f64, gradOffset + at, buf == null ? null : buf.f64,
                        bufferOffset + at, length, -lr, momentum, 1 - dampening, weightDecay, hasDecay, nesterov,
                        firstStep);
            }
        });
    }

    @Override
    public void adamStep(Storage param, int paramOffset, Storage grad, int gradOffset, Storage expAvg,
                         int expAvgOffset, Storage expAvgSq, int expAvgSqOffset, Storage maxExpAvgSq,
                         int maxExpAvgSqOffset, int n, double lr, double beta1, double beta2, double eps,
                         double weightDecay, boolean decoupled, double stepSize, double biasCorrection2Sqrt) {
        HeapStorage p = (HeapStorage) param;
        HeapStorage g = (HeapStorage) grad;
        HeapStorage m = (HeapStorage) expAvg;
        HeapStorage v = (HeapStorage) expAvgSq;
        HeapStorage vmax = (HeapStorage) maxExpAvgSq;
        boolean hasDecay = weightDecay != 0;
        double shrink = 1 - lr * weightDecay;
        RowThreads.inPieces(n, (at, length) -> {
            if (p.dtype == DType.FLOAT32) {
                FloatOptimizerSteps.adam(p.f32, paramOffset + at, g.f32, gradOffset + at, m.f32, expAvgOffset + at, v.f32,
                        expAvgSqOffset + at, vmax == null ? null : vmax.f32, maxExpAvgSqOffset + at, length, decoupled,
                        (float) shrink, hasDecay, (float) weightDecay, (float) beta1, (float) (1 - beta1),
                        (float) beta2, (float) (1 - beta2), (float) -stepSize, (float) biasCorrection2Sqrt,
                        (float) eps);
            } else {
                DoubleOptimizerSteps.adam(p.f64, paramOffset + at, g.f64, gradOffset + at, m.f64, expAvgOffset + at,
                        v.f64, expAvgSqOffset + at, vmax == null ? null : vmax.f64, maxExpAvgSqOffset + at, length,
                        decoupled, shrink, hasDecay, weightDecay, beta1, 1 - beta1, beta2, 1 - beta2, -stepSize,
                        biasCorrection2Sqrt, eps);
            }
        });
    }

    /** A per-channel vector's values in double, or {@code channels} copies of {@code absent} when it is null. */
    private static double[] perChannel(HeapStorage s, int channels, double absent) {
        double[] values = new double[channels];
        for (int c = 0; c < channels; c++) {
            values[c] = s == null ? absent : s.get(c);
        }
        return values;
    }

    /** The column sums of {@code parts} parts of {@code n} from {@code from}, added in part order, into {@code out}. */
    private static void writeColumnSums(double[] sums, int from, int parts, HeapStorage out, int n) {
        if (sums == null) {
            return;
        }
        for (int i = 0; i < n; i++) {
            double sum = sums[from + i];
            for (int p = 1; p < parts; p++) {
                sum += sums[from + p * n + i];
            }
            out.set(i, sum);
        }
    }
}
