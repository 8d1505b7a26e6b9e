package dev.adjoint.ops;

import dev.adjoint.DTypeMismatchException;
import dev.adjoint.Shape;
import dev.adjoint.Tensor;
import dev.adjoint.TensorShapeException;
import dev.adjoint.autograd.ForwardAD;
import dev.adjoint.autograd.Graph;
import dev.adjoint.spi.FusedKernels;
import dev.adjoint.spi.FusedKernels.Kernel;
import dev.adjoint.spi.Layout;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static dev.adjoint.ops.ElementwiseOps.of;

/**
 * Softmax, log-softmax and layer norm as primitives of their own: one node each in the graph, with
 * their VJP and JVP side by side, as PyTorch has native kernels for them. The forward runs the
 * backend's one-pass kernel when it offers one ({@link FusedKernels#offers}) and the composite of
 * primitives otherwise; so does the backward, except when the backward itself is being recorded
 * (createGraph) or carries tangents, where the composite formula — differentiable — is used.
 */
public final class NormalizationOps {
    private static final Tensor[] NOTHING = new Tensor[0];

    private NormalizationOps() {
    }

    // ---- softmax and log-softmax --------------------------------------------------------------------

    /** exp(x - max) / sum(exp(x - max)) along {@code dim}: the max shift keeps exp from overflowing. */
    public static Tensor softmax(Tensor x, int dim) {
        return softmax("softmax", x, dim, false);
    }

    /** (x - max) - log(sum(exp(x - max))) along {@code dim}, never log(softmax(x)), which underflows. */
    public static Tensor logSoftmax(Tensor x, int dim) {
        return softmax("logSoftmax", x, dim, true);
    }

    private static Tensor softmax(String op, Tensor x, int dim, boolean log) {
        Dispatch.checkFloating(op, x);
        int d = x.shape().normalizeDimOrScalarDim(dim, op);
        if (x.rank() == 0) {
            // As PyTorch: a row of one element, softmax 1 and logSoftmax 0, with a zero gradient.
            return softmax(op, x.reshape(1), 0, log).reshape();
        }
        Tensor y = softmaxForward(x, d, log);
        return Graph.record(log ? "LogSoftmaxBackward" : "SoftmaxBackward", y, of(x), NOTHING,
                (g, c) -> of(softmaxVjp(g, c.output(), d, log)),
                (t, in, out) -> log
                        // J = I - 1 softmax^T: the tangent minus its softmax-weighted mean.
                        ? t[0].sub(out.exp().mul(t[0]).sum(d, true))
                        // J = diag(y) - y y^T is symmetric: the same formula as the VJP.
                        : out.mul(t[0].sub(t[0].mul(out).sum(d, true))));
    }

    /** The values, without recording anything: the fused kernel, or the composite on detached input. */
    private static Tensor softmaxForward(Tensor x, int d, boolean log) {
        if (x.size(d) == 0) {
            return Dispatch.empty(x.backend(), x.dtype(), x.shape());
        }
        FusedKernels fused = FusedKernels.offered(x.backend(), Kernel.SOFTMAX, x.dtype());
        if (fused != null) {
            Tensor xt = lastDim(x, d);
            Tensor out = Dispatch.empty(x.backend(), x.dtype(), xt.shape());
            fused.softmax(xt.storage(), xt.layout(), log, out.storage(), out.layout());
            return restoreDim(out, d);
        }
        try (var scope = Tensor.noGrad()) {
            Tensor v = x.detach();
            // PyTorch's results for rows with an infinite or NaN maximum: NaN everywhere, so the shift is
            // the plain maximum (logSumExp, unlike softmax, shifts by a finite value).
            Tensor shifted = v.sub(v.amax(d, true));
            if (log) {
                return shifted.sub(shifted.exp().sum(d, true).log());
            }
            Tensor e = shifted.exp();
            return e.div(e.sum(d, true));
        }
    }

