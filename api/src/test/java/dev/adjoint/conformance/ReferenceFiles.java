package dev.adjoint.conformance;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;

/** The JSON files of reference values PyTorch computed, read from the test resources. */
final class ReferenceFiles {
    private ReferenceFiles() {
    }

    /**
     * The parsed file at {@code resource} (a class-path resource name); a missing file fails naming the
     * script under tools/pytorch-reference that writes it.
     */
    static JsonNode load(String resource, String generator) {
        try (InputStream in = ReferenceFiles.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("missing test resource " + resource + "; generate it with "
                        + "tools/pytorch-reference/" + generator);
            }
            return new ObjectMapper().readTree(in);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + resource, e);
        }
    }
}
