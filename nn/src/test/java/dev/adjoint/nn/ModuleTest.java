package dev.adjoint.nn;

import dev.adjoint.DType;
import dev.adjoint.DTypeMismatchException;
import dev.adjoint.Functional;
import dev.adjoint.Generator;
import dev.adjoint.Tensor;
import dev.adjoint.TensorShapeException;
import dev.adjoint.backend.Backends;
import dev.adjoint.nn.optim.SGD;
import dev.adjoint.spi.Backend;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Module behaviour a user relies on, on every available backend. */
final class ModuleTest {
    static List<String> backends() {
        return Reference.backendNames();
    }

    /** A module with a nested Sequential under a name, like a small transformer block. */
    static final class Block extends Module {
        final Sequential layers;
        final LayerNorm norm;

        Block(NnContext ctx) {
            layers = registerModule("layers", new Sequential(new Linear(3, 4, ctx), new ReLU(),
                    new Dropout(0.5, new Generator(1)), new Linear(4, 2, false, ctx)));
            norm = registerModule("norm", new LayerNorm(2, ctx));
            registerParameter("scale", Tensor.on(ctx.backend()).ones(ctx.dtype(), 2));
            registerBuffer("counter", Tensor.on(ctx.backend()).zeros(ctx.dtype(), 1));
        }

        @Override
        public Tensor forward(Tensor x) {
            return norm.forward(layers.forward(x)).mul(parameter("scale"));
        }
    }

