package dev.adjoint.nn.optim;

import dev.adjoint.DType;
import dev.adjoint.Tensor;
import dev.adjoint.nn.StateDictException;
import dev.adjoint.nn.StateDicts;
import dev.adjoint.spi.Backend;

import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Updates parameters from their gradients, as {@code torch.optim.Optimizer}. Parameters are updated in
 * place ({@link Tensor#copyFrom} inside {@link Tensor#noGrad()}), so a module sees the new values without
 * re-registering anything.
 *
 * <p>Parameters come in groups, each with its own hyperparameters, as PyTorch's {@code param_groups}:
 * the constructor makes group 0 from its parameters and arguments (which are also the defaults), and
 * {@link #addParamGroup(List, Map)} adds groups that override some of them, e.g. a smaller learning rate
 * or no weight decay for biases:
 * <pre>{@code
 * SGD opt = new SGD(encoder.parameters(), 0.1, 0.9);                 // PyTorch: SGD([{'params': enc},
 * opt.addParamGroup(head.parameters(), Map.of("lr", 0.01));          //   {'params': head, 'lr': 0.01}], lr=0.1, momentum=0.9)
 * }</pre>
 * Hyperparameters are doubles by name ({@code "lr"}, {@code "momentum"}, ...; flags as 0/1).
 * Per-parameter state ({@code "exp_avg"}, {@code "step"}, ...) is held in tensors on the parameter's
 * backend and dtype ({@code step} is a 0-d FLOAT64), created at the first step, as PyTorch's lazy state.
 * After each {@link #update} the state's tensors are marked long-lived
 * ({@link dev.adjoint.spi.Backend#markLongLived}), so a subclass may create state whenever it likes, even
 * inside a backend's memory scope.
 *
 * <p>{@link #stateDict()} flattens both for checkpoints: {@code "group.<g>.lr"}, ... as 0-d FLOAT64
 * tensors ({@code "group.<g>.params"} is the group's parameter count), and
 * {@code "state.<i>.<name>"} for each parameter that has state, {@code i} counting parameters across
 * groups in order, as PyTorch's state dict.
 */
public abstract class Optimizer {
    /** The constructor's hyperparameters: what {@link #addParamGroup} fills in. */
    private final LinkedHashMap<String, Double> defaults = new LinkedHashMap<>();
    private final List<ParamGroup> groups = new ArrayList<>();
    /** Per parameter, across groups in order: its state. */
    private final List<LinkedHashMap<String, Tensor>> state = new ArrayList<>();
    /** The group whose parameters {@link #step()} is updating, read by {@link #hyper}; else group 0. */
    private ParamGroup active;

    /** One group of parameters and its hyperparameters, as an entry of PyTorch's {@code param_groups}. */
    public static final class ParamGroup {
        private final Optimizer owner;
        private final List<Tensor> params;
        private final LinkedHashMap<String, Double> hyper;
        /**
         * The rate schedules start from, PyTorch's {@code initial_lr}: set by the first scheduler attached
         * (or by OneCycleLR), so schedulers chained on one optimizer share their base rate.
         */
        private Double initialLr;

        private ParamGroup(Optimizer owner, List<Tensor> params, LinkedHashMap<String, Double> hyper) {
            this.owner = owner;
            this.params = List.copyOf(params);
            this.hyper = hyper;
        }

        public List<Tensor> params() {
            return params;
        }

        /** A hyperparameter of this group. */
        public double get(String name) {
            Double v = hyper.get(name);
            if (v == null) {
                throw new IllegalArgumentException(owner.getClass().getSimpleName() + " has no hyperparameter '" + name
                        + "'; its groups have " + hyper.keySet());
            }
            return v;
        }

        /** Changes a hyperparameter of this group (checked as the constructor checks it), e.g. its lr. */
        public void set(String name, double value) {
            get(name);
            LinkedHashMap<String, Double> changed = new LinkedHashMap<>(hyper);
            changed.put(name, value);
            owner.validate(changed);
            hyper.put(name, value);
        }

        /** A copy of this group's hyperparameters by name. */
        public Map<String, Double> hyperparameters() {
            return new LinkedHashMap<>(hyper);
        }

        boolean has(String name) {
            return hyper.containsKey(name);
        }

        /**
         * What a scheduler sets, unchecked as PyTorch's {@code param_group['lr'] = lr}: OneCycleLR's linear
         * schedule extrapolates below 0 (and its momentum past its range) one step past its end.
         */
        void setFromScheduler(String name, double value) {
            get(name);
            hyper.put(name, value);
        }

        /** PyTorch's {@code group.setdefault('initial_lr', group['lr'])}; returns it. */
        double initialLrOrCurrent() {
            if (initialLr == null) {
                initialLr = get("lr");
            }
            return initialLr;
        }

        void setInitialLr(double lr) {
            initialLr = lr;
        }
    }

    protected Optimizer(List<Tensor> params) {
        checkParams(params, 0);
        ParamGroup first = new ParamGroup(this, params, new LinkedHashMap<>());
        groups.add(first);
        for (int i = 0; i < params.size(); i++) {
            state.add(new LinkedHashMap<>());
        }
    }

    /**
     * Adds a group of parameters whose hyperparameters are the constructor's except those in
     * {@code overrides} (PyTorch's {@code add_param_group}). A parameter may be in one group only.
     */
    public final void addParamGroup(List<Tensor> params, Map<String, Double> overrides) {
        for (String name : overrides.keySet()) {
            if (!defaults.containsKey(name)) {
                throw new IllegalArgumentException(getClass().getSimpleName() + ".addParamGroup: unknown hyperparameter '"
                        + name + "'; it has " + defaults.keySet());
            }
        }
        LinkedHashMap<String, Double> hyper = new LinkedHashMap<>(defaults);
        hyper.putAll(overrides);
        validate(hyper);
        checkParams(params, groups.size());
        groups.add(new ParamGroup(this, params, hyper));
        for (int i = 0; i < params.size(); i++) {
            state.add(new LinkedHashMap<>());
        }
    }

    /** A group with the constructor's hyperparameters. */
    public final void addParamGroup(List<Tensor> params) {
        addParamGroup(params, Map.of());
    }

    private void checkParams(List<Tensor> params, int group) {
        String where = group == 0 ? "" : " of group " + group;
        if (params.isEmpty()) {
            throw new IllegalArgumentException(getClass().getSimpleName() + ": got an empty parameter list" + where);
        }
        Set<Tensor> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        for (ParamGroup g : groups) {
            seen.addAll(g.params);
        }
        Set<Tensor> inThisList = Collections.newSetFromMap(new IdentityHashMap<>());
        for (int i = 0; i < params.size(); i++) {
            Tensor p = params.get(i);
            if (!p.isLeaf() || !p.requiresGrad()) {
                throw new IllegalArgumentException(getClass().getSimpleName() + ": parameter " + i + where + " (shape "
                        + p.shape() + ") must be a leaf tensor that requires grad");
            }
            if (!inThisList.add(p)) {
                throw new IllegalArgumentException(getClass().getSimpleName() + ": parameter " + i + where
                        + " appears twice in the list; it would be updated twice per step");
            }
            if (seen.contains(p)) {
                throw new IllegalArgumentException(getClass().getSimpleName() + ": parameter " + i + where + " (shape "
                        + p.shape() + ") is already in another parameter group");
            }
        }
    }

    /** One update of every parameter that has a gradient, each with its group's hyperparameters. */
    public final void step() {
        try (var scope = Tensor.noGrad()) {
            int index = 0;
            for (ParamGroup g : groups) {
                active = g;
                try {
                    for (Tensor p : g.params) {
                        if (p.grad() != null) {
                            update(p, p.grad().detach(), state.get(index));
                            markLongLived(state.get(index));
                        }
                        index++;
                    }
                } finally {
                    active = null;
                }
            }
        }
    }

    /**
     * The state outlives the step, however late {@link #update} created it: a backend that frees a
     * step's memory by scope ({@link dev.adjoint.MemoryScope}) must not free it with the step's
     * temporaries.
     */
    private static void markLongLived(Map<String, Tensor> state) {
        for (Tensor t : state.values()) {
            t.backend().markLongLived(t.storage());
        }
    }

    /**
     * Updates parameter {@code p} (via copyFrom) from {@code grad}; {@code state} is this parameter's
     * state, empty before its first step. Runs inside noGrad; {@link #hyper} and {@link #lr()} give the
     * hyperparameters of {@code p}'s group.
     */
    protected abstract void update(Tensor p, Tensor grad, Map<String, Tensor> state);

    /** The state names a parameter with state has under the given hyperparameters, in order. */
    protected abstract List<String> stateNames(Map<String, Double> hyperparameters);

    private void validate(Map<String, Double> hyperparameters) {
        Double lr = hyperparameters.get("lr");
        if (lr != null && !(lr >= 0)) {
            throw new IllegalArgumentException(getClass().getSimpleName() + ": learning rate must be non-negative, got "
                    + lr);
        }
        checkHyperparameters(hyperparameters);
    }

    /**
     * Throws {@link IllegalArgumentException} naming the optimizer and the value if a group's
     * hyperparameters are invalid; called for every group added and every value set.
     */
    protected void checkHyperparameters(Map<String, Double> hyperparameters) {
    }

    /**
     * Clears every parameter's gradient (PyTorch's {@code zero_grad(set_to_none=True)}), which frees it
     * for the next backward pass. A parameter the next backward pass does not reach then has no
     * gradient and {@link #step()} leaves it and its state alone; {@link #zeroGrad(boolean)
     * zeroGrad(false)} keeps a zero gradient instead.
     */
    public void zeroGrad() {
        zeroGrad(true);
    }

    /**
     * {@code setToNone} true: {@link #zeroGrad()}. False: PyTorch 1.13's default {@code zero_grad()},
     * which fills every existing gradient with zeros in place ({@link Tensor#zeroGrad(boolean)}), so a
     * parameter the next backward pass does not reach is still stepped with a zero gradient: momentum,
     * weight decay and Adam's moments move it as PyTorch's do.
     */
    public void zeroGrad(boolean setToNone) {
        for (ParamGroup g : groups) {
            for (Tensor p : g.params) {
                p.zeroGrad(setToNone);
            }
        }
    }

    /** Every parameter, group by group. */
    public List<Tensor> params() {
        List<Tensor> out = new ArrayList<>();
        for (ParamGroup g : groups) {
            out.addAll(g.params);
        }
        return out;
    }

    /** The groups, in order (PyTorch's {@code param_groups}); a group's hyperparameters may be changed. */
    public List<ParamGroup> paramGroups() {
        return Collections.unmodifiableList(groups);
    }

    /** The learning rate of the group being updated inside {@link #update}; otherwise that of group 0. */
    public double lr() {
        return hyper("lr");
    }

    /** Sets the learning rate of every group. */
    public void setLr(double lr) {
        for (ParamGroup g : groups) {
            g.set("lr", lr);
        }
    }

    /** The backend the parameters (and so the state) live on. */
    public Backend backend() {
        return groups.get(0).params.get(0).backend();
    }

    /** Defines a hyperparameter and its value for group 0 and as the default of later groups. */
    protected final void defineHyper(String name, double value) {
        defaults.put(name, value);
        groups.get(0).hyper.put(name, value);
    }

    /** A hyperparameter of the group being updated (inside {@link #update}), otherwise of group 0. */
    protected final double hyper(String name) {
        return (active != null ? active : groups.get(0)).get(name);
    }

    /** A hyperparameter as the constructor set it (the default of later groups). */
    protected final double defaultHyper(String name) {
        Double v = defaults.get(name);
        if (v == null) {
            throw new IllegalArgumentException(getClass().getSimpleName() + " has no hyperparameter '" + name + "'");
        }
        return v;
    }

    /** A copy of group 0's hyperparameters by name. */
    public Map<String, Double> hyperparameters() {
        return groups.get(0).hyperparameters();
    }

    // ---- state dict --------------------------------------------------------------------------------

    public Map<String, Tensor> stateDict() {
        LinkedHashMap<String, Tensor> out = new LinkedHashMap<>();
        var create = Tensor.on(backend());
        for (int g = 0; g < groups.size(); g++) {
            String prefix = "group." + g + ".";
            groups.get(g).hyper.forEach((k, v) -> out.put(prefix + k, create.scalar(v, DType.FLOAT64)));
            out.put(prefix + "params", create.scalar(groups.get(g).params.size(), DType.FLOAT64));
        }
        for (int i = 0; i < state.size(); i++) {
            for (Map.Entry<String, Tensor> e : state.get(i).entrySet()) {
                out.put("state." + i + "." + e.getKey(), e.getValue().detach());
            }
        }
        return out;
    }

    /**
     * Restores hyperparameters and state into an optimizer built with the same groups. Strict: every
     * {@code group.*} key must be present and each group's parameter count must match; a parameter's
     * state must be complete or absent; no other keys; shapes and dtypes must match the parameter (0-d
     * FLOAT64 for {@code step} and the hyperparameters). Otherwise a {@link StateDictException} names the
     * problems and nothing changes. Values are copied, so the given map is not aliased.
     */
    public void loadStateDict(Map<String, Tensor> given) {
        // The hyperparameters decide which state exists (amsgrad, momentum), so read them first.
        List<LinkedHashMap<String, Double>> newHyper = new ArrayList<>();
        List<String> problems = new ArrayList<>();
        for (int g = 0; g < groups.size(); g++) {
            LinkedHashMap<String, Double> h = new LinkedHashMap<>();
            for (String k : groups.get(g).hyper.keySet()) {
                Tensor v = given.get("group." + g + "." + k);
                h.put(k, v != null && v.numel() == 1 ? v.item() : groups.get(g).hyper.get(k));
            }
            newHyper.add(h);
            Tensor count = given.get("group." + g + ".params");
            if (count != null && count.numel() == 1 && count.item() != groups.get(g).params.size()) {
                problems.add("group " + g + " has " + (long) count.item() + " parameters in the state dict and "
                        + groups.get(g).params.size() + " in the " + getClass().getSimpleName());
            }
        }
        Map<String, Tensor> expected = new LinkedHashMap<>();
        var create = Tensor.on(backend());
        for (int g = 0; g < groups.size(); g++) {
            for (String k : groups.get(g).hyper.keySet()) {
                expected.put("group." + g + "." + k, create.scalar(0, DType.FLOAT64));
            }
            expected.put("group." + g + ".params", create.scalar(0, DType.FLOAT64));
        }
        int index = 0;
        List<List<String>> names = new ArrayList<>();
        for (int g = 0; g < groups.size(); g++) {
            List<String> groupNames = stateNames(newHyper.get(g));
            names.add(groupNames);
            for (Tensor p : groups.get(g).params) {
                String prefix = "state." + index + ".";
                if (given.keySet().stream().anyMatch(k -> k.startsWith(prefix))) {
                    for (String name : groupNames) {
                        expected.put(prefix + name, name.equals("step") ? create.scalar(0, DType.FLOAT64) : p);
                    }
                }
                index++;
            }
        }
        if (!problems.isEmpty()) {
            throw new StateDictException("loadStateDict: the state dict does not fit the " + getClass().getSimpleName()
                    + " (nothing was loaded): " + String.join("; ", problems));
        }
        StateDicts.checkCompatible(getClass().getSimpleName(), expected, given);

        for (int g = 0; g < groups.size(); g++) {
            groups.get(g).hyper.clear();
            groups.get(g).hyper.putAll(newHyper.get(g));
        }
        index = 0;
        for (int g = 0; g < groups.size(); g++) {
            for (Tensor p : groups.get(g).params) {
                LinkedHashMap<String, Tensor> s = state.get(index);
                s.clear();
                String prefix = "state." + index + ".";
                for (String name : names.get(g)) {
                    Tensor v = given.get(prefix + name);
                    if (v != null) {
                        s.put(name, copyOf(v.to(p.backend())));
                    }
                }
                markLongLived(s);
                index++;
            }
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
