package dev.adjoint.nn;

import dev.adjoint.DType;
import dev.adjoint.DTypeMismatchException;
import dev.adjoint.Tensor;
import dev.adjoint.autograd.RemovableHandle;
import dev.adjoint.spi.Backend;

import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.UnaryOperator;

/**
 * A building block of a model, as {@code torch.nn.Module}: it owns named parameters (leaf tensors that
 * require grad), named buffers (state that is saved but not trained) and named child modules, and
 * computes {@link #forward(Tensor)}.
 *
 * <p>Parameters are plain tensors registered by name. Layers look them up by name at each forward
 * rather than keeping them in fields, so {@link #to(Backend)} and {@link #loadStateDict(Map)} are the
 * only places that change them. Names follow PyTorch: {@code "0.weight"}, {@code "layers.1.bias"}.
 *
 * <p>{@link #call(Tensor)} is PyTorch's {@code module(x)}: it runs the forward pre-hooks, {@link #forward},
 * then the forward hooks. Calling {@link #forward} directly skips the hooks, as {@code module.forward(x)}
 * does in PyTorch. Containers call their children through {@code call}.
 */
public abstract class Module {
    private final LinkedHashMap<String, Tensor> parameters = new LinkedHashMap<>();
    private final LinkedHashMap<String, Tensor> buffers = new LinkedHashMap<>();
    private final LinkedHashMap<String, Module> children = new LinkedHashMap<>();
    private final List<ForwardPreHook> forwardPreHooks = new ArrayList<>(0);
    private final List<ForwardHook> forwardHooks = new ArrayList<>(0);
    private boolean training = true;

    public abstract Tensor forward(Tensor input);

    // ---- hooks ---------------------------------------------------------------------------------------

    /** Runs before {@link #forward} in {@link #call}; as {@code register_forward_pre_hook}. */
    @FunctionalInterface
    public interface ForwardPreHook {
        /** Returns a replacement input for the forward, or {@code null} to keep {@code input}. */
        Tensor apply(Module module, Tensor input);
    }

    /** Runs after {@link #forward} in {@link #call}; as {@code register_forward_hook}. */
    @FunctionalInterface
    public interface ForwardHook {
        /**
         * Sees the input the forward received and its output; returns a replacement output, or
         * {@code null} to keep {@code output}.
         */
        Tensor apply(Module module, Tensor input, Tensor output);
    }

    /**
     * {@code module(input)}: the forward pre-hooks in registration order (each may replace the input),
     * {@link #forward}, then the forward hooks in registration order (each may replace the output).
     */
    public final Tensor call(Tensor input) {
        if (forwardPreHooks.isEmpty() && forwardHooks.isEmpty()) {
            return forward(input);
        }
        Tensor x = input;
        // Copies, so a hook may remove itself (or another) while the hooks run.
        for (ForwardPreHook hook : List.copyOf(forwardPreHooks)) {
            Tensor replaced = hook.apply(this, x);
            if (replaced != null) {
                x = replaced;
            }
        }
        Tensor y = forward(x);
        for (ForwardHook hook : List.copyOf(forwardHooks)) {
            Tensor replaced = hook.apply(this, x, y);
            if (replaced != null) {
                y = replaced;
            }
        }
        return y;
    }

    /** Adds a hook run before each {@link #call}'s forward; the handle removes it. */
    public final RemovableHandle registerForwardPreHook(ForwardPreHook hook) {
        Objects.requireNonNull(hook, "hook");
        // A wrapper of its own, so a hook registered twice is removed once per handle.
        ForwardPreHook entry = hook::apply;
        forwardPreHooks.add(entry);
        return () -> forwardPreHooks.remove(entry);
    }

    /** Adds a hook run after each {@link #call}'s forward; the handle removes it. */
    public final RemovableHandle registerForwardHook(ForwardHook hook) {
        Objects.requireNonNull(hook, "hook");
        ForwardHook entry = hook::apply;
        forwardHooks.add(entry);
        return () -> forwardHooks.remove(entry);
    }

    // ---- registration (for subclasses) ---------------------------------------------------------------

    /** Registers {@code value} as a parameter: it becomes a leaf that requires grad. Returns it. */
    protected final Tensor registerParameter(String name, Tensor value) {
        checkNewName(name);
        if (!value.isLeaf()) {
            throw new IllegalArgumentException("registerParameter: '" + name + "' must be a leaf tensor, but it was "
                    + "computed by " + value.gradFn().name() + " (use detach())");
        }
        value.requiresGrad(true);
        parameters.put(name, value);
        return value;
    }

