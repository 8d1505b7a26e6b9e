package dev.adjoint.nn;

import dev.adjoint.Tensor;

import java.util.ArrayList;
import java.util.List;

/**
 * Applies its children in order, named "0", "1", ... as {@code nn.Sequential}; each child through
 * {@link Module#call}, so its hooks run.
 */
public final class Sequential extends Module {
    private final List<Module> layers = new ArrayList<>();

    public Sequential(Module... modules) {
        for (Module m : modules) {
            add(m);
        }
    }

    public Sequential(List<? extends Module> modules) {
        for (Module m : modules) {
            add(m);
        }
    }

    /** Appends a module under the next index. Returns this. */
    public Sequential add(Module module) {
        registerModule(Integer.toString(layers.size()), module);
        layers.add(module);
        return this;
    }

    public Module get(int index) {
        return layers.get(index);
    }

    public int size() {
        return layers.size();
    }

    @Override
    public Tensor forward(Tensor input) {
        Tensor x = input;
        for (Module m : layers) {
            x = m.call(x);
        }
        return x;
    }
}
