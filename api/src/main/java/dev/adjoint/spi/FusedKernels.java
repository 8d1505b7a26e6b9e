package dev.adjoint.spi;

import dev.adjoint.DType;

/**
 * Optional one-pass kernels for composites the api otherwise builds from the primitives of
 * {@link Backend}: softmax, layer norm, batch norm and scaled dot-product attention, forward and backward, and the optimizers'
 * parameter updates (SGD, Adam and AdamW), which are otherwise a chain of in-place ops. A backend offers
 * them through {@link Backend#fused()}, each kernel on its own ({@link #offers}), where a benchmark shows
 * it matters; the api composes every kernel not offered, and calls the offered ones wherever no graph is
 * being recorded through them (the derivatives of a recorded backward are taken from the composite
 * formulas, which are differentiable). Results must agree with the composites within the conformance
 * tolerances; FLOAT32 sums should accumulate in double or an equally accurate order.
 *
 * <p>Softmax and layer norm work along the <em>last</em> dimension of their layouts ("rows"); the api
 * moves another dimension there with a transposed view. Batch norm works per channel of a contiguous
 * {@code [batch, channels, inner]} view. Inputs may be strided unless stated; outputs are freshly
 * allocated and contiguous.
 *
 * <p>The optimizer updates work in place on contiguous runs of one floating dtype and must give the
 * result of the in-place ops they replace (dev.adjoint.nn.optim's composition) bit for bit: every
 * hyperparameter is rounded to the dtype before use, and every product, quotient, square root and sum
 * is rounded where the separate ops round it (never a fused multiply-add), so an optimizer's result does
 * not depend on whether a backend fuses.
 */
public interface FusedKernels {
    /** The kernels of this interface, one constant per method, for {@link #offers}. */
    enum Kernel {
        SOFTMAX, SOFTMAX_BACKWARD, LAYER_NORM, LAYER_NORM_BACKWARD, BATCH_NORM, BATCH_NORM_BACKWARD, SGD_STEP, ADAM_STEP,
        ATTENTION, ATTENTION_BACKWARD, DROPOUT_MASK, RELU_BACKWARD
    }

    /**
     * Whether this backend runs {@code kernel} on tensors of {@code dtype} (a floating dtype). The api asks
     * before every call and composes whatever is not offered from the primitives of {@link Backend}, so a
     * backend offers the kernels, and dtypes, it runs faster than the composite and as accurately, and
     * leaves the others to their defaults, which are never called (they throw). A backward kernel is
     * called only by the graph node its forward kernel built: offered without its forward it has no
     * effect, while a forward offered alone has its gradients composed. The answer must not change while
     * the backend is in use. The default offers nothing.
     */
    default boolean offers(Kernel kernel, DType dtype) {
        return false;
    }

    /**
     * {@code backend}'s fused kernels if they offer {@code kernel} for {@code dtype}, otherwise null (the
     * api composes it).
     */
    static FusedKernels offered(Backend backend, Kernel kernel, DType dtype) {
        FusedKernels fused = backend.fused();
        return fused != null && fused.offers(kernel, dtype) ? fused : null;
    }

    /**
     * {@code out = softmax(x)} along the last dimension, or {@code log_softmax(x)} when {@code log}:
     * with the row maximum subtracted first so exp cannot overflow; a row whose maximum is infinite
     * follows the composite (PyTorch's) results.
     */
    default void softmax(Storage x, Layout xLayout, boolean log, Storage out, Layout outLayout) {
        throw notOffered(Kernel.SOFTMAX);
    }

    /**
     * The vector-Jacobian product of softmax along the last dimension, from the output {@code y} of the
     * forward: {@code out = y * (g - sum(g * y))}, or for log-softmax {@code out = g - exp(y) * sum(g)},
     * sums taken per row.
     */
    default void softmaxBackward(Storage grad, Layout gradLayout, Storage y, Layout yLayout, boolean log,
                                 Storage out, Layout outLayout) {
        throw notOffered(Kernel.SOFTMAX_BACKWARD);
    }

    /**
     * ReLU's vector-Jacobian product from its output, in one pass: {@code out[i] = y[i] > 0 ? grad[i] : 0}
     * for {@code n} contiguous elements of each from its offset, all of one floating dtype. A select, as
     * the composite {@code where(y > 0, grad, 0)} and torch's {@code threshold_backward}: an infinite or
     * NaN gradient where {@code y <= 0} (or y is NaN) gives 0, not NaN; the zero is +0. {@code out} may be
     * {@code grad} itself.
     */
    default void reluBackward(Storage grad, int gradOffset, Storage y, int yOffset, Storage out, int outOffset,
                              int n) {
        throw notOffered(Kernel.RELU_BACKWARD);
    }

    /**
     * Layer norm over rows of {@code normalized} elements: {@code x} is contiguous, viewed as
     * {@code [rows, normalized]}; {@code out = (x - mean) * rstd * weight + bias} with
     * {@code rstd = 1 / sqrt(var + eps)} and the biased variance. {@code weight} and {@code bias} are
     * contiguous vectors of {@code normalized} elements, or {@code null}. Writes each row's mean and
     * rstd to {@code mean} and {@code rstd} (contiguous, {@code rows} elements, the dtype of x).
     */
    default void layerNorm(Storage x, int offset, int rows, int normalized, Storage weight, Storage bias, double eps,
                           Storage out, Storage mean, Storage rstd) {
        throw notOffered(Kernel.LAYER_NORM);
    }

