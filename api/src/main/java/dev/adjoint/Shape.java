package dev.adjoint;

import java.util.Arrays;

/**
 * The immutable extent of a tensor along each dimension. A rank-0 shape ({@code []}) is a scalar.
 */
public final class Shape {
    private static final Shape SCALAR = new Shape(new int[0]);

    private final int[] dims;
    private final int numel;

    private Shape(int[] dims) {
        this.dims = dims;
        long n = 1;
        for (int d : dims) {
            if (d < 0) {
                throw new TensorShapeException("shape " + Arrays.toString(dims) + " has a negative dimension");
            }
            n *= d;
            if (n > Integer.MAX_VALUE) {
                throw new TensorShapeException("shape " + Arrays.toString(dims)
                        + " has more than " + Integer.MAX_VALUE + " elements");
            }
        }
        this.numel = (int) n;
    }

    public static Shape of(int... dims) {
        return dims.length == 0 ? SCALAR : new Shape(dims.clone());
    }

    public static Shape scalar() {
        return SCALAR;
    }

    public int rank() {
        return dims.length;
    }

    /** Size of dimension {@code i}; negative {@code i} counts from the end as in PyTorch. */
    public int dim(int i) {
        return dims[normalizeDim(i, "dim")];
    }

    public int numel() {
        return numel;
    }

    public int[] toArray() {
        return dims.clone();
    }

    public boolean isScalar() {
        return dims.length == 0;
    }

    /** Maps a possibly negative dimension index into {@code [0, rank)}, naming {@code op} on failure. */
    public int normalizeDim(int dim, String op) {
        int r = dims.length;
        int d = dim < 0 ? dim + r : dim;
        if (d < 0 || d >= r) {
            throw new TensorShapeException(op + ": dimension " + dim + " is out of range for shape " + this
                    + " (valid: " + (r == 0 ? "none, the tensor is 0-d" : "[" + (-r) + ", " + (r - 1) + "]") + ")");
        }
        return d;
    }

    /**
     * {@link #normalizeDim} for the ops PyTorch lets take a dim of a 0-d tensor as if it were one
     * dimension of size 1 (its maybe_wrap_dim with wrap_scalar): reductions, the softmax family, the
     * running sums, sort, gather, transpose, squeeze, flip. For a 0-d shape -1 and 0 are valid and give
     * 0, which names no dimension of this shape: the caller handles the 0-d case itself. The ops PyTorch
     * refuses on a 0-d tensor (narrow, split, unbind, roll along a dim, cat) use {@link #normalizeDim}.
     */
    public int normalizeDimOrScalarDim(int dim, String op) {
        if (dims.length > 0) {
            return normalizeDim(dim, op);
        }
        if (dim != 0 && dim != -1) {
            throw new TensorShapeException(op + ": dimension " + dim + " is out of range for shape [] (valid: [-1, 0]; "
                    + "a 0-d tensor counts as one dimension of size 1)");
        }
        return 0;
    }

    /** Row-major strides of a contiguous tensor with this shape. */
    public int[] contiguousStrides() {
        int[] strides = new int[dims.length];
        int s = 1;
        for (int i = dims.length - 1; i >= 0; i--) {
            strides[i] = s;
            s *= Math.max(dims[i], 1);
        }
        return strides;
    }

    /** NumPy broadcasting of two shapes; the message names {@code op} and both shapes. */
    public static Shape broadcast(String op, Shape a, Shape b) {
        if (a.equals(b)) {
            return a;
        }
        int r = Math.max(a.rank(), b.rank());
        int[] out = new int[r];
        for (int i = 0; i < r; i++) {
            int da = i - (r - a.rank()) >= 0 ? a.dims[i - (r - a.rank())] : 1;
            int db = i - (r - b.rank()) >= 0 ? b.dims[i - (r - b.rank())] : 1;
            if (da != db && da != 1 && db != 1) {
                throw new TensorShapeException(op + ": shapes " + a + " and " + b
                        + " cannot be broadcast (dimension " + i + ": " + da + " vs " + db + ")");
            }
            out[i] = da == 1 ? db : da;
        }
        return new Shape(out);
    }

    /** Shape with dimension {@code d} replaced by {@code size}. */
    public Shape withDim(int d, int size) {
        int[] copy = dims.clone();
        copy[d] = size;
        return new Shape(copy);
    }

    /** The coordinates of the {@code flatIndex}-th element in row-major order (numpy's unravel_index). */
    public int[] unravel(int flatIndex) {
        if (flatIndex < 0 || flatIndex >= numel) {
            throw new IndexOutOfBoundsException("unravel: flat index " + flatIndex + " is out of range for shape "
                    + this + " (" + numel + " elements)");
        }
        int[] coordinates = new int[dims.length];
        for (int d = dims.length - 1; d >= 0; d--) {
            coordinates[d] = flatIndex % dims[d];
            flatIndex /= dims[d];
        }
        return coordinates;
    }

    @Override
    public boolean equals(Object o) {
        if (o == this) {
            return true;
        }
        if (!(o instanceof Shape s) || s.numel != numel || s.dims.length != dims.length) {
            return false;
        }
        // A plain loop: shapes are short, and every op compares several (profiled: Arrays.equals's
        // vectorised mismatch costs more than it saves at this length).
        for (int i = 0; i < dims.length; i++) {
            if (dims[i] != s.dims[i]) {
                return false;
            }
        }
        return true;
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(dims);
    }

    @Override
    public String toString() {
        return Arrays.toString(dims);
    }
}
