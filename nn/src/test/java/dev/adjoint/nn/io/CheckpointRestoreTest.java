package dev.adjoint.nn.io;

import dev.adjoint.DType;
import dev.adjoint.Generator;
import dev.adjoint.Tensor;
import dev.adjoint.backend.Backends;
import dev.adjoint.nn.Linear;
import dev.adjoint.nn.Module;
import dev.adjoint.nn.NnContext;
import dev.adjoint.nn.ReLU;
import dev.adjoint.nn.Sequential;
import dev.adjoint.nn.loss.CrossEntropyLoss;
import dev.adjoint.nn.optim.Adam;
import dev.adjoint.nn.optim.Optimizer;
import dev.adjoint.nn.optim.SGD;
import dev.adjoint.spi.Backend;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Saving and restoring real modules and optimizers: resuming is exact, and a bad file changes nothing. */
class CheckpointRestoreTest {
    private static final Backend SCALAR = Backends.get("scalar");

    @TempDir
    Path dir;

    private final Tensor x = Tensor.on(SCALAR).randn(new Generator(5), DType.FLOAT32, 8, 4);
    private final Tensor y = Tensor.on(SCALAR).fromArray(new long[] {0, 1, 2, 0, 1, 2, 0, 1}, 8);

    private static Module mlp(long seed, int hidden) {
        NnContext ctx = NnContext.of(SCALAR, new Generator(seed));
        return new Sequential(new Linear(4, hidden, ctx), new ReLU(), new Linear(hidden, 3, ctx));
    }

    private void step(Module model, Optimizer optimizer) {
        optimizer.zeroGrad();
        new CrossEntropyLoss().forward(model.forward(x), y).backward();
        optimizer.step();
    }

    /** Every value of a state dict, copied (state dict values share storage with the live tensors). */
    private static Map<String, float[]> snapshot(Map<String, Tensor> state) {
        Map<String, float[]> out = new LinkedHashMap<>();
        state.forEach((k, v) -> out.put(k, v.toFloatArray()));
        return out;
    }

    private static void assertSameValues(Map<String, float[]> expected, Map<String, float[]> actual) {
        assertEquals(expected.keySet(), actual.keySet());
        expected.forEach((k, v) -> assertArrayEquals(v, actual.get(k), k));
    }

    @Test
    void resumingGivesTheSameTrajectoryAsNotStopping() throws IOException {
        for (boolean adam : new boolean[] {false, true}) {
            Module model = mlp(1, 6);
            Optimizer opt = adam ? new Adam(model.parameters(), 0.01) : new SGD(model.parameters(), 0.1, 0.9);
            step(model, opt);
            step(model, opt);
            Path file = dir.resolve("resume-" + adam + ".safetensors");
            Checkpoint.save(file, model, opt);

            Module resumed = mlp(99, 6); // different initial weights, overwritten by restore
            Optimizer resumedOpt = adam ? new Adam(resumed.parameters(), 0.5) : new SGD(resumed.parameters(), 0.5, 0.9);
            Checkpoint.restore(file, resumed, resumedOpt);
            assertSameValues(snapshot(model.stateDict()), snapshot(resumed.stateDict()));
            assertEquals(opt.lr(), resumedOpt.lr(), "the learning rate comes from the checkpoint");

            step(model, opt);
            step(resumed, resumedOpt);
            assertSameValues(snapshot(model.stateDict()), snapshot(resumed.stateDict()));
            assertSameValues(snapshot(opt.stateDict()), snapshot(resumedOpt.stateDict()));
        }
    }

