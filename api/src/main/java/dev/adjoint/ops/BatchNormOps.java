package dev.adjoint.ops;

import dev.adjoint.Shape;
import dev.adjoint.Tensor;
import dev.adjoint.TensorShapeException;
import dev.adjoint.autograd.Graph;
import dev.adjoint.spi.FusedKernels;
import dev.adjoint.spi.FusedKernels.Kernel;
import dev.adjoint.spi.Storage;

import java.util.ArrayList;
import java.util.List;

/**
 * Batch normalisation: one node over the backend's fused kernel where it offers one
 * ({@link FusedKernels#offers}), otherwise composed of differentiable reductions and elementwise ops.
 */
public final class BatchNormOps {
    private BatchNormOps() {
    }

    /**
     * torch.nn.functional.batch_norm over dimension 1 of {@code input} ({@code [N, C, ...]}). In
     * training the batch's own mean and biased variance over every dimension but 1 normalise it,
     * and the running statistics, when given, move towards them by {@code momentum} in place (the
     * variance unbiased, {@code n / (n - 1)} times the batch's, as PyTorch). In evaluation the running
     * statistics normalise it and nothing changes. {@code weight} and {@code bias} ({@code [C]}) are optional.
     */
    public static Tensor batchNorm(Tensor input, Tensor runningMean, Tensor runningVar, Tensor weight, Tensor bias,
                                   boolean training, double momentum, double eps) {
        String op = "batchNorm";
        Dispatch.checkFloating(op, input);
        if (input.rank() < 2) {
            throw new TensorShapeException(op + ": expected an input of shape [N, C, ...] with at least 2 dimensions, "
                    + "got " + input.shape());
        }
        int channels = input.size(1);
        checkPerChannel(op, input, runningMean, "running mean", channels);
        checkPerChannel(op, input, runningVar, "running variance", channels);
        checkPerChannel(op, input, weight, "weight", channels);
        checkPerChannel(op, input, bias, "bias", channels);
        if ((runningMean == null) != (runningVar == null)) {
            throw new IllegalArgumentException(op + ": give both running statistics or neither");
        }
        long count = input.numel() / Math.max(channels, 1);
        if (training && count <= 1) {
            throw new IllegalArgumentException(op + ": expected more than 1 value per channel when training, got "
                    + "input shape " + input.shape());
        }
        if (!training && runningMean == null) {
            throw new IllegalArgumentException(op + ": the running mean and variance are needed in evaluation mode "
                    + "(input shape " + input.shape() + ")");
        }
        // Statistics and the normalisation run on the [N, C, L] view (L the product of the trailing dims):
        // each reduction is then a sum along rows followed by a sum over the batch, and each broadcast of
        // a per-channel value covers whole rows of L elements.
        int n = input.size(0);
        int inner = 1;
        for (int d = 2; d < input.rank(); d++) {
            inner *= input.size(d);
        }
        Tensor x = input.reshape(n, channels, inner);
        FusedKernels fused = FusedKernels.offered(input.backend(), Kernel.BATCH_NORM, input.dtype());
        Tensor y = fused != null && input.numel() > 0
                ? fused(fused, x, runningMean, runningVar, weight, bias, training, momentum, eps, count)
                : composite(x, runningMean, runningVar, weight, bias, training, momentum, eps, count);
        return y.reshape(input.shape().toArray());
    }

    /** Batch norm of {@code [N, C, L]} as differentiable reductions and elementwise ops, each its own node. */
    private static Tensor composite(Tensor x, Tensor runningMean, Tensor runningVar, Tensor weight, Tensor bias,
                                    boolean training, double momentum, double eps, long count) {
        int channels = x.size(1);
        Tensor y;
        if (training) {
            Tensor mean = channelSum(x).div((double) count);
            Tensor centered = x.sub(mean.reshape(1, channels, 1));
            // The biased variance normalises, as PyTorch; mean of squares of the centred values, not E[x^2] - E[x]^2,
            // which cancels catastrophically when the mean is large against the spread.
            Tensor variance = channelSum(centered.square()).div((double) count);
            y = centered.mul(scale(variance, weight, eps).reshape(1, channels, 1));
            if (runningMean != null) {
                updateRunningStatistics(runningMean, runningVar, mean, variance, momentum, count);
            }
        } else {
            y = x.sub(runningMean.reshape(1, channels, 1)).mul(scale(runningVar, weight, eps).reshape(1, channels, 1));
        }
        if (bias != null) {
            y = y.add(bias.reshape(1, channels, 1));
        }
        return y;
    }

