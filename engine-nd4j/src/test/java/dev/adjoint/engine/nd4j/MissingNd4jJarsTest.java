package dev.adjoint.engine.nd4j;

import dev.adjoint.Tensor;
import dev.adjoint.backend.Backends;
import org.junit.jupiter.api.Test;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * adjoint-engine-nd4j on the class path without ND4J's own jars (a dependency left out): the nd4j
 * backend cannot even be loaded, and discovery must report it and find the others, not fail every
 * Backends call of the JVM with NoClassDefFoundError. Runs {@link Probe} in a fresh JVM whose class
 * path is this one's without the org/nd4j jars.
 */
class MissingNd4jJarsTest {
    @Test
    void theOtherBackendsAreFoundAndTheBrokenOneIsReported() throws IOException, InterruptedException {
        String classPath = Arrays.stream(System.getProperty("java.class.path").split(File.pathSeparator))
                .filter(entry -> !entry.replace('\\', '/').contains("/org/nd4j/"))
                .collect(Collectors.joining(File.pathSeparator));
        String java = ProcessHandle.current().info().command().orElse("java");
        ProcessBuilder builder = new ProcessBuilder(List.of(java, "-cp", classPath, Probe.class.getName()))
                .redirectErrorStream(true);
        builder.environment().remove(Backends.ENV);
        Process p = builder.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the probe JVM did not finish");
        assertEquals(0, p.exitValue(), out);
        assertTrue(out.contains("(failed to load) (priority " + Integer.MIN_VALUE + "): unavailable: a backend class "
                + "failed to load: java.lang.NoClassDefFoundError: org/nd4j/"), out);
        assertTrue(out.contains("scalar (priority 0): available"), out);
        assertTrue(out.contains("default=scalar sum=2.0"), out);
    }

    /** Runs in the fresh JVM. */
    public static final class Probe {
        public static void main(String[] args) {
            System.out.println(Backends.describe());
            System.out.println("default=" + Backends.defaultBackend().name() + " sum=" + Tensor.ones(2).sum().item());
        }
    }
}
