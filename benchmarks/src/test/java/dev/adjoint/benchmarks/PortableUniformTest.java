package dev.adjoint.benchmarks;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** PortableUniform gives, bit for bit, what benchmarks/peers/transformer_block.py's portable_uniform gives. */
class PortableUniformTest {
    @Test
    void matchesTheNumPyVersion() {
        // Printed by portable_uniform(0, 5, -1, 1) and portable_uniform(7, 100000, 0.9, 1.1)[99999] in NumPy.
        float[] first = PortableUniform.values(0, 5, -1, 1);
        float[] expected = {0x1.8882a0p-1f, -0x1.187620p-3f, -0x1.e4ee8cp-1f, 0x1.e22ee0p-1f, -0x1.9319dcp-1f};
        for (int i = 0; i < expected.length; i++) {
            assertEquals(Float.floatToIntBits(expected[i]), Float.floatToIntBits(first[i]), "value " + i);
        }
        assertEquals(Float.floatToIntBits(0x1.0463e6p+0f),
                Float.floatToIntBits(PortableUniform.values(7, 100_000, 0.9, 1.1)[99_999]));
    }
}
