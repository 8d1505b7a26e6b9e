package dev.adjoint.engine.nd4j;

import dev.adjoint.spi.BinaryOp;
import dev.adjoint.spi.Layout;
import dev.adjoint.spi.StridedCursor;
import dev.adjoint.spi.UnaryOp;
import org.nd4j.linalg.api.buffer.DataBuffer;

/**
 * Elementwise primitives libnd4j has no kernel for, or none that agrees with the reference (see
 * {@code Nd4jBackend.unary}): the primitive's reference function, element by element over the native
 * buffers, each element computed in double and rounded once to the output dtype (by the buffer's put),
 * as the scalar backend does.
 */
final class ReferenceLoops {
    private ReferenceLoops() {
    }

    static void unary(UnaryOp op, Nd4jStorage x, Layout xLayout, Nd4jStorage out, Layout outLayout) {
        DataBuffer in = x.buffer();
        DataBuffer o = out.buffer();
        int n = outLayout.numel();
        StridedCursor c = StridedCursor.over(outLayout.shape(), xLayout, outLayout);
        for (int i = 0; i < n; i++, c.advance()) {
            double v = op.apply(in.getDouble(c.position[0]));
            o.put(c.position[1], v);
        }
    }

    static void binary(BinaryOp op, Nd4jStorage a, Layout aLayout, Nd4jStorage b, Layout bLayout, Nd4jStorage out,
                       Layout outLayout) {
        DataBuffer sa = a.buffer();
        DataBuffer sb = b.buffer();
        DataBuffer o = out.buffer();
        int n = outLayout.numel();
        StridedCursor c = StridedCursor.over(outLayout.shape(), aLayout, bLayout, outLayout);
        for (int i = 0; i < n; i++, c.advance()) {
            double v = op.apply(sa.getDouble(c.position[0]), sb.getDouble(c.position[1]));
            o.put(c.position[2], v);
        }
    }
}