    /** The VJP of softmax (or log-softmax) along {@code d} from its output {@code y}: fused when plain. */
    static Tensor softmaxVjp(Tensor g, Tensor y, int d, boolean log) {
        FusedKernels fused = FusedKernels.offered(g.backend(), Kernel.SOFTMAX_BACKWARD, g.dtype());
        if (fused != null && plain(g, y) && g.size(d) > 0) {
            Tensor gt = lastDim(g, d);
            Tensor yt = lastDim(y, d);
            Tensor out = Dispatch.empty(g.backend(), g.dtype(), gt.shape());
            fused.softmaxBackward(gt.storage(), gt.layout(), yt.storage(), yt.layout(), log, out.storage(),
                    out.layout());
            return restoreDim(out, d);
        }
        return log ? g.sub(y.exp().mul(g.sum(d, true))) : y.mul(g.sub(g.mul(y).sum(d, true)));
    }

    // ---- group norm ----------------------------------------------------------------------------------

    /**
     * torch.nn.functional.group_norm: the channels of {@code input} {@code [N, C, ...]} split into
     * {@code groups} consecutive groups, each sample's group normalised over its channels and trailing
     * dimensions with the biased variance, then scaled and shifted per channel by {@code weight} and
     * {@code bias} ({@code [C]}, or {@code null}). Without the affine part it is a layer norm of the
     * {@code [N, groups, C / groups * L]} view, so it runs (and differentiates) as one.
     */
    public static Tensor groupNorm(Tensor input, int groups, Tensor weight, Tensor bias, double eps) {
        String op = "groupNorm";
        Dispatch.checkFloating(op, input);
        if (input.rank() < 2) {
            throw new TensorShapeException(op + ": expected an input of shape [N, C, ...] with at least 2 dimensions, "
                    + "got " + input.shape());
        }
        int channels = input.size(1);
        if (groups <= 0 || channels % groups != 0) {
            throw new IllegalArgumentException(op + ": " + channels + " channels (input shape " + input.shape()
                    + ") do not split into " + groups + " groups");
        }
        BatchNormOps.checkPerChannel(op, input, weight, "weight", channels);
        BatchNormOps.checkPerChannel(op, input, bias, "bias", channels);
        int inner = 1;
        for (int d = 2; d < input.rank(); d++) {
            inner *= input.size(d);
        }
        int perGroup = channels / groups * inner;
        Tensor y = layerNorm(input.reshape(input.size(0), groups, perGroup), new int[] {perGroup}, null, null, eps)
                .reshape(input.shape().toArray());
        if (weight == null && bias == null) {
            return y;
        }
        int[] perChannel = new int[input.rank()];
        Arrays.fill(perChannel, 1);
        perChannel[1] = channels;
        if (weight != null) {
            y = y.mul(weight.reshape(perChannel));
        }
        return bias != null ? y.add(bias.reshape(perChannel)) : y;
    }

    // ---- layer norm ----------------------------------------------------------------------------------

