package dev.adjoint.engine.simd;

import dev.adjoint.DType;
import dev.adjoint.spi.Layout;
import dev.adjoint.spi.Window2d;
import dev.adjoint.spi.heap.HeapStorage;

/**
 * unfold, fold and max pooling for engine-simd: which layouts take the fast loops of
 * {@link FloatWindows} / {@link DoubleWindows}, and how the work is shared between threads. Each
 * kernel cuts its output into independent items (a row of columns for unfold, an image for fold and
 * max pooling: no two items write the same element) and runs them as {@link MatmulThreads} tickets.
 * Each method returns false when the layouts do not suit it, and the caller takes the reference loops.
 */
final class SimdWindows {
    /**
     * Elements written below which a kernel stays on the calling thread. These kernels move memory
     * at roughly 10 GB/s, and a helper thread takes some tens of microseconds to join (see
     * {@link MatmulThreads}); 2^17 floats, 512 KiB, are about 50 us of copying, the least work for
     * which a second thread can save more than it costs to wake.
     */
    static final int PARALLEL_ELEMENTS = 1 << 17;
    /** Items per thread, so that a helper that starts late holds back little (as MatmulThreads' GEMM does). */
    private static final int CHUNKS_PER_THREAD = 4;

    private SimdWindows() {
    }

    /** The first output position whose column {@code ow * stride + shift} is at least 0, at most {@code out}. */
    static int firstInside(int shift, int stride, int out) {
        return shift >= 0 ? 0 : Math.min(out, (-shift + stride - 1) / stride);
    }

    /** One past the last output position whose column {@code ow * stride + shift} is below {@code size}. */
    static int endInside(int shift, int stride, int size, int out) {
        int last = size - 1 - shift;
        return last < 0 ? 0 : Math.min(out, last / stride + 1);
    }

    /** unfold with image rows and window positions dense (column stride 1 in both). */
    static boolean unfold(HeapStorage x, Layout xl, Window2d w, HeapStorage o, Layout ol) {
        if (!floating(x, o) || !denseColumns(xl, 3, w.width()) || !denseColumns(ol, 2, w.positions())) {
            return false;
        }
        int batch = xl.shape().dim(0);
        int channels = xl.shape().dim(1);
        int rows = ol.shape().dim(1);
        int taps = w.taps();
        boolean f32 = x.dtype == DType.FLOAT32;
        if (w.strideW() == 1) {
            // Item i: image (i / channels, i % channels) and its taps rows, through a padded scratch copy.
            PaddedImage pad = PaddedImage.of(w);
            run(batch * channels, (long) ol.numel(), i -> {
                int n = i / channels;
                int c = i % channels;
                int plane = xl.offset() + n * xl.stride(0) + c * xl.stride(1);
                int at = ol.offset() + n * ol.stride(0) + c * taps * ol.stride(1);
                if (f32) {
                    FloatWindows.unfoldPlane(x.f32, plane, xl.stride(2), w, pad, o.f32, at, ol.stride(1));
                } else {
                    DoubleWindows.unfoldPlane(x.f64, plane, xl.stride(2), w, pad, o.f64, at, ol.stride(1));
                }
            });
            return true;
        }
        // Item i: sample i / rows, row i % rows; consecutive items read the same image plane.
        run(batch * rows, (long) ol.numel(), i -> {
            int n = i / rows;
            int row = i % rows;
            int c = row / taps;
            int kh = row % taps / w.kernelW();
            int kw = row % w.kernelW();
            int plane = xl.offset() + n * xl.stride(0) + c * xl.stride(1);
            int at = ol.offset() + n * ol.stride(0) + row * ol.stride(1);
            if (f32) {
                FloatWindows.unfoldRow(x.f32, plane, xl.stride(2), w, kh, kw, o.f32, at);
            } else {
                DoubleWindows.unfoldRow(x.f64, plane, xl.stride(2), w, kh, kw, o.f64, at);
            }
        });
        return true;
    }

