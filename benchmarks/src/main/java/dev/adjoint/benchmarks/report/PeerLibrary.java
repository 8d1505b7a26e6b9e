package dev.adjoint.benchmarks.report;

/**
 * A peer library that runs in the JVM beside Adjoint (DJL with its PyTorch engine, in module
 * benchmarks-djl), found through {@link java.util.ServiceLoader}: a report run with the library's
 * jar on the class path gets its column, one without does not. PyTorch itself runs in Python
 * ({@link TorchPeer}).
 */
public interface PeerLibrary {
    /** The key of its cells ({@code djl}), also what {@code benchmarks/run --djl} is named after. */
    String id();

    /** The column title, with versions (e.g. {@code DJL 0.35 / PyTorch 2.7.1}). */
    String title();

    /** Whether it implements the workload {@code workloadId}. */
    boolean supports(String workloadId);

    /**
     * The workload, set up in this JVM, whose thread count the report has already fixed through
     * the JVM's system properties ({@link CellRunner#jvmArguments}).
     */
    Operation operation(String workloadId) throws Exception;
}
