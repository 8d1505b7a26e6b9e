package dev.adjoint.examples;

import dev.adjoint.DType;
import dev.adjoint.Tensor;
import dev.adjoint.nn.Linear;
import dev.adjoint.nn.NnContext;
import org.junit.jupiter.api.Test;

import java.io.File;
import java.lang.module.ModuleFinder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Adjoint's jars as modules, the way a modular application uses them: api, the scalar and simd
 * engines and nn on the module path (Jackson beside them), the backends found through the modules'
 * {@code provides}, the API packages usable, and the op implementations and tensor plumbing
 * ({@code dev.adjoint.ops}, {@code dev.adjoint.internal}) not accessible.
 */
class ModulePathTest {
    private static final List<String> MODULAR_JARS = List.of("adjoint-api-", "adjoint-engine-scalar-",
            "adjoint-engine-simd-", "adjoint-nn-");

    @Test
    void theModulesResolveAndExportOnlyTheApi() throws Exception {
        List<String> classPath = Arrays.asList(System.getProperty("java.class.path").split(File.pathSeparator));
        List<String> modulePath = new ArrayList<>();
        for (String entry : classPath) {
            String name = Path.of(entry).getFileName().toString();
            boolean ours = MODULAR_JARS.stream().anyMatch(name::startsWith) && name.endsWith(".jar");
            if (ours || name.startsWith("jackson-")) {
                modulePath.add(entry);
            }
        }
        // Under `mvn test` the reactor hands over target/classes directories, which get their module
        // descriptors only when the jars are made; `mvn verify` (CI) runs this on the jars.
        assumeTrue(modulePath.stream().filter(e -> e.endsWith(".jar")
                        && MODULAR_JARS.stream().anyMatch(p -> Path.of(e).getFileName().toString().startsWith(p)))
                        .count() == MODULAR_JARS.size(),
                "the adjoint jars are not built yet (run under mvn verify)");
        for (String jar : modulePath) {
            if (Path.of(jar).getFileName().toString().startsWith("adjoint-")) {
                assertTrue(ModuleFinder.of(Path.of(jar)).findAll().iterator().next().descriptor().isAutomatic() == false,
                        jar + " has a module descriptor");
            }
        }
        String testClasses = classPath.stream().filter(e -> e.endsWith("test-classes")).findFirst().orElseThrow();
        List<String> command = List.of(ProcessHandle.current().info().command().orElse("java"),
                "--add-modules", "jdk.incubator.vector,dev.adjoint.nn,dev.adjoint.engine.scalar,dev.adjoint.engine.simd",
                "--module-path", String.join(File.pathSeparator, modulePath),
                "-cp", testClasses, ModularProgram.class.getName());
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        builder.environment().remove("ADJOINT_BACKEND");
        Process p = builder.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "the JVM did not finish: " + out);
        assertEquals(0, p.exitValue(), out);
        assertTrue(out.contains("backends: simd scalar"), out);
        assertTrue(out.contains("sum on simd: 6.0"), out);
        assertTrue(out.contains("Linear(3, 2) output shape [4, 2]"), out);
        assertTrue(out.contains("dev.adjoint.ops is not accessible"), out);
        assertTrue(out.contains("dev.adjoint.internal is not accessible"), out);
        assertTrue(Files.exists(Path.of(testClasses)));
    }

    /** Runs in the child JVM, in the unnamed module, with Adjoint's modules on the module path. */
    public static final class ModularProgram {
        public static void main(String[] args) throws Exception {
            System.out.println("api module: " + Tensor.class.getModule().getName());
            StringBuilder names = new StringBuilder("backends:");
            for (var info : dev.adjoint.backend.Backends.list()) {
                if (info.available()) {
                    names.append(' ').append(info.name());
                }
            }
            System.out.println(names);
            System.out.println("sum on simd: " + Tensor.on("simd").ones(DType.FLOAT32, 2, 3).sum().item());
            Linear layer = new Linear(3, 2, NnContext.seeded(1));
            System.out.println("Linear(3, 2) output shape " + layer.forward(Tensor.ones(DType.FLOAT32, 4, 3)).shape());
            for (String hidden : List.of("dev.adjoint.ops.Dispatch", "dev.adjoint.internal.TensorInternals")) {
                Class<?> c = Class.forName(hidden);
                try {
                    c.getMethod(hidden.endsWith("Dispatch") ? "scalar" : "get",
                            hidden.endsWith("Dispatch") ? new Class<?>[] {dev.adjoint.spi.Backend.class, DType.class,
                                    double.class} : new Class<?>[0])
                            .invoke(null, hidden.endsWith("Dispatch")
                                    ? new Object[] {dev.adjoint.backend.Backends.get("scalar"), DType.FLOAT32, 1.0}
                                    : new Object[0]);
                    System.out.println(c.getPackageName() + " IS accessible");
                } catch (IllegalAccessException expected) {
                    System.out.println(c.getPackageName() + " is not accessible");
                }
            }
        }
    }
}
