package dev.adjoint.benchmarks;

import dev.adjoint.DType;
import dev.adjoint.Generator;
import dev.adjoint.Tensor;
import dev.adjoint.TensorFactory;
import dev.adjoint.nn.AdaptiveAvgPool2d;
import dev.adjoint.nn.BatchNorm2d;
import dev.adjoint.nn.Conv2d;
import dev.adjoint.nn.Flatten;
import dev.adjoint.nn.Linear;
import dev.adjoint.nn.NnContext;
import dev.adjoint.nn.ReLU;
import dev.adjoint.nn.Sequential;
import dev.adjoint.nn.loss.CrossEntropyLoss;
import dev.adjoint.nn.optim.SGD;
import dev.adjoint.spi.Backend;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;

/**
 * The story: a small ResNet's training step on CIFAR-sized images, as a user writes it with the nn
 * modules: a 3x3 stem to 32 channels, then three residual blocks (32 channels at 32x32, 64 at 16x16
 * and 128 at 8x8, the last two entered with stride 2 and a 1x1 projection of the shortcut), each two
 * 3x3 convolutions without bias, BatchNorm2d and ReLU; global average pooling, a Linear to 10
 * classes, cross-entropy, backward, and SGD with momentum 0.9 and weight decay 5e-4; batch 32,
 * FLOAT32. Beside {@code cnn-step}'s two layers it has strided and 1x1 convolutions, nine batch
 * norms in training mode, residual adds, and every convolution's input gradient but the stem's.
 * {@code benchmarks/peers/torch_workloads.py} runs the same network ("resnet-step"); each library
 * initialises its own weights, and the images are random.
 *
 * <p>Threads, memory and pitfalls: {@link StepBenchmark}.
 */
@State(Scope.Thread)
public class ResNetBenchmark extends StepBenchmark {
    static final int BATCH = 32;
    static final int CLASSES = 10;

    @Param({"simd", "nd4j"})
    public String backend;

    private Sequential network;
    private SGD optimizer;
    private final CrossEntropyLoss crossEntropy = new CrossEntropyLoss();
    private Tensor images;
    private Tensor labels;

    /** Two 3x3 convolutions with batch norms around a shortcut, projected where the shape changes. */
    static final class ResidualBlock extends dev.adjoint.nn.Module {
        private final Sequential main;
        private final Sequential shortcut;

        ResidualBlock(int in, int out, int stride, NnContext ctx) {
            main = registerModule("main", new Sequential(conv(in, out, 3, stride, ctx), new BatchNorm2d(out, ctx),
                    new ReLU(), conv(out, out, 3, 1, ctx), new BatchNorm2d(out, ctx)));
            shortcut = stride == 1 && in == out ? null
                    : registerModule("shortcut", new Sequential(conv(in, out, 1, stride, ctx), new BatchNorm2d(out, ctx)));
        }

        @Override
        public Tensor forward(Tensor x) {
            return main.forward(x).add(shortcut == null ? x : shortcut.forward(x)).relu();
        }
    }

    /** A square convolution without bias (a batch norm follows), padded to keep the size at stride 1. */
    static Conv2d conv(int in, int out, int kernel, int stride, NnContext ctx) {
        return new Conv2d(in, out, new int[] {kernel}, new int[] {stride}, new int[] {kernel / 2}, new int[] {1}, 1,
                false, ctx);
    }

    @Override
    protected String backendName() {
        return backend;
    }

    @Override
    protected void build(Backend engine) {
        NnContext ctx = NnContext.of(engine, DType.FLOAT32, new Generator(0));
        network = new Sequential(conv(3, 32, 3, 1, ctx), new BatchNorm2d(32, ctx), new ReLU(),
                new ResidualBlock(32, 32, 1, ctx), new ResidualBlock(32, 64, 2, ctx), new ResidualBlock(64, 128, 2, ctx),
                new AdaptiveAvgPool2d(1), new Flatten(), new Linear(128, CLASSES, true, ctx));
        optimizer = new SGD(network.parameters(), 0.01, 0.9, 0, 5e-4, false);
        TensorFactory on = Tensor.on(engine);
        images = on.randn(new Generator(1), DType.FLOAT32, BATCH, 3, 32, 32);
        labels = on.randint(0, CLASSES, new Generator(2), BATCH);
    }

    @Override
    protected Tensor loss() {
        optimizer.zeroGrad();
        Tensor loss = crossEntropy.forward(network.forward(images), labels);
        loss.backward();
        optimizer.step();
        return loss;
    }
}
