package dev.adjoint.engine.simd;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A program run in a JVM of its own, as a user's program would run it: for checks of what the JIT
 * does, which in the test JVM depends on every test run before.
 */
final class ChildJvm {
    private ChildJvm() {
    }

    /**
     * Runs {@code main} on this JVM's class path with the Vector API and {@code jvmOptions}, and
     * returns its standard output and error; fails unless it exits with 0 within five minutes.
     */
    static String run(Class<?> main, List<String> jvmOptions, String... args) throws IOException, InterruptedException {
        return run(Map.of(), main, jvmOptions, args);
    }

    /**
     * {@link #run(Class, List, String...)} with {@code environment} added to this process's: for JVM
     * options that the child's own children must inherit too ({@code JDK_JAVA_OPTIONS}).
     */
    static String run(Map<String, String> environment, Class<?> main, List<String> jvmOptions, String... args)
            throws IOException, InterruptedException {
        String java = ProcessHandle.current().info().command().orElse("java");
        List<String> command = new ArrayList<>(List.of(java, "--add-modules", "jdk.incubator.vector"));
        command.addAll(jvmOptions);
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), main.getName()));
        command.addAll(List.of(args));
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        builder.environment().putAll(environment);
        Process process = builder.start();
        String output;
        try (var in = process.getInputStream()) {
            output = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        assertTrue(process.waitFor(300, TimeUnit.SECONDS), "child JVM did not finish: " + output);
        assertEquals(0, process.exitValue(), output);
        return output;
    }
}
