package dev.adjoint.ops;

import dev.adjoint.Tensor;
import dev.adjoint.TensorShapeException;

import java.util.Arrays;

/**
 * Argument checks shared by the convolution and pooling ops: per-dimension sizes given as one value
 * or one per spatial dimension, batched or unbatched inputs. Every message names the user's op.
 */
final class WindowArgs {
    private WindowArgs() {
    }

    /**
     * {@code values} for each of {@code dims} spatial dimensions: one value is repeated, as PyTorch's
     * {@code _pair}; each must be at least {@code min}.
     */
    static int[] perDim(String op, String what, int[] values, int dims, int min) {
        if (values == null || (values.length != 1 && values.length != dims)) {
            throw new IllegalArgumentException(op + ": " + what + " must have 1 or " + dims + " values, got "
                    + Arrays.toString(values));
        }
        int[] out = new int[dims];
        for (int d = 0; d < dims; d++) {
            out[d] = values.length == 1 ? values[0] : values[d];
            if (out[d] < min) {
                throw new IllegalArgumentException(op + ": " + what + " must be " + (min == 0 ? "non-negative"
                        : min == 1 ? "positive" : "at least " + min) + ", got " + Arrays.toString(values));
            }
        }
        return out;
    }

    /** Checks that {@code input} has {@code spatial + 1} (unbatched) or {@code spatial + 2} (batched) dimensions. */
    static void checkInputRank(String op, Tensor input, int spatial) {
        Dispatch.checkFloating(op, input);
        if (input.rank() != spatial + 1 && input.rank() != spatial + 2) {
            throw new TensorShapeException(op + ": expected a " + (spatial + 1) + "-D (unbatched) or " + (spatial + 2)
                    + "-D (batched) input, got shape " + input.shape());
        }
    }

    /** The input with a batch dimension of 1 added when it is unbatched. */
    static Tensor batched(Tensor input, int spatial) {
        return input.rank() == spatial + 1 ? input.unsqueeze(0) : input;
    }

    /** Undoes {@link #batched} on the result. */
    static Tensor unbatched(Tensor result, Tensor input, int spatial) {
        return input.rank() == spatial + 1 ? result.squeeze(0) : result;
    }

    /** {@code values} as PyTorch prints a size: {@code 3x3}, or just {@code 5} in one dimension. */
    static String size(int[] values) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < values.length; i++) {
            sb.append(i == 0 ? "" : "x").append(values[i]);
        }
        return sb.toString();
    }

    /** The last {@code dims} sizes of {@code t}. */
    static int[] spatialSizes(Tensor t, int dims) {
        int[] out = new int[dims];
        for (int d = 0; d < dims; d++) {
            out[d] = t.size(t.rank() - dims + d);
        }
        return out;
    }
}