    /** Registers state that is saved in the state dict but not trained (e.g. running statistics). */
    protected final Tensor registerBuffer(String name, Tensor value) {
        checkNewName(name);
        buffers.put(name, value.detach());
        return buffers.get(name);
    }

    protected final <M extends Module> M registerModule(String name, M module) {
        checkNewName(name);
        children.put(name, Objects.requireNonNull(module, "module"));
        return module;
    }

    /** This module's own parameter {@code name}. */
    protected final Tensor parameter(String name) {
        Tensor p = parameters.get(name);
        if (p == null) {
            throw new IllegalArgumentException(getClass().getSimpleName() + " has no parameter '" + name
                    + "'; it has " + parameters.keySet());
        }
        return p;
    }

    protected final Tensor buffer(String name) {
        Tensor b = buffers.get(name);
        if (b == null) {
            throw new IllegalArgumentException(getClass().getSimpleName() + " has no buffer '" + name
                    + "'; it has " + buffers.keySet());
        }
        return b;
    }

    private void checkNewName(String name) {
        if (name == null || name.isEmpty() || name.contains(".")) {
            throw new IllegalArgumentException("a parameter, buffer or module name must be non-empty and contain no "
                    + "'.', got '" + name + "'");
        }
        if (parameters.containsKey(name) || buffers.containsKey(name) || children.containsKey(name)) {
            throw new IllegalArgumentException(getClass().getSimpleName() + " already has a member named '" + name + "'");
        }
    }

    // ---- traversal -----------------------------------------------------------------------------------

    /** Every parameter of this module and its descendants, each once, in registration order. */
    public List<Tensor> parameters() {
        return new ArrayList<>(namedParameters().values());
    }

    /**
     * Parameters by dotted path, own parameters first and then each child's, as
     * {@code named_parameters()}; a tensor registered twice (tied weights) appears once, under its first name.
     */
    public LinkedHashMap<String, Tensor> namedParameters() {
        LinkedHashMap<String, Tensor> out = new LinkedHashMap<>();
        Set<Tensor> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        collect("", out, seen, true);
        return out;
    }

    public LinkedHashMap<String, Tensor> namedBuffers() {
        LinkedHashMap<String, Tensor> out = new LinkedHashMap<>();
        collect("", out, Collections.newSetFromMap(new IdentityHashMap<>()), false);
        return out;
    }

    private void collect(String prefix, Map<String, Tensor> out, Set<Tensor> seen, boolean params) {
        for (Map.Entry<String, Tensor> e : (params ? parameters : buffers).entrySet()) {
            if (seen.add(e.getValue())) {
                out.put(prefix + e.getKey(), e.getValue());
            }
        }
        for (Map.Entry<String, Module> c : children.entrySet()) {
            c.getValue().collect(prefix + c.getKey() + ".", out, seen, params);
        }
    }

    /** The direct children by name. */
    public LinkedHashMap<String, Module> namedChildren() {
        return new LinkedHashMap<>(children);
    }

    /** This module (under "") and every descendant by dotted path, depth first, as {@code named_modules()}. */
    public LinkedHashMap<String, Module> namedModules() {
        LinkedHashMap<String, Module> out = new LinkedHashMap<>();
        collectModules("", out);
        return out;
    }

    private void collectModules(String path, Map<String, Module> out) {
        out.put(path, this);
        for (Map.Entry<String, Module> c : children.entrySet()) {
            c.getValue().collectModules(path.isEmpty() ? c.getKey() : path + "." + c.getKey(), out);
        }
    }

    // ---- mode ----------------------------------------------------------------------------------------

    /** Sets training mode on this module and every descendant. Returns this. */
    public Module train(boolean mode) {
        training = mode;
        for (Module c : children.values()) {
            c.train(mode);
        }
        return this;
    }

    public Module train() {
        return train(true);
    }

    /** Evaluation mode (dropout off, ...) on this module and every descendant. Returns this. */
    public Module eval() {
        return train(false);
    }

    public boolean isTraining() {
        return training;
    }

    /**
     * Clears every parameter's gradient (PyTorch's {@code zero_grad(set_to_none=True)}), which frees it
     * for the next backward pass; {@link #zeroGrad(boolean) zeroGrad(false)} zeroes it instead.
     */
    public void zeroGrad() {
        zeroGrad(true);
    }

