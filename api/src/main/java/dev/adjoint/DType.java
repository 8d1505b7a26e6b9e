package dev.adjoint;

/**
 * Element types. Floating types are differentiable; {@link #BOOL}, {@link #INT32} and {@link #INT64}
 * are not (masks, counts, indices, integer arithmetic), and their arithmetic is exact.
 *
 * <p>Ops on operands of different dtypes compute in the promoted dtype of {@link #promote}, as
 * {@code torch.result_type}: {@code BOOL < INT32 < INT64 < FLOAT32 < FLOAT64}. The one deliberate
 * difference from PyTorch: a FLOAT32 and a FLOAT64 tensor do not meet silently (PyTorch would compute
 * in FLOAT64); the op fails and names both, since a mixed model is nearly always a mistake that costs
 * twice the memory. See docs/dtypes.md.
 */
public enum DType {
    FLOAT32(4, Category.FLOATING, 3),
    FLOAT64(8, Category.FLOATING, 4),
    INT64(8, Category.INTEGRAL, 2),
    INT32(4, Category.INTEGRAL, 1),
    BOOL(1, Category.BOOLEAN, 0);

    /** The kinds of dtype, lowest first: a number or 0-d tensor promotes a tensor only into a higher kind. */
    public enum Category {
        BOOLEAN, INTEGRAL, FLOATING
    }

    /** The dtype a Java {@code double} scalar takes when it meets a bool or integer tensor, as torch's default dtype. */
    public static final DType DEFAULT_FLOATING = FLOAT32;
    /** The dtype a Java {@code long} scalar takes when it meets a bool tensor, as torch's int64. */
    public static final DType DEFAULT_INTEGRAL = INT64;

    private final int byteSize;
    private final Category category;
    /** Position in {@code BOOL < INT32 < INT64 < FLOAT32 < FLOAT64}. */
    private final int rank;

    DType(int byteSize, Category category, int rank) {
        this.byteSize = byteSize;
        this.category = category;
        this.rank = rank;
    }

    public int byteSize() {
        return byteSize;
    }

    public boolean isFloatingPoint() {
        return category == Category.FLOATING;
    }

    /** INT32 or INT64. */
    public boolean isIntegral() {
        return category == Category.INTEGRAL;
    }

    public Category category() {
        return category;
    }

    /**
     * The dtype that holds both: the higher in {@code BOOL < INT32 < INT64 < FLOAT32 < FLOAT64}. For
     * FLOAT32 with FLOAT64 it answers FLOAT64; ops refuse that pair before asking (see the class comment).
     */
    public static DType promote(DType a, DType b) {
        return a.rank >= b.rank ? a : b;
    }
}