    private static void updateRunningStatistics(Tensor runningMean, Tensor runningVar, Tensor mean, Tensor variance,
                                                double momentum, long count) {
        try (var scope = Tensor.noGrad()) {
            runningMean.mul_(1 - momentum).add_(mean.detach(), momentum);
            // The running variance estimates the population's: unbiased, n / (n - 1) times the batch's.
            runningVar.mul_(1 - momentum).add_(variance.detach(), momentum * count / (count - 1));
        }
    }

    /**
     * Batch norm of {@code [N, C, L]} through the backend's one-pass kernel, as one node: its backward runs the
     * fused backward when the backend offers it and only values are needed, and otherwise (a recorded
     * backward, for gradients of gradients) the composite formulas, which recompute the statistics from x
     * with differentiable ops. In evaluation the running statistics are inputs of the node too, as they are
     * of the composite.
     */
    private static Tensor fused(FusedKernels fused, Tensor x, Tensor runningMean, Tensor runningVar, Tensor weight,
                                Tensor bias, boolean training, double momentum, double eps, long count) {
        int n = x.size(0);
        int channels = x.size(1);
        int inner = x.size(2);
        Shape perChannel = Shape.of(channels);
        Tensor xc = contiguous(x.detach());
        Tensor out = Dispatch.empty(x.backend(), x.dtype(), x.shape());
        Tensor mean;
        Tensor rstd;
        Tensor variance = null;
        if (training) {
            mean = Dispatch.empty(x.backend(), x.dtype(), perChannel);
            rstd = Dispatch.empty(x.backend(), x.dtype(), perChannel);
            if (runningMean != null) {
                variance = Dispatch.empty(x.backend(), x.dtype(), perChannel);
            }
        } else {
            try (var scope = Tensor.noGrad()) {
                // A copy: the running mean is updated in place by later training steps, and backward reads this one.
                mean = Dispatch.contiguousCopy(runningMean.detach());
                rstd = contiguous(inverseStd(runningVar.detach(), eps));
            }
        }
        fused.batchNorm(xc.storage(), xc.layout().offset(), n, channels, inner, flat(weight), flat(bias), training,
                eps, out.storage(), mean.storage(), rstd.storage(), variance == null ? null : variance.storage());
        if (training && runningMean != null) {
            updateRunningStatistics(runningMean, runningVar, mean, variance, momentum, count);
        }

        List<Tensor> inputs = new ArrayList<>(5);
        inputs.add(x);
        int meanAt = training ? -1 : inputs.size();
        int varAt = training ? -1 : inputs.size() + 1;
        if (!training) {
            inputs.add(runningMean);
            inputs.add(runningVar);
        }
        int weightAt = weight != null ? inputs.size() : -1;
        if (weight != null) {
            inputs.add(weight);
        }
        int biasAt = bias != null ? inputs.size() : -1;
        if (bias != null) {
            inputs.add(bias);
        }
        Tensor[] in = inputs.toArray(new Tensor[0]);
        // Everything backward reads is saved through the node (not captured), so checkpointing can drop it.
        List<Tensor> saved = new ArrayList<>(List.of(x, mean, rstd));
        if (weight != null) {
            saved.add(weight);
        }
        if (!training) {
            saved.add(runningMean);
            saved.add(runningVar);
        }
        int savedRunningAt = weight != null ? 4 : 3;
        int[] reduce = {0, 2};
        return Graph.record("NativeBatchNormBackward", out, in, saved.toArray(new Tensor[0]), (g, c) -> {
            Tensor sx = c.saved(0);
            Tensor sw = weight != null ? c.saved(3) : null;
            Tensor[] grads = new Tensor[in.length];
            boolean wantX = c.needsInputGrad(0);
            boolean wantMean = meanAt >= 0 && c.needsInputGrad(meanAt);
            boolean wantVar = varAt >= 0 && c.needsInputGrad(varAt);
            boolean wantW = weightAt >= 0 && c.needsInputGrad(weightAt);
            boolean wantB = biasAt >= 0 && c.needsInputGrad(biasAt);
            Tensor srm = training ? null : c.saved(savedRunningAt);
            Tensor srv = training ? null : c.saved(savedRunningAt + 1);
            FusedKernels backward = FusedKernels.offered(x.backend(), Kernel.BATCH_NORM_BACKWARD, x.dtype());
            if (backward != null && NormalizationOps.plain(g, sx, sw, srm, srv)) {
                Tensor gc = contiguous(g);
                Tensor sxc = contiguous(sx);
                Tensor sr = c.saved(2);
                // In evaluation the running statistics' gradients come from the same two sums as the affine's.
                boolean sumGX = wantW || wantVar;
                boolean sumG = wantB || wantMean;
                Tensor gx = wantX ? Dispatch.empty(x.backend(), x.dtype(), x.shape()) : null;
                Tensor gxhat = sumGX ? Dispatch.empty(x.backend(), x.dtype(), perChannel) : null;
                Tensor gsum = sumG ? Dispatch.empty(x.backend(), x.dtype(), perChannel) : null;
                backward.batchNormBackward(gc.storage(), gc.layout().offset(), sxc.storage(), sxc.layout().offset(),
                        c.saved(1).storage(), sr.storage(), flat(sw), training, n, channels, inner,
                        gx == null ? null : gx.storage(), gxhat == null ? null : gxhat.storage(),
                        gsum == null ? null : gsum.storage());
                grads[0] = gx;
                if (wantW) {
                    grads[weightAt] = gxhat;
                }
                if (wantB) {
                    grads[biasAt] = gsum;
                }
                Tensor k = sw != null ? sr.mul(sw) : sr;
                if (wantMean) {
                    // y depends on the running mean through -(x - mean) * rstd * w.
                    grads[meanAt] = gsum.mul(k).neg();
                }
                if (wantVar) {
                    // d rstd / d var = -rstd^3 / 2, and sum(g (x - mean)) = sum(g xhat) / rstd.
                    grads[varAt] = gxhat.mul(k).mul(sr).mul(-0.5);
                }
                return grads;
            }
            Tensor w3 = sw != null ? sw.reshape(1, channels, 1) : null;
            if (training) {
                // Recomputes mean and rstd from x with differentiable ops, so a recorded backward
                // differentiates through them too.
                Tensor centered = sx.sub(sx.mean(reduce, true));
                Tensor r = centered.square().mean(reduce, true).add(eps).sqrt().pow(-1.0);
                Tensor xhat = centered.mul(r);
                if (wantX) {
                    Tensor h = w3 != null ? g.mul(w3) : g;
                    grads[0] = r.mul(h.sub(h.mean(reduce, true)).sub(xhat.mul(h.mul(xhat).mean(reduce, true))));
                }
                if (wantW) {
                    grads[weightAt] = g.mul(xhat).sum(reduce, false);
                }
                if (wantB) {
                    grads[biasAt] = g.sum(reduce, false);
                }
                return grads;
            }
            Tensor r = inverseStd(srv, eps);
            Tensor k = sw != null ? r.mul(sw) : r;
            Tensor centered = sx.sub(srm.reshape(1, channels, 1));
            if (wantX) {
                grads[0] = g.mul(k.reshape(1, channels, 1));
            }
            if (wantMean) {
                grads[meanAt] = g.sum(reduce, false).mul(k).neg();
            }
            if (wantVar) {
                grads[varAt] = g.mul(centered).sum(reduce, false).mul(k).mul(r.square()).mul(-0.5);
            }
            if (wantW) {
                grads[weightAt] = g.mul(centered.mul(r.reshape(1, channels, 1))).sum(reduce, false);
            }
            if (wantB) {
                grads[biasAt] = g.sum(reduce, false);
            }
            return grads;
        }, (t, at, y) -> {
            Tensor px = at[0];
            Tensor pw = weightAt >= 0 ? at[weightAt].reshape(1, channels, 1) : null;
            Tensor tangent = null;
            Tensor xhat;
            if (training) {
                Tensor centered = px.sub(px.mean(reduce, true));
                Tensor r = centered.square().mean(reduce, true).add(eps).sqrt().pow(-1.0);
                xhat = centered.mul(r);
                if (t[0] != null) {
                    Tensor tx = t[0];
                    Tensor txhat = r.mul(tx.sub(tx.mean(reduce, true)).sub(xhat.mul(tx.mul(xhat).mean(reduce, true))));
                    tangent = pw != null ? txhat.mul(pw) : txhat;
                }
            } else {
                Tensor r = inverseStd(at[varAt], eps).reshape(1, channels, 1);
                Tensor centered = px.sub(at[meanAt].reshape(1, channels, 1));
                xhat = centered.mul(r);
                Tensor k = pw != null ? r.mul(pw) : r;
                if (t[0] != null) {
                    tangent = t[0].mul(k);
                }
                if (t[meanAt] != null) {
                    tangent = add(tangent, t[meanAt].reshape(1, channels, 1).mul(k).neg());
                }
                if (t[varAt] != null) {
                    tangent = add(tangent, centered.mul(k).mul(r.square()).mul(t[varAt].reshape(1, channels, 1))
                            .mul(-0.5));
                }
            }
            if (weightAt >= 0 && t[weightAt] != null) {
                tangent = add(tangent, xhat.mul(t[weightAt].reshape(1, channels, 1)));
            }
            if (biasAt >= 0 && t[biasAt] != null) {
                tangent = add(tangent, t[biasAt].reshape(1, channels, 1));
            }
            return tangent;
        });
    }