    /**
     * {@code setToNone} true: {@link #zeroGrad()}. False: PyTorch 1.13's default {@code zero_grad()},
     * which fills every existing gradient with zeros in place ({@link Tensor#zeroGrad(boolean)}).
     */
    public void zeroGrad(boolean setToNone) {
        for (Tensor p : parameters()) {
            p.zeroGrad(setToNone);
        }
    }

    // ---- state ---------------------------------------------------------------------------------------

    /**
     * Parameters and buffers by dotted path, as {@code state_dict()}: each module's parameters, then its
     * buffers, then its children. Values are detached and share storage with the module, so save
     * them before the next optimizer step if a snapshot is wanted.
     */
    public Map<String, Tensor> stateDict() {
        LinkedHashMap<String, Tensor> out = new LinkedHashMap<>();
        collectState("", out);
        return out;
    }

    private void collectState(String prefix, Map<String, Tensor> out) {
        parameters.forEach((k, v) -> out.put(prefix + k, v.detach()));
        buffers.forEach((k, v) -> out.put(prefix + k, v.detach()));
        children.forEach((k, c) -> c.collectState(prefix + k + ".", out));
    }

    /**
     * Copies {@code state} into this module's parameters and buffers. Strict, as PyTorch's default: the
     * keys must be exactly those of {@link #stateDict()} and every value must have the same shape and
     * dtype; otherwise a {@link StateDictException} names every offending key and nothing changes.
     * Values may live on another backend; they are copied into the module's tensors in place.
     */
    public void loadStateDict(Map<String, Tensor> state) {
        Map<String, Tensor> own = stateDict();
        StateDicts.checkCompatible(getClass().getSimpleName(), own, state);
        try (var scope = Tensor.noGrad()) {
            for (Map.Entry<String, Tensor> e : own.entrySet()) {
                Tensor target = e.getValue();
                target.copyFrom(state.get(e.getKey()).to(target.backend()));
            }
        }
    }

    /**
     * Moves every parameter and buffer to {@code backend} (new leaves there; gradients are not
     * carried over). Returns this. Optimizers built before the move still hold the old tensors: build
     * them after.
     */
    public Module to(Backend backend) {
        // One identity map for the whole tree, so a tensor shared by two modules (tied weights) stays shared.
        convert(new IdentityHashMap<>(), t -> t.backend() == backend ? t : t.to(backend));
        return this;
    }

    /**
     * Converts every parameter and floating buffer to {@code dtype} (new leaves; gradients are not
     * carried over), e.g. a FLOAT32 model to FLOAT64 for a gradient check. Returns this. As with
     * {@link #to(Backend)}, build optimizers afterwards.
     */
    public Module to(DType dtype) {
        if (!dtype.isFloatingPoint()) {
            throw new DTypeMismatchException("Module.to: parameters must be FLOAT32 or FLOAT64, got " + dtype);
        }
        try (var scope = Tensor.noGrad()) {
            convert(new IdentityHashMap<>(), t -> t.dtype() == dtype || !t.dtype().isFloatingPoint() ? t : t.toType(dtype));
        }
        return this;
    }

    private void convert(Map<Tensor, Tensor> done, UnaryOperator<Tensor> conversion) {
        // The converted tensor is a new leaf, so it keeps the original's requiresGrad: a frozen
        // parameter (or a buffer that requires grad) stays as the user set it, as in PyTorch.
        UnaryOperator<Tensor> convertKeepingFlag = t -> {
            Tensor c = conversion.apply(t);
            return c == t ? t : c.detach().requiresGrad(t.requiresGrad());
        };
        parameters.replaceAll((k, v) -> done.computeIfAbsent(v, convertKeepingFlag));
        buffers.replaceAll((k, v) -> done.computeIfAbsent(v, convertKeepingFlag));
        for (Module c : children.values()) {
            c.convert(done, conversion);
        }
    }

    @Override
    public String toString() {
        if (children.isEmpty()) {
            return getClass().getSimpleName() + "(" + describe() + ")";
        }
        StringBuilder sb = new StringBuilder(getClass().getSimpleName()).append("(\n");
        children.forEach((k, c) -> sb.append("  (").append(k).append("): ")
                .append(c.toString().replace("\n", "\n  ")).append('\n'));
        return sb.append(')').toString();
    }

    /** The constructor arguments shown by {@link #toString()} for a leaf module. */
    protected String describe() {
        return "";
    }
}
