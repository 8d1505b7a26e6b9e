package dev.adjoint.nn.optim;

import dev.adjoint.Tensor;

import java.util.List;

/**
 * Adam, as {@code torch.optim.Adam}; weight decay is L2 added to the gradient (see {@link AdamW} for
 * the decoupled form). The update is documented on {@link AdamFamily}. State: {@code step},
 * {@code exp_avg}, {@code exp_avg_sq} and, with amsgrad, {@code max_exp_avg_sq}.
 */
public final class Adam extends AdamFamily {
    public Adam(List<Tensor> params, double lr, double beta1, double beta2, double eps, double weightDecay,
                boolean amsgrad) {
        super(params, lr, beta1, beta2, eps, weightDecay, amsgrad, false);
    }

    /** PyTorch's defaults: betas (0.9, 0.999), eps 1e-8, no weight decay. */
    public Adam(List<Tensor> params, double lr) {
        this(params, lr, 0.9, 0.999, 1e-8, 0, false);
    }

    /** PyTorch's defaults with lr 1e-3. */
    public Adam(List<Tensor> params) {
        this(params, 1e-3);
    }
}
