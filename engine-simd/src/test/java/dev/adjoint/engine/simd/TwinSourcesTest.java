package dev.adjoint.engine.simd;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * FloatVector and DoubleVector share no type, so the FLOAT64 GEMM and matmul classes are the FLOAT32
 * ones with the element type replaced. This keeps them from drifting apart: a fix made to one and
 * not the other fails here, naming the first line that differs. Comments may differ.
 */
class TwinSourcesTest {
    private static final Path SOURCES = Path.of("src/main/java/dev/adjoint/engine/simd");

    @ParameterizedTest
    @ValueSource(strings = {"Gemm", "Matmul", "Windows"})
    void doubleClassIsTheFloatClassWithTheElementTypeReplaced(String name) throws IOException {
        List<String> expected = code(Files.readAllLines(SOURCES.resolve("Float" + name + ".java")).stream()
                .map(line -> line.replace("float", "double").replace("Float", "Double").replaceAll("\\b0f\\b", "0.0"))
                .toList());
        List<String> actual = code(Files.readAllLines(SOURCES.resolve("Double" + name + ".java")));
        for (int i = 0; i < Math.min(expected.size(), actual.size()); i++) {
            assertEquals(expected.get(i), actual.get(i), "Double" + name + " differs from Float" + name
                    + " (element type replaced) at code line " + (i + 1));
        }
        assertEquals(expected.size(), actual.size(), "Double" + name + " and Float" + name + " code line counts");
    }

    /** The lines that are not comments. */
    private static List<String> code(List<String> lines) {
        return lines.stream().filter(l -> !l.strip().startsWith("*") && !l.strip().startsWith("/*")
                && !l.strip().startsWith("//")).toList();
    }
}
