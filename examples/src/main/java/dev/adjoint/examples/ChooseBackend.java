package dev.adjoint.examples;

import dev.adjoint.DType;
import dev.adjoint.Generator;
import dev.adjoint.Tensor;
import dev.adjoint.backend.Backends;
import dev.adjoint.spi.Backend;

/**
 * Choosing a backend at run time. Backends are found on the class path; the default is the
 * backend named by {@code -Dadjoint.backend=NAME} or {@code ADJOINT_BACKEND}, else the available one
 * with the highest priority (simd when the JVM runs with {@code --add-modules jdk.incubator.vector}).
 * Code can also name a backend, and move tensors between backends.
 */
public final class ChooseBackend {
    private ChooseBackend() {
    }

    public static void main(String[] args) {
        System.out.println("Java " + Runtime.version() + " (" + System.getProperty("java.home") + ")");
        // What was found; only the backends the default choice needed are checked (and loaded).
        System.out.println("backends: " + Backends.describe());
        Backend chosen = Backends.defaultBackend();
        System.out.println("default: " + chosen.name());

        // The same computation on the default backend and on a named one gives the same numbers.
        Generator generator = new Generator(7);
        Tensor a = Tensor.randn(generator, DType.FLOAT32, 64, 64);
        Tensor onScalar = a.to(Backends.get("scalar"));
        double here = a.matmul(a).tanh().sum().item();
        double there = onScalar.matmul(onScalar).tanh().sum().item();
        System.out.printf("sum(tanh(a @ a)) = %.4f on %s, %.4f on scalar%n", here, chosen.name(), there);

        // A backend by name, for one tensor: Tensor.on("scalar").zeros(...), or Backends.get(name).
        Tensor ones = Tensor.on("scalar").ones(DType.FLOAT32, 3);
        System.out.println("Tensor.on(\"scalar\").ones(3) lives on " + ones.backend().name());
    }
}
