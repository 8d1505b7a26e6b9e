package dev.adjoint.internal;

import dev.adjoint.Tensor;

import java.util.IdentityHashMap;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Gradients that are one slice of zeros, handed by a backward formula (narrow's) to the unrecorded
 * backward pass running on this thread, which copies or adds them into their slice of the input's
 * gradient sum: one buffer for all the slices an input receives (q, k and v narrowed from one
 * projection), nothing added outside them, and zeros written only where no slice is. Between the ops and the autograd packages only; not API.
 */
public final class GradientSlices {
    private static final ThreadLocal<Map<Tensor, Slice>> RUNNING = new ThreadLocal<>();

    private GradientSlices() {
    }

    /**
     * A gradient that is {@code part} at {@code start} along {@code dim} and zero elsewhere;
     * {@code padded} makes it whole (a zero tensor laid out as the input, {@code part} copied in),
     * {@code blank} a tensor of that layout with nothing written (its contents unspecified).
     */
    public record Slice(Tensor part, Supplier<Tensor> padded, Supplier<Tensor> blank, int dim, int start) {
    }

    /**
     * For narrow's backward formula: in an unrecorded pass, registers the slice and returns
     * {@code part}, for the formula to return as the input's gradient; anywhere else returns null,
     * and the formula returns {@code padded.get()}.
     */
    public static Tensor offer(Tensor part, Supplier<Tensor> padded, Supplier<Tensor> blank, int dim, int start) {
        Map<Tensor, Slice> slices = RUNNING.get();
        if (slices == null) {
            return null;
        }
        slices.put(part, new Slice(part, padded, blank, dim, start));
        return part;
    }

    /** The slices of the pass starting now (empty, by identity), or null for a recorded pass; see {@link #end}. */
    public static Map<Tensor, Slice> begin(boolean recorded) {
        Map<Tensor, Slice> slices = recorded ? null : new IdentityHashMap<>();
        RUNNING.set(slices);
        return slices;
    }

    /** The slices of the pass that was running before {@link #begin} (passes nest: a hook may run one). */
    public static Map<Tensor, Slice> running() {
        return RUNNING.get();
    }

    /** Restores the enclosing pass's slices, {@code running()} as it was before {@link #begin}. */
    public static void end(Map<Tensor, Slice> enclosing) {
        RUNNING.set(enclosing);
    }
}
