package dev.adjoint.nn.optim;

import dev.adjoint.Tensor;

import java.util.List;
import java.util.Map;

/**
 * Adagrad, with exactly the update of {@code torch.optim.Adagrad} (1.13, single-tensor path, dense
 * gradients):
 * <pre>
 *   step += 1
 *   g = grad + weightDecay * p
 *   clr = lr / (1 + (step - 1) lrDecay)
 *   sum = sum + g^2
 *   p = p - clr g / (sqrt(sum) + eps)
 * </pre>
 * State: {@code step} and {@code sum}, which starts at the constructor's {@code initialAccumulatorValue}
 * for every parameter, whatever its group says, as PyTorch (which fills the accumulators in its
 * constructor). Group hyperparameters: {@code lr}, {@code lr_decay}, {@code eps}, {@code weight_decay},
 * {@code initial_accumulator_value}.
 */
public final class Adagrad extends Optimizer {
    public Adagrad(List<Tensor> params, double lr, double lrDecay, double weightDecay, double initialAccumulatorValue,
                   double eps) {
        super(params);
        defineHyper("lr", lr);
        defineHyper("lr_decay", lrDecay);
        defineHyper("eps", eps);
        defineHyper("weight_decay", weightDecay);
        defineHyper("initial_accumulator_value", initialAccumulatorValue);
        checkHyperparameters(hyperparameters());
    }

    /** PyTorch's defaults with this learning rate: no lr decay or weight decay, accumulator 0, eps 1e-10. */
    public Adagrad(List<Tensor> params, double lr) {
        this(params, lr, 0, 0, 0, 1e-10);
    }

    /** PyTorch's defaults, lr 1e-2. */
    public Adagrad(List<Tensor> params) {
        this(params, 1e-2);
    }

    @Override
    protected void checkHyperparameters(Map<String, Double> h) {
        for (String name : List.of("lr", "lr_decay", "eps", "weight_decay", "initial_accumulator_value")) {
            if (!(h.get(name) >= 0)) {
                throw new IllegalArgumentException("Adagrad: " + name + " must be non-negative, got " + h.get(name));
            }
        }
    }

    @Override
    protected List<String> stateNames(Map<String, Double> h) {
        return List.of("step", "sum");
    }

    @Override
    protected void update(Tensor p, Tensor grad, Map<String, Tensor> state) {
        if (state.isEmpty()) {
            state.put("step", stepCounter(p, 0));
            state.put("sum", p.fullLike(defaultHyper("initial_accumulator_value")));
        }
        double step = state.get("step").item() + 1;
        state.put("step", stepCounter(p, step));
        double weightDecay = hyper("weight_decay");
        Tensor g = weightDecay != 0 ? grad.add(p.mul(weightDecay)) : grad;
        double clr = lr() / (1 + (step - 1) * hyper("lr_decay"));
        Tensor sum = state.get("sum").add_(g.square());
        p.sub_(g.div(sum.sqrt().add_(hyper("eps"))), clr);
    }
}