    /**
     * torch.nn.functional.layer_norm: normalises over the trailing dimensions {@code normalizedShape}
     * with the biased variance, then scales by {@code weight} and shifts by {@code bias} (each of shape
     * {@code normalizedShape}, or {@code null}).
     */
    public static Tensor layerNorm(Tensor x, int[] normalizedShape, Tensor weight, Tensor bias, double eps) {
        Dispatch.checkFloating("layerNorm", x);
        int k = normalizedShape.length;
        int[] dims = x.shape().toArray();
        if (k == 0 || dims.length < k
                || !Arrays.equals(Arrays.copyOfRange(dims, dims.length - k, dims.length), normalizedShape)) {
            throw new TensorShapeException("layerNorm: input shape " + x.shape() + " must end in the normalized shape "
                    + Arrays.toString(normalizedShape));
        }
        for (Tensor affine : new Tensor[] {weight, bias}) {
            if (affine == null) {
                continue;
            }
            String which = affine == weight ? "weight" : "bias";
            Dispatch.checkSameBackend("layerNorm", x, affine);
            if (affine.dtype() != x.dtype()) {
                throw new DTypeMismatchException("layerNorm: " + which + " is " + affine.dtype() + " but the input is "
                        + x.dtype() + " (shape " + x.shape() + ")");
            }
            if (!Arrays.equals(affine.shape().toArray(), normalizedShape)) {
                throw new TensorShapeException("layerNorm: " + which + " has shape " + affine.shape()
                        + " but the normalized shape is " + Arrays.toString(normalizedShape));
            }
        }
        int[] reduce = new int[k];
        for (int i = 0; i < k; i++) {
            reduce[i] = dims.length - k + i;
        }
        int normalized = Shape.of(normalizedShape).numel();
        int rows = normalized == 0 ? 0 : x.numel() / normalized;
        int[] statShape = dims.clone();
        for (int r : reduce) {
            statShape[r] = 1;
        }

        Tensor xc = x.isContiguous() ? x.detach() : Dispatch.contiguousCopy(x.detach());
        Tensor out;
        Tensor mean;
        Tensor rstd;
        FusedKernels fused = FusedKernels.offered(x.backend(), Kernel.LAYER_NORM, x.dtype());
        if (fused != null && rows > 0) {
            out = Dispatch.empty(x.backend(), x.dtype(), x.shape());
            mean = Dispatch.empty(x.backend(), x.dtype(), Shape.of(statShape));
            rstd = Dispatch.empty(x.backend(), x.dtype(), Shape.of(statShape));
            fused.layerNorm(xc.storage(), xc.layout().offset(), rows, normalized,
                    weight == null ? null : Dispatch.contiguousCopy(weight.detach()).storage(),
                    bias == null ? null : Dispatch.contiguousCopy(bias.detach()).storage(), eps,
                    out.storage(), mean.storage(), rstd.storage());
        } else {
            try (var scope = Tensor.noGrad()) {
                mean = xc.mean(reduce, true);
                Tensor centered = xc.sub(mean);
                rstd = centered.square().mean(reduce, true).add(eps).sqrt().pow(-1.0);
                Tensor y = centered.mul(rstd);
                if (weight != null) {
                    y = y.mul(weight.detach());
                }
                out = bias != null ? y.add(bias.detach()) : y;
            }
        }

        List<Tensor> inputs = new ArrayList<>(3);
        inputs.add(x);
        int weightAt = weight != null ? inputs.size() : -1;
        if (weight != null) {
            inputs.add(weight);
        }
        int biasAt = bias != null ? inputs.size() : -1;
        if (bias != null) {
            inputs.add(bias);
        }
        Tensor[] in = inputs.toArray(new Tensor[0]);
        Tensor savedWeight = weight;
        int leading = dims.length - k;
        // Everything backward reads is saved through the node (not captured), so checkpointing can drop it.
        Tensor[] saved = weight != null ? of(x, mean, rstd, weight) : of(x, mean, rstd);
        return Graph.record("NativeLayerNormBackward", out, in, saved, (g, c) -> {
            Tensor sx = c.saved(0);
            Tensor sw = weight != null ? c.saved(3) : null;
            Tensor[] grads = new Tensor[in.length];
            boolean wantX = c.needsInputGrad(0);
            boolean wantW = weightAt >= 0 && c.needsInputGrad(weightAt);
            boolean wantB = biasAt >= 0 && c.needsInputGrad(biasAt);
            FusedKernels fusedBackward = FusedKernels.offered(x.backend(), Kernel.LAYER_NORM_BACKWARD, x.dtype());
            if (fused != null && fusedBackward != null && rows > 0 && plain(g, sx, sw)) {
                Tensor gc = g.isContiguous() ? g : Dispatch.contiguousCopy(g);
                Tensor gx = wantX ? Dispatch.empty(x.backend(), x.dtype(), x.shape()) : null;
                Tensor gw = wantW ? Dispatch.empty(x.backend(), x.dtype(), Shape.of(normalizedShape)) : null;
                Tensor gb = wantB ? Dispatch.empty(x.backend(), x.dtype(), Shape.of(normalizedShape)) : null;
                Tensor sxc = sx.isContiguous() ? sx : Dispatch.contiguousCopy(sx);
                fusedBackward.layerNormBackward(gc.storage(), gc.layout().offset(), sxc.storage(),
                        sxc.layout().offset(), c.saved(1).storage(), c.saved(2).storage(),
                        sw == null ? null : Dispatch.contiguousCopy(sw).storage(),
                        rows, normalized, gx == null ? null : gx.storage(), gw == null ? null : gw.storage(),
                        gb == null ? null : gb.storage());
                grads[0] = gx;
                if (wantW) {
                    grads[weightAt] = gw;
                }
                if (wantB) {
                    grads[biasAt] = gb;
                }
                return grads;
            }
            // The composite, recomputing mean and rstd from x with differentiable ops so that a
            // recorded backward differentiates through them too.
            Tensor xhat = normalize(sx, reduce, eps);
            int[] batch = leadingDims(leading);
            if (wantX) {
                Tensor h = sw != null ? g.mul(sw) : g;
                Tensor r = rstdOf(sx, reduce, eps);
                grads[0] = r.mul(h.sub(h.mean(reduce, true)).sub(xhat.mul(h.mul(xhat).mean(reduce, true))));
            }
            if (wantW) {
                grads[weightAt] = sumOverBatch(g.mul(xhat), batch);
            }
            if (wantB) {
                grads[biasAt] = sumOverBatch(g, batch);
            }
            return grads;
        }, (t, inputsAt, y) -> {
            Tensor px = inputsAt[0];
            Tensor xhat = normalize(px, reduce, eps);
            Tensor tangent = null;
            if (t[0] != null) {
                Tensor tx = t[0];
                Tensor txhat = rstdOf(px, reduce, eps)
                        .mul(tx.sub(tx.mean(reduce, true)).sub(xhat.mul(tx.mul(xhat).mean(reduce, true))));
                tangent = savedWeight != null ? txhat.mul(inputsAt[weightAt]) : txhat;
            }
            if (weightAt >= 0 && t[weightAt] != null) {
                Tensor part = xhat.mul(t[weightAt]);
                tangent = tangent == null ? part : tangent.add(part);
            }
            if (biasAt >= 0 && t[biasAt] != null) {
                tangent = tangent == null ? t[biasAt].expand(dims) : tangent.add(t[biasAt]);
            }
            return tangent;
        });
    }

