package dev.adjoint.nn.optim;

import dev.adjoint.Tensor;

import java.util.List;

/**
 * AdamW, as {@code torch.optim.AdamW}: Adam with decoupled weight decay, {@code p *= 1 - lr * wd}
 * before the moment update, instead of adding {@code wd * p} to the gradient. Default weight decay
 * 1e-2 as PyTorch.
 */
public final class AdamW extends AdamFamily {
    public static final double DEFAULT_WEIGHT_DECAY = 1e-2;

    public AdamW(List<Tensor> params, double lr, double beta1, double beta2, double eps, double weightDecay,
                 boolean amsgrad) {
        super(params, lr, beta1, beta2, eps, weightDecay, amsgrad, true);
    }

    /** PyTorch's defaults: betas (0.9, 0.999), eps 1e-8, weight decay 1e-2. */
    public AdamW(List<Tensor> params, double lr) {
        this(params, lr, 0.9, 0.999, 1e-8, DEFAULT_WEIGHT_DECAY, false);
    }

    public AdamW(List<Tensor> params) {
        this(params, 1e-3);
    }
}
