package dev.adjoint.nn;

import dev.adjoint.DType;
import dev.adjoint.Generator;
import dev.adjoint.InterpolationMode;
import dev.adjoint.Tensor;
import dev.adjoint.TensorShapeException;
import dev.adjoint.backend.Backends;
import dev.adjoint.nn.io.Checkpoint;
import dev.adjoint.nn.loss.CrossEntropyLoss;
import dev.adjoint.nn.optim.SGD;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The convolution, pooling and batch-norm modules and the containers, on every available backend:
 * PyTorch's default initialisation, naming and state dicts, the batch-norm running statistics and
 * the train/eval switch, checkpoints. Their numbers against PyTorch are in {@link PyTorchLayerLossTest}.
 */
final class ConvModulesTest {
    static List<String> backends() {
        return Reference.backendNames();
    }

    private static NnContext ctx(String backend, long seed) {
        return NnContext.of(Backends.get(backend), DType.FLOAT64, new Generator(seed));
    }

    /** Two conv-BN-ReLU-pool blocks and a linear head, the shape of benchmarks/train's CNN, at a small size. */
    private static Sequential smallCnn(NnContext ctx) {
        return new Sequential(new Conv2d(1, 4, 3, 1, 1, ctx), new BatchNorm2d(4, ctx), new ReLU(), new MaxPool2d(2),
                new Conv2d(4, 8, 3, 1, 1, ctx), new BatchNorm2d(8, ctx), new ReLU(), new MaxPool2d(2),
                new Flatten(), new Linear(8 * 2 * 2, 3, ctx));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("backends")
    void convolutionsStartFromPyTorchsDefaultInitialisation(String backend) {
        // fan_in = dimension 1 of the weight times the taps; weight and bias uniform in +-1/sqrt(fan_in).
        Conv2d conv = new Conv2d(6, 400, new int[] {3, 5}, new int[] {1}, new int[] {0}, new int[] {1}, 2, true,
                ctx(backend, 1));
        assertArrayEquals(new int[] {400, 3, 3, 5}, conv.weight().shape().toArray());
        ModuleTest.checkUniform(conv.weight().toDoubleArray(), 1 / Math.sqrt(3 * 15));
        for (double b : conv.bias().toDoubleArray()) {
            assertTrue(Math.abs(b) <= 1 / Math.sqrt(45), "bias " + b);
        }
        Conv1d conv1 = new Conv1d(8, 300, 5, ctx(backend, 2));
        ModuleTest.checkUniform(conv1.weight().toDoubleArray(), 1 / Math.sqrt(8 * 5));
        ConvTranspose2d deconv = new ConvTranspose2d(100, 60, new int[] {3}, new int[] {2}, new int[] {1},
                new int[] {1}, 2, false, new int[] {1}, ctx(backend, 3));
        assertArrayEquals(new int[] {100, 30, 3, 3}, deconv.weight().shape().toArray());
        ModuleTest.checkUniform(deconv.weight().toDoubleArray(), 1 / Math.sqrt(30 * 9));
        assertEquals(null, deconv.bias());
        assertEquals(List.of("weight"), List.copyOf(deconv.namedParameters().keySet()));
    }

    @Test
    void modulesPrintAsPyTorchDoes() {
        NnContext ctx = ctx("scalar", 0);
        assertEquals("Conv2d(1, 32, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))",
                new Conv2d(1, 32, 3, 1, 1, ctx).toString());
        assertEquals("Conv1d(4, 4, kernel_size=(3,), stride=(1,), padding=same, dilation=(2,), groups=4, bias=False)",
                new Conv1d(4, 4, 3, 1, "same", 2, 4, false, ctx).toString());
        assertEquals("MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)",
                new MaxPool2d(2).toString());
        assertEquals("BatchNorm2d(8, eps=1.0E-5, momentum=0.1, affine=True, track_running_stats=True)",
                new BatchNorm2d(8, ctx).toString());
        assertEquals("GroupNorm(2, 8, eps=1.0E-5, affine=True)", new GroupNorm(2, 8, ctx).toString());
        assertEquals("Upsample(scale_factor=2.0, mode='nearest')", new Upsample(2, InterpolationMode.NEAREST).toString());
        assertEquals("Upsample(size=(5, 7), mode='bilinear', align_corners=True)",
                new Upsample(new int[] {5, 7}, null, InterpolationMode.BILINEAR, true).toString());
    }

    /**
     * A small U-Net-style encoder-decoder (group norms, pooling down, nearest and bilinear upsampling
     * back) learning to reproduce its input trains to the same losses on every backend as on scalar.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("backends")
    void groupNormAndUpsamplingTrainAlikeOnEveryBackend(String backend) {
        double[] expected = encoderDecoderLosses("scalar");
        double[] actual = encoderDecoderLosses(backend);
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], actual[i], 1e-10 * Math.abs(expected[i]), "loss after step " + i);
        }
        assertTrue(actual[actual.length - 1] < actual[0], "losses " + java.util.Arrays.toString(actual));
        GroupNorm norm = new GroupNorm(2, 4, ctx(backend, 3));
        assertEquals(List.of("weight", "bias"), List.copyOf(norm.namedParameters().keySet()));
        assertThrows(IllegalArgumentException.class, () -> new GroupNorm(3, 4, ctx(backend, 3)));
        assertTrue(new Upsample(2, InterpolationMode.BILINEAR).namedParameters().isEmpty());
        // Resampling to the same size gives a new tensor, as PyTorch's: writing into it leaves the input.
        Tensor image = Tensor.on(Backends.get(backend)).ones(DType.FLOAT64, 1, 1, 2, 2);
        new Upsample(1, InterpolationMode.NEAREST).forward(image).add_(1.0);
        assertEquals(4.0, image.sum().item());
    }

    private static double[] encoderDecoderLosses(String backend) {
        NnContext ctx = ctx(backend, 21);
        Sequential down = new Sequential(new Conv2d(1, 4, 3, 1, 1, ctx), new GroupNorm(2, 4, ctx), new SiLU(),
                new MaxPool2d(2), new Conv2d(4, 8, 3, 1, 1, ctx), new GroupNorm(4, 8, ctx), new SiLU(), new MaxPool2d(2));
        Sequential up = new Sequential(new Upsample(2, InterpolationMode.NEAREST), new Conv2d(8, 4, 3, 1, 1, ctx),
                new GroupNorm(1, 4, ctx), new SiLU(), new Upsample(2, InterpolationMode.BILINEAR),
                new Conv2d(4, 1, 3, 1, 1, ctx));
        var create = Tensor.on(ctx.backend());
        Tensor x = create.randn(new Generator(5), DType.FLOAT64, 2, 1, 8, 8);
        List<Tensor> params = new java.util.ArrayList<>(down.parameters());
        params.addAll(up.parameters());
        SGD sgd = new SGD(params, 0.05);
        double[] losses = new double[4];
        for (int step = 0; step < losses.length; step++) {
            sgd.zeroGrad();
            Tensor loss = up.forward(down.forward(x)).sub(x).square().mean();
            loss.backward();
            sgd.step();
            losses[step] = loss.item();
        }
        return losses;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("backends")
    void batchNormKeepsRunningStatisticsAsBuffersAndSwitchesWithTrainAndEval(String backend) {
        NnContext ctx = ctx(backend, 4);
        BatchNorm2d norm = new BatchNorm2d(2, 1e-5, 0.25, true, true, ctx);
        assertEquals(List.of("weight", "bias", "running_mean", "running_var", "num_batches_tracked"),
                List.copyOf(norm.stateDict().keySet()));
        assertEquals(List.of("weight", "bias"), List.copyOf(norm.namedParameters().keySet()));
        assertEquals(DType.INT64, norm.stateDict().get("num_batches_tracked").dtype());

        Tensor x = Tensor.on(ctx.backend()).randn(new Generator(5), DType.FLOAT64, 3, 2, 2, 2).mul(2.0).add(1.0);
        double[] values = x.toDoubleArray();
        double[] mean = new double[2];
        double[] unbiased = new double[2];
        for (int c = 0; c < 2; c++) {
            double sum = 0;
            for (int n = 0; n < 3; n++) {
                for (int i = 0; i < 4; i++) {
                    sum += values[(n * 2 + c) * 4 + i];
                }
            }
            mean[c] = sum / 12;
            double squares = 0;
            for (int n = 0; n < 3; n++) {
                for (int i = 0; i < 4; i++) {
                    double d = values[(n * 2 + c) * 4 + i] - mean[c];
                    squares += d * d;
                }
            }
            unbiased[c] = squares / 11;
        }
        norm.forward(x);
        norm.forward(x);
        assertEquals(2, norm.numBatchesTracked());
        // Two steps of r = 0.75 r + 0.25 batch from r0 = 0 (mean) and 1 (variance).
        for (int c = 0; c < 2; c++) {
            assertEquals(mean[c] * (1 - 0.75 * 0.75), norm.runningMean().toDoubleArray()[c], 1e-12);
            assertEquals(0.75 * 0.75 + unbiased[c] * (1 - 0.75 * 0.75), norm.runningVar().toDoubleArray()[c], 1e-12);
        }
        double[] runningMean = norm.runningMean().toDoubleArray();
        double[] runningVar = norm.runningVar().toDoubleArray();

        Sequential model = new Sequential(norm, new ReLU());
        model.eval();
        assertFalse(norm.isTraining());
        Tensor y = model.forward(x);
        assertArrayEquals(runningMean, norm.runningMean().toDoubleArray(), "eval leaves the statistics alone");
        assertEquals(2, norm.numBatchesTracked());
        double[] out = y.toDoubleArray();
        for (int i = 0; i < values.length; i++) {
            int c = (i / 4) % 2;
            double expected = Math.max(0, (values[i] - runningMean[c]) / Math.sqrt(runningVar[c] + 1e-5));
            assertEquals(expected, out[i], 1e-12);
        }
        model.train();
        assertTrue(norm.isTraining());

        BatchNorm1d untracked = new BatchNorm1d(3, 1e-5, 0.1, false, false, ctx);
        assertTrue(untracked.stateDict().isEmpty());
        untracked.eval();
        Tensor z = untracked.forward(Tensor.on(ctx.backend()).randn(new Generator(6), DType.FLOAT64, 5, 3));
        assertEquals(0, z.sum(0, false).abs().amax().item(), 1e-12, "without running statistics eval uses the batch's");
        assertThrows(TensorShapeException.class, () -> norm.forward(Tensor.on(ctx.backend()).zeros(DType.FLOAT64, 3, 2)));
        assertThrows(TensorShapeException.class,
                () -> norm.forward(Tensor.on(ctx.backend()).zeros(DType.FLOAT64, 3, 5, 2, 2)));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("backends")
    void aTrainedCnnRoundTripsThroughACheckpoint(String backend, @TempDir Path dir) throws Exception {
        Sequential model = smallCnn(ctx(backend, 7));
        SGD optimizer = new SGD(model.parameters(), 0.1, 0.9);
        Tensor x = Tensor.on(Backends.get(backend)).randn(new Generator(8), DType.FLOAT64, 6, 1, 8, 8);
        Tensor y = Tensor.on(Backends.get(backend)).fromArray(new long[] {0, 1, 2, 0, 1, 2}, 6);
        CrossEntropyLoss loss = new CrossEntropyLoss();
        double first = 0;
        for (int step = 0; step < 5; step++) {
            optimizer.zeroGrad();
            Tensor l = loss.forward(model.forward(x), y);
            l.backward();
            optimizer.step();
            first = step == 0 ? l.item() : first;
        }
        assertTrue(loss.forward(model.forward(x), y).item() < first, "five steps lower the loss");
        Path file = dir.resolve("cnn.safetensors");
        Checkpoint.save(file, model, optimizer);

        Sequential restored = smallCnn(ctx(backend, 99));
        SGD restoredOptimizer = new SGD(restored.parameters(), 0.1, 0.9);
        Checkpoint.restore(file, restored, restoredOptimizer);
        Map<String, Tensor> expected = model.stateDict();
        Map<String, Tensor> actual = restored.stateDict();
        assertEquals(expected.keySet(), actual.keySet());
        assertTrue(actual.containsKey("1.running_var") && actual.containsKey("5.num_batches_tracked"));
        for (String key : expected.keySet()) {
            assertArrayEquals(expected.get(key).toDoubleArray(), actual.get(key).toDoubleArray(), key);
        }
        model.eval();
        restored.eval();
        assertArrayEquals(model.forward(x).toDoubleArray(), restored.forward(x).toDoubleArray());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("backends")
    void containersOwnTheirModulesParametersUnderPyTorchNames(String backend) {
        NnContext ctx = ctx(backend, 9);
        ModuleList blocks = new ModuleList(new Conv2d(2, 2, 1, ctx), new Identity(), new BatchNorm2d(2, ctx));
        ModuleDict heads = new ModuleDict().put("a", new Linear(2, 1, ctx)).put("b", new Identity());
        Module owner = new Module() {
            {
                registerModule("blocks", blocks);
                registerModule("heads", heads);
            }

            @Override
            public Tensor forward(Tensor x) {
                for (Module m : blocks) {
                    x = m.forward(x);
                }
                return heads.get("a").forward(x.mean(new int[] {2, 3}, false));
            }
        };
        assertEquals(List.of("blocks.0.weight", "blocks.0.bias", "blocks.2.weight", "blocks.2.bias", "heads.a.weight",
                "heads.a.bias"), List.copyOf(owner.namedParameters().keySet()));
        assertTrue(owner.stateDict().containsKey("blocks.2.running_mean"));
        assertEquals(3, blocks.size());
        assertEquals(List.of("a", "b"), List.copyOf(heads.keySet()));
        Tensor x = Tensor.on(ctx.backend()).randn(new Generator(1), DType.FLOAT64, 3, 2, 2, 2);
        assertArrayEquals(new int[] {3, 1}, owner.forward(x).shape().toArray());
        assertSame(x, heads.get("b").forward(x));
        owner.eval();
        assertFalse(blocks.get(2).isTraining());
        owner.to(DType.FLOAT32);
        assertEquals(DType.FLOAT32, blocks.get(0).namedParameters().get("weight").dtype());
        assertThrows(UnsupportedOperationException.class, () -> blocks.forward(x));
        assertThrows(UnsupportedOperationException.class, () -> heads.forward(x));
        assertThrows(IllegalArgumentException.class, () -> heads.get("c"));
        assertThrows(IllegalArgumentException.class, () -> heads.put("a", new Identity()));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("backends")
    void layersRejectInputsWithTheWrongChannelsInTheirOwnWords(String backend) {
        NnContext ctx = ctx(backend, 10);
        Tensor x = Tensor.on(ctx.backend()).zeros(DType.FLOAT64, 1, 3, 5, 5);
        TensorShapeException e = assertThrows(TensorShapeException.class, () -> new Conv2d(2, 4, 3, ctx).forward(x));
        assertEquals("Conv2d: input shape [1, 3, 5, 5] has 3 channels, expected in_channels=2", e.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> new Conv2d(3, 4, new int[] {3}, new int[] {1}, new int[] {0}, new int[] {1}, 2, true, ctx));
        assertThrows(IllegalArgumentException.class,
                () -> new Conv2d(4, 4, new int[] {3}, new int[] {2}, "same", new int[] {1}, 1, true, ctx));
    }
}