    private static Tensor rstdOf(Tensor x, int[] reduce, double eps) {
        Tensor centered = x.sub(x.mean(reduce, true));
        return centered.square().mean(reduce, true).add(eps).sqrt().pow(-1.0);
    }

    private static Tensor normalize(Tensor x, int[] reduce, double eps) {
        Tensor centered = x.sub(x.mean(reduce, true));
        return centered.mul(centered.square().mean(reduce, true).add(eps).sqrt().pow(-1.0));
    }

    // ---- helpers -------------------------------------------------------------------------------------

    /** Whether values alone are needed: no graph would be recorded and no tangent is visible. */
    static boolean plain(Tensor... tensors) {
        for (Tensor t : tensors) {
            if (t != null && ForwardAD.tangentOf(t) != null) {
                return false;
            }
        }
        List<Tensor> present = new ArrayList<>(tensors.length);
        for (Tensor t : tensors) {
            if (t != null) {
                present.add(t);
            }
        }
        return !Graph.needsGraph(present.toArray(new Tensor[0]));
    }

    /** {@code x} viewed with dimension {@code d} last (a transposed view, no copy). */
    private static Tensor lastDim(Tensor x, int d) {
        int last = x.rank() - 1;
        if (d == last) {
            return x.detach();
        }
        return x.detach().transpose(d, last);
    }

    /** Undoes {@link #lastDim} on a result computed in the moved order. */
    private static Tensor restoreDim(Tensor out, int d) {
        int last = out.rank() - 1;
        return d == last ? out : Dispatch.view(out, out.transpose(d, last).layout());
    }

    /**
     * The sum over the leading (batch) dims; none when the input is a single normalized shape, where an
     * empty list of dims would mean every dim to sum (as torch's dim=()).
     */
    private static Tensor sumOverBatch(Tensor x, int[] batch) {
        return batch.length == 0 ? x : x.sum(batch, false);
    }

    private static int[] leadingDims(int count) {
        int[] dims = new int[count];
        for (int i = 0; i < count; i++) {
            dims[i] = i;
        }
        return dims;
    }
}
