package dev.adjoint.engine.simd;

import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.Disabled;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Parameter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The kernels' paths for AVX2 (vectors of 8 floats, 16 vector registers) on an AVX-512 machine,
 * whose default run takes the AVX-512 ones: the GEMM's 6-row register block and its blocks from the
 * caches, the fused attention's row blocks, Winograd's 4 x 2 blocks and channel pairs, max pooling's
 * permuted even lanes and unmasked gathers, batch norm's double lanes widened from half a float
 * vector, the fused kernels' narrower vectors. A child JVM limited to AVX2 runs the tests of
 * {@link #CLASSES}, each against its plain-loop or scalar reference. The limit is given as
 * {@code JDK_JAVA_OPTIONS=-XX:UseAVX=2}, so that the JVMs those tests start in turn (the GEMM in the
 * interpreter, attention on three thread counts) inherit it. Where the JVM's vectors are not 512
 * bits wide (an AVX2 machine, AArch64) the default run covers these paths already, and this test is
 * skipped. The whole engine-simd suite with AVX2: README, "Run the tests".
 */
class Avx2PathsTest {
    static final List<Class<?>> CLASSES = List.of(GemmTest.class, SimdAttentionTest.class,
            WinogradConvolutionTest.class, SimdConvolutionTest.class, SimdWindowsTest.class, SimdBatchNormTest.class,
            SimdFusedKernelsTest.class);

    @Test
    void kernelTestsPassWithAvx2() throws IOException, InterruptedException {
        String arch = System.getProperty("os.arch");
        assumeTrue((arch.equals("amd64") || arch.equals("x86_64")) && FloatVector.SPECIES_PREFERRED.vectorBitSize() == 512,
                "runs on x86 with AVX-512 only; elsewhere the default run takes these paths");
        String inherited = System.getenv().getOrDefault("JDK_JAVA_OPTIONS", "");
        String output = ChildJvm.run(Map.of("JDK_JAVA_OPTIONS", (inherited + " -XX:UseAVX=2").strip()), Child.class,
                List.of());
        assertTrue(output.contains("vectors of 256 bits"), "the child did not run with AVX2: " + output);
        assertTrue(output.contains(Child.DONE), output);
    }

    /**
     * Runs every {@code @Test} method of {@link #CLASSES}, reporting each failure. The only parameter
     * a test here takes is JUnit's {@code @TempDir Path}: an empty directory, deleted afterwards.
     */
    static final class Child {
        static final String DONE = "every test passed";

        public static void main(String[] args) throws ReflectiveOperationException, IOException {
            System.out.println("vectors of " + FloatVector.SPECIES_PREFERRED.vectorBitSize() + " bits");
            int passed = 0;
            int failed = 0;
            for (Class<?> type : CLASSES) {
                Method[] methods = type.getDeclaredMethods();
                Arrays.sort(methods, Comparator.comparing(Method::getName));
                for (Method test : methods) {
                    if (!test.isAnnotationPresent(Test.class) || test.isAnnotationPresent(Disabled.class)) {
                        continue;
                    }
                    Constructor<?> constructor = type.getDeclaredConstructor();
                    constructor.setAccessible(true);
                    test.setAccessible(true);
                    Path[] directories = new Path[test.getParameterCount()];
                    try {
                        for (int i = 0; i < directories.length; i++) {
                            Parameter parameter = test.getParameters()[i];
                            if (parameter.getType() != Path.class) {
                                throw new IllegalStateException(type.getSimpleName() + "." + test.getName()
                                        + " takes a " + parameter.getType().getSimpleName() + ", which this runner cannot give");
                            }
                            directories[i] = Files.createTempDirectory("avx2-paths");
                        }
                        test.invoke(constructor.newInstance(), (Object[]) directories);
                        passed++;
                    } catch (InvocationTargetException e) {
                        failed++;
                        System.out.println("FAILED " + type.getSimpleName() + "." + test.getName());
                        e.getCause().printStackTrace(System.out);
                    } finally {
                        for (Path directory : directories) {
                            delete(directory);
                        }
                    }
                }
            }
            System.out.println(passed + " tests passed, " + failed + " failed");
            if (failed == 0 && passed > 0) {
                System.out.println(DONE);
            }
        }

        private static void delete(Path directory) {
            if (directory == null) {
                return;
            }
            try (Stream<Path> paths = Files.walk(directory)) {
                for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
                    Files.delete(path);
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }
}
