package dev.adjoint.nn.optim;

import dev.adjoint.Tensor;
import dev.adjoint.ops.OptimizerSteps;
import dev.adjoint.spi.FusedKernels;

import java.util.List;
import java.util.Map;

/**
 * Stochastic gradient descent with optional momentum, dampening, L2 weight decay and Nesterov
 * momentum, with exactly the update of {@code torch.optim.SGD} (1.13):
 * <pre>
 *   d = grad + weightDecay * p
 *   buf = d                                    (first step)
 *   buf = momentum * buf + (1 - dampening) * d (later steps)
 *   d = nesterov ? d + momentum * buf : buf
 *   p = p - lr * d
 * </pre>
 * State: {@code momentum_buffer} when momentum is not 0. Group hyperparameters: {@code lr},
 * {@code momentum}, {@code dampening}, {@code weight_decay}, {@code nesterov} (0/1).
 */
public final class SGD extends Optimizer {
    public SGD(List<Tensor> params, double lr, double momentum, double dampening, double weightDecay,
               boolean nesterov) {
        super(params);
        defineHyper("lr", lr);
        defineHyper("momentum", momentum);
        defineHyper("dampening", dampening);
        defineHyper("weight_decay", weightDecay);
        defineHyper("nesterov", nesterov ? 1 : 0);
        checkHyperparameters(hyperparameters());
    }

    /** Plain SGD. */
    public SGD(List<Tensor> params, double lr) {
        this(params, lr, 0, 0, 0, false);
    }

    /** SGD with momentum (no dampening, decay or Nesterov). */
    public SGD(List<Tensor> params, double lr, double momentum) {
        this(params, lr, momentum, 0, 0, false);
    }

    @Override
    protected void checkHyperparameters(Map<String, Double> h) {
        double lr = h.get("lr");
        double momentum = h.get("momentum");
        double weightDecay = h.get("weight_decay");
        if (!(lr >= 0) || !(momentum >= 0) || !(weightDecay >= 0)) {
            throw new IllegalArgumentException("SGD: lr, momentum and weightDecay must be non-negative, got lr=" + lr
                    + " momentum=" + momentum + " weightDecay=" + weightDecay);
        }
        if (h.get("nesterov") != 0 && (momentum <= 0 || h.get("dampening") != 0)) {
            throw new IllegalArgumentException("SGD: Nesterov momentum requires a momentum and zero dampening, got "
                    + "momentum=" + momentum + " dampening=" + h.get("dampening"));
        }
    }

    @Override
    protected List<String> stateNames(Map<String, Double> h) {
        return h.get("momentum") != 0 ? List.of("momentum_buffer") : List.of();
    }

    @Override
    protected void update(Tensor p, Tensor grad, Map<String, Tensor> state) {
        double weightDecay = hyper("weight_decay");
        double momentum = hyper("momentum");
        Tensor existing = state.get("momentum_buffer");
        if (OptimizerSteps.fusable(FusedKernels.Kernel.SGD_STEP, p, grad, existing)) {
            // One pass over the parameter, its gradient and its buffer (a fresh one on the first step),
            // with the composition's results bit for bit.
            boolean firstStep = momentum != 0 && existing == null;
            Tensor buf = firstStep ? p.zerosLike() : existing;
            OptimizerSteps.sgd(p, grad, momentum != 0 ? buf : null, lr(), momentum, hyper("dampening"), weightDecay,
                    hyper("nesterov") != 0, firstStep);
            if (firstStep) {
                state.put("momentum_buffer", buf);
            }
            return;
        }
        // In place where PyTorch updates in place: one pass per line over the parameter, and the
        // momentum buffer is updated in its own storage instead of reallocated every step.
        Tensor d = grad;
        if (weightDecay != 0) {
            d = d.add(p.mul(weightDecay));
        }
        if (momentum != 0) {
            Tensor buf = state.get("momentum_buffer");
            if (buf == null) {
                buf = copyOf(d);
                state.put("momentum_buffer", buf);
            } else {
                buf.mul_(momentum).add_(d, 1 - hyper("dampening"));
            }
            d = hyper("nesterov") != 0 ? d.add(buf.mul(momentum)) : buf;
        }
        p.sub_(d, lr());
    }
}
