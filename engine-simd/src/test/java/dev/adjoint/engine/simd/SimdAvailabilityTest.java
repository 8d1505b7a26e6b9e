package dev.adjoint.engine.simd;

import dev.adjoint.backend.Backends;
import dev.adjoint.spi.Availability;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The backend is chosen when the Vector API is there, and explains itself when it is not. */
class SimdAvailabilityTest {

    @Test
    void availableAndRankedFirstWhenTheModuleIsPresent() {
        // Surefire starts this JVM with --add-modules jdk.incubator.vector (see the pom).
        assertTrue(new SimdBackend().availability().available());
        Backends.BackendInfo first = Backends.list().get(0);
        assertEquals("simd", first.name(), Backends.describe());
        assertTrue(first.available(), Backends.describe());
    }

    @Test
    void theUnavailableReasonNamesTheFlagThatFixesIt() {
        Availability a = VectorModule.availability(false);
        assertFalse(a.available());
        assertTrue(a.reason().contains("--add-modules jdk.incubator.vector"), a.reason());
        assertTrue(VectorModule.availability(true).available());
    }

    @Test
    void withoutTheFlagDiscoveryReportsTheReasonAndFallsBackToScalar() throws IOException, InterruptedException {
        String java = ProcessHandle.current().info().command().orElse("java");
        List<String> command = new ArrayList<>(List.of(java, "-cp", System.getProperty("java.class.path"),
                AvailabilityProbe.class.getName()));
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        // Nothing inherited may add the module behind the test's back.
        builder.environment().remove("JDK_JAVA_OPTIONS");
        builder.environment().remove("JAVA_TOOL_OPTIONS");
        builder.environment().remove(Backends.ENV);
        Process process = builder.start();
        String output;
        try (var in = process.getInputStream()) {
            output = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        assertTrue(process.waitFor(60, TimeUnit.SECONDS), "child JVM did not finish: " + output);
        assertEquals(0, process.exitValue(), output);
        assertTrue(output.contains("simd (priority 100): unavailable:"), output);
        assertTrue(output.contains("start the JVM with --add-modules jdk.incubator.vector"), output);
        assertTrue(output.contains("default=scalar"), output);
        // The program is told, once, why it runs on the slower engine and how to fix it.
        assertTrue(output.contains("WARNING: Adjoint: using backend 'scalar' because 'simd' (priority 100) is unavailable:"),
                output);
        assertEquals(1, output.split("using backend 'scalar'", -1).length - 1, output);
        assertTrue(output.contains("direct=2.0"), output);
        assertFalse(output.contains("Using incubator modules"), output);
    }
}
