package dev.adjoint.conformance;

import dev.adjoint.DType;
import dev.adjoint.spi.Availability;
import dev.adjoint.spi.Backend;
import dev.adjoint.spi.BinaryOp;
import dev.adjoint.spi.FusedKernels;
import dev.adjoint.spi.Layout;
import dev.adjoint.spi.ReduceOp;
import dev.adjoint.spi.ScanOp;
import dev.adjoint.spi.Storage;
import dev.adjoint.spi.UnaryOp;
import dev.adjoint.spi.Window2d;

import java.util.ArrayList;
import java.util.List;

/**
 * Another backend under its own name, recording every kernel call (not allocation or transfer) with the
 * primitive it applies: what an op runs on that backend, for the coverage table.
 */
final class TracingBackend implements Backend {
    /** One kernel call: the kernel's method name and its primitive (null for kernels without one). */
    record Call(String kernel, Enum<?> primitive) {
        @Override
        public String toString() {
            return primitive == null ? kernel : kernel + " " + primitive;
        }
    }

    private final Backend delegate;
    private final List<Call> calls = new ArrayList<>();

    TracingBackend(Backend delegate) {
        this.delegate = delegate;
    }

    /** The calls since the last {@link #clear()}. */
    List<Call> calls() {
        return List.copyOf(calls);
    }

    void clear() {
        calls.clear();
    }

    Backend delegate() {
        return delegate;
    }

    private void record(String kernel, Enum<?> primitive) {
        calls.add(new Call(kernel, primitive));
    }

    @Override public String name() { return delegate.name(); }
    @Override public int priority() { return delegate.priority(); }
    @Override public Availability availability() { return delegate.availability(); }
    @Override public boolean runsNatively(String kernel, Enum<?> primitive) { return delegate.runsNatively(kernel, primitive); }
    @Override public Storage allocate(DType dtype, int size) { return delegate.allocate(dtype, size); }
    @Override public Storage fromDoubles(double[] values, DType dtype) { return delegate.fromDoubles(values, dtype); }
    @Override public Storage fromFloats(float[] values) { return delegate.fromFloats(values); }
    @Override public Storage fromLongs(long[] values) { return delegate.fromLongs(values); }
    @Override public double[] toDoubles(Storage s, Layout l) { return delegate.toDoubles(s, l); }
    @Override public float[] toFloats(Storage s, Layout l) { return delegate.toFloats(s, l); }
    @Override public long[] toLongs(Storage s, Layout l) { return delegate.toLongs(s, l); }

