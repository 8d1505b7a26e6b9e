package dev.adjoint.nn.io;

import dev.adjoint.Tensor;
import dev.adjoint.backend.Backends;
import dev.adjoint.nn.Module;
import dev.adjoint.nn.StateDictException;
import dev.adjoint.nn.StateDicts;
import dev.adjoint.nn.optim.Optimizer;
import dev.adjoint.spi.Backend;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A model's state dict and its optimizer's state in one safetensors file (see {@link SafeTensors}),
 * so training can stop and resume. Model tensors are stored under {@value #MODEL_PREFIX}{@code name},
 * optimizer tensors under {@value #OPTIMIZER_PREFIX}{@code name}; the {@code __metadata__} records the
 * format, its version and both prefixes, so the file is self-describing and readable by any
 * safetensors tool.
 *
 * <p>Saving is atomic. Loading checks the whole file before creating a tensor, and restoring checks
 * the file against the model before anything is changed: a bad file leaves model and optimizer as they were.
 */
public final class Checkpoint {
    public static final String FORMAT = "adjoint-checkpoint";
    public static final int FORMAT_VERSION = 1;
    public static final String MODEL_PREFIX = "model.";
    public static final String OPTIMIZER_PREFIX = "optimizer.";

    static final String META_FORMAT = "format";
    static final String META_VERSION = "format_version";
    static final String META_MODEL_PREFIX = "model_prefix";
    static final String META_OPTIMIZER_PREFIX = "optimizer_prefix";
    static final String META_MODEL_TENSORS = "model_tensors";
    static final String META_OPTIMIZER_TENSORS = "optimizer_tensors";

    /** The two halves of a checkpoint, keys without their prefixes. */
    public record Contents(Map<String, Tensor> model, Map<String, Tensor> optimizer) {
        public Contents {
            model = Collections.unmodifiableMap(new LinkedHashMap<>(model));
            optimizer = Collections.unmodifiableMap(new LinkedHashMap<>(optimizer));
        }
    }

    private Checkpoint() {
    }

    /**
     * Writes {@code model} (a state dict) and {@code optimizerState} (may be empty or null) to
     * {@code file}, replacing it atomically.
     */
    public static void save(Path file, Map<String, Tensor> model, Map<String, Tensor> optimizerState) throws IOException {
        Map<String, Tensor> optimizer = optimizerState == null ? Map.of() : optimizerState;
        Map<String, Tensor> all = new LinkedHashMap<>();
        model.forEach((k, v) -> all.put(MODEL_PREFIX + k, v));
        optimizer.forEach((k, v) -> all.put(OPTIMIZER_PREFIX + k, v));
        Map<String, String> metadata = new LinkedHashMap<>();
        metadata.put(META_FORMAT, FORMAT);
        metadata.put(META_VERSION, Integer.toString(FORMAT_VERSION));
        metadata.put(META_MODEL_PREFIX, MODEL_PREFIX);
        metadata.put(META_OPTIMIZER_PREFIX, OPTIMIZER_PREFIX);
        metadata.put(META_MODEL_TENSORS, Integer.toString(model.size()));
        metadata.put(META_OPTIMIZER_TENSORS, Integer.toString(optimizer.size()));
        SafeTensors.write(file, all, metadata);
    }

    /** Reads a checkpoint onto the default backend. */
    public static Contents load(Path file) throws IOException {
        return load(file, Backends.defaultBackend());
    }

    /** Reads a checkpoint, creating its tensors on {@code backend}. */
    public static Contents load(Path file, Backend backend) throws IOException {
        SafeTensors.Contents raw = SafeTensors.read(file, backend);
        Map<String, String> meta = raw.metadata();
        String format = meta.get(META_FORMAT);
        if (!FORMAT.equals(format)) {
            throw new CheckpointException(file, "not an Adjoint checkpoint: __metadata__ format is "
                    + (format == null ? "missing" : "'" + format + "'") + ", expected '" + FORMAT + "'");
        }
        String version = meta.get(META_VERSION);
        if (!Integer.toString(FORMAT_VERSION).equals(version)) {
            throw new CheckpointException(file, "format_version " + version + " is not supported (this reader reads "
                    + FORMAT_VERSION + ")");
        }
        String modelPrefix = meta.getOrDefault(META_MODEL_PREFIX, MODEL_PREFIX);
        String optimizerPrefix = meta.getOrDefault(META_OPTIMIZER_PREFIX, OPTIMIZER_PREFIX);
        Map<String, Tensor> model = new LinkedHashMap<>();
        Map<String, Tensor> optimizer = new LinkedHashMap<>();
        for (Map.Entry<String, Tensor> e : raw.tensors().entrySet()) {
            String key = e.getKey();
            if (key.startsWith(modelPrefix)) {
                model.put(key.substring(modelPrefix.length()), e.getValue());
            } else if (key.startsWith(optimizerPrefix)) {
                optimizer.put(key.substring(optimizerPrefix.length()), e.getValue());
            } else {
                throw new CheckpointException(file, "tensor '" + key + "' belongs to neither the model ('"
                        + modelPrefix + "') nor the optimizer ('" + optimizerPrefix + "')");
            }
        }
        checkCount(file, meta, META_MODEL_TENSORS, model.size());
        checkCount(file, meta, META_OPTIMIZER_TENSORS, optimizer.size());
        return new Contents(model, optimizer);
    }

    private static void checkCount(Path file, Map<String, String> meta, String key, int found) throws CheckpointException {
        String declared = meta.get(key);
        if (declared != null && !declared.equals(Integer.toString(found))) {
            throw new CheckpointException(file, "__metadata__ " + key + " says " + declared + " tensors, the file holds "
                    + found);
        }
    }

    /** Writes {@code model}'s state dict and {@code optimizer}'s state (null for none) to {@code file}. */
    public static void save(Path file, Module model, Optimizer optimizer) throws IOException {
        save(file, model.stateDict(), optimizer == null ? Map.of() : optimizer.stateDict());
    }

    /** Restores only the model from {@code file}; optimizer tensors in the file are ignored. */
    public static void restore(Path file, Module model) throws IOException {
        restore(file, model, null);
    }

    /**
     * Restores {@code model} and {@code optimizer} (null to ignore the file's optimizer state) from
     * {@code file}. All or nothing: the whole file is read and checked, then the model's keys, shapes
     * and dtypes, then the optimizer loads (its own check runs before it changes anything), and only
     * then the model; a {@link CheckpointException} at any point leaves both as they were.
     */
    public static void restore(Path file, Module model, Optimizer optimizer) throws IOException {
        Map<String, Tensor> own = model.stateDict();
        Backend backend = own.isEmpty() ? Backends.defaultBackend() : own.values().iterator().next().backend();
        Contents contents = load(file, backend);
        try {
            StateDicts.checkCompatible("model", own, contents.model());
        } catch (StateDictException e) {
            throw new CheckpointException(file, "does not fit the model: " + e.getMessage(), e);
        }
        if (optimizer != null) {
            try {
                optimizer.loadStateDict(contents.optimizer());
            } catch (StateDictException e) {
                throw new CheckpointException(file, "does not fit the optimizer (model and optimizer unchanged): "
                        + e.getMessage(), e);
            }
        }
        model.loadStateDict(contents.model());
    }
}