    private static Tensor add(Tensor sum, Tensor term) {
        return sum == null ? term : sum.add(term);
    }

    private static Tensor inverseStd(Tensor variance, double eps) {
        return variance.add(eps).sqrt().pow(-1.0);
    }

    private static Tensor contiguous(Tensor t) {
        return t.isContiguous() ? t : Dispatch.contiguousCopy(t);
    }

    /** The storage of a per-channel vector for a kernel that reads it from element 0, or null. */
    private static Storage flat(Tensor t) {
        if (t == null) {
            return null;
        }
        Tensor d = t.detach();
        return d.isContiguous() && d.layout().offset() == 0 ? d.storage() : Dispatch.contiguousCopy(d).storage();
    }

    /** Sum over dimensions 0 and 2 of {@code [N, C, L]}: along the rows first, then over the batch. */
    private static Tensor channelSum(Tensor x) {
        return x.sum(2, false).sum(0, false);
    }

    /** {@code weight / sqrt(variance + eps)} per channel ({@code [C]}), the factor the centred input is multiplied by. */
    private static Tensor scale(Tensor variance, Tensor weight, double eps) {
        Tensor inverseStd = inverseStd(variance, eps);
        return weight == null ? inverseStd : inverseStd.mul(weight);
    }

    static void checkPerChannel(String op, Tensor input, Tensor t, String what, int channels) {
        if (t == null) {
            return;
        }
        Dispatch.checkSameBackend(op, input, t);
        Dispatch.checkSameDType(op, input, t);
        if (t.rank() != 1 || t.size(0) != channels) {
            throw new TensorShapeException(op + ": " + what + " shape " + t.shape() + " must be [" + channels
                    + "] for input shape " + input.shape() + " (one value per channel, dimension 1)");
        }
    }
}
