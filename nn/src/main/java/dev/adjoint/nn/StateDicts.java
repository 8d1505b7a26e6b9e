package dev.adjoint.nn;

import dev.adjoint.Tensor;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The strict key/shape/dtype check shared by modules and optimizers. Collects every problem, so the
 * message shows all missing and unexpected keys at once rather than the first.
 */
public final class StateDicts {
    private StateDicts() {
    }

    /**
     * Throws {@link StateDictException} unless {@code given} has exactly the keys of {@code expected}
     * and each value has the expected shape and dtype. {@code what} names the receiver in the message.
     */
    public static void checkCompatible(String what, Map<String, Tensor> expected, Map<String, Tensor> given) {
        Set<String> missing = new TreeSet<>(expected.keySet());
        missing.removeAll(given.keySet());
        Set<String> unexpected = new TreeSet<>(given.keySet());
        unexpected.removeAll(expected.keySet());
        List<String> problems = new ArrayList<>();
        if (!missing.isEmpty()) {
            problems.add("missing keys " + missing);
        }
        if (!unexpected.isEmpty()) {
            problems.add("unexpected keys " + unexpected);
        }
        for (Map.Entry<String, Tensor> e : expected.entrySet()) {
            Tensor value = given.get(e.getKey());
            if (value == null) {
                continue;
            }
            Tensor target = e.getValue();
            if (!value.shape().equals(target.shape())) {
                problems.add("size mismatch for '" + e.getKey() + "': checkpoint has shape " + value.shape()
                        + ", " + what + " has shape " + target.shape());
            } else if (value.dtype() != target.dtype()) {
                problems.add("dtype mismatch for '" + e.getKey() + "': checkpoint has " + value.dtype()
                        + ", " + what + " has " + target.dtype());
            }
        }
        if (!problems.isEmpty()) {
            throw new StateDictException("loadStateDict: the state dict does not fit the " + what + " (nothing was "
                    + "loaded): " + String.join("; ", problems));
        }
    }
}
