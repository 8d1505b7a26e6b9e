package dev.adjoint.engine.scalar;

import dev.adjoint.Shape;

/**
 * Walks every element of one shape in row-major order, tracking the storage position of that
 * element in several strided layouts at once (an operand with stride 0 stays put: broadcasting).
 * Positions are updated incrementally, so a step costs O(1) amortised instead of a div/mod per dim.
 */
final class StridedCursor {
    private final int[] sizes;
    private final int[][] strides;
    private final int[] counter;
    final int[] position;

    StridedCursor(Shape shape, int[][] strides, int[] offsets) {
        this.sizes = shape.toArray();
        this.strides = strides;
        this.counter = new int[sizes.length];
        this.position = offsets.clone();
    }

    /** Moves to the next element in row-major order. */
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
