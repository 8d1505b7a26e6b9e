package dev.adjoint.spi;

import dev.adjoint.Shape;

import java.util.Arrays;

/**
 * How a tensor's elements sit in its {@link Storage}: element {@code (i0, i1, ...)} lives at
 * {@code offset + i0*strides[0] + i1*strides[1] + ...}. A stride of 0 repeats an element along that
 * dimension, which is how broadcasting and {@code expand} are expressed without copying.
 * Strides and offset count elements, not bytes. Immutable.
 */
public final class Layout {
    private final Shape shape;
    private final int[] strides;
    private final int offset;
    private final boolean contiguous;

    public Layout(Shape shape, int[] strides, int offset) {
        if (strides.length != shape.rank()) {
            throw new IllegalArgumentException("layout: " + strides.length + " strides for shape " + shape);
        }
        this.shape = shape;
        this.strides = strides.clone();
        this.offset = offset;
        this.contiguous = computeContiguous(shape, this.strides);
    }

    /** For layouts known to be contiguous, with a fresh strides array nobody else holds. */
    private Layout(Shape shape, int[] ownedStrides) {
        this.shape = shape;
        this.strides = ownedStrides;
        this.offset = 0;
        this.contiguous = true;
    }

    /** The row-major contiguous layout of {@code shape} starting at element 0. */
    public static Layout contiguous(Shape shape) {
        // Every op allocates its output with this; skipping the defensive copy and the contiguity
        // scan is measurable on small tensors.
        return new Layout(shape, shape.contiguousStrides());
    }

    /**
     * This layout walked over an index tensor's shape with dimension {@code dim} pinned (stride 0): for
     * gather and scatter-add, where the index value, times {@code stride(dim)}, then picks the position
     * along that dimension. Valid because an index is no larger than this layout outside {@code dim}.
     */
    public Layout pinnedAlong(int dim, Shape indexShape) {
        int[] s = strides.clone();
        s[dim] = 0;
        return new Layout(indexShape, s, offset);
    }

    /** True when every stride is 0: a single element repeated over the whole shape (a broadcast scalar). */
    public boolean isBroadcastScalar() {
        for (int s : strides) {
            if (s != 0) {
                return false;
            }
        }
        return true;
    }

    public Shape shape() {
        return shape;
    }

    public int rank() {
        return strides.length;
    }

    public int stride(int dim) {
        return strides[dim];
    }

    public int[] strides() {
        return strides.clone();
    }

    public int offset() {
        return offset;
    }

    public int numel() {
        return shape.numel();
    }

    /** True when the elements are dense and row-major: element {@code k} is at {@code offset + k}. */
    public boolean isContiguous() {
        return contiguous;
    }

    /** Whether {@code other} has the same strides (shape and offset aside), without copying either. */
    public boolean hasStridesOf(Layout other) {
        return Arrays.equals(strides, other.strides);
    }

    /**
     * True when the elements fill {@code numel()} consecutive storage slots from {@code offset}, each
     * once, in some order of the dims: a contiguous tensor, or one viewed through a permutation (a
     * transpose of a dense matrix). Size-1 dims may have any stride.
     */
    public boolean isDensePermutation() {
        if (contiguous) {
            return true;
        }
        int rank = strides.length;
        Integer[] order = new Integer[rank];
        for (int d = 0; d < rank; d++) {
            order[d] = d;
        }
        Arrays.sort(order, (a, b) -> Integer.compare(strides[a], strides[b]));
        int expected = 1;
        for (int d : order) {
            if (shape.dim(d) == 1) {
                continue;
            }
            if (strides[d] != expected) {
                return false;
            }
            expected *= shape.dim(d);
        }
        return true;
    }

    /** Storage position of the element with row-major linear index {@code linear}. */
    public int positionOf(int linear) {
        if (contiguous) {
            return offset + linear;
        }
        int pos = offset;
        for (int d = strides.length - 1; d >= 0; d--) {
            int size = shape.dim(d);
            pos += (linear % size) * strides[d];
            linear /= size;
        }
        return pos;
    }

    /** This layout viewed with broadcast {@code target} shape: new leading dims and size-1 dims get stride 0. */
    public Layout broadcastTo(Shape target) {
        if (target.equals(shape)) {
            return this;
        }
        int r = target.rank();
        int lead = r - shape.rank();
        int[] s = new int[r];
        for (int i = 0; i < r; i++) {
            int src = i - lead;
            if (src < 0) {
                s[i] = 0;
            } else if (shape.dim(src) == target.dim(i)) {
                s[i] = strides[src];
            } else if (shape.dim(src) == 1) {
                s[i] = 0;
            } else {
                throw new IllegalArgumentException("layout: cannot broadcast " + shape + " to " + target);
            }
        }
        return new Layout(target, s, offset);
    }

    private static boolean computeContiguous(Shape shape, int[] strides) {
        int expected = 1;
        for (int i = strides.length - 1; i >= 0; i--) {
            int size = shape.dim(i);
            if (size != 1 && strides[i] != expected) {
                return false;
            }
            expected *= size;
        }
        return true;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Layout l && l.offset == offset && l.shape.equals(shape) && Arrays.equals(l.strides, strides);
    }

    @Override
    public int hashCode() {
        return shape.hashCode() * 31 + Arrays.hashCode(strides) + offset;
    }

    @Override
    public String toString() {
        return "Layout" + shape + " strides " + Arrays.toString(strides) + " offset " + offset;
    }
}
