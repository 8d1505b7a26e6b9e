package dev.adjoint;

/** How {@link Functional#pad} fills the added elements, as torch.nn.functional.pad's {@code mode}. */
public enum PadMode {
    /** A constant value (negative padding crops). */
    CONSTANT,
    /** The mirror image of the elements next to the edge, the edge itself not repeated: [1, 2, 3] padded by 2 gives [3, 2, 1, 2, 3, 2, 1]. */
    REFLECT,
    /** The edge element repeated: [1, 2, 3] padded by 2 gives [1, 1, 1, 2, 3, 3, 3]. */
    REPLICATE,
    /** The elements from the other end: [1, 2, 3] padded by 2 gives [2, 3, 1, 2, 3, 1, 2]. */
    CIRCULAR
}