    private static NnContext ctx(String backend) {
        return NnContext.of(Backends.get(backend), DType.FLOAT64, new Generator(42));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("backends")
    void namedParametersFollowPyTorchNaming(String backend) {
        Block block = new Block(ctx(backend));
        assertEquals(List.of("scale", "layers.0.weight", "layers.0.bias", "layers.3.weight", "norm.weight", "norm.bias"),
                List.copyOf(block.namedParameters().keySet()));
        assertEquals(6, block.parameters().size());
        assertTrue(block.parameters().stream().allMatch(Tensor::requiresGrad));
        assertEquals(List.of("scale", "layers.0.weight", "layers.0.bias", "layers.3.weight", "counter", "norm.weight",
                "norm.bias").stream().sorted().toList(), block.stateDict().keySet().stream().sorted().toList());
        // Order as PyTorch: own parameters, own buffers, then children.
        assertEquals(List.of("scale", "counter", "layers.0.weight", "layers.0.bias", "layers.3.weight", "norm.weight",
                "norm.bias"), List.copyOf(block.stateDict().keySet()));
        assertEquals(List.of("", "layers", "layers.0", "layers.1", "layers.2", "layers.3", "norm"),
                List.copyOf(block.namedModules().keySet()));
        Sequential seq = new Sequential(new Linear(2, 2, ctx(backend)), new Tanh(), new Linear(2, 1, ctx(backend)));
        assertEquals(List.of("0.weight", "0.bias", "2.weight", "2.bias"), List.copyOf(seq.namedParameters().keySet()));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("backends")
    void trainAndEvalPropagateToEveryDescendant(String backend) {
        Block block = new Block(ctx(backend));
        assertTrue(block.namedModules().values().stream().allMatch(Module::isTraining));
        assertSame(block, block.eval());
        assertTrue(block.namedModules().values().stream().noneMatch(Module::isTraining));
        block.train();
        assertTrue(block.namedModules().values().stream().allMatch(Module::isTraining));
        block.layers.get(2).eval();
        assertFalse(block.layers.get(2).isTraining());
        assertTrue(block.layers.get(0).isTraining());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("backends")
    void stateDictRoundTripCopiesValuesIntoAnotherModel(String backend) {
        Block source = new Block(NnContext.of(Backends.get(backend), DType.FLOAT64, new Generator(1)));
        Block target = new Block(NnContext.of(Backends.get(backend), DType.FLOAT64, new Generator(2)));
        Map<String, Tensor> before = snapshot(target);
        Map<String, Tensor> targetTensors = target.stateDict();
        target.loadStateDict(source.stateDict());
        for (Map.Entry<String, Tensor> e : source.stateDict().entrySet()) {
            assertArrayEquals(e.getValue().toDoubleArray(), target.stateDict().get(e.getKey()).toDoubleArray(), e.getKey());
        }
        assertFalse(Arrays.equals(before.get("layers.0.weight").toDoubleArray(),
                target.stateDict().get("layers.0.weight").toDoubleArray()), "the seeds differ, so the load changed values");
        // In place: the module's tensors are the same objects, still leaves requiring grad.
        Map<String, Tensor> params = target.namedParameters();
        assertTrue(params.values().stream().allMatch(t -> t.isLeaf() && t.requiresGrad()));
        assertSame(targetTensors.get("layers.0.weight").storage(), params.get("layers.0.weight").storage());
        // And the values are copies: changing the source afterwards does not change the target.
        Tensor w = source.namedParameters().get("layers.0.weight");
        try (var scope = Tensor.noGrad()) {
            w.copyFrom(w.mul(2.0));
        }
        assertFalse(Arrays.equals(w.toDoubleArray(), params.get("layers.0.weight").toDoubleArray()));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("backends")
    void loadStateDictRejectsMissingKeysAndLeavesTheModelUntouched(String backend) {
        Block model = new Block(ctx(backend));
        Map<String, Tensor> before = snapshot(model);
        Map<String, Tensor> state = goodStateFrom(backend);
        state.remove("norm.bias");
        StateDictException e = assertThrows(StateDictException.class, () -> model.loadStateDict(state));
        assertTrue(e.getMessage().contains("missing keys [norm.bias]"), e.getMessage());
        assertUnchanged(before, model);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("backends")
    void loadStateDictRejectsUnexpectedKeysAndLeavesTheModelUntouched(String backend) {
        Block model = new Block(ctx(backend));
        Map<String, Tensor> before = snapshot(model);
        Map<String, Tensor> state = goodStateFrom(backend);
        state.put("layers.9.weight", Tensor.on(backend).zeros(DType.FLOAT64, 2, 2));
        StateDictException e = assertThrows(StateDictException.class, () -> model.loadStateDict(state));
        assertTrue(e.getMessage().contains("unexpected keys [layers.9.weight]"), e.getMessage());
        assertUnchanged(before, model);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("backends")
    void loadStateDictRejectsWrongShapesAndDTypesAndLeavesTheModelUntouched(String backend) {
        Block model = new Block(ctx(backend));
        Map<String, Tensor> before = snapshot(model);
        Map<String, Tensor> state = goodStateFrom(backend);
        state.put("layers.0.weight", Tensor.on(backend).zeros(DType.FLOAT64, 3, 4));
        StateDictException e = assertThrows(StateDictException.class, () -> model.loadStateDict(state));
        assertTrue(e.getMessage().contains("size mismatch for 'layers.0.weight': checkpoint has shape [3, 4]"),
                e.getMessage());
        assertTrue(e.getMessage().contains("[4, 3]"), e.getMessage());
        assertUnchanged(before, model);

        Map<String, Tensor> wrongType = goodStateFrom(backend);
        wrongType.put("norm.weight", wrongType.get("norm.weight").toType(DType.FLOAT32));
        StateDictException e2 = assertThrows(StateDictException.class, () -> model.loadStateDict(wrongType));
        assertTrue(e2.getMessage().contains("dtype mismatch for 'norm.weight'"), e2.getMessage());
        assertUnchanged(before, model);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("backends")
    void zeroGradClearsEveryGradient(String backend) {
        Block model = new Block(ctx(backend));
        model.eval();
        model.forward(Tensor.on(backend).ones(DType.FLOAT64, 5, 3)).square().sum().backward();
        assertTrue(model.parameters().stream().allMatch(p -> p.grad() != null));
        model.zeroGrad();
        assertTrue(model.parameters().stream().allMatch(p -> p.grad() == null));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("backends")
    void zeroGradFalseZeroesEveryGradientInPlace(String backend) {
        Block model = new Block(ctx(backend));
        model.eval();
        model.zeroGrad(false);
        assertTrue(model.parameters().stream().allMatch(p -> p.grad() == null), "no gradients yet: none are made");
        model.forward(Tensor.on(backend).ones(DType.FLOAT64, 5, 3)).square().sum().backward();
        List<Tensor> grads = model.parameters().stream().map(Tensor::grad).toList();
        assertTrue(grads.stream().anyMatch(g -> Arrays.stream(g.toDoubleArray()).anyMatch(v -> v != 0)));
        model.zeroGrad(false);
        List<Tensor> params = model.parameters();
        for (int i = 0; i < params.size(); i++) {
            assertSame(grads.get(i), params.get(i).grad(), "parameter " + i + " keeps its gradient tensor");
            double[] zeros = new double[grads.get(i).numel()];
            assertArrayEquals(zeros, grads.get(i).toDoubleArray(), "parameter " + i + "'s gradient is zeroed");
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("backends")
    void dropoutIsSeededScaledAndTheIdentityInEval(String backend) {
        Tensor x = Tensor.on(backend).ones(DType.FLOAT64, 1000);
        Tensor a = new Dropout(0.3, new Generator(5)).forward(x);
        Tensor b = new Dropout(0.3, new Generator(5)).forward(x);
        Tensor c = new Dropout(0.3, new Generator(6)).forward(x);
        assertArrayEquals(a.toDoubleArray(), b.toDoubleArray(), "same seed, same mask");
        assertFalse(Arrays.equals(a.toDoubleArray(), c.toDoubleArray()), "another seed, another mask");
        int zeros = 0;
        for (double v : a.toDoubleArray()) {
            if (v == 0.0) {
                zeros++;
            } else {
                assertEquals(1.0 / 0.7, v, 1e-15, "survivors are scaled by 1/(1-p)");
            }
        }
        // Binomial(1000, 0.3): mean 300, sd 14.5; 5 sd either side.
        assertTrue(zeros > 227 && zeros < 373, "dropped " + zeros + " of 1000 at p = 0.3");

        Dropout dropout = new Dropout(0.9, new Generator(5));
        dropout.eval();
        assertSame(x, dropout.forward(x), "eval mode is the identity");
        assertArrayEquals(new double[1000], new Dropout(1.0, new Generator(5)).forward(x).toDoubleArray());

        // The gradient flows through the kept elements only, with the same scale.
        Tensor leaf = Tensor.on(backend).ones(DType.FLOAT64, 50).requiresGrad(true);
        Tensor out = new Dropout(0.5, new Generator(9)).forward(leaf);
        out.sum().backward();
        assertArrayEquals(out.toDoubleArray(), leaf.grad().toDoubleArray());
    }

    /**
     * The mask drawn in one pass equals the four-op composition it stands for, bit for bit, in both
     * dtypes and whatever the input's layout, and leaves the generator where that composition did.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("backends")
    void dropoutMaskIsTheComposedMaskBitForBit(String backend) {
        for (DType dtype : List.of(DType.FLOAT32, DType.FLOAT64)) {
            Tensor x = Tensor.randn(new Generator(2), dtype, 40, 30).to(Backends.get(backend)).transpose(0, 1);
            for (double p : new double[] {0.1, 0.3, 0.5, 0.9, 1e-9, 0.99999999, 0.7000000001}) {
                Generator fused = new Generator(21);
                Generator composed = new Generator(21);
                Tensor actual = Functional.dropout(x, p, true, fused);
                Tensor uniform = Tensor.on(backend).rand(composed, dtype, 30, 40);
                Tensor expected = x.mul(uniform.ge(p).toType(dtype).mul(1.0 / (1.0 - p)));
                assertArrayEquals(expected.toDoubleArray(), actual.toDoubleArray(), dtype + " p=" + p);
                assertEquals(composed.state(), fused.state(), "the generator moves on by one draw per element");
            }
        }
        Tensor ints = Tensor.on(backend).ones(DType.INT64, 3);
        assertEquals("dropout: the input must be FLOAT32 or FLOAT64, got INT64 with shape [3]",
                assertThrows(DTypeMismatchException.class, () -> Functional.dropout(ints, 0.5, true, new Generator(1)))
                        .getMessage());
        Tensor y = Tensor.on(backend).ones(DType.FLOAT32, 2, 3);
        assertEquals("dropout: probability must be in [0, 1], got 1.5 (input shape [2, 3])",
                assertThrows(IllegalArgumentException.class, () -> Functional.dropout(y, 1.5, true, new Generator(1)))
                        .getMessage());
        assertSame(y, Functional.dropout(y, 0.5, false, new Generator(1)), "not training: the identity");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("backends")
    void linearInitialisationFollowsPyTorch(String backend) {
        int in = 400;
        Linear linear = new Linear(in, 300, NnContext.of(Backends.get(backend), DType.FLOAT64, new Generator(3)));
        double bound = 1.0 / Math.sqrt(in);
        assertArrayEquals(new int[] {300, 400}, linear.weight().shape().toArray());
        assertArrayEquals(new int[] {300}, linear.bias().shape().toArray());
        checkUniform(linear.weight().toDoubleArray(), bound);
        double[] bias = linear.bias().toDoubleArray();
        for (double v : bias) {
            assertTrue(Math.abs(v) <= bound);
        }
        // Same seed, same weights; FLOAT32 gets the same numbers rounded.
        Linear again = new Linear(in, 300, NnContext.of(Backends.get(backend), DType.FLOAT32, new Generator(3)));
        float[] f = again.weight().toFloatArray();
        double[] d = linear.weight().toDoubleArray();
        for (int i = 0; i < d.length; i++) {
            assertEquals((float) d[i], f[i]);
        }
        Linear noBias = new Linear(3, 2, false, NnContext.of(Backends.get(backend), DType.FLOAT64, new Generator(3)));
        assertNull(noBias.bias());
        assertEquals(List.of("weight"), List.copyOf(noBias.namedParameters().keySet()));
    }

    /** U(-b, b) has mean 0 and variance b^2/3; with n = 120000 samples both are tight. */
    static void checkUniform(double[] v, double bound) {
        double sum = 0;
        double sumSq = 0;
        for (double x : v) {
            assertTrue(Math.abs(x) <= bound, "value " + x + " outside +-" + bound);
            sum += x;
            sumSq += x * x;
        }
        double mean = sum / v.length;
        double variance = sumSq / v.length - mean * mean;
        double expectedVariance = bound * bound / 3;
        assertTrue(Math.abs(mean) < 5 * Math.sqrt(expectedVariance / v.length), "mean " + mean);
        assertEquals(expectedVariance, variance, 0.02 * expectedVariance, "variance");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("backends")
    void layersMoveBetweenBackendsAndShapesAreChecked(String backend) {
        Backend target = Backends.get(backend);
        Sequential model = new Sequential(new Linear(3, 2, NnContext.of(Backends.defaultBackend(), DType.FLOAT64,
                new Generator(0))), new Flatten());
        double[] weight = model.namedParameters().get("0.weight").toDoubleArray();
        model.to(target);
        Tensor w = model.namedParameters().get("0.weight");
        assertSame(target, w.backend());
        assertTrue(w.requiresGrad() && w.isLeaf());
        assertArrayEquals(weight, w.toDoubleArray());
        Tensor y = model.forward(Tensor.on(target).ones(DType.FLOAT64, 4, 3));
        assertArrayEquals(new int[] {4, 2}, y.shape().toArray());
        assertThrows(TensorShapeException.class,
                () -> model.forward(Tensor.on(target).ones(DType.FLOAT64, 4, 5)));
        model.to(DType.FLOAT32);
        Tensor w32 = model.namedParameters().get("0.weight");
        assertEquals(DType.FLOAT32, w32.dtype());
        assertTrue(w32.requiresGrad() && w32.isLeaf());
        assertEquals((float) weight[1], w32.toFloatArray()[1]);
        assertEquals(DType.FLOAT32, model.forward(Tensor.on(target).ones(DType.FLOAT32, 4, 3)).dtype());
        Tensor images = Tensor.on(target).ones(DType.FLOAT64, 2, 3, 4, 5);
        assertArrayEquals(new int[] {2, 60}, new Flatten().forward(images).shape().toArray());
        assertArrayEquals(new int[] {2, 12, 5}, new Flatten(1, 2).forward(images).shape().toArray());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("backends")
    void embeddingLooksUpRowsForIndicesOfAnyShape(String backend) {
        Embedding embedding = new Embedding(10, 4, NnContext.of(Backends.get(backend), DType.FLOAT64, new Generator(0)));
        Tensor idx = Tensor.on(backend).fromArray(new long[] {1, 9, 1, 0, 3, 3}, 3, 2);
        Tensor out = embedding.forward(idx);
        assertArrayEquals(new int[] {3, 2, 4}, out.shape().toArray());
        double[] w = embedding.weight().toDoubleArray();
        double[] o = out.toDoubleArray();
        assertArrayEquals(Arrays.copyOfRange(w, 36, 40), Arrays.copyOfRange(o, 4, 8));
        out.sum().backward();
        double[] g = embedding.weight().grad().toDoubleArray();
        assertEquals(2.0, g[4]);   // row 1 used twice
        assertEquals(0.0, g[8]);   // row 2 unused
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("backends")
    void embeddingNamesItselfAndItsSizeForAnIndexOutOfRange(String backend) {
        Embedding embedding = new Embedding(10, 4, NnContext.of(Backends.get(backend), DType.FLOAT64, new Generator(0)));
        IndexOutOfBoundsException tooLarge = assertThrows(IndexOutOfBoundsException.class,
                () -> embedding.forward(Tensor.on(backend).fromArray(new long[] {1, 9, 10, 0}, 2, 2)));
        assertEquals("Embedding: index 10 at position [1, 0] is out of range for 10 embeddings (valid values are 0 "
                + "to 9; indices shape [2, 2], weight shape [10, 4])", tooLarge.getMessage());
        IndexOutOfBoundsException negative = assertThrows(IndexOutOfBoundsException.class,
                () -> embedding.forward(Tensor.on(backend).fromArray(new long[] {-1}, 1)));
        assertTrue(negative.getMessage().startsWith("Embedding: index -1 at position 0 is out of range for 10 "
                + "embeddings"), negative.getMessage());
    }

    static final class Holder extends Module {
        Holder(Tensor shared) {
            registerParameter("w", shared);
        }

        @Override
        public Tensor forward(Tensor x) {
            return x.matmul(parameter("w"));
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("backends")
    void tiedParametersAreListedOnceAndStayTiedWhenConverted(String backend) {
        Tensor shared = Tensor.on(backend).ones(DType.FLOAT64, 2, 2);
        Holder a = new Holder(shared);
        Holder b = new Holder(shared);
        Sequential model = new Sequential(a, b);
        assertEquals(List.of("0.w"), List.copyOf(model.namedParameters().keySet()));
        assertEquals(List.of("0.w", "1.w"), List.copyOf(model.stateDict().keySet()));
        model.to(DType.FLOAT32);
        assertSame(a.parameter("w"), b.parameter("w"));
        assertEquals(DType.FLOAT32, a.parameter("w").dtype());
        assertThrows(IllegalArgumentException.class,
                () -> new SGD(List.of(shared, shared), 0.1));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("backends")
    void convertingKeepsEachParametersAndBuffersRequiresGrad(String backend) {
        Block block = new Block(ctx(backend));
        block.layers.namedParameters().get("0.weight").requiresGrad(false);
        block.namedBuffers().get("counter").requiresGrad(true);
        List<Backend> targets = Reference.backends().stream().filter(b -> !b.name().equals(backend)).toList();
        block.to(DType.FLOAT32);
        assertFrozenWeightAndTrainableRest(block, "after to(FLOAT32)");
        for (Backend target : targets) {
            block.to(target);
            assertSame(target, block.namedParameters().get("layers.0.weight").backend());
            assertFrozenWeightAndTrainableRest(block, "after to(" + target.name() + ")");
        }
    }

    /** PyTorch 1.13: {@code module.to(...)} keeps {@code requires_grad} of every parameter and buffer. */
    private static void assertFrozenWeightAndTrainableRest(Block block, String when) {
        Map<String, Tensor> params = block.namedParameters();
        assertFalse(params.get("layers.0.weight").requiresGrad(), "frozen weight " + when);
        params.forEach((name, p) -> {
            assertTrue(p.isLeaf(), name + " is a leaf " + when);
            assertEquals(!name.equals("layers.0.weight"), p.requiresGrad(), name + ".requiresGrad " + when);
        });
        Tensor counter = block.namedBuffers().get("counter");
        assertTrue(counter.requiresGrad() && counter.isLeaf(), "buffer that requires grad " + when);
    }

    private static Map<String, Tensor> goodStateFrom(String backend) {
        return new LinkedHashMap<>(new Block(NnContext.of(Backends.get(backend), DType.FLOAT64, new Generator(99)))
                .stateDict());
    }

    private static Map<String, Tensor> snapshot(Module m) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        m.stateDict().forEach((k, v) -> out.put(k, Tensor.on(v.backend()).fromArray(v.toDoubleArray(), v.dtype(),
                v.shape().toArray())));
        return out;
    }

    private static void assertUnchanged(Map<String, Tensor> before, Module m) {
        Map<String, Tensor> now = m.stateDict();
        assertEquals(before.keySet(), now.keySet());
        before.forEach((k, v) -> {
            assertNotSame(v, now.get(k));
            assertArrayEquals(v.toDoubleArray(), now.get(k).toDoubleArray(), k + " changed");
        });
    }
}
