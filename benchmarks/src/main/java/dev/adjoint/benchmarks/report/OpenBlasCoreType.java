package dev.adjoint.benchmarks.report;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The {@code OPENBLAS_CORETYPE} the report's OpenBLAS users run at: the PyTorch peer (Debian's torch
 * 1.13) and nd4j's bundled OpenBLAS. OpenBLAS picks its kernels when it loads, from that variable or
 * else from CPUID; an environment may set an older core type than the CPU runs (Haswell's AVX2
 * kernels on an AVX-512 machine, half the speed), and a peer is measured at its best. So by default
 * ({@code auto}) benchmarks/peers/openblas_coretype.py tries each core type the CPU can run on
 * one-thread sgemms of the report's GEMM shapes and the transformer block's MLP products, and the one
 * with the best geometric mean rate is exported to every cell; {@code env} keeps the environment's
 * choice, and a name forces that core type.
 *
 * @param value  what to export as OPENBLAS_CORETYPE; empty for OpenBLAS's own detection (unset)
 * @param reason how it was chosen, for the report's notes
 */
record OpenBlasCoreType(String value, String reason) {
    static final String VARIABLE = "OPENBLAS_CORETYPE";

    /** The core type for {@code --openblas-coretype option}: {@code auto}, {@code env} or a core type's name. */
    static OpenBlasCoreType choose(String option, Path python, Path peers) {
        String inherited = System.getenv(VARIABLE);
        String environment = inherited == null ? "unset in the environment" : "the environment had " + inherited;
        if (option.equals("env")) {
            return new OpenBlasCoreType(inherited == null ? "" : inherited, "as the environment sets it ("
                    + (inherited == null ? "unset: OpenBLAS's own detection" : inherited) + ")");
        }
        if (!option.equals("auto")) {
            return new OpenBlasCoreType(option, "set by --openblas-coretype; " + environment);
        }
        try {
            JsonNode probe = probe(python, peers.resolve("openblas_coretype.py"));
            String best = probe.path("best").asText("");
            List<String> rates = new ArrayList<>();
            for (JsonNode p : probe.path("probes")) {
                if (p.has("gflops")) {
                    String requested = p.path("requested").asText("");
                    rates.add(String.format(Locale.ROOT, "%s %.0f", requested.isEmpty()
                            ? "detected " + p.path("corename").asText() : requested, p.path("gflops").asDouble()));
                }
            }
            if (best.isEmpty()) {
                throw new IOException("no core type could be measured");
            }
            return new OpenBlasCoreType(best, best + ", the best geometric mean of one-thread sgemm rates over "
                    + probe.path("shapes").size() + " shapes (the GEMM rows' and the transformer block's MLP"
                    + " products): " + String.join(", ", rates) + " GFLOP/s (benchmarks/peers/openblas_coretype.py); "
                    + environment);
        } catch (IOException e) {
            return new OpenBlasCoreType(inherited == null ? "" : inherited, "as the environment sets it ("
                    + (inherited == null ? "unset" : inherited) + "): the core types could not be probed: "
                    + e.getMessage());
        }
    }

    /** Sets (or, for OpenBLAS's own detection, removes) the variable in a child process's environment. */
    void applyTo(Map<String, String> environment) {
        if (value.isEmpty()) {
            environment.remove(VARIABLE);
        } else {
            environment.put(VARIABLE, value);
        }
    }

    private static JsonNode probe(Path python, Path script) throws IOException {
        Process process = new ProcessBuilder(List.of(python.toString(), script.toString()))
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        try {
            if (!process.waitFor(2, TimeUnit.MINUTES) || process.exitValue() != 0 || out.isEmpty()) {
                process.destroyForcibly();
                throw new IOException(script.getFileName() + " through " + python + " gave no answer");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
            throw new IOException("interrupted", e);
        }
        return new ObjectMapper().readTree(out.lines().reduce((a, b) -> b).orElseThrow());
    }
}
