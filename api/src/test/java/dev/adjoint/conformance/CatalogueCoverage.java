package dev.adjoint.conformance;

import dev.adjoint.Functional;
import dev.adjoint.Tensor;

import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.HashSet;
import java.util.Set;
import java.util.TreeSet;

/** Fails when the api gains an op that no catalogue entry exercises. */
final class CatalogueCoverage {
    /** Public Tensor methods that are not ops: creation, metadata, reading, autograd plumbing. */
    private static final Set<String> NOT_OPS = Set.of(
            "on", "zeros", "ones", "full", "scalar", "fromArray", "arange", "rand", "randn",
            "zerosLike", "onesLike", "fullLike", "shape", "size", "rank", "numel", "dtype", "backend", "storage",
            "layout", "isContiguous", "item", "toDoubleArray", "toFloatArray", "toLongArray", "to",
            "requiresGrad", "grad", "setGrad", "zeroGrad", "gradFn", "isLeaf", "detach", "backward",
            "registerHook", "retainGrad", "copyFrom", "noGrad", "enableGrad",
            "version",
            // In-place updates are not recorded, so there is nothing to gradient-check; AutogradSemantics
            // checks their values, broadcasting, aliasing and refusals on every backend.
            "add_", "sub_", "mul_", "div_", "fill_", "zero_",
            "toString", "equals", "hashCode", "getClass", "wait", "notify", "notifyAll");

    private CatalogueCoverage() {
    }

    /** The names of the api's ops: public Tensor methods that are ops, and every public Functional method. */
    static Set<String> apiOps() {
        Set<String> ops = new TreeSet<>();
        for (Method m : Tensor.class.getMethods()) {
            if (m.getDeclaringClass() == Tensor.class && !NOT_OPS.contains(m.getName())) {
                ops.add(m.getName());
            }
        }
        for (Method m : Functional.class.getDeclaredMethods()) {
            if (Modifier.isPublic(m.getModifiers())) {
                ops.add(m.getName());
            }
        }
        return ops;
    }

    static void assertEveryOpCovered() {
        Set<String> ops = apiOps();
        Set<String> covered = new HashSet<>();
        for (OpInfo op : OpCatalogue.all()) {
            covered.addAll(op.covers);
        }
        ops.removeAll(covered);
        if (!ops.isEmpty()) {
            throw new AssertionError("api ops without a catalogue entry in OpCatalogue: " + ops);
        }
    }
}