    @Override
    public FusedKernels fused() {
        FusedKernels fused = delegate.fused();
        if (fused == null) {
            return null;
        }
        return new FusedKernels() {
            @Override
            public boolean offers(Kernel kernel, DType dtype) {
                return fused.offers(kernel, dtype);
            }

            @Override
            public void softmax(Storage x, Layout xl, boolean log, Storage out, Layout ol) {
                record("softmax", null);
                fused.softmax(x, xl, log, out, ol);
            }

            @Override
            public void softmaxBackward(Storage g, Layout gl, Storage y, Layout yl, boolean log, Storage out, Layout ol) {
                record("softmaxBackward", null);
                fused.softmaxBackward(g, gl, y, yl, log, out, ol);
            }

            @Override
            public void layerNorm(Storage x, int offset, int rows, int normalized, Storage weight, Storage bias,
                                  double eps, Storage out, Storage mean, Storage rstd) {
                record("layerNorm", null);
                fused.layerNorm(x, offset, rows, normalized, weight, bias, eps, out, mean, rstd);
            }

            @Override
            public void layerNormBackward(Storage g, int gOffset, Storage x, int xOffset, Storage mean, Storage rstd,
                                          Storage weight, int rows, int normalized, Storage gradX, Storage gradWeight,
                                          Storage gradBias) {
                record("layerNormBackward", null);
                fused.layerNormBackward(g, gOffset, x, xOffset, mean, rstd, weight, rows, normalized, gradX, gradWeight,
                        gradBias);
            }

            @Override
            public void batchNorm(Storage x, int offset, int batch, int channels, int inner, Storage weight,
                                  Storage bias, boolean training, double eps, Storage out, Storage mean, Storage rstd,
                                  Storage variance) {
                record("batchNorm", null);
                fused.batchNorm(x, offset, batch, channels, inner, weight, bias, training, eps, out, mean, rstd,
                        variance);
            }

            @Override
            public void batchNormBackward(Storage g, int gOffset, Storage x, int xOffset, Storage mean, Storage rstd,
                                          Storage weight, boolean training, int batch, int channels, int inner,
                                          Storage gradX, Storage gradWeight, Storage gradBias) {
                record("batchNormBackward", null);
                fused.batchNormBackward(g, gOffset, x, xOffset, mean, rstd, weight, training, batch, channels, inner,
                        gradX, gradWeight, gradBias);
            }

            @Override
            public void attention(Storage q, Layout ql, Storage k, Layout kl, Storage v, Layout vl, Storage mask,
                                  Layout ml, boolean causal, double scale, Storage dropout, Layout dl, Storage out,
                                  Storage probs) {
                record("attention", null);
                fused.attention(q, ql, k, kl, v, vl, mask, ml, causal, scale, dropout, dl, out, probs);
            }

            @Override
            public void attentionBackward(Storage g, Layout gl, Storage q, Layout ql, Storage k, Layout kl, Storage v,
                                          Layout vl, Storage dropout, Layout dl, Storage probs, double scale,
                                          Storage gradQ, Storage gradK, Storage gradV) {
                record("attentionBackward", null);
                fused.attentionBackward(g, gl, q, ql, k, kl, v, vl, dropout, dl, probs, scale, gradQ, gradK, gradV);
            }

            @Override
            public void sgdStep(Storage p, int pOffset, Storage g, int gOffset, Storage buf, int bufOffset, int n,
                                double lr, double momentum, double dampening, double weightDecay, boolean nesterov,
                                boolean firstStep) {
                record("sgdStep", null);
                fused.sgdStep(p, pOffset, g, gOffset, buf, bufOffset, n, lr, momentum, dampening, weightDecay, nesterov,
                        firstStep);
            }

            @Override
            public void adamStep(Storage p, int pOffset, Storage g, int gOffset, Storage m, int mOffset, Storage v,
                                 int vOffset, Storage vmax, int vmaxOffset, int n, double lr, double beta1, double beta2,
                                 double eps, double weightDecay, boolean decoupled, double stepSize,
                                 double biasCorrection2Sqrt) {
                record("adamStep", null);
                fused.adamStep(p, pOffset, g, gOffset, m, mOffset, v, vOffset, vmax, vmaxOffset, n, lr, beta1, beta2,
                        eps, weightDecay, decoupled, stepSize, biasCorrection2Sqrt);
            }

            @Override
            public void dropoutMask(long seed, long gamma, long threshold, double value, Storage out, int n) {
                record("dropoutMask", null);
                fused.dropoutMask(seed, gamma, threshold, value, out, n);
            }

            @Override
            public void reluBackward(Storage g, int gOffset, Storage y, int yOffset, Storage out, int outOffset, int n) {
                record("reluBackward", null);
                fused.reluBackward(g, gOffset, y, yOffset, out, outOffset, n);
            }
        };
    }

    @Override
    public void fill(Storage out, Layout ol, double value) {
        record("fill", null);
        delegate.fill(out, ol, value);
    }

    @Override
    public void copy(Storage src, Layout sl, Storage dst, Layout dl) {
        record("copy", null);
        delegate.copy(src, sl, dst, dl);
    }

    @Override
    public void unary(UnaryOp op, Storage x, Layout xl, Storage out, Layout ol) {
        record("unary", op);
        delegate.unary(op, x, xl, out, ol);
    }

    @Override
    public void binary(BinaryOp op, Storage a, Layout al, Storage b, Layout bl, Storage out, Layout ol) {
        record("binary", op);
        delegate.binary(op, a, al, b, bl, out, ol);
    }

    @Override
    public void scaledAdd(double scale, Storage a, Layout al, double alpha, Storage b, Layout bl, Storage out, Layout ol) {
        record("scaledAdd", null);
        delegate.scaledAdd(scale, a, al, alpha, b, bl, out, ol);
    }