    /**
     * The gradients of layer norm from the output gradient {@code grad} (contiguous, like x), the
     * input {@code x}, and the {@code mean} and {@code rstd} the forward wrote: with
     * {@code xhat = (x - mean) * rstd} and {@code h = grad * weight} (or {@code grad}),
     * {@code gradX = rstd * (h - mean(h) - xhat * mean(h * xhat))} per row,
     * {@code gradWeight = sum over rows of grad * xhat}, {@code gradBias = sum over rows of grad}.
     * {@code gradWeight}/{@code gradBias} may be {@code null} (not wanted); {@code gradX} may be
     * {@code null} too.
     */
    default void layerNormBackward(Storage grad, int gradOffset, Storage x, int xOffset, Storage mean, Storage rstd,
                                   Storage weight, int rows, int normalized, Storage gradX, Storage gradWeight,
                                   Storage gradBias) {
        throw notOffered(Kernel.LAYER_NORM_BACKWARD);
    }

    /**
     * Batch norm of a contiguous {@code x} viewed as {@code [batch, channels, inner]} ({@code inner} the
     * product of the dimensions after the channel), statistics per channel over {@code batch} and
     * {@code inner}. In {@code training} it computes each channel's mean and biased variance (the mean
     * square of the centred values, never E[x^2] - E[x]^2, which cancels), and writes the mean,
     * {@code rstd = 1 / sqrt(var + eps)} and, when {@code variance} is not null, the biased variance;
     * otherwise it reads {@code mean} and {@code rstd} (from the running statistics) and ignores
     * {@code eps}. Then {@code out = (x - mean) * rstd * weight + bias}. {@code weight} and {@code bias}
     * are contiguous vectors of {@code channels} elements, or {@code null}; {@code mean}, {@code rstd}
     * and {@code variance} are contiguous {@code [channels]} of the dtype of x; {@code out} is
     * contiguous like x.
     */
    default void batchNorm(Storage x, int offset, int batch, int channels, int inner, Storage weight, Storage bias,
                           boolean training, double eps, Storage out, Storage mean, Storage rstd, Storage variance) {
        throw notOffered(Kernel.BATCH_NORM);
    }

    /**
     * The gradients of batch norm from the output gradient {@code grad} (contiguous, like x), the input
     * {@code x}, and the {@code mean} and {@code rstd} of the forward: with
     * {@code xhat = (x - mean) * rstd}, sums and means per channel over batch and inner,
     * {@code gradWeight = sum(grad * xhat)}, {@code gradBias = sum(grad)}, and
     * {@code gradX = weight * rstd * (grad - mean(grad) - xhat * mean(grad * xhat))} in {@code training}
     * (the batch statistics depend on x), {@code gradX = weight * rstd * grad} otherwise (the running
     * statistics do not). {@code weight} is contiguous {@code [channels]} or {@code null} (ones); any of
     * {@code gradX}, {@code gradWeight}, {@code gradBias} may be {@code null} (not wanted).
     */
    default void batchNormBackward(Storage grad, int gradOffset, Storage x, int xOffset, Storage mean, Storage rstd,
                                   Storage weight, boolean training, int batch, int channels, int inner, Storage gradX,
                                   Storage gradWeight, Storage gradBias) {
        throw notOffered(Kernel.BATCH_NORM_BACKWARD);
    }

    /**
     * One step of SGD ({@code torch.optim.SGD}) on {@code n} contiguous elements of the parameter
     * {@code param} at {@code paramOffset}, from its gradient at {@code gradOffset}, in place:
     * <pre>
     *   d = grad + weightDecay * p               (when weightDecay is not 0)
     *   buf = d                                  (firstStep)
     *   buf = momentum * buf + (1 - dampening) * d (later steps)
     *   d = nesterov ? d + momentum * buf : buf  (when momentum is not 0)
     *   p = p - lr * d
     * </pre>
     * {@code momentumBuffer} (at {@code bufferOffset}) is read and written when {@code momentum} is not
     * 0 and is {@code null} otherwise; on the {@code firstStep} it is only written. The grad is not
     * written.
     */
    default void sgdStep(Storage param, int paramOffset, Storage grad, int gradOffset, Storage momentumBuffer,
                         int bufferOffset, int n, double lr, double momentum, double dampening, double weightDecay,
                         boolean nesterov, boolean firstStep) {
        throw notOffered(Kernel.SGD_STEP);
    }

