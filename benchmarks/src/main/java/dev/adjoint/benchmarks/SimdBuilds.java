package dev.adjoint.benchmarks;

import dev.adjoint.spi.Backend;

import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Several builds of engine-simd side by side in one JVM, for the paired A/B programs in
 * {@code benchmarks/ab} (GemmAB, StepProductsAB, ...), which run them in turn so that a shared machine's load falls
 * on all of them alike. A build is a directory of engine-simd classes (a copy of
 * {@code engine-simd/target/classes}) loaded in a class loader of its own; everything else comes from
 * the benchmarks jar.
 */
public final class SimdBuilds {

    private SimdBuilds() {
    }

    /** What a build's set-up makes of its backend, while the build's system properties are set. */
    @FunctionalInterface
    public interface SetUp<T> {
        T apply(Backend backend, ClassLoader loader) throws Exception;
    }

    /**
     * Loads the build {@code spec}, {@code dir} or {@code dir@name=value,name=value}: its
     * {@code SimdBackend} is handed to {@code setUp} with the properties set, so that settings the build's
     * classes read once while they initialise (its blocking, its thread count) take them; they are
     * cleared again after.
     */
    public static <T> T load(String spec, SetUp<T> setUp) throws Exception {
        String[] parts = spec.split("@", 2);
        List<String> set = new ArrayList<>();
        if (parts.length == 2) {
            for (String assignment : parts[1].split(",")) {
                String[] nameValue = assignment.split("=", 2);
                System.setProperty(nameValue[0], nameValue[1]);
                set.add(nameValue[0]);
            }
        }
        try {
            ClassLoader loader = new ChildFirst(Path.of(parts[0]).toUri().toURL(), SimdBuilds.class.getClassLoader());
            Backend backend = (Backend) Class.forName("dev.adjoint.engine.simd.SimdBackend", true, loader)
                    .getConstructor().newInstance();
            return setUp.apply(backend, loader);
        } finally {
            set.forEach(System::clearProperty);
        }
    }

    /** {@code size} values uniform in [-1, 1) from {@code seed}, the operands of the A/B products. */
    public static double[] uniform(int size, long seed) {
        Random random = new Random(seed);
        double[] v = new double[size];
        for (int i = 0; i < size; i++) {
            v[i] = 2 * random.nextDouble() - 1;
        }
        return v;
    }

    /** Loads engine-simd's classes from its own directory, everything else from the parent. */
    private static final class ChildFirst extends URLClassLoader {
        ChildFirst(URL dir, ClassLoader parent) {
            super(new URL[] {dir}, parent);
        }

        @Override
        protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
            if (!name.startsWith("dev.adjoint.engine.simd.")) {
                return super.loadClass(name, resolve);
            }
            synchronized (getClassLoadingLock(name)) {
                Class<?> c = findLoadedClass(name);
                return c != null ? c : findClass(name);
            }
        }
    }
}
