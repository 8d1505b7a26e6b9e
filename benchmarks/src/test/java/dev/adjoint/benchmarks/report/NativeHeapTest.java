package dev.adjoint.benchmarks.report;

import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class NativeHeapTest {
    @Test
    void setsBothThresholdsWhereTheEnvironmentLeavesThemUnset() {
        Map<String, String> environment = new HashMap<>();
        NativeHeap.applyTo(environment);
        assertEquals("33554432", environment.get("MALLOC_MMAP_THRESHOLD_"));
        assertEquals("1073741824", environment.get("MALLOC_TRIM_THRESHOLD_"));
    }

    @Test
    void keepsAValueTheEnvironmentSets() {
        Map<String, String> environment = new HashMap<>(Map.of("MALLOC_TRIM_THRESHOLD_", "0", "PATH", "/bin"));
        NativeHeap.applyTo(environment);
        assertEquals("0", environment.get("MALLOC_TRIM_THRESHOLD_"));
        assertEquals("33554432", environment.get("MALLOC_MMAP_THRESHOLD_"));
        assertEquals("/bin", environment.get("PATH"));
    }

    @Test
    void describesTheSettingsInEffect() {
        String description = NativeHeap.description();
        assertTrue(description.contains("MALLOC_MMAP_THRESHOLD_=") && description.contains("MALLOC_TRIM_THRESHOLD_="),
                description);
    }
}
