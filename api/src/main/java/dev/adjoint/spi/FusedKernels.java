package dev.adjoint.spi;

/**
 * Optional one-pass kernels for composites the api otherwise builds from the primitives of
 * {@link Backend}: softmax and layer norm, forward and backward. A backend offers them through
 * {@link Backend#fused()} when a benchmark shows they matter; the api then calls them wherever no
 * graph is being recorded through them (the derivatives of a recorded backward are taken from the
 * composite formulas, which are differentiable). Results must agree with the composites within the
 * conformance tolerances; FLOAT32 sums should accumulate in double or an equally accurate order.
 *
 * <p>Every kernel works along the <em>last</em> dimension of its layouts ("rows"); the api moves
 * another dimension there with a transposed view. Inputs may be strided unless stated; outputs are
 * freshly allocated and contiguous.
 */
public interface FusedKernels {
    /**
     * {@code out = softmax(x)} along the last dimension, or {@code log_softmax(x)} when {@code log}:
     * with the row maximum subtracted first so exp cannot overflow; a row whose maximum is infinite
     * follows the composite (PyTorch's) results.
     */
    void softmax(Storage x, Layout xLayout, boolean log, Storage out, Layout outLayout);

    /**
     * The vector-Jacobian product of softmax along the last dimension, from the output {@code y} of the
     * forward: {@code out = y * (g - sum(g * y))}, or for log-softmax {@code out = g - exp(y) * sum(g)},
     * sums taken per row.
     */
    void softmaxBackward(Storage grad, Layout gradLayout, Storage y, Layout yLayout, boolean log,
                         Storage out, Layout outLayout);

    /**
     * Layer norm over rows of {@code normalized} elements: {@code x} is contiguous, viewed as
     * {@code [rows, normalized]}; {@code out = (x - mean) * rstd * weight + bias} with
     * {@code rstd = 1 / sqrt(var + eps)} and the biased variance. {@code weight} and {@code bias} are
     * contiguous vectors of {@code normalized} elements, or {@code null}. Writes each row's mean and
     * rstd to {@code mean} and {@code rstd} (contiguous, {@code rows} elements, the dtype of x).
     */
    void layerNorm(Storage x, int offset, int rows, int normalized, Storage weight, Storage bias, double eps,
                   Storage out, Storage mean, Storage rstd);

    /**
     * The gradients of layer norm from the output gradient {@code grad} (contiguous, like x), the
     * input {@code x}, and the {@code mean} and {@code rstd} the forward wrote: with
     * {@code xhat = (x - mean) * rstd} and {@code h = grad * weight} (or {@code grad}),
     * {@code gradX = rstd * (h - mean(h) - xhat * mean(h * xhat))} per row,
     * {@code gradWeight = sum over rows of grad * xhat}, {@code gradBias = sum over rows of grad}.
     * {@code gradWeight}/{@code gradBias} may be {@code null} (not wanted); {@code gradX} may be
     * {@code null} too.
     */
    void layerNormBackward(Storage grad, int gradOffset, Storage x, int xOffset, Storage mean, Storage rstd,
                           Storage weight, int rows, int normalized, Storage gradX, Storage gradWeight,
                           Storage gradBias);
}
