package dev.adjoint.conformance;

import dev.adjoint.spi.Backend;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AddLifecycleHook;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.AroundPropertyHook;
import net.jqwik.api.lifecycle.PropertyExecutionResult;
import net.jqwik.api.lifecycle.PropertyExecutor;
import net.jqwik.api.lifecycle.PropertyLifecycleContext;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * Property-based random programs (jqwik): random graphs of Tensor ops over random shapes, broadcasts
 * and views (see {@link ProgramGenome}, {@link Program}, {@link ProgramOps}), each run on the backend
 * under test in FLOAT64 and FLOAT32, its output and every leaf's gradient held to the scalar
 * backend's FLOAT64 result. A failure shrinks to a minimal failing program, printed as code.
 *
 * <p>An engine module runs it with one small class, as it runs {@link ConformanceSuite}:
 * <pre>{@code
 * class MyRandomProgramsTest extends RandomPrograms {
 *     protected Backend backend() { return new MyBackend(); }
 * }
 * }</pre>
 * The number of programs is {@code -Dadjoint.fuzz.programs} (500 in a plain build, 20,000 with the
 * Maven profile {@code fuzz}), the seed {@code -Dadjoint.fuzz.seed} (fixed in a plain build so CI is
 * repeatable; {@code random} for a fresh one, which jqwik prints).
 */
public abstract class RandomPrograms {
    private static final Map<String, Coverage> COVERAGE = new ConcurrentHashMap<>();

    /** What the programs of one backend exercised, for the line printed after them. */
    private static final class Coverage {
        final AtomicInteger programs = new AtomicInteger();
        final LongAdder steps = new LongAdder();
        final Map<String, LongAdder> ops = new ConcurrentHashMap<>();
    }

    protected abstract Backend backend();

    @Property
    @AddLifecycleHook(Settings.class)
    void agreeWithTheReference(@ForAll("programs") ProgramGenome genome) {
        Program program = Program.build(genome);
        program.check(backend());
        Coverage c = COVERAGE.computeIfAbsent(backend().name(), k -> new Coverage());
        c.programs.incrementAndGet();
        c.steps.add(program.ops().size());
        for (String op : program.ops()) {
            c.ops.computeIfAbsent(op, k -> new LongAdder()).increment();
        }
    }

    @Provide
    Arbitrary<ProgramGenome> programs() {
        return ProgramGenome.arbitrary();
    }

    @AfterContainer
    static void printCoverage() {
        COVERAGE.forEach((backend, c) -> System.out.println("random programs on '" + backend + "': " + c.programs
                + " passed in FLOAT64 and FLOAT32 (" + c.steps.sum() + " steps, " + c.ops.size() + " of "
                + ProgramOps.ALL.size() + " ops used)"));
        COVERAGE.clear();
    }

    /** Tries and seed from the system properties the build sets (defaults for a run from an IDE). */
    public static final class Settings implements AroundPropertyHook {
        static final int DEFAULT_PROGRAMS = 500;
        static final String DEFAULT_SEED = "42";

        @Override
        public PropertyExecutionResult aroundProperty(PropertyLifecycleContext context, PropertyExecutor property) {
            context.attributes().setTries(Integer.getInteger("adjoint.fuzz.programs", DEFAULT_PROGRAMS));
            String seed = System.getProperty("adjoint.fuzz.seed", DEFAULT_SEED);
            if (!seed.isBlank() && !seed.equals("random")) {
                context.attributes().setSeed(seed);
            }
            return property.execute();
        }
    }
}
