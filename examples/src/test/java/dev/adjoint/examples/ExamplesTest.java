package dev.adjoint.examples;

import dev.adjoint.backend.Backends;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The examples do what they say, on the backends of this JVM. */
class ExamplesTest {
    @Test
    void theMlpLearnsTheClusters() {
        double accuracy = TrainMlp.train(Backends.get("scalar"), 300, false);
        // Three clusters of spread 0.6 around the unit circle overlap; chance is 33%.
        assertTrue(accuracy > 0.8, "accuracy " + accuracy);
    }

    @Test
    void gradCheckPassesTheRightGradientAndCatchesTheWrongOne() {
        String out = capture(() -> GradCheckExample.main(new String[0]));
        assertTrue(out.contains("gradcheck passed"), out);
        assertTrue(out.contains("gradgradcheck passed"), out);
        assertTrue(out.contains("and it catches a wrong one: gradcheck of 'x * detach(x)'"), out);
    }

    @Test
    void chooseBackendComputesTheSameOnTheDefaultAndOnScalar() {
        String out = capture(() -> ChooseBackend.main(new String[0]));
        assertTrue(out.contains("default: " + Backends.defaultBackend().name()), out);
        String line = out.lines().filter(l -> l.startsWith("sum(tanh(a @ a))")).findFirst().orElseThrow();
        String[] parts = line.split("= | on |, ");
        assertEquals(parts[1], parts[3], "the same rounded sum on both backends: " + line);
    }

    @Test
    void theEntryPointReadsEveryJavaVersionScheme() {
        assertEquals(8, Examples.featureVersion("1.8"));
        assertEquals(17, Examples.featureVersion("17"));
        assertEquals(21, Examples.featureVersion("21"));
        assertEquals(0, Examples.featureVersion(null));
    }

    private static String capture(Runnable r) {
        PrintStream saved = System.out;
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        System.setOut(new PrintStream(bytes, true, StandardCharsets.UTF_8));
        try {
            r.run();
        } finally {
            System.setOut(saved);
        }
        return bytes.toString(StandardCharsets.UTF_8);
    }
}
