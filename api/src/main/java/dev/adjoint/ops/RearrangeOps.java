package dev.adjoint.ops;

import dev.adjoint.PadMode;
import dev.adjoint.Tensor;
import dev.adjoint.TensorShapeException;
import dev.adjoint.autograd.Graph;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static dev.adjoint.ops.ElementwiseOps.of;

/**
 * Ops that move elements into a new arrangement: flip, roll, repeat, tile and pad. Except flip, each is
 * a composition of views, narrow, expand and cat, so its gradient and tangent come by composition.
 */
public final class RearrangeOps {
    private static final Tensor[] NOTHING = new Tensor[0];

    private RearrangeOps() {
    }

    /**
     * The elements in reverse order along each of {@code dims} (a copy, as torch.flip). One gather per
     * dim forward; flip is its own inverse, so the gradient is the output gradient flipped back.
     */
    public static Tensor flip(Tensor x, int... dims) {
        Dispatch.checkFloating("flip", x);
        boolean[] flipped = ReductionOps.flaggedDims("flip", x.shape(), dims);
        int[] list = ReductionOps.indicesOf(flipped);
        Tensor out = x.detach();
        try (var scope = Tensor.noGrad()) {
            for (int d : list) {
                int n = x.size(d);
                long[] reversed = new long[n];
                for (int i = 0; i < n; i++) {
                    reversed[i] = n - 1 - i;
                }
                out = out.indexSelect(d, Tensor.on(x.backend()).fromArray(reversed, n));
            }
            if (list.length == 0) {
                out = out.clone();
            }
        }
        return Graph.record("FlipBackward", out, of(x), NOTHING, (g, c) -> of(flip(g, list)),
                (t, in, y) -> flip(t[0], list));
    }

    /**
     * Shifts the elements along each of {@code dims} by the matching shift, those pushed past the end
     * coming back at the start; with no dims, the flattened tensor rolls and keeps its shape.
     */
    public static Tensor roll(Tensor x, int[] shifts, int[] dims) {
        if (dims.length == 0) {
            if (shifts.length != 1) {
                throw new TensorShapeException("roll: without dims, shifts must hold one shift, got "
                        + Arrays.toString(shifts) + " (shape " + x.shape() + ")");
            }
            return roll(x.reshape(-1), shifts, new int[] {0}).reshape(x.shape().toArray());
        }
        if (shifts.length != dims.length) {
            throw new TensorShapeException("roll: " + shifts.length + " shifts " + Arrays.toString(shifts) + " for "
                    + dims.length + " dims " + Arrays.toString(dims) + " (shape " + x.shape() + ")");
        }
        Tensor out = x;
        for (int i = 0; i < dims.length; i++) {
            int d = x.shape().normalizeDim(dims[i], "roll");
            int n = x.size(d);
            if (n == 0) {
                continue;
            }
            int s = Math.floorMod(shifts[i], n);
            if (s != 0) {
                out = Tensor.cat(List.of(out.narrow(d, n - s, s), out.narrow(d, 0, n - s)), d);
            }
        }
        return out;
    }

    /**
     * torch.Tensor.repeat: the tensor tiled {@code repeats[i]} times along dim i. With more repeats than
     * dims, leading dims of size 1 are added first. As a view {@code [1, s0, 1, s1, ...]} expanded to
     * {@code [r0, s0, r1, s1, ...]} and copied into {@code [r0 s0, r1 s1, ...]}: the expand's gradient sums
     * the copies back.
     */
    public static Tensor repeat(Tensor x, int... repeats) {
        int rank = repeats.length;
        if (rank < x.rank()) {
            throw new TensorShapeException("repeat: " + rank + " repeats " + Arrays.toString(repeats)
                    + " for a tensor of " + x.rank() + " dimensions (shape " + x.shape() + "); give at least one per dimension");
        }
        int lead = rank - x.rank();
        int[] interleaved = new int[2 * rank];
        int[] expanded = new int[2 * rank];
        int[] result = new int[rank];
        for (int i = 0; i < rank; i++) {
            if (repeats[i] < 0) {
                throw new TensorShapeException("repeat: repeats must not be negative, got " + Arrays.toString(repeats)
                        + " (shape " + x.shape() + ")");
            }
            int size = i < lead ? 1 : x.size(i - lead);
            interleaved[2 * i] = 1;
            interleaved[2 * i + 1] = size;
            expanded[2 * i] = repeats[i];
            expanded[2 * i + 1] = size;
            result[i] = repeats[i] * size;
        }
        Tensor tiled = x.reshape(interleaved).expand(expanded).reshape(result);
        // The last reshape is a view where the strides allow (repeats of 1, or a repeated dim of size 1
        // beside the rest): torch.repeat's result is always memory of its own.
        return tiled.storage() == x.storage() ? tiled.clone() : tiled;
    }

