package dev.adjoint;

import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

class GeneratorTest {

    /** Seeds, datasets and checkpoints made before the generator was written out must give the same numbers. */
    @Test
    void sameStreamAsSplittableRandom() {
        for (long seed : new long[] {0, 1, 42, -7, 0x5DEECE66DL}) {
            Generator g = new Generator(seed);
            SplittableRandom r = new SplittableRandom(seed);
            for (int i = 0; i < 1000; i++) {
                assertEquals(r.nextDouble(), g.nextUniform());
                long bound = 1 + (i * 7919L) % 1000;
                assertEquals(r.nextLong(bound), g.nextLong(bound));
            }
            Generator gs = g.split();
            SplittableRandom rs = r.split();
            for (int i = 0; i < 100; i++) {
                assertEquals(rs.nextDouble(), gs.nextUniform());
            }
            // permutation draws bounded ints the way SplittableRandom.nextInt(bound) does.
            int[] expected = new int[50];
            for (int i = 0; i < 50; i++) {
                expected[i] = i;
            }
            for (int i = 49; i > 0; i--) {
                int j = r.nextInt(i + 1);
                int t = expected[i];
                expected[i] = expected[j];
                expected[j] = t;
            }
            assertArrayEquals(expected, g.permutation(50));
        }
    }

    @Test
    void stateRestoresTheStream() {
        Generator g = new Generator(3);
        g.nextGaussian(); // leaves a spare Gaussian behind, which is part of the state
        Generator.State s = g.state();
        double[] first = {g.nextGaussian(), g.nextUniform(), g.nextGaussian()};
        g.setState(s);
        assertArrayEquals(first, new double[] {g.nextGaussian(), g.nextUniform(), g.nextGaussian()});
    }
}
