package dev.adjoint.nn.optim;

import dev.adjoint.Tensor;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * RMSprop, with exactly the update of {@code torch.optim.RMSprop} (1.13, single-tensor path):
 * <pre>
 *   g = grad + weightDecay * p
 *   v = alpha v + (1 - alpha) g^2
 *   avg = sqrt(v - gAvg^2) + eps,  gAvg = alpha gAvg + (1 - alpha) g     (centered)
 *   avg = sqrt(v) + eps                                                    (otherwise)
 *   buf = momentum buf + g / avg;  p = p - lr buf                         (momentum > 0)
 *   p = p - lr g / avg                                                     (otherwise)
 * </pre>
 * State: {@code step}, {@code square_avg}, and {@code momentum_buffer} (momentum &gt; 0) and
 * {@code grad_avg} (centered), all starting at zero. Group hyperparameters: {@code lr}, {@code alpha},
 * {@code eps}, {@code weight_decay}, {@code momentum}, {@code centered} (0/1).
 */
public final class RMSprop extends Optimizer {
    public RMSprop(List<Tensor> params, double lr, double alpha, double eps, double weightDecay, double momentum,
                   boolean centered) {
        super(params);
        defineHyper("lr", lr);
        defineHyper("alpha", alpha);
        defineHyper("eps", eps);
        defineHyper("weight_decay", weightDecay);
        defineHyper("momentum", momentum);
        defineHyper("centered", centered ? 1 : 0);
        checkHyperparameters(hyperparameters());
    }

    /** PyTorch's defaults with this learning rate: alpha 0.99, eps 1e-8, no decay, no momentum, not centered. */
    public RMSprop(List<Tensor> params, double lr) {
        this(params, lr, 0.99, 1e-8, 0, 0, false);
    }

    /** PyTorch's defaults, lr 1e-2. */
    public RMSprop(List<Tensor> params) {
        this(params, 1e-2);
    }

    @Override
    protected void checkHyperparameters(Map<String, Double> h) {
        for (String name : List.of("lr", "alpha", "eps", "weight_decay", "momentum")) {
            if (!(h.get(name) >= 0)) {
                throw new IllegalArgumentException("RMSprop: " + name + " must be non-negative, got " + h.get(name));
            }
        }
    }

    @Override
    protected List<String> stateNames(Map<String, Double> h) {
        List<String> names = new ArrayList<>(List.of("step", "square_avg"));
        if (h.get("momentum") > 0) {
            names.add("momentum_buffer");
        }
        if (h.get("centered") != 0) {
            names.add("grad_avg");
        }
        return names;
    }

    @Override
    protected void update(Tensor p, Tensor grad, Map<String, Tensor> state) {
        double alpha = hyper("alpha");
        double eps = hyper("eps");
        double weightDecay = hyper("weight_decay");
        double momentum = hyper("momentum");
        boolean centered = hyper("centered") != 0;
        if (state.isEmpty()) {
            state.put("step", stepCounter(p, 0));
            state.put("square_avg", p.zerosLike());
            if (momentum > 0) {
                state.put("momentum_buffer", p.zerosLike());
            }
            if (centered) {
                state.put("grad_avg", p.zerosLike());
            }
        }
        state.put("step", stepCounter(p, state.get("step").item() + 1));
        Tensor g = weightDecay != 0 ? grad.add(p.mul(weightDecay)) : grad;
        Tensor squareAvg = state.get("square_avg").mul_(alpha).add_(g.mul(1 - alpha).mul_(g));
        Tensor avg;
        if (centered) {
            Tensor gradAvg = state.get("grad_avg").mul_(alpha).add_(g, 1 - alpha);
            avg = squareAvg.sub(gradAvg.square()).sqrt();
        } else {
            avg = squareAvg.sqrt();
        }
        avg.add_(eps);
        if (momentum > 0) {
            Tensor buf = state.get("momentum_buffer").mul_(momentum).add_(g.div(avg));
            p.sub_(buf, lr());
        } else {
            p.sub_(g.div(avg), lr());
        }
    }
}