    @Override
    public void where(Storage c, Layout cl, Storage a, Layout al, Storage b, Layout bl, Storage out, Layout ol) {
        record("where", null);
        delegate.where(c, cl, a, al, b, bl, out, ol);
    }

    @Override
    public void reduce(ReduceOp op, Storage x, Layout xl, Storage out, Layout ol) {
        record("reduce", op);
        delegate.reduce(op, x, xl, out, ol);
    }

    @Override
    public void scan(ScanOp op, boolean reverse, Storage x, Layout xl, Storage out, Layout ol) {
        record("scan", op);
        delegate.scan(op, reverse, x, xl, out, ol);
    }

    @Override
    public void sort(Storage x, Layout xl, boolean descending, Storage values, Layout vl, Storage indices, Layout il) {
        record("sort", null);
        delegate.sort(x, xl, descending, values, vl, indices, il);
    }

    @Override
    public void matmul(Storage a, Layout al, Storage b, Layout bl, Storage out, Layout ol) {
        record("matmul", null);
        delegate.matmul(a, al, b, bl, out, ol);
    }

    @Override
    public void linear(Storage a, Layout al, Storage b, Layout bl, Storage bias, Layout biasl, Storage out, Layout ol) {
        record("linear", null);
        delegate.linear(a, al, b, bl, bias, biasl, out, ol);
    }

    @Override
    public void gather(Storage src, Layout sl, int dim, Storage index, Layout il, Storage out, Layout ol) {
        record("gather", null);
        delegate.gather(src, sl, dim, index, il, out, ol);
    }

    @Override
    public void scatterAdd(Storage dst, Layout dl, int dim, Storage index, Layout il, Storage src, Layout sl) {
        record("scatterAdd", null);
        delegate.scatterAdd(dst, dl, dim, index, il, src, sl);
    }

    @Override
    public void unfold(Storage x, Layout xl, Window2d window, Storage out, Layout ol) {
        record("unfold", null);
        delegate.unfold(x, xl, window, out, ol);
    }

    @Override
    public void fold(Storage cols, Layout cl, Window2d window, Storage out, Layout ol) {
        record("fold", null);
        delegate.fold(cols, cl, window, out, ol);
    }

    @Override
    public void conv2d(Storage x, Layout xl, Storage w, Layout wl, Window2d window, int groups, Storage out, Layout ol) {
        record("conv2d", null);
        delegate.conv2d(x, xl, w, wl, window, groups, out, ol);
    }

    @Override
    public void conv2dBiased(Storage x, Layout xl, Storage w, Layout wl, Storage bias, Layout bl, Window2d window,
                             int groups, Storage out, Layout ol) {
        record("conv2dBiased", null);
        delegate.conv2dBiased(x, xl, w, wl, bias, bl, window, groups, out, ol);
    }

    @Override
    public void conv2dInputGrad(Storage g, Layout gl, Storage w, Layout wl, Window2d window, int groups, Storage out,
                                Layout ol) {
        record("conv2dInputGrad", null);
        delegate.conv2dInputGrad(g, gl, w, wl, window, groups, out, ol);
    }

    @Override
    public void conv2dWeightGrad(Storage x, Layout xl, Storage g, Layout gl, Window2d window, int groups, Storage out,
                                 Layout ol) {
        record("conv2dWeightGrad", null);
        delegate.conv2dWeightGrad(x, xl, g, gl, window, groups, out, ol);
    }

    @Override
    public void avgPool2d(Storage x, Layout xl, Window2d window, boolean countIncludePad, Storage out, Layout ol) {
        record("avgPool2d", null);
        delegate.avgPool2d(x, xl, window, countIncludePad, out, ol);
    }

    @Override
    public void avgPool2dInputGrad(Storage g, Layout gl, Window2d window, boolean countIncludePad, Storage out,
                                   Layout ol) {
        record("avgPool2dInputGrad", null);
        delegate.avgPool2dInputGrad(g, gl, window, countIncludePad, out, ol);
    }

    @Override
    public void maxPool2d(Storage x, Layout xl, Window2d window, Storage out, Layout ol, Storage indices, Layout il) {
        record("maxPool2d", null);
        delegate.maxPool2d(x, xl, window, out, ol, indices, il);
    }
}
