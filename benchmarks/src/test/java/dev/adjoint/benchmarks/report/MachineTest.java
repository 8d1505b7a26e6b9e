package dev.adjoint.benchmarks.report;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

class MachineTest {
    @Test
    void namesL1dAndL2FromGetconfAndLeavesOutAGuestsL3() {
        String output = """
                LEVEL1_ICACHE_SIZE                 32768
                LEVEL1_DCACHE_SIZE                 49152
                LEVEL1_DCACHE_ASSOC                12
                LEVEL2_CACHE_SIZE                  1048576
                LEVEL3_CACHE_SIZE                  532676608
                LEVEL4_CACHE_SIZE
                """;
        assertEquals("L1d 48K, L2 1024K (per core, from getconf)", Machine.cachesFromGetconf(output));
    }

    @Test
    void isUnknownWhereGetconfNamesNoCache() {
        assertEquals("unknown", Machine.cachesFromGetconf(""));
        assertEquals("unknown", Machine.cachesFromGetconf("LEVEL1_DCACHE_SIZE\nLEVEL2_CACHE_SIZE 0\n"));
    }
}