    /** torch.tile: {@link #repeat}, with 1s added in front when {@code reps} has fewer entries than dims. */
    public static Tensor tile(Tensor x, int... reps) {
        if (reps.length >= x.rank()) {
            return repeat(x, reps);
        }
        int[] padded = new int[x.rank()];
        Arrays.fill(padded, 1);
        System.arraycopy(reps, 0, padded, x.rank() - reps.length, reps.length);
        return repeat(x, padded);
    }

    /**
     * torch.nn.functional.pad. {@code pad} holds (before, after) pairs from the last dim backward:
     * {@code [left, right]} pads the last dim, {@code [left, right, top, bottom]} the last two. CONSTANT
     * fills with {@code value} (a negative pad crops); REFLECT mirrors without repeating the edge (each
     * pad smaller than the dim); REPLICATE repeats the edge element; CIRCULAR wraps around (each pad at
     * most the dim). Unlike PyTorch 1.13, the non-constant modes take any number of dims of any rank.
     */
    public static Tensor pad(Tensor x, int[] pad, PadMode mode, double value) {
        Dispatch.checkFloating("pad", x);
        if (pad.length % 2 != 0) {
            throw new TensorShapeException("pad: padding " + Arrays.toString(pad) + " has an odd length; it takes "
                    + "(before, after) pairs, from the last dimension backward (shape " + x.shape() + ")");
        }
        if (pad.length / 2 > x.rank()) {
            throw new TensorShapeException("pad: padding " + Arrays.toString(pad) + " has " + pad.length / 2
                    + " pairs but the input has " + x.rank() + " dimensions (shape " + x.shape() + ")");
        }
        Tensor out = x;
        for (int pair = 0; pair < pad.length / 2; pair++) {
            int d = x.rank() - 1 - pair;
            out = padDim(out, d, pad[2 * pair], pad[2 * pair + 1], mode, value, pad, x);
        }
        return out;
    }

    private static Tensor padDim(Tensor x, int d, int before, int after, PadMode mode, double value, int[] pad,
                                 Tensor input) {
        if (before == 0 && after == 0) {
            return x;
        }
        int n = x.size(d);
        if (mode != PadMode.CONSTANT && (before < 0 || after < 0)) {
            throw new TensorShapeException("pad: " + mode + " padding " + Arrays.toString(pad)
                    + " is negative; only CONSTANT padding crops (shape " + input.shape() + ")");
        }
        switch (mode) {
            case REFLECT -> {
                if (before >= n || after >= n) {
                    throw new TensorShapeException("pad: REFLECT padding (" + before + ", " + after + ") of dimension " + d
                            + " must be smaller than its size " + n + " (padding " + Arrays.toString(pad) + ", shape "
                            + input.shape() + ")");
                }
            }
            case CIRCULAR -> {
                if (before > n || after > n) {
                    throw new TensorShapeException("pad: CIRCULAR padding (" + before + ", " + after + ") of dimension " + d
                            + " must not exceed its size " + n + " (padding " + Arrays.toString(pad) + ", shape "
                            + input.shape() + ")");
                }
            }
            case REPLICATE -> {
                if (n == 0) {
                    throw new TensorShapeException("pad: REPLICATE padding of dimension " + d + " needs an element to "
                            + "repeat, but it has size 0 (padding " + Arrays.toString(pad) + ", shape " + input.shape() + ")");
                }
            }
            case CONSTANT -> {
                if (n + before + after < 0 || -before > n || -after > n) {
                    throw new TensorShapeException("pad: padding (" + before + ", " + after + ") crops dimension " + d
                            + " of size " + n + " below nothing (padding " + Arrays.toString(pad) + ", shape "
                            + input.shape() + ")");
                }
                if (before < 0) {
                    x = x.narrow(d, -before, n + before);
                    n += before;
                    before = 0;
                }
                if (after < 0) {
                    x = x.narrow(d, 0, n + after);
                    n += after;
                    after = 0;
                }
            }
        }
        List<Tensor> parts = new ArrayList<>(3);
        if (before > 0) {
            parts.add(edge(x, d, before, true, mode, value));
        }
        parts.add(x);
        if (after > 0) {
            parts.add(edge(x, d, after, false, mode, value));
        }
        return parts.size() == 1 ? x : Tensor.cat(parts, d);
    }

    /** The {@code width} elements added before ({@code leading}) or after {@code x} along {@code d}. */
    private static Tensor edge(Tensor x, int d, int width, boolean leading, PadMode mode, double value) {
        int n = x.size(d);
        return switch (mode) {
            case CONSTANT -> Tensor.on(x.backend()).full(value, x.dtype(), x.shape().withDim(d, width).toArray());
            case REFLECT -> flip(leading ? x.narrow(d, 1, width) : x.narrow(d, n - 1 - width, width), d);
            case REPLICATE -> {
                int[] target = x.shape().withDim(d, width).toArray();
                yield (leading ? x.narrow(d, 0, 1) : x.narrow(d, n - 1, 1)).expand(target);
            }
            case CIRCULAR -> leading ? x.narrow(d, n - width, width) : x.narrow(d, 0, width);
        };
    }
}
