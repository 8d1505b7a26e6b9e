package dev.adjoint.examples;

import dev.adjoint.backend.Backends;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A program that uses Adjoint, started as the README says (the flags of the run-examples profile),
 * prints its own output and nothing else but the one line the JDK prints for an incubator module:
 * no SLF4J, no sun.misc.Unsafe or native-access warnings; and a program that runs on simd does not
 * load ND4J even though nd4j is on the class path and it asks {@code Backends.describe()}.
 */
class QuietRunTest {
    /** The JVM options of the run-examples profile in this module's pom. */
    private static final List<String> FLAGS = List.of("--add-modules", "jdk.incubator.vector",
            "--enable-native-access=ALL-UNNAMED", "-XX:+IgnoreUnrecognizedVMOptions",
            "--sun-misc-unsafe-memory-access=allow");

    @Test
    void onSimdNothingButTheProgramSpeaksAndNd4jStaysUnloaded() throws Exception {
        assumeTrue(Files.exists(Path.of("/proc/self/maps")), "needs Linux's /proc to see the loaded libraries");
        String out = run(javaOfThisJvm(), FLAGS, List.of(), NativeLibraries.class.getName());
        assertTrue(out.contains("default: simd"), out);
        assertTrue(out.contains("nd4j (priority 50): not checked yet"), "describe() left nd4j alone: " + out);
        assertTrue(out.contains("ND4J native libraries loaded: false"), out);
        assertNothingButTheIncubatorLine(out);
    }

    @Test
    void choosingNd4jIsQuietToo() throws Exception {
        assumeTrue(Files.exists(Path.of("/proc/self/maps")), "needs Linux's /proc to see the loaded libraries");
        String out = run(javaOfThisJvm(), FLAGS, List.of("-Dadjoint.backend=nd4j"), NativeLibraries.class.getName());
        assertTrue(out.contains("default: nd4j"), out);
        assertTrue(out.contains("ND4J native libraries loaded: true"), out);
        assertNothingButTheIncubatorLine(out);
    }

    @Test
    void aJvmOlderThan21IsToldWhatToInstall() throws Exception {
        Path old = olderJdk();
        assumeTrue(old != null, "no JDK older than 21 under /usr/lib/jvm to try");
        // Only the entry point, compiled for Java 8, can load there; the classes of this module are enough.
        String out = run(old.resolve("bin/java").toString(), List.of(), List.of(), Examples.class.getName());
        assertTrue(out.contains("Adjoint needs Java 21 or newer, and this is Java"), out);
        assertTrue(out.contains("Install a JDK 21+"), out);
        assertFalse(out.contains("UnsupportedClassVersionError"), out);
    }

    private static void assertNothingButTheIncubatorLine(String out) {
        for (String line : out.lines().toList()) {
            assertFalse(line.contains("SLF4J"), out);
            assertFalse(line.startsWith("WARNING") && !line.equals("WARNING: Using incubator modules: jdk.incubator.vector"),
                    "a warning other than the JDK's incubator line: " + out);
        }
    }

    private static String run(String java, List<String> flags, List<String> properties, String mainClass)
            throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        command.add(java);
        command.addAll(flags);
        command.addAll(properties);
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), mainClass));
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        builder.environment().remove(Backends.ENV);
        builder.environment().remove("JDK_JAVA_OPTIONS");
        builder.environment().remove("JAVA_TOOL_OPTIONS");
        Process p = builder.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "the JVM did not finish: " + out);
        if (!mainClass.equals(Examples.class.getName())) {
            assertEquals(0, p.exitValue(), out);
        }
        return out;
    }

    private static String javaOfThisJvm() {
        return ProcessHandle.current().info().command().orElse("java");
    }

    /** A JDK under /usr/lib/jvm whose major version is below 21, or null. */
    private static Path olderJdk() throws IOException {
        Path jvms = Path.of("/usr/lib/jvm");
        if (!Files.isDirectory(jvms)) {
            return null;
        }
        try (Stream<Path> dirs = Files.list(jvms)) {
            for (Path dir : dirs.sorted().toList()) {
                Path release = dir.resolve("release");
                if (!Files.isRegularFile(release) || !Files.isExecutable(dir.resolve("bin/java"))) {
                    continue;
                }
                for (String line : Files.readAllLines(release)) {
                    if (line.startsWith("JAVA_VERSION=")) {
                        int major = Examples.featureVersion(line.substring("JAVA_VERSION=".length()).replace("\"", ""));
                        if (major > 0 && major < 21) {
                            return dir;
                        }
                    }
                }
            }
        }
        return null;
    }

    /** Runs in the child JVM: the backends example, then whether ND4J's native library is in this process. */
    public static final class NativeLibraries {
        public static void main(String[] args) throws IOException {
            ChooseBackend.main(new String[0]);
            boolean loaded = Files.readString(Path.of("/proc/self/maps")).contains("libnd4j");
            System.out.println("ND4J native libraries loaded: " + loaded);
        }
    }
}
