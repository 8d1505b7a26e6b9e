package dev.adjoint.engine.nd4j;

import dev.adjoint.Shape;
import dev.adjoint.spi.Layout;
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
        Cursor c = new Cursor(shape, indexLayout, pinned(srcLayout, shape, dim), outLayout);
        DataBuffer s = src.buffer();
        DataBuffer idx = index.buffer();
        DataBuffer o = out.buffer();
        int n = shape.numel();
        for (int i = 0; i < n; i++, c.advance()) {
            long along = idx.getLong(c.position[0]);
            o.put(c.position[2], s.getDouble(c.position[1] + along * dimStride));
        }
    }

    static void scatterAdd(Nd4jStorage dst, Layout dstLayout, int dim, Nd4jStorage index, Layout indexLayout,
                           Nd4jStorage src, Layout srcLayout) {
        Shape shape = indexLayout.shape();
        int dimStride = dstLayout.stride(dim);
        Cursor c = new Cursor(shape, indexLayout, srcLayout, pinned(dstLayout, shape, dim));
        DataBuffer d = dst.buffer();
        DataBuffer idx = index.buffer();
        DataBuffer s = src.buffer();
        int n = shape.numel();
        for (int i = 0; i < n; i++, c.advance()) {
            long pos = c.position[2] + idx.getLong(c.position[0]) * dimStride;
            d.put(pos, d.getDouble(pos) + s.getDouble(c.position[1]));
        }
    }

    /** {@code layout} walked over the index's shape with the indexed dim pinned (stride 0): the
     *  index value then picks the position along that dim. */
    private static Layout pinned(Layout layout, Shape indexShape, int dim) {
        int[] strides = layout.strides();
        strides[dim] = 0;
        return new Layout(indexShape, strides, layout.offset());
    }

    /** Row-major walk of one shape tracking the storage position in several layouts at once. */
    private static final class Cursor {
        private final int[] sizes;
        private final int[][] strides;
        private final int[] counter;
        final int[] position;

        Cursor(Shape shape, Layout... layouts) {
            sizes = shape.toArray();
            strides = new int[layouts.length][];
            position = new int[layouts.length];
            for (int i = 0; i < layouts.length; i++) {
                strides[i] = layouts[i].strides();
                position[i] = layouts[i].offset();
            }
            counter = new int[sizes.length];
        }

        void advance() {
            for (int d = sizes.length - 1; d >= 0; d--) {
                counter[d]++;
                if (counter[d] < sizes[d]) {
                    for (int j = 0; j < position.length; j++) {
                        position[j] += strides[j][d];
                    }
                    return;
                }
                counter[d] = 0;
                for (int j = 0; j < position.length; j++) {
                    position[j] -= strides[j][d] * (sizes[d] - 1);
                }
            }
        }
    }
}
