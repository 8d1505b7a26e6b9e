package dev.adjoint.engine.nd4j;

import dev.adjoint.backend.Backends;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * With nd4j on the class path, a program that picks another backend must not load ND4J: loading it
 * costs ~0.3 s, prints SLF4J warnings and starts native threads that compete for the cores. The other
 * tests in this JVM have loaded ND4J already, so the check runs {@link Probe} in a fresh JVM.
 */
class LazyLoadingTest {
    @Test
    void choosingAnotherBackendDoesNotLoadNd4j() throws IOException, InterruptedException {
        String java = ProcessHandle.current().info().command().orElse("java");
        Process p = new ProcessBuilder(List.of(java, "--enable-native-access=ALL-UNNAMED", "-cp",
                System.getProperty("java.class.path"), Probe.class.getName()))
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the probe JVM did not finish");
        assertEquals(0, p.exitValue(), out);
        assertTrue(out.contains("after get(scalar): false"), out);
        assertTrue(out.contains("after list(): true"), "list() reports every backend, so it loads ND4J: " + out);
    }

    /** Runs in the fresh JVM. */
    public static final class Probe {
        public static void main(String[] args) {
            Backends.get("scalar");
            System.out.println("after get(scalar): " + Nd4jRuntime.attempted());
            Backends.list();
            System.out.println("after list(): " + Nd4jRuntime.attempted());
        }
    }
}