    /**
     * One step of Adam or AdamW ({@code torch.optim.Adam(W)}, {@code _single_tensor_adam(w)}) on
     * {@code n} contiguous elements, in place; every storage is read at its own offset:
     * <pre>
     *   p = p * (1 - lr * weightDecay)                        (decoupled: AdamW)
     *   g = grad + weightDecay * p                            (not decoupled, weightDecay not 0: Adam)
     *   m = beta1 * m + (1 - beta1) * g
     *   v = beta2 * v + (1 - beta2) * g * g                   ((g * (1 - beta2)) * g, in that order)
     *   vmax = max(vmax, v)                                   (when maxExpAvgSq is not null: amsgrad)
     *   p = p + (m * -stepSize) / (sqrt(vmax or v) / biasCorrection2Sqrt + eps)
     * </pre>
     * {@code stepSize} ({@code lr / (1 - beta1^step)}) and {@code biasCorrection2Sqrt}
     * ({@code sqrt(1 - beta2^step)}) come from the caller, computed in double from the step count as
     * PyTorch computes them. The maximum propagates NaN, as {@code maximum} does. The grad is not
     * written.
     */
    default void adamStep(Storage param, int paramOffset, Storage grad, int gradOffset, Storage expAvg, int expAvgOffset,
                          Storage expAvgSq, int expAvgSqOffset, Storage maxExpAvgSq, int maxExpAvgSqOffset, int n,
                          double lr, double beta1, double beta2, double eps, double weightDecay, boolean decoupled,
                          double stepSize, double biasCorrection2Sqrt) {
        throw notOffered(Kernel.ADAM_STEP);
    }

    /**
     * Scaled dot-product attention for every matrix of a batch. The layouts have one rank, their leading
     * dims the batch, already broadcast (stride 0 where an operand repeats), and any strides:
     * {@code q} {@code [..., L, E]}, {@code k} {@code [..., S, E]}, {@code v} {@code [..., S, Ev]}, and
     * {@code mask} {@code [..., L, S]} of the dtype, added to the scores ({@code null}: none). Per matrix,
     * {@code P = softmax(scale * q k^T + mask)} by rows, key {@code j} hidden from query {@code i} when
     * {@code causal} and {@code j > i}; {@code out = (P * dropout) v}, contiguous {@code [..., L, Ev]}, with
     * {@code dropout} {@code [..., L, S]} of the dtype, the dropout's multipliers (0 where a weight is
     * dropped, {@code 1 / (1 - p)} where kept), multiplied element by element ({@code null}: none); its
     * matrices are row-major contiguous (strides {@code S, 1}), its batch dims any strides. A row whose
     * scores are all -inf gives NaN, as the composite softmax. When {@code probs} is not {@code null} it
     * receives P, before the dropout, contiguous {@code [..., L, S]}, which {@link #attentionBackward} reads.
     */
    default void attention(Storage q, Layout qLayout, Storage k, Layout kLayout, Storage v, Layout vLayout,
                           Storage mask, Layout maskLayout, boolean causal, double scale, Storage dropout,
                           Layout dropoutLayout, Storage out, Storage probs) {
        throw notOffered(Kernel.ATTENTION);
    }

    /**
     * The gradients of {@link #attention} from the output gradient {@code grad} {@code [..., L, Ev]} (any
     * strides), the operands as the forward had them (the same {@code dropout}, or {@code null}) and the
     * {@code probs} it wrote: per matrix, with {@code D = dropout} (all ones when {@code null}),
     * {@code dV = (P * D)^T grad}, {@code dP = (grad v^T) * D}, {@code dS = scale * P * (dP - rowsum(dP * P))},
     * {@code dQ = dS k}, {@code dK = dS^T q}, each written contiguous in the broadcast batch shape (the
     * api sums a broadcast operand's gradient down); any of them may be {@code null} (not wanted).
     */
    default void attentionBackward(Storage grad, Layout gradLayout, Storage q, Layout qLayout, Storage k,
                                   Layout kLayout, Storage v, Layout vLayout, Storage dropout, Layout dropoutLayout,
                                   Storage probs, double scale, Storage gradQ, Storage gradK, Storage gradV) {
        throw notOffered(Kernel.ATTENTION_BACKWARD);
    }

    /**
     * The mask of inverted dropout, {@code n} elements into {@code out} (contiguous from 0, allocated
     * for overwrite): element {@code i} is {@code value} (already rounded to {@code out}'s dtype) where
     * {@code mix(seed + (i + 1) * gamma) >>> 11 >= threshold}, else 0, with SplitMix64's finaliser
     * {@code mix(z)}: {@code z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L; z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
     * return z ^ (z >>> 31);} in wrapping {@code long} arithmetic. These are the next {@code n} draws of
     * a {@link dev.adjoint.Generator} whose state is {@code seed, gamma}, each compared as the 53-bit
     * integer its uniform draw is made of; so a backend that offers this gives the masks every other
     * backend gives, bit for bit. Each element depends on its index alone, so the work may be split
     * anyhow.
     */
    default void dropoutMask(long seed, long gamma, long threshold, double value, Storage out, int n) {
        throw notOffered(Kernel.DROPOUT_MASK);
    }

    private UnsupportedOperationException notOffered(Kernel kernel) {
        return new UnsupportedOperationException(getClass().getName() + " does not offer the fused kernel " + kernel
                + " (FusedKernels.offers says which it does, and for which dtypes; the api composes the others)");
    }
}
