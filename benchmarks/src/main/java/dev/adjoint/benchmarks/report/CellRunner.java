package dev.adjoint.benchmarks.report;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.ArrayList;
import java.util.List;
import java.util.ServiceLoader;

/**
 * The JVM that times one cell of the report (a workload on one backend or in-JVM peer, at one
 * thread count), started fresh for every cell as JMH starts a fork: no cell inherits another's
 * JIT profile, heap or native threads. It prints one line, {@value #RESULT_PREFIX} and a JSON
 * object, which {@link Report} reads; everything else it prints is the libraries' own output.
 *
 * <pre>java [jvmArguments(threads)] -cp benchmarks.jar dev.adjoint.benchmarks.report.CellRunner WORKLOAD IMPLEMENTATION SECONDS WARMUP_LIMIT</pre>
 */
public final class CellRunner {
    public static final String RESULT_PREFIX = "REPORT-CELL ";

    private CellRunner() {
    }

    /**
     * The JVM options of a cell at {@code threads} threads: the ones the JMH forks use (the Vector
     * API for simd, native access for nd4j and DJL), every library's thread count, and on JDK 23+
     * leave for JavaCPP's use of {@code sun.misc.Unsafe}, which would otherwise print a warning.
     */
    public static List<String> jvmArguments(int threads) {
        List<String> args = new ArrayList<>(List.of(
                "--add-modules=jdk.incubator.vector",
                "--enable-native-access=ALL-UNNAMED",
                "-Djava.awt.headless=true",
                // simd's matmul threads; nd4j's OpenBLAS and libnd4j pool (Nd4jBlasThreads); libtorch in DJL.
                "-Dadjoint.simd.threads=" + threads,
                "-Dadjoint.bench.threads=" + threads,
                "-Dai.djl.pytorch.num_threads=" + threads,
                "-Dai.djl.pytorch.num_interop_threads=1",
                // DJL must not download anything: libtorch comes from the jar.
                "-Doffline=true",
                // A fresh JVM's first touch of each heap page is a page fault, which on some VMs
                // (Firecracker guests) costs microseconds per 4 KiB page: an allocating workload then
                // measures the hypervisor for its first seconds, not the code, where a long training run
                // has a warm heap. Touching the heap before the cell begins costs one to two seconds per
                // cell there. The heap is fixed (-Xms = -Xmx): a heap that may grow grows when an
                // allocating cell's collections are frequent, and pre-touches what it adds inside a
                // collection pause: pauses of seconds in the middle of the samples.
                "-Xms1g",
                "-Xmx1g",
                "-XX:+AlwaysPreTouch"));
        if (Runtime.version().feature() >= 23) {
            args.add("--sun-misc-unsafe-memory-access=allow");
        }
        return args;
    }

    public static void main(String[] args) {
        ObjectMapper json = new ObjectMapper();
        ObjectNode out = json.createObjectNode();
        if (args.length != 4) {
            System.err.println("usage: CellRunner WORKLOAD IMPLEMENTATION SECONDS WARMUP_LIMIT");
            System.exit(2);
        }
        try {
            Workload workload = Workloads.byId(args[0])
                    .orElseThrow(() -> new IllegalArgumentException("no workload '" + args[0] + "'"));
            long setupStart = System.nanoTime();
            Operation op = operation(workload, args[1]);
            out.put("setupSeconds", (System.nanoTime() - setupStart) / 1e9);
            Sampler.Measurement m = Sampler.measure(op, workload.metric(), Double.parseDouble(args[2]),
                    Double.parseDouble(args[3]));
            out.put("status", "ok");
            out.set("samples", json.valueToTree(m.samples()));
            out.put("calls", m.calls());
            out.put("warmupSeconds", m.warmupSeconds());
            out.put("warmupCalls", m.warmupCalls());
            out.put("jitSettled", m.jitSettled());
            out.put("samplesSetAside", m.samplesSetAside());
            out.put("measureSeconds", m.measureSeconds());
        } catch (Throwable e) {
            Throwable root = e;
            while (root.getCause() != null && root.getCause() != root) {
                root = root.getCause();
            }
            out.put("status", "failed");
            out.put("message", root.toString());
        }
        System.out.println(RESULT_PREFIX + out);
        System.out.flush();
        // Native libraries (OpenBLAS, libtorch) may hold non-daemon threads; the cell is done.
        System.exit(0);
    }

    private static Operation operation(Workload workload, String implementation) throws Exception {
        for (PeerLibrary peer : ServiceLoader.load(PeerLibrary.class)) {
            if (peer.id().equals(implementation)) {
                return peer.operation(workload.id());
            }
        }
        return workload.adjoint().create(implementation);
    }
}
