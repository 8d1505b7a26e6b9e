package dev.adjoint.benchmarks.report;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * PyTorch as the report's peer: one {@code torch_workloads.py --serve} process for the whole run
 * (importing torch takes a second or two), asked for one cell at a time, between Adjoint's cells of
 * the same workload so that the two are measured close together on a shared machine.
 */
final class TorchPeer implements AutoCloseable {
    private final Process process;
    private final BufferedReader replies;
    private final Writer requests;
    private final String title;
    private final String details;
    private final ObjectMapper json = new ObjectMapper();

    private TorchPeer(Process process, String title, String details, BufferedReader replies) {
        this.process = process;
        this.replies = replies;
        this.requests = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
        this.title = title;
        this.details = details;
    }

    /** The title and versions of the peer, e.g. "PyTorch 1.13.0a0". */
    String title() {
        return title;
    }

    /** Its BLAS and Python versions. */
    String details() {
        return details;
    }

    /**
     * Starts the script with {@code python}; throws {@link IOException} with the reason (no such
     * interpreter, torch not importable, ...) when it does not come up. Its OpenBLAS runs at {@code coreType},
     * its OpenMP threads wait as {@code waitPolicy} says, its malloc keeps freed memory ({@link NativeHeap}).
     */
    static TorchPeer start(Path python, Path script, OpenBlasCoreType coreType, OpenMpWaitPolicy waitPolicy)
            throws IOException {
        if (!Files.isExecutable(python)) {
            throw new IOException(python + " does not exist");
        }
        if (!Files.isRegularFile(script)) {
            throw new IOException(script + " does not exist");
        }
        ProcessBuilder builder = new ProcessBuilder(List.of(python.toString(), script.toString(), "--serve"))
                .redirectError(ProcessBuilder.Redirect.DISCARD);
        coreType.applyTo(builder.environment());
        waitPolicy.applyTo(builder.environment());
        NativeHeap.applyTo(builder.environment());
        Process process = builder.start();
        BufferedReader replies = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
        String first = replies.readLine();
        if (first == null) {
            int exit = waitFor(process);
            throw new IOException(python + " could not run " + script.getFileName() + " (exit " + exit
                    + "; is torch installed for it? tools/install-peers.sh installs Debian's python3-torch)");
        }
        JsonNode info = new ObjectMapper().readTree(first).get("info");
        return new TorchPeer(process, info.get("title").asText(),
                info.get("blas").asText() + "; Python " + info.get("python").asText(), replies);
    }

    /** One cell: the reply's JSON ({@code status} ok / unsupported / failed, {@code samples}, ...). */
    JsonNode measure(String workloadId, int threads, double seconds, double warmupLimit) throws IOException {
        requests.write(json.createObjectNode().put("workload", workloadId).put("threads", threads)
                .put("seconds", seconds).put("warmupLimit", warmupLimit).toString());
        requests.write('\n');
        requests.flush();
        String reply = replies.readLine();
        if (reply == null) {
            throw new IOException("the PyTorch peer stopped (exit " + waitFor(process) + ")");
        }
        return json.readTree(reply);
    }

    @Override
    public void close() {
        try {
            requests.close();
        } catch (IOException ignored) {
            // it is going away anyway
        }
        process.destroy();
    }

    private static int waitFor(Process process) {
        try {
            return process.waitFor();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }
}
