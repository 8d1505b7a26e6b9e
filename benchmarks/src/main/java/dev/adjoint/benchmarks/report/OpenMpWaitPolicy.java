package dev.adjoint.benchmarks.report;

import java.util.Locale;
import java.util.Map;

/**
 * How idle OpenMP threads wait, for the native peers that use OpenMP (PyTorch's ATen and oneDNN,
 * libnd4j, DJL's libtorch). By default they spin for a while before sleeping; where a library also
 * runs a second pool (Debian's PyTorch calls the pthread OpenBLAS, which keeps its own threads), two
 * threads per core then compete, and on two cores a two-thread training step measured several times
 * slower than with {@code OMP_WAIT_POLICY=PASSIVE}. Other steps gain from the spinning. The report
 * runs every multi-threaded cell of such a peer both ways and keeps the faster: a peer at its best.
 */
enum OpenMpWaitPolicy {
    /** The environment's setting (the libraries' default when unset). */
    ENVIRONMENT("as set in the environment"),
    /** Idle threads sleep at once. */
    PASSIVE("OMP_WAIT_POLICY=PASSIVE");

    static final String VARIABLE = "OMP_WAIT_POLICY";

    private final String description;

    OpenMpWaitPolicy(String description) {
        this.description = description;
    }

    String description() {
        return description;
    }

    void applyTo(Map<String, String> environment) {
        if (this == PASSIVE) {
            environment.put(VARIABLE, "PASSIVE");
        }
    }

    /**
     * Of one cell measured with the environment's setting and with passive waiting, the faster (or
     * the one that has a figure), its message naming both figures and which was kept.
     */
    static CellResult faster(CellResult environment, CellResult passive, Metric metric) {
        if (!environment.ok() || !passive.ok()) {
            return environment.ok() ? environment : passive;
        }
        boolean passiveFaster = metric.speedup(passive.median(), environment.median()) > 1;
        CellResult kept = passiveFaster ? passive : environment;
        String message = String.format(Locale.ROOT, "kept %s; %s: %s %s, %s: %s %s",
                passiveFaster ? "passive" : "the environment's", PASSIVE.description, Metric.format(passive.median()),
                metric.unit(), ENVIRONMENT.description, Metric.format(environment.median()), metric.unit());
        return new CellResult(kept.workload(), kept.implementation(), kept.threads(), kept.status(), kept.samples(),
                kept.calls(), kept.warmupSeconds(), kept.warmupCalls(), kept.jitSettled(), kept.samplesSetAside(),
                environment.seconds() + passive.seconds(), environment.loadBefore(), kept.loadAfter(), message);
    }
}
