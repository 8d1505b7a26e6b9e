package dev.adjoint.benchmarks;

import dev.adjoint.conformance.CoverageTable;
import dev.adjoint.engine.nd4j.Nd4jBackend;
import dev.adjoint.engine.scalar.ScalarBackend;
import dev.adjoint.engine.simd.SimdBackend;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * docs/coverage.md is what the catalogue says today. Run with {@code -Dadjoint.coverage.write=true} to
 * rewrite it (the command is in the file). The backends are made directly: tracing needs their kernel
 * calls and their word on what runs natively, not the Vector API (simd takes its strided loops in this
 * JVM, calling the same kernels).
 */
class CoverageTableTest {
    // Surefire runs in the module directory.
    private static final Path FILE = Path.of("..", "docs", "coverage.md");

    @Test
    void theCommittedTableIsCurrent() throws IOException {
        String table = CoverageTable.render(List.of(new ScalarBackend(), new SimdBackend(), new Nd4jBackend()));
        if (Boolean.getBoolean("adjoint.coverage.write")) {
            Files.writeString(FILE, table);
            return;
        }
        String committed = Files.exists(FILE) ? Files.readString(FILE) : "(missing)";
        assertEquals(committed, table, "docs/coverage.md is out of date; rewrite it with\n  " + CoverageTable.REGENERATE);
    }
}
