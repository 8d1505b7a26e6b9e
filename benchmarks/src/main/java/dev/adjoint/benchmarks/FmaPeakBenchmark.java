package dev.adjoint.benchmarks;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;

/**
 * The story: the FMA peak of one core of this machine, measured, so that {@link GemmBenchmark} can
 * be quoted as a percentage of it from the same run. Sixteen independent accumulator chains of
 * {@code SPECIES_PREFERRED} vectors keep both FMA pipes busy through the FMA latency, and nothing
 * touches memory inside the loop. Read the {@code gflops} line (GFLOP/s of one thread).
 *
 * <p>Pitfalls avoided: the accumulators are reduced and returned, so the loop is not dead code; the
 * multiplier and addend come from state fields, so nothing folds; the species is a
 * {@code static final} constant (held in a field it is several times slower); the loop lives in its
 * own small method, compiled whole by C2.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = "--add-modules=jdk.incubator.vector")
public class FmaPeakBenchmark {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Double> D = DoubleVector.SPECIES_PREFERRED;
    private static final int STEPS = 4096;
    private static final int CHAINS = 16;

    /** Close to 1, so 4096 steps of x = x * m + c neither overflow nor flush to zero. */
    public float multiplier = 0.999999f;
    public float addend = 1e-7f;

    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    public static class Flops {
        public double gflops;

        @Setup(Level.Iteration)
        public void reset() {
            gflops = 0;
        }
    }

    @Benchmark
    public float float32(Flops flops) {
        flops.gflops += 2.0 * STEPS * CHAINS * F.length() / 1e9;
        return chainsF32(multiplier, addend);
    }

    @Benchmark
    public double float64(Flops flops) {
        flops.gflops += 2.0 * STEPS * CHAINS * D.length() / 1e9;
        return chainsF64(multiplier, addend);
    }

    private static float chainsF32(float multiplier, float addend) {
        FloatVector m = FloatVector.broadcast(F, multiplier);
        FloatVector c = FloatVector.broadcast(F, addend);
        FloatVector x0 = c, x1 = c.add(1), x2 = c.add(2), x3 = c.add(3);
        FloatVector x4 = c.add(4), x5 = c.add(5), x6 = c.add(6), x7 = c.add(7);
        FloatVector x8 = c.add(8), x9 = c.add(9), x10 = c.add(10), x11 = c.add(11);
        FloatVector x12 = c.add(12), x13 = c.add(13), x14 = c.add(14), x15 = c.add(15);
        for (int i = 0; i < STEPS; i++) {
            x0 = x0.fma(m, c);
            x1 = x1.fma(m, c);
            x2 = x2.fma(m, c);
            x3 = x3.fma(m, c);
            x4 = x4.fma(m, c);
            x5 = x5.fma(m, c);
            x6 = x6.fma(m, c);
            x7 = x7.fma(m, c);
            x8 = x8.fma(m, c);
            x9 = x9.fma(m, c);
            x10 = x10.fma(m, c);
            x11 = x11.fma(m, c);
            x12 = x12.fma(m, c);
            x13 = x13.fma(m, c);
            x14 = x14.fma(m, c);
            x15 = x15.fma(m, c);
        }
        FloatVector sum = x0.add(x1).add(x2).add(x3).add(x4).add(x5).add(x6).add(x7)
                .add(x8).add(x9).add(x10).add(x11).add(x12).add(x13).add(x14).add(x15);
        return sum.reduceLanes(jdk.incubator.vector.VectorOperators.ADD);
    }

    private static double chainsF64(double multiplier, double addend) {
        DoubleVector m = DoubleVector.broadcast(D, multiplier);
        DoubleVector c = DoubleVector.broadcast(D, addend);
        DoubleVector x0 = c, x1 = c.add(1), x2 = c.add(2), x3 = c.add(3);
        DoubleVector x4 = c.add(4), x5 = c.add(5), x6 = c.add(6), x7 = c.add(7);
        DoubleVector x8 = c.add(8), x9 = c.add(9), x10 = c.add(10), x11 = c.add(11);
        DoubleVector x12 = c.add(12), x13 = c.add(13), x14 = c.add(14), x15 = c.add(15);
        for (int i = 0; i < STEPS; i++) {
            x0 = x0.fma(m, c);
            x1 = x1.fma(m, c);
            x2 = x2.fma(m, c);
            x3 = x3.fma(m, c);
            x4 = x4.fma(m, c);
            x5 = x5.fma(m, c);
            x6 = x6.fma(m, c);
            x7 = x7.fma(m, c);
            x8 = x8.fma(m, c);
            x9 = x9.fma(m, c);
            x10 = x10.fma(m, c);
            x11 = x11.fma(m, c);
            x12 = x12.fma(m, c);
            x13 = x13.fma(m, c);
            x14 = x14.fma(m, c);
            x15 = x15.fma(m, c);
        }
        DoubleVector sum = x0.add(x1).add(x2).add(x3).add(x4).add(x5).add(x6).add(x7)
                .add(x8).add(x9).add(x10).add(x11).add(x12).add(x13).add(x14).add(x15);
        return sum.reduceLanes(jdk.incubator.vector.VectorOperators.ADD);
    }
}
