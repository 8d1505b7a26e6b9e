package dev.adjoint.spi;

import dev.adjoint.Shape;

/**
 * Walks every element of one shape in row-major order, tracking the storage position of that
 * element in several strided layouts at once (stride 0 stays put: broadcasting). Positions update
 * incrementally, O(1) amortised per step. Vector kernels use it over the outer dimensions only, one
 * call per contiguous row.
 */
public final class StridedCursor {
    private final int[] sizes;
    private final int[][] strides;
    private final int[] counter;
    /** The current element's position in each layout, in the order the layouts were given. */
    public final int[] position;

    public StridedCursor(int[] sizes, int[][] strides, int[] offsets) {
        this.sizes = sizes;
        this.strides = strides;
        this.counter = new int[sizes.length];
        this.position = offsets.clone();
    }

    /** Walks {@code shape} over the given layouts (each of that shape's rank, or longer: extra trailing dims are ignored). */
    public static StridedCursor over(Shape shape, Layout... layouts) {
        int rank = shape.rank();
        int[][] strides = new int[layouts.length][];
        int[] offsets = new int[layouts.length];
        for (int i = 0; i < layouts.length; i++) {
            strides[i] = java.util.Arrays.copyOf(layouts[i].strides(), rank);
            offsets[i] = layouts[i].offset();
        }
        return new StridedCursor(shape.toArray(), strides, offsets);
    }

    /** Moves to the next element in row-major order. */
    public void advance() {
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
