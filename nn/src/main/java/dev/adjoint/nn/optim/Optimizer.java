package dev.adjoint.nn.optim;

import dev.adjoint.DType;
import dev.adjoint.Tensor;
import dev.adjoint.nn.StateDictException;
import dev.adjoint.nn.StateDicts;
import dev.adjoint.spi.Backend;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Updates a list of parameters from their gradients, as {@code torch.optim.Optimizer} with a single
 * parameter group. Parameters are updated in place ({@link Tensor#copyFrom} inside
 * {@link Tensor#noGrad()}), so a module sees the new values without re-registering anything.
 *
 * <p>Hyperparameters are doubles by name ({@code "lr"}, {@code "momentum"}, ...; flags as 0/1). Per-parameter
 * state ({@code "exp_avg"}, {@code "step"}, ...) is held in tensors on the parameter's backend and dtype
 * ({@code step} is a 0-d FLOAT64), created at the first step, as PyTorch's lazy state. After each
 * {@link #update} the state map's tensors are marked long-lived ({@link dev.adjoint.spi.Backend#markLongLived}),
 * so a subclass may create state whenever it likes, even inside a backend's memory scope.
 *
 * <p>{@link #stateDict()} flattens both for checkpoints: {@code "group.lr"}, {@code "group.momentum"}, ...
 * as 0-d FLOAT64 tensors, and {@code "state.<paramIndex>.<name>"} for each parameter that has state.
 */
public abstract class Optimizer {
    private final List<Tensor> params;
    private final LinkedHashMap<String, Double> hyper = new LinkedHashMap<>();
    private final List<LinkedHashMap<String, Tensor>> state = new ArrayList<>();

    protected Optimizer(List<Tensor> params) {
        if (params.isEmpty()) {
            throw new IllegalArgumentException(getClass().getSimpleName() + ": got an empty parameter list");
        }
        for (int i = 0; i < params.size(); i++) {
            Tensor p = params.get(i);
            if (!p.isLeaf() || !p.requiresGrad()) {
                throw new IllegalArgumentException(getClass().getSimpleName() + ": parameter " + i + " (shape "
                        + p.shape() + ") must be a leaf tensor that requires grad");
            }
            for (int j = 0; j < i; j++) {
                if (params.get(j) == p) {
                    throw new IllegalArgumentException(getClass().getSimpleName() + ": parameter " + i
                            + " is the same tensor as parameter " + j + "; it would be updated twice per step");
                }
            }
            state.add(new LinkedHashMap<>());
        }
        this.params = List.copyOf(params);
    }

    /** One update of every parameter that has a gradient. */
    public final void step() {
        try (var scope = Tensor.noGrad()) {
            for (int i = 0; i < params.size(); i++) {
                Tensor p = params.get(i);
                if (p.grad() != null) {
                    update(p, p.grad().detach(), state.get(i));
                    markLongLived(state.get(i));
                }
            }
        }
    }

    /**
     * The state outlives the step, however late {@link #update} created it: a backend that frees a
     * step's memory by scope (nd4j's {@code Nd4jScope}) must not free it with the step's temporaries.
     */
    private static void markLongLived(Map<String, Tensor> state) {
        for (Tensor t : state.values()) {
            t.backend().markLongLived(t.storage());
        }
    }

    /**
     * Updates parameter {@code p} (via copyFrom) from {@code grad}; {@code state} is this parameter's
     * state, empty before its first step. Runs inside noGrad.
     */
    protected abstract void update(Tensor p, Tensor grad, Map<String, Tensor> state);

    /** The state names a parameter with state has under the given hyperparameters, in order. */
    protected abstract List<String> stateNames(Map<String, Double> hyperparameters);

    /** Clears every parameter's gradient (PyTorch's {@code zero_grad(set_to_none=True)}). */
    public void zeroGrad() {
        for (Tensor p : params) {
            p.zeroGrad();
        }
    }

    public List<Tensor> params() {
        return params;
    }

    public double lr() {
        return hyper("lr");
    }

    public void setLr(double lr) {
        if (!(lr >= 0)) {
            throw new IllegalArgumentException(getClass().getSimpleName() + ": learning rate must be non-negative, got "
                    + lr);
        }
        hyper.put("lr", lr);
    }

    /** The backend the parameters (and so the state) live on. */
    public Backend backend() {
        return params.get(0).backend();
    }

    protected final void defineHyper(String name, double value) {
        hyper.put(name, value);
    }

    protected final double hyper(String name) {
        Double v = hyper.get(name);
        if (v == null) {
            throw new IllegalArgumentException(getClass().getSimpleName() + " has no hyperparameter '" + name + "'");
        }
        return v;
    }

    /** A copy of the hyperparameters by name. */
    public Map<String, Double> hyperparameters() {
        return new LinkedHashMap<>(hyper);
    }

    // ---- state dict --------------------------------------------------------------------------------

    public Map<String, Tensor> stateDict() {
        LinkedHashMap<String, Tensor> out = new LinkedHashMap<>();
        var create = Tensor.on(backend());
        hyper.forEach((k, v) -> out.put("group." + k, create.scalar(v, DType.FLOAT64)));
        for (int i = 0; i < params.size(); i++) {
            for (Map.Entry<String, Tensor> e : state.get(i).entrySet()) {
                out.put("state." + i + "." + e.getKey(), e.getValue().detach());
            }
        }
        return out;
    }

    /**
     * Restores hyperparameters and state. Strict: every {@code group.*} key must be present; a
     * parameter's state must be complete or absent; no other keys; shapes and dtypes must match the
     * parameter (0-d FLOAT64 for {@code step} and the hyperparameters). Otherwise a
     * {@link StateDictException} names the problems and nothing changes. Values are copied, so the
     * given map is not aliased.
     */
    public void loadStateDict(Map<String, Tensor> given) {
        // The hyperparameters decide which state exists (amsgrad, momentum), so read them first.
        LinkedHashMap<String, Double> newHyper = new LinkedHashMap<>();
        for (String k : hyper.keySet()) {
            Tensor v = given.get("group." + k);
            if (v != null && v.numel() == 1) {
                newHyper.put(k, v.item());
            } else {
                newHyper.put(k, hyper.get(k));
            }
        }
        List<String> names = stateNames(newHyper);
        Map<String, Tensor> expected = new LinkedHashMap<>();
        var create = Tensor.on(backend());
        for (String k : hyper.keySet()) {
            expected.put("group." + k, create.scalar(0, DType.FLOAT64));
        }
        for (int i = 0; i < params.size(); i++) {
            String prefix = "state." + i + ".";
            boolean hasAny = given.keySet().stream().anyMatch(k -> k.startsWith(prefix));
            if (hasAny) {
                Tensor p = params.get(i);
                for (String name : names) {
                    expected.put(prefix + name, name.equals("step") ? create.scalar(0, DType.FLOAT64) : p);
                }
            }
        }
        StateDicts.checkCompatible(getClass().getSimpleName(), expected, given);

        hyper.clear();
        hyper.putAll(newHyper);
        for (int i = 0; i < params.size(); i++) {
            LinkedHashMap<String, Tensor> s = state.get(i);
            s.clear();
            String prefix = "state." + i + ".";
            for (String name : names) {
                Tensor v = given.get(prefix + name);
                if (v != null) {
                    s.put(name, copyOf(v.to(params.get(i).backend())));
                }
            }
            markLongLived(s);
        }
    }

    /** A fresh tensor holding {@code t}'s values (never sharing storage with it). */
    protected static Tensor copyOf(Tensor t) {
        try (var scope = Tensor.noGrad()) {
            return t.zerosLike().copyFrom(t);
        }
    }

    /** A 0-d FLOAT64 step counter on {@code p}'s backend. */
    protected static Tensor stepCounter(Tensor p, double value) {
        return Tensor.on(p.backend()).scalar(value, DType.FLOAT64);
    }
}