    @Test
    void aModelOfAnotherShapeIsRejectedAndNothingChanges() throws IOException {
        Module small = mlp(1, 6);
        Path file = dir.resolve("small.safetensors");
        Checkpoint.save(file, small, new SGD(small.parameters(), 0.1));

        Module big = mlp(2, 7);
        SGD opt = new SGD(big.parameters(), 0.3);
        Map<String, float[]> before = snapshot(big.stateDict());
        CheckpointException e = assertThrows(CheckpointException.class, () -> Checkpoint.restore(file, big, opt));
        assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
        assertTrue(e.getMessage().contains("does not fit the model"), e.getMessage());
        assertTrue(e.getMessage().contains("0.weight"), e.getMessage());
        assertSameValues(before, snapshot(big.stateDict()));
        assertEquals(0.3, opt.lr());
    }

    @Test
    void missingAndUnexpectedKeysAreNamed() throws IOException {
        Module model = mlp(1, 6);
        Map<String, Tensor> state = new LinkedHashMap<>(model.stateDict());
        state.remove("2.bias");
        state.put("3.weight", Tensor.on(SCALAR).zeros(DType.FLOAT32, 2));
        Path file = dir.resolve("keys.safetensors");
        Checkpoint.save(file, state, Map.of());
        Map<String, float[]> before = snapshot(model.stateDict());
        CheckpointException e = assertThrows(CheckpointException.class, () -> Checkpoint.restore(file, model));
        assertTrue(e.getMessage().contains("missing keys [2.bias]"), e.getMessage());
        assertTrue(e.getMessage().contains("unexpected keys [3.weight]"), e.getMessage());
        assertSameValues(before, snapshot(model.stateDict()));
    }

    @Test
    void anOptimizerMismatchLeavesModelAndOptimizerUnchanged() throws IOException {
        Module model = mlp(1, 6);
        Adam adam = new Adam(model.parameters(), 0.01);
        step(model, adam);
        Path file = dir.resolve("adam.safetensors");
        Checkpoint.save(file, model, adam);

        Module other = mlp(2, 6);
        SGD sgd = new SGD(other.parameters(), 0.2, 0.9);
        step(other, sgd);
        Map<String, float[]> modelBefore = snapshot(other.stateDict());
        Map<String, float[]> optBefore = snapshot(sgd.stateDict());
        CheckpointException e = assertThrows(CheckpointException.class, () -> Checkpoint.restore(file, other, sgd));
        assertTrue(e.getMessage().contains("does not fit the optimizer"), e.getMessage());
        assertSameValues(modelBefore, snapshot(other.stateDict()));
        assertSameValues(optBefore, snapshot(sgd.stateDict()));
    }

    @Test
    void aCorruptFileLeavesModelAndOptimizerUnchanged() throws IOException {
        Module model = mlp(1, 6);
        SGD opt = new SGD(model.parameters(), 0.1, 0.9);
        step(model, opt);
        Path file = dir.resolve("ckpt.safetensors");
        Checkpoint.save(file, model, opt);
        byte[] bytes = Files.readAllBytes(file);

        Module fresh = mlp(3, 6);
        SGD freshOpt = new SGD(fresh.parameters(), 0.4, 0.9);
        Map<String, float[]> before = snapshot(fresh.stateDict());
        Files.write(file, Arrays.copyOf(bytes, bytes.length - 4));
        assertThrows(CheckpointException.class, () -> Checkpoint.restore(file, fresh, freshOpt));
        assertSameValues(before, snapshot(fresh.stateDict()));
        assertEquals(0.4, freshOpt.lr());
        assertTrue(freshOpt.stateDict().keySet().stream().noneMatch(k -> k.startsWith("state.")));
    }

    @Test
    void modelOnlyRestoreIgnoresOptimizerState() throws IOException {
        Module model = mlp(1, 6);
        SGD opt = new SGD(model.parameters(), 0.1, 0.9);
        step(model, opt);
        Path file = dir.resolve("ckpt.safetensors");
        Checkpoint.save(file, model, opt);
        Module fresh = mlp(3, 6);
        Checkpoint.restore(file, fresh);
        assertSameValues(snapshot(model.stateDict()), snapshot(fresh.stateDict()));
    }
}