    /** fold with window positions dense in the columns; the output is contiguous and zero-filled. */
    static boolean fold(HeapStorage cols, Layout cl, Window2d w, HeapStorage o, Layout ol) {
        if (!floating(cols, o) || !denseColumns(cl, 2, w.positions())) {
            return false;
        }
        int channels = ol.shape().dim(1);
        int pixels = w.height() * w.width();
        int taps = w.taps();
        boolean f32 = o.dtype == DType.FLOAT32;
        // Item i: image (i / channels, i % channels), summing its taps rows of columns.
        if (w.strideW() == 1) {
            PaddedImage pad = PaddedImage.of(w);
            run(ol.shape().dim(0) * channels, (long) cl.numel(), i -> {
                int at = cl.offset() + i / channels * cl.stride(0) + i % channels * taps * cl.stride(1);
                int plane = ol.offset() + i * pixels;
                if (f32) {
                    FloatWindows.foldPlane(cols.f32, at, cl.stride(1), w, pad, o.f32, plane);
                } else {
                    DoubleWindows.foldPlane(cols.f64, at, cl.stride(1), w, pad, o.f64, plane);
                }
            });
            return true;
        }
        run(ol.shape().dim(0) * channels, (long) cl.numel(), i -> {
            int n = i / channels;
            int c = i % channels;
            int plane = ol.offset() + i * pixels;
            for (int t = 0; t < taps; t++) {
                int at = cl.offset() + n * cl.stride(0) + (c * taps + t) * cl.stride(1);
                if (f32) {
                    FloatWindows.foldRow(cols.f32, at, w, t / w.kernelW(), t % w.kernelW(), o.f32, plane);
                } else {
                    DoubleWindows.foldRow(cols.f64, at, w, t / w.kernelW(), t % w.kernelW(), o.f64, plane);
                }
            }
        });
        return true;
    }

    /** Max pooling, any input strides; the outputs are contiguous. */
    static boolean maxPool2d(HeapStorage x, Layout xl, Window2d w, HeapStorage o, Layout ol, HeapStorage indices,
                             Layout il) {
        if (!floating(x, o) || ol.offset() != il.offset()) {
            return false;
        }
        int channels = xl.shape().dim(1);
        int positions = w.positions();
        boolean f32 = x.dtype == DType.FLOAT32;
        PoolTaps taps = PoolTaps.of(w, xl.stride(2), xl.stride(3));
        run(xl.shape().dim(0) * channels, (long) ol.numel() * w.taps(), i -> {
            int plane = xl.offset() + i / channels * xl.stride(0) + i % channels * xl.stride(1);
            int at = i * positions;
            if (f32) {
                FloatWindows.maxPoolPlane(x.f32, plane, xl.stride(2), xl.stride(3), w, taps, o.f32, indices.i64,
                        ol.offset() + at);
            } else {
                DoubleWindows.maxPoolPlane(x.f64, plane, xl.stride(2), xl.stride(3), w, taps, o.f64, indices.i64,
                        ol.offset() + at);
            }
        });
        return true;
    }

    /**
     * Scatter-add or gather along the last dimension with every operand contiguous and the same
     * outer dimensions: max pooling's gradient (and its gradient) over the flattened images, and
     * cross-entropy's pick of the target's logit. The index values were checked by the api.
     */
    static boolean scatterAdd(HeapStorage dst, Layout dl, int dim, HeapStorage index, Layout il, HeapStorage src,
                              Layout sl) {
        if (!alongRows(dst, dl, dim, il, sl)) {
            return false;
        }
        int rank = il.rank();
        int n = il.shape().dim(rank - 1);
        int width = dl.shape().dim(rank - 1);
        for (int r = 0, rows = il.numel() / n; r < rows; r++) {
            if (dst.dtype == DType.FLOAT32) {
                FloatWindows.scatterAddRow(dst.f32, dl.offset() + r * width, index.i64, il.offset() + r * n, src.f32,
                        sl.offset() + r * n, n);
            } else {
                DoubleWindows.scatterAddRow(dst.f64, dl.offset() + r * width, index.i64, il.offset() + r * n, src.f64,
                        sl.offset() + r * n, n);
            }
        }
        return true;
    }

