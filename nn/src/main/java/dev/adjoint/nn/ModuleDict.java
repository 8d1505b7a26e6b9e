package dev.adjoint.nn;

import dev.adjoint.Tensor;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * Holds modules by name in insertion order, as {@code nn.ModuleDict}, so their parameters and
 * buffers belong to the owner under {@code name.}; the owner's forward picks which to call. It has
 * no forward of its own.
 */
public final class ModuleDict extends Module {
    private final Map<String, Module> modules = new LinkedHashMap<>();

    public ModuleDict() {
    }

    public ModuleDict(Map<String, ? extends Module> modules) {
        modules.forEach(this::put);
    }

    /**
     * Adds {@code module} under {@code name} (non-empty, no '.'). Returns this. A name can be used once:
     * replacing a module would leave an optimizer built before holding the old parameters.
     */
    public ModuleDict put(String name, Module module) {
        registerModule(name, module);
        modules.put(name, module);
        return this;
    }

    public Module get(String name) {
        Module m = modules.get(name);
        if (m == null) {
            throw new IllegalArgumentException("ModuleDict has no module '" + name + "'; it has " + modules.keySet());
        }
        return m;
    }

    public boolean containsKey(String name) {
        return modules.containsKey(name);
    }

    public Set<String> keySet() {
        return Collections.unmodifiableSet(modules.keySet());
    }

    public int size() {
        return modules.size();
    }

    /** Not callable, as in PyTorch: look modules up in the owner's forward. */
    @Override
    public Tensor forward(Tensor input) {
        throw new UnsupportedOperationException("ModuleDict has no forward: call its modules from the owning "
                + "module's forward");
    }
}
