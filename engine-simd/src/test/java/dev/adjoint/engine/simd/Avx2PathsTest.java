package dev.adjoint.engine.simd;

import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.Disabled;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The kernels' paths for AVX2 (vectors of 8 floats, 16 vector registers) on an AVX-512 machine,
 * whose default run takes the AVX-512 ones: the GEMM's 6-row register block, Winograd's 4 x 2
 * blocks and channel pairs, max pooling's permuted even lanes and unmasked gathers, batch norm's
 * double lanes widened from half a float vector, the fused kernels' narrower vectors. A child JVM
 * limited by {@code -XX:UseAVX=2} runs the tests of {@link #CLASSES}, each against its plain-loop
 * or scalar reference. Where the JVM's vectors are not 512 bits wide (an AVX2 machine, AArch64)
 * the default run covers these paths already, and this test is skipped. The whole engine-simd
 * suite with AVX2: README, "Run the tests".
 */
class Avx2PathsTest {
    static final List<Class<?>> CLASSES = List.of(WinogradConvolutionTest.class, SimdConvolutionTest.class,
            SimdWindowsTest.class, SimdBatchNormTest.class, SimdFusedKernelsTest.class);

    @Test
    void kernelTestsPassWithAvx2() throws IOException, InterruptedException {
        String arch = System.getProperty("os.arch");
        assumeTrue((arch.equals("amd64") || arch.equals("x86_64")) && FloatVector.SPECIES_PREFERRED.vectorBitSize() == 512,
                "runs on x86 with AVX-512 only; elsewhere the default run takes these paths");
        String output = ChildJvm.run(Child.class, List.of("-XX:UseAVX=2"));
        assertTrue(output.contains("vectors of 256 bits"), "the child did not run with AVX2: " + output);
        assertTrue(output.contains(Child.DONE), output);
    }

    /** Runs every {@code @Test} method of {@link #CLASSES} (none takes parameters), reporting each failure. */
    static final class Child {
        static final String DONE = "every test passed";

        public static void main(String[] args) throws ReflectiveOperationException {
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
                    try {
                        test.invoke(constructor.newInstance());
                        passed++;
                    } catch (InvocationTargetException e) {
                        failed++;
                        System.out.println("FAILED " + type.getSimpleName() + "." + test.getName());
                        e.getCause().printStackTrace(System.out);
                    }
                }
            }
            System.out.println(passed + " tests passed, " + failed + " failed");
            if (failed == 0 && passed > 0) {
                System.out.println(DONE);
            }
        }
    }
}