    static boolean gather(HeapStorage src, Layout sl, int dim, HeapStorage index, Layout il, HeapStorage out,
                          Layout ol) {
        if (!alongRows(src, sl, dim, il, ol)) {
            return false;
        }
        int rank = il.rank();
        int n = il.shape().dim(rank - 1);
        int width = sl.shape().dim(rank - 1);
        for (int r = 0, rows = il.numel() / n; r < rows; r++) {
            if (src.dtype == DType.FLOAT32) {
                FloatWindows.gatherRow(src.f32, sl.offset() + r * width, index.i64, il.offset() + r * n, out.f32,
                        ol.offset() + r * n, n);
            } else {
                DoubleWindows.gatherRow(src.f64, sl.offset() + r * width, index.i64, il.offset() + r * n, out.f64,
                        ol.offset() + r * n, n);
            }
        }
        return true;
    }

    /** Along the last dim, all three layouts contiguous, the indexed one with the index's outer dims, rows non-empty. */
    private static boolean alongRows(HeapStorage data, Layout dataLayout, int dim, Layout il, Layout other) {
        int rank = il.rank();
        if (!data.dtype.isFloatingPoint() || dim != rank - 1 || il.numel() == 0 || !dataLayout.isContiguous()
                || !il.isContiguous() || !other.isContiguous()) {
            return false;
        }
        for (int d = 0; d < rank - 1; d++) {
            if (dataLayout.shape().dim(d) != il.shape().dim(d)) {
                return false;
            }
        }
        return true;
    }

    /** Whether dimension {@code dim} has stride 1 (or at most one element, where the stride means nothing). */
    private static boolean denseColumns(Layout layout, int dim, int size) {
        return layout.stride(dim) == 1 || size <= 1;
    }

    private static boolean floating(HeapStorage a, HeapStorage b) {
        return a.dtype == b.dtype && a.dtype.isFloatingPoint();
    }

    /** Runs {@code body} for items {@code 0 .. items - 1}, on the helper threads too when the work is large. */
    static void run(int items, long elements, java.util.function.IntConsumer body) {
        runOn(items, elements >= PARALLEL_ELEMENTS ? MatmulThreads.THREADS : 1, body);
    }

    /** Runs {@code body} for items {@code 0 .. items - 1} on up to {@code threads} threads. */
    static void runOn(int items, int threads, java.util.function.IntConsumer body) {
        if (threads == 1 || items == 1) {
            for (int i = 0; i < items; i++) {
                body.accept(i);
            }
            return;
        }
        MatmulThreads.run(new Items(items, Math.min(items, CHUNKS_PER_THREAD * threads), body), threads);
    }

    /** Items cut into equal chunks, one ticket each, all in one phase. */
    private static final class Items extends MatmulThreads.Job {
        private final int items;
        private final int chunks;
        private final java.util.function.IntConsumer body;

        Items(int items, int chunks, java.util.function.IntConsumer body) {
            this.items = items;
            this.chunks = chunks;
            this.body = body;
        }

        @Override
        int tickets() {
            return chunks;
        }

        @Override
        boolean independent() {
            return true;
        }

        /**
         * Ticket {@code t}'s items, the larger shares first where the items do not divide evenly (11
         * Winograd blocks in 8 tickets: 2, 1, 2, 1 | 1, 2, 1, 1), so that the calling thread, whose
         * block of tickets comes first and which starts while the helpers are still waking, has the
         * more items, not the fewer.
         */
        @Override
        void run(int ticket) {
            int to = items - MatmulThreads.from(items, chunks - ticket - 1, chunks, 1);
            for (int i = items - MatmulThreads.from(items, chunks - ticket, chunks, 1); i < to; i++) {
                body.accept(i);
            }
        }
    }
}
