package dev.adjoint.conformance;

import dev.adjoint.DType;
import dev.adjoint.spi.Availability;
import dev.adjoint.spi.Backend;
import dev.adjoint.spi.BinaryOp;
import dev.adjoint.spi.Layout;
import dev.adjoint.spi.ReduceOp;
import dev.adjoint.spi.ScanOp;
import dev.adjoint.spi.Storage;
import dev.adjoint.spi.UnaryOp;
import dev.adjoint.spi.Window2d;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * The backend under test under another name, counting kernel calls: lets the suite check
 * cross-backend errors and that validation happens before any kernel runs, with one real backend.
 */
final class RenamedBackend implements Backend {
    private final Backend delegate;
    private final String name;
    final AtomicInteger kernelCalls = new AtomicInteger();

    RenamedBackend(Backend delegate, String name) {
        this.delegate = delegate;
        this.name = name;
    }

    @Override public String name() { return name; }
    @Override public int priority() { return delegate.priority(); }
    @Override public Availability availability() { return delegate.availability(); }
    @Override public Storage allocate(DType dtype, int size) { return delegate.allocate(dtype, size); }
    @Override public Storage fromDoubles(double[] values, DType dtype) { return delegate.fromDoubles(values, dtype); }
    @Override public Storage fromFloats(float[] values) { return delegate.fromFloats(values); }
    @Override public Storage fromLongs(long[] values) { return delegate.fromLongs(values); }
    @Override public double[] toDoubles(Storage s, Layout l) { return delegate.toDoubles(s, l); }
    @Override public float[] toFloats(Storage s, Layout l) { return delegate.toFloats(s, l); }
    @Override public long[] toLongs(Storage s, Layout l) { return delegate.toLongs(s, l); }
    @Override public void markLongLived(Storage s) { delegate.markLongLived(s); }

    @Override
    public void fill(Storage out, Layout outLayout, double value) {
        kernelCalls.incrementAndGet();
        delegate.fill(out, outLayout, value);
    }

    @Override
    public void copy(Storage src, Layout srcLayout, Storage dst, Layout dstLayout) {
        kernelCalls.incrementAndGet();
        delegate.copy(src, srcLayout, dst, dstLayout);
    }

    @Override
    public void unary(UnaryOp op, Storage x, Layout xl, Storage out, Layout ol) {
        kernelCalls.incrementAndGet();
        delegate.unary(op, x, xl, out, ol);
    }

    @Override
    public void binary(BinaryOp op, Storage a, Layout al, Storage b, Layout bl, Storage out, Layout ol) {
        kernelCalls.incrementAndGet();
        delegate.binary(op, a, al, b, bl, out, ol);
    }

    @Override
    public void where(Storage c, Layout cl, Storage a, Layout al, Storage b, Layout bl, Storage out, Layout ol) {
        kernelCalls.incrementAndGet();
        delegate.where(c, cl, a, al, b, bl, out, ol);
    }

    @Override
    public void reduce(ReduceOp op, Storage x, Layout xl, Storage out, Layout ol) {
        kernelCalls.incrementAndGet();
        delegate.reduce(op, x, xl, out, ol);
    }

    @Override
    public void matmul(Storage a, Layout al, Storage b, Layout bl, Storage out, Layout ol) {
        kernelCalls.incrementAndGet();
        delegate.matmul(a, al, b, bl, out, ol);
    }

    @Override
    public void linear(Storage a, Layout al, Storage b, Layout bl, Storage bias, Layout biasl, Storage out, Layout ol) {
        kernelCalls.incrementAndGet();
        delegate.linear(a, al, b, bl, bias, biasl, out, ol);
    }

    @Override
    public void gather(Storage src, Layout sl, int dim, Storage index, Layout il, Storage out, Layout ol) {
        kernelCalls.incrementAndGet();
        delegate.gather(src, sl, dim, index, il, out, ol);
    }

    @Override
    public void scatterAdd(Storage dst, Layout dl, int dim, Storage index, Layout il, Storage src, Layout sl) {
        kernelCalls.incrementAndGet();
        delegate.scatterAdd(dst, dl, dim, index, il, src, sl);
    }
    @Override
    public void unfold(Storage x, Layout xl, Window2d window, Storage out, Layout ol) {
        kernelCalls.incrementAndGet();
        delegate.unfold(x, xl, window, out, ol);
    }

    @Override
    public void fold(Storage cols, Layout cl, Window2d window, Storage out, Layout ol) {
        kernelCalls.incrementAndGet();
        delegate.fold(cols, cl, window, out, ol);
    }

    @Override
    public void maxPool2d(Storage x, Layout xl, Window2d window, Storage out, Layout ol, Storage indices, Layout il) {
        kernelCalls.incrementAndGet();
        delegate.maxPool2d(x, xl, window, out, ol, indices, il);
    }


    @Override
    public void scan(ScanOp op, boolean reverse, Storage x, Layout xl, Storage out, Layout ol) {
        kernelCalls.incrementAndGet();
        delegate.scan(op, reverse, x, xl, out, ol);
    }

    @Override
    public void sort(Storage x, Layout xl, boolean descending, Storage values, Layout vl, Storage indices, Layout il) {
        kernelCalls.incrementAndGet();
        delegate.sort(x, xl, descending, values, vl, indices, il);
    }
}
