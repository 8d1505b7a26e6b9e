package dev.adjoint.nn.optim;

import dev.adjoint.Tensor;
import dev.adjoint.ops.OptimizerSteps;
import dev.adjoint.spi.FusedKernels;

import java.util.List;
import java.util.Map;

/**
 * The update shared by {@link Adam} and {@link AdamW}, as {@code _single_tensor_adam(w)} in torch 1.13:
 * <pre>
 *   step += 1
 *   p = p * (1 - lr * wd)          (AdamW: decoupled decay)     g = g + wd * p   (Adam: L2 in the gradient)
 *   m = beta1 m + (1 - beta1) g
 *   v = beta2 v + (1 - beta2) g^2
 *   vmax = max(vmax, v)            (amsgrad; then vmax replaces v below)
 *   p = p - lr / (1 - beta1^step) * m / (sqrt(v) / sqrt(1 - beta2^step) + eps)
 * </pre>
 * The bias corrections are computed in double on the host from the step count, as PyTorch does.
 * Group hyperparameters: {@code lr}, {@code beta1}, {@code beta2} (PyTorch's {@code betas}), {@code eps},
 * {@code weight_decay}, {@code amsgrad} (0/1).
 */
abstract class AdamFamily extends Optimizer {
    private final String name;
    private final boolean decoupled;

    AdamFamily(List<Tensor> params, double lr, double beta1, double beta2, double eps, double weightDecay,
               boolean amsgrad, boolean decoupled) {
        super(params);
        this.name = decoupled ? "AdamW" : "Adam";
        this.decoupled = decoupled;
        defineHyper("lr", lr);
        defineHyper("beta1", beta1);
        defineHyper("beta2", beta2);
        defineHyper("eps", eps);
        defineHyper("weight_decay", weightDecay);
        defineHyper("amsgrad", amsgrad ? 1 : 0);
        checkHyperparameters(hyperparameters());
    }

    @Override
    protected void checkHyperparameters(Map<String, Double> h) {
        double lr = h.get("lr");
        double eps = h.get("eps");
        double weightDecay = h.get("weight_decay");
        if (!(lr >= 0) || !(eps >= 0) || !(weightDecay >= 0)) {
            throw new IllegalArgumentException(name + ": lr, eps and weightDecay must be non-negative, got lr=" + lr
                    + " eps=" + eps + " weightDecay=" + weightDecay);
        }
        double beta1 = h.get("beta1");
        double beta2 = h.get("beta2");
        if (!(beta1 >= 0 && beta1 < 1) || !(beta2 >= 0 && beta2 < 1)) {
            throw new IllegalArgumentException(name + ": betas must be in [0, 1), got (" + beta1 + ", " + beta2 + ")");
        }
    }

    @Override
    protected List<String> stateNames(Map<String, Double> h) {
        return h.get("amsgrad") != 0 ? List.of("step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq")
                : List.of("step", "exp_avg", "exp_avg_sq");
    }

    @Override
    protected void update(Tensor p, Tensor grad, Map<String, Tensor> state) {
        double lr = lr();
        double beta1 = hyper("beta1");
        double beta2 = hyper("beta2");
        double eps = hyper("eps");
        double weightDecay = hyper("weight_decay");
        boolean amsgrad = hyper("amsgrad") != 0;
        if (state.isEmpty()) {
            state.put("step", stepCounter(p, 0));
            state.put("exp_avg", p.zerosLike());
            state.put("exp_avg_sq", p.zerosLike());
            if (amsgrad) {
                state.put("max_exp_avg_sq", p.zerosLike());
            }
        }
        double step = state.get("step").item() + 1;
        state.put("step", stepCounter(p, step));
        double biasCorrection1 = 1 - Math.pow(beta1, step);
        double biasCorrection2 = 1 - Math.pow(beta2, step);
        double stepSize = lr / biasCorrection1;
        double biasCorrection2Sqrt = Math.sqrt(biasCorrection2);

        Tensor expAvg = state.get("exp_avg");
        Tensor expAvgSq = state.get("exp_avg_sq");
        Tensor maxExpAvgSq = amsgrad ? state.get("max_exp_avg_sq") : null;
        if ((!amsgrad || maxExpAvgSq != null) && OptimizerSteps.fusable(FusedKernels.Kernel.ADAM_STEP, p, grad, expAvg, expAvgSq,
                maxExpAvgSq)) {
            // One pass over the parameter, its gradient and its moments, with the composition's results
            // bit for bit.
            OptimizerSteps.adam(p, grad, expAvg, expAvgSq, maxExpAvgSq, lr, beta1, beta2, eps, weightDecay, decoupled,
                    stepSize, biasCorrection2Sqrt);
            return;
        }
        Tensor g = grad;
        if (decoupled) {
            p.mul_(1 - lr * weightDecay);
        } else if (weightDecay != 0) {
            g = g.add(p.mul(weightDecay));
        }
        // The moments are updated in their own storage, as torch's mul_/add_/addcmul_ do.
        Tensor m = expAvg.mul_(beta1).add_(g, 1 - beta1);
        Tensor v = expAvgSq.mul_(beta2).add_(g.mul(1 - beta2).mul_(g));
        Tensor second = v;
        if (amsgrad) {
            second = maxExpAvgSq;
            second.copyFrom(second.maximum(v));
        }
        Tensor denom = second.sqrt().div_(biasCorrection2Sqrt).add_(eps);
        p.add_(m.mul(-stepSize).div_(denom));
    }
}
