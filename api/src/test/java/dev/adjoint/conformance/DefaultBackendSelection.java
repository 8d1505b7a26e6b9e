package dev.adjoint.conformance;

import dev.adjoint.BackendUnavailableException;
import dev.adjoint.Tensor;
import dev.adjoint.backend.Backends;
import dev.adjoint.spi.Backend;
import org.junit.jupiter.api.DynamicNode;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.DynamicTest.dynamicTest;

/**
 * How a bad {@code -Dadjoint.backend} fails. The default backend is chosen once per JVM and this
 * test JVM has chosen it already, so the check runs {@link Probe} in a fresh JVM with the engine's
 * class path and the setting {@code -Dadjoint.backend=cuda}.
 */
public final class DefaultBackendSelection {
    private DefaultBackendSelection() {
    }

    public static Stream<DynamicNode> tests(Backend backend) {
        return Stream.of(dynamicTest("an unknown -Dadjoint.backend fails as BackendUnavailableException, every time",
                () -> unknownNameFailsEveryTime(backend)));
    }

    private static void unknownNameFailsEveryTime(Backend backend) throws IOException, InterruptedException {
        String java = ProcessHandle.current().info().command().orElse("java");
        List<String> command = new ArrayList<>(List.of(java));
        // The flags the engine's tests run with (the Vector API module, native access), nothing else.
        for (String argument : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (argument.startsWith("--add-modules") || argument.startsWith("--enable-native-access")) {
                command.add(argument);
            }
        }
        command.addAll(List.of("-D" + Backends.PROPERTY + "=cuda", "-cp", System.getProperty("java.class.path"),
                Probe.class.getName(), backend.name()));
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        builder.environment().remove(Backends.ENV);
        Process process = builder.start();
        String output;
        try (var in = process.getInputStream()) {
            output = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        assertTrue(process.waitFor(120, TimeUnit.SECONDS), "the probe JVM did not finish: " + output);
        assertEquals(0, process.exitValue(), output);
        String expected = BackendUnavailableException.class.getName() + ": system property " + Backends.PROPERTY
                + " asks for backend 'cuda', but no backend named 'cuda'; found: ";
        for (int attempt = 1; attempt <= 3; attempt++) {
            assertTrue(output.contains("attempt " + attempt + ": " + expected), output);
        }
        // Named with its priority; whether it is available is checked only for backends a choice needs.
        assertTrue(output.contains(backend.name() + " (priority " + backend.priority() + "): "),
                "the message lists the backends found: " + output);
        assertFalse(output.contains("ExceptionInInitializerError") || output.contains("NoClassDefFoundError"), output);
        assertTrue(output.contains("get(" + backend.name() + ") still works"), output);
    }

    /** Runs in the fresh JVM: asks for the default three times, then for the backend under test by name. */
    public static final class Probe {
        public static void main(String[] args) {
            for (int attempt = 1; attempt <= 3; attempt++) {
                try {
                    Tensor.zeros(2);
                    System.out.println("attempt " + attempt + ": no failure");
                } catch (Throwable t) {
                    System.out.println("attempt " + attempt + ": " + t);
                }
            }
            Backends.get(args[0]);
            System.out.println("get(" + args[0] + ") still works");
        }
    }
}
