package dev.adjoint.spark;

import dev.adjoint.nn.Module;
import dev.adjoint.nn.io.Checkpoint;
import dev.adjoint.nn.optim.Optimizer;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * A directory of checkpoints, {@code step-000000001200.safetensors} after 1,200 steps, each the
 * model's state dict and the optimizer's state ({@link Checkpoint#save(Path, Module, Optimizer)}, so
 * {@code Checkpoint.restore} reads any of them). Files are written atomically, so a replica that dies
 * mid-write leaves the previous checkpoints intact; the newest {@code keep} are kept.
 */
final class CheckpointDirectory {
    private static final Pattern NAME = Pattern.compile("step-(\\d{12})\\.safetensors");

    private final Path dir;
    private final int keep;

    CheckpointDirectory(Path dir, int keep) {
        this.dir = dir;
        this.keep = keep;
    }

    Path fileFor(long step) {
        return dir.resolve(String.format(Locale.ROOT, "step-%012d.safetensors", step));
    }

    /** The steps that have a checkpoint, oldest first. */
    List<Long> steps() throws IOException {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> files = Files.list(dir)) {
            return files.map(p -> NAME.matcher(p.getFileName().toString()))
                    .filter(Matcher::matches)
                    .map(m -> Long.parseLong(m.group(1)))
                    .sorted()
                    .toList();
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
    }

    /** The newest checkpoint's step, or 0 when there is none. */
    long latestStep() throws IOException {
        List<Long> steps = steps();
        return steps.isEmpty() ? 0 : steps.get(steps.size() - 1);
    }

    void save(long step, Module model, Optimizer optimizer) throws IOException {
        Files.createDirectories(dir);
        Checkpoint.save(fileFor(step), model, optimizer);
        List<Long> steps = steps();
        for (int i = 0; i < steps.size() - keep; i++) {
            Files.deleteIfExists(fileFor(steps.get(i)));
        }
    }

    void restore(long step, Module model, Optimizer optimizer) throws IOException {
        Checkpoint.restore(fileFor(step), model, optimizer);
    }
}
