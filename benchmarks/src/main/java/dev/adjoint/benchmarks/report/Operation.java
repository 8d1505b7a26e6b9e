package dev.adjoint.benchmarks.report;

import java.util.function.DoubleSupplier;
import java.util.function.Supplier;

/**
 * One call of a workload, set up and ready to be timed: the step of a benchmark's state object, a
 * peer library's step, ... {@link #call()} returns its result so the sampler can keep it from being
 * optimised away. For a rate metric the operation also reports the work it has done so far (GFLOP,
 * GB), as the JMH benchmarks count it in their {@code @AuxCounters}.
 */
public interface Operation {
    Object call();

    /** Work done by all calls so far, in the metric's unit times seconds; 0 for a time metric. */
    default double workDone() {
        return 0;
    }

    /** An operation timed per call. */
    static Operation timed(Supplier<Object> call) {
        return call::get;
    }

    /** An operation whose figure is a rate: {@code workDone} reads the benchmark's own counter. */
    static Operation counting(Supplier<Object> call, DoubleSupplier workDone) {
        return new Operation() {
            @Override
            public Object call() {
                return call.get();
            }

            @Override
            public double workDone() {
                return workDone.getAsDouble();
            }
        };
    }
}
