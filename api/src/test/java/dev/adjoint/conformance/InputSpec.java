package dev.adjoint.conformance;

import dev.adjoint.DType;
import dev.adjoint.Generator;
import dev.adjoint.Shape;
import dev.adjoint.Tensor;
import dev.adjoint.spi.Backend;

import java.util.Arrays;

/**
 * How one input of a catalogue sample is made: its logical shape, the value domain, and whether the
 * op sees it through a non-contiguous view (transposed, sliced, expanded) of a differently shaped
 * leaf. Gradients are checked with respect to the leaf, so the view's own backward is covered too.
 */
public final class InputSpec {
    enum Kind { FLOAT, INDEX, MASK }

    enum View { NONE, TRANSPOSED, SLICED, EXPANDED }

    final Kind kind;
    final int[] shape;
    final double lo;
    final double hi;
    final View view;
    final int[] expandTo;
    final long indexBound;
    final long[] fixedIndex;
    /** Values of magnitude {@link #TINY_MIN} to {@link #TINY_MAX} instead of uniform in [lo, hi). */
    final boolean tiny;

    /** The magnitudes a {@link #tiny()} input spans: normal numbers in both dtypes, up to where {@code 1 + x}
     *  still drops 10 of x's 24 bits in FLOAT32, so a kernel that cancels near 0 fails in either dtype. */
    static final double TINY_MIN = 1e-12;
    static final double TINY_MAX = 1e-3;

    private InputSpec(Kind kind, int[] shape, double lo, double hi, View view, int[] expandTo, long indexBound,
                      long[] fixedIndex, boolean tiny) {
        this.kind = kind;
        this.shape = shape;
        this.lo = lo;
        this.hi = hi;
        this.view = view;
        this.expandTo = expandTo;
        this.indexBound = indexBound;
        this.fixedIndex = fixedIndex;
        this.tiny = tiny;
    }

    /** A floating input uniform in [-2, 2). */
    public static InputSpec of(int... shape) {
        return new InputSpec(Kind.FLOAT, shape, -2, 2, View.NONE, null, 0, null, false);
    }

    /** An INT64 input uniform in [0, bound): indices, or class labels for comparisons. */
    public static InputSpec index(long bound, int... shape) {
        return new InputSpec(Kind.INDEX, shape, 0, 0, View.NONE, null, bound, null, false);
    }

    /** An INT64 index input with exactly these values. */
    public static InputSpec indexValues(long[] values, int... shape) {
        return new InputSpec(Kind.INDEX, shape, 0, 0, View.NONE, null, 0, values, false);
    }

    /** A 0/1 mask in the tested floating dtype (no gradient). */
    public static InputSpec mask(int... shape) {
        return new InputSpec(Kind.MASK, shape, 0, 1, View.NONE, null, 0, null, false);
    }

    public InputSpec domain(double low, double high) {
        return new InputSpec(kind, shape, low, high, view, expandTo, indexBound, fixedIndex, tiny);
    }

    /** The op sees {@code leaf.transpose(-1, -2)} of a leaf stored with the last two dims swapped. */
    public InputSpec transposed() {
        return new InputSpec(kind, shape, lo, hi, View.TRANSPOSED, null, indexBound, fixedIndex, tiny);
    }

    /** The op sees a narrow() of a leaf whose last dim is wider, so rows are not adjacent in memory. */
    public InputSpec sliced() {
        return new InputSpec(kind, shape, lo, hi, View.SLICED, null, indexBound, fixedIndex, tiny);
    }

    /** The op sees {@code leaf.expand(target)}: stride-0 dims over a leaf of this spec's shape. */
    public InputSpec expandedTo(int... target) {
        return new InputSpec(kind, shape, lo, hi, View.EXPANDED, target, indexBound, fixedIndex, tiny);
    }

    /**
     * Magnitudes log-uniform in [{@link #TINY_MIN}, {@link #TINY_MAX}] with random signs (only the
     * positive ones when the domain has no negatives): where {@code 1 + x} or {@code e^x - 1} cancel.
     * A sample with such an input is checked in ulps, not against an absolute tolerance that any
     * result near 0 would meet.
     */
    public InputSpec tiny() {
        return new InputSpec(kind, shape, lo, hi, view, expandTo, indexBound, fixedIndex, true);
    }

    boolean differentiable() {
        return kind == Kind.FLOAT;
    }

    /** Shape of the stored leaf tensor. */
    int[] leafShape() {
        int r = shape.length;
        return switch (view) {
            case NONE, EXPANDED -> shape;
            case TRANSPOSED -> {
                int[] s = shape.clone();
                s[r - 1] = shape[r - 2];
                s[r - 2] = shape[r - 1];
                yield s;
            }
            case SLICED -> {
                int[] s = shape.clone();
                s[r - 1] = 2 * shape[r - 1] + 1;
                yield s;
            }
        };
    }

    /** Raw leaf values in double, drawn from {@code gen}; the same for every dtype and backend. */
    double[] leafValues(Generator gen) {
        int n = Shape.of(leafShape()).numel();
        double[] v = new double[n];
        for (int i = 0; i < n; i++) {
            v[i] = switch (kind) {
                case FLOAT -> tiny ? tinyValue(gen) : lo + (hi - lo) * gen.nextUniform();
                case MASK -> gen.nextUniform() < 0.5 ? 0.0 : 1.0;
                case INDEX -> fixedIndex != null ? fixedIndex[i] : gen.nextLong(indexBound);
            };
        }
        return v;
    }

    private double tinyValue(Generator gen) {
        double logMin = Math.log(TINY_MIN);
        double magnitude = Math.exp(logMin + (Math.log(TINY_MAX) - logMin) * gen.nextUniform());
        boolean negative = lo < 0 && gen.nextUniform() < 0.5;
        return negative ? -magnitude : magnitude;
    }

    /** The leaf tensor on {@code backend}: values rounded to {@code dtype}, requiring grad when floating. */
    Tensor leaf(double[] values, Backend backend, DType dtype) {
        if (kind == Kind.INDEX && fixedIndex != null) {
            // Exactly as given: values above 2^53 would not survive the trip through double.
            return Tensor.on(backend).fromArray(fixedIndex.clone(), leafShape());
        }
        if (kind == Kind.INDEX) {
            long[] l = new long[values.length];
            for (int i = 0; i < l.length; i++) {
                l[i] = (long) values[i];
            }
            return Tensor.on(backend).fromArray(l, leafShape());
        }
        Tensor t = Tensor.on(backend).fromArray(values, dtype, leafShape());
        return kind == Kind.FLOAT ? t.requiresGrad(true) : t;
    }

    /** What the op receives: the leaf seen through this spec's view. */
    Tensor view(Tensor leaf) {
        return switch (view) {
            case NONE -> leaf;
            case TRANSPOSED -> leaf.transpose(-1, -2);
            case SLICED -> leaf.narrow(-1, 1, shape[shape.length - 1]);
            case EXPANDED -> leaf.expand(expandTo);
        };
    }

    @Override
    public String toString() {
        String base = (kind == Kind.INDEX ? "index" : kind == Kind.MASK ? "mask" : "") + Arrays.toString(shape)
                + (tiny ? "(tiny)" : "");
        return switch (view) {
            case NONE -> base;
            case TRANSPOSED -> base + "ᵀview";
            case SLICED -> base + "(sliced)";
            case EXPANDED -> base + "→" + Arrays.toString(expandTo);
        };
    }
}
