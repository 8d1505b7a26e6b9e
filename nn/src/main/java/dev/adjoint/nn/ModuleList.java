package dev.adjoint.nn;

import dev.adjoint.Tensor;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

/**
 * Holds modules in a list, named "0", "1", ... as {@code nn.ModuleList}, so their parameters and
 * buffers belong to the owner (parameters(), stateDict(), to(), train/eval) while the owner's
 * forward decides how to call them. It has no forward of its own.
 */
public final class ModuleList extends Module implements Iterable<Module> {
    private final List<Module> modules = new ArrayList<>();

    public ModuleList(Module... modules) {
        for (Module m : modules) {
            add(m);
        }
    }

    public ModuleList(List<? extends Module> modules) {
        for (Module m : modules) {
            add(m);
        }
    }

    /** Appends {@code module} under the next index. Returns this. */
    public ModuleList add(Module module) {
        registerModule(Integer.toString(modules.size()), module);
        modules.add(module);
        return this;
    }

    public Module get(int index) {
        if (index < 0 || index >= modules.size()) {
            throw new IndexOutOfBoundsException("ModuleList: index " + index + " is out of range for "
                    + modules.size() + " modules");
        }
        return modules.get(index);
    }

    public int size() {
        return modules.size();
    }

    @Override
    public Iterator<Module> iterator() {
        return List.copyOf(modules).iterator();
    }

    /** Not callable, as in PyTorch: iterate over the modules in the owner's forward. */
    @Override
    public Tensor forward(Tensor input) {
        throw new UnsupportedOperationException("ModuleList has no forward: call its modules from the owning "
                + "module's forward (or use Sequential)");
    }
}
