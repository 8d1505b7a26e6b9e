package dev.adjoint.autograd;

import dev.adjoint.Tensor;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What a custom {@link Function}'s forward leaves for its backward and JVP, as the {@code ctx} of
 * {@code torch.autograd.Function}: saved tensors (checked against in-place modification, as the
 * built-in ops' are), plain values, which outputs are not differentiable, which inputs were modified in
 * place, and which inputs need a gradient.
 */
public final class FunctionContext {
    private List<Tensor> saved = List.of();
    private int[] savedVersions = new int[0];
    private final Map<String, Object> values = new HashMap<>();
    private final Set<Tensor> nonDifferentiable = Collections.newSetFromMap(new IdentityHashMap<>());
    private final Set<Tensor> dirty = Collections.newSetFromMap(new IdentityHashMap<>());
    private boolean[] needsInputGrad = new boolean[0];
    private String name = "Function";
    private boolean released;

    FunctionContext() {
    }

    /**
     * Keeps tensors for backward (inputs or outputs of forward); read them back with {@link #savedTensors()}.
     * Their versions are taken when forward has returned, so an input that forward modifies in place and
     * marks dirty may be saved (backward sees its new values); an in-place change after that fails backward.
     */
    public void saveForBackward(Tensor... tensors) {
        saved = List.of(tensors);
        savedVersions = new int[tensors.length];
        recordSavedVersions();
    }

    /**
     * The tensors passed to {@link #saveForBackward}. Fails if one was modified in place since, as a
     * gradient computed from the new values would be silently wrong.
     */
    public List<Tensor> savedTensors() {
        if (released) {
            throw new GraphFreedException(name + ": trying to backward through the graph a second time, but the "
                    + "saved tensors were freed after the first backward; pass retainGraph=true to the first one");
        }
        for (int i = 0; i < saved.size(); i++) {
            Tensor t = saved.get(i);
            if (t.version() != savedVersions[i]) {
                throw new IllegalStateException(name + ": saved tensor " + i + " (shape " + t.shape()
                        + ") was modified by an in-place operation after it was saved (version " + t.version()
                        + ", expected " + savedVersions[i] + ")");
            }
        }
        return saved;
    }

    /** Keeps a non-tensor value (a dimension, a flag) for backward. */
    public void put(String key, Object value) {
        values.put(key, value);
    }

    @SuppressWarnings("unchecked")
    public <T> T get(String key) {
        if (!values.containsKey(key)) {
            throw new IllegalArgumentException(name + ": nothing was put under '" + key + "' in forward");
        }
        return (T) values.get(key);
    }

    /** Marks outputs that have no gradient (indices, masks): they will not require grad. */
    public void markNonDifferentiable(Tensor... outputs) {
        Collections.addAll(nonDifferentiable, outputs);
    }

    /**
     * Marks inputs that forward modified in place. They must also be returned as outputs; the returned
     * tensor carries the function's history, and the input's version counter moves on, so an earlier op
     * that saved the old values fails in backward instead of using the new ones.
     */
    public void markDirty(Tensor... inputs) {
        Collections.addAll(dirty, inputs);
    }

    /** Whether backward needs to compute the gradient of input {@code i}. */
    public boolean needsInputGrad(int i) {
        return needsInputGrad[i];
    }

    boolean isNonDifferentiable(Tensor t) {
        return nonDifferentiable.contains(t);
    }

    boolean isDirty(Tensor t) {
        return dirty.contains(t);
    }

    /**
     * Takes the versions the saved tensors must still have in backward. Called again by
     * {@link Function#apply} once forward has returned and the counters of dirty inputs have moved on,
     * as PyTorch packs saved tensors only after it has processed forward's outputs: otherwise a dirty
     * input saved in forward would always look modified after it was saved.
     */
    void recordSavedVersions() {
        for (int i = 0; i < saved.size(); i++) {
            savedVersions[i] = saved.get(i).version();
        }
    }

    void setNeedsInputGrad(boolean[] needs) {
        this.needsInputGrad = needs;
    }

    void setName(String name) {
        this.name = name;
    }

    void release() {
        released = true;
        saved = List.of();
    }

    List<Tensor> savedUnchecked() {
        return new ArrayList<>(saved);
    }
}
