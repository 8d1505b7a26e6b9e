package dev.adjoint.engine.nd4j;

import dev.adjoint.Shape;
import dev.adjoint.spi.Layout;
import dev.adjoint.spi.StridedCursor;
import org.nd4j.linalg.api.buffer.DataBuffer;

/**
 * torch-style gather and scatter_add along one dim. ND4J's gather takes whole slices, not one
 * index per element, so these walk the index tensor and read and write the native buffers in place
 * (no copy to Java arrays).
 */
final class IndexLoops {
    private IndexLoops() {
    }

    static void gather(Nd4jStorage src, Layout srcLayout, int dim, Nd4jStorage index, Layout indexLayout,
                       Nd4jStorage out, Layout outLayout) {
        Shape shape = indexLayout.shape();
        int dimStride = srcLayout.stride(dim);
        StridedCursor c = StridedCursor.over(shape, indexLayout, srcLayout.pinnedAlong(dim, shape), outLayout);
        DataBuffer s = src.buffer();
        DataBuffer idx = index.buffer();
        DataBuffer o = out.buffer();
        int n = shape.numel();
        boolean exact = !src.dtype().isFloatingPoint();
        for (int i = 0; i < n; i++, c.advance()) {
            long along = idx.getLong(c.position[0]);
            long at = c.position[1] + along * dimStride;
            if (exact) {
                ReferenceLoops.putLong(o, out.dtype(), c.position[2], ReferenceLoops.getLong(s, src.dtype(), at));
            } else {
                o.put(c.position[2], s.getDouble(at));
            }
        }
    }

    static void scatterAdd(Nd4jStorage dst, Layout dstLayout, int dim, Nd4jStorage index, Layout indexLayout,
                           Nd4jStorage src, Layout srcLayout) {
        Shape shape = indexLayout.shape();
        int dimStride = dstLayout.stride(dim);
        StridedCursor c = StridedCursor.over(shape, indexLayout, srcLayout, dstLayout.pinnedAlong(dim, shape));
        DataBuffer d = dst.buffer();
        DataBuffer idx = index.buffer();
        DataBuffer s = src.buffer();
        int n = shape.numel();
        boolean exact = !dst.dtype().isFloatingPoint();
        for (int i = 0; i < n; i++, c.advance()) {
            long pos = c.position[2] + idx.getLong(c.position[0]) * dimStride;
            if (exact) {
                long sum = ReferenceLoops.getLong(d, dst.dtype(), pos) + ReferenceLoops.getLong(s, src.dtype(), c.position[1]);
                ReferenceLoops.putLong(d, dst.dtype(), pos, sum);
            } else {
                d.put(pos, d.getDouble(pos) + s.getDouble(c.position[1]));
            }
        }
    }
}
