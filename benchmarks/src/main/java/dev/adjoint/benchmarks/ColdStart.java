package dev.adjoint.benchmarks;

import dev.adjoint.DType;
import dev.adjoint.Generator;
import dev.adjoint.MemoryScope;
import dev.adjoint.Tensor;
import dev.adjoint.TensorFactory;
import dev.adjoint.backend.Backends;
import dev.adjoint.benchmarks.block.ReferenceBlock;
import dev.adjoint.benchmarks.block.TransformerBlock;
import dev.adjoint.nn.Linear;
import dev.adjoint.nn.NnContext;
import dev.adjoint.nn.ReLU;
import dev.adjoint.nn.Sequential;
import dev.adjoint.nn.loss.CrossEntropyLoss;
import dev.adjoint.nn.optim.SGD;
import dev.adjoint.spi.Backend;

import java.lang.management.ManagementFactory;

/**
 * The story: how long a fresh JVM takes before a model runs at its steady speed. JMH's warm-up hides
 * exactly this, so this is a plain program, one fresh JVM per measurement:
 * {@code java --add-modules jdk.incubator.vector -cp benchmarks.jar dev.adjoint.benchmarks.ColdStart mlp|block}.
 * {@code mlp}: the MLP 784-256-10, batch 64, SGD with momentum, each step in a {@link MemoryScope};
 * prints the first epoch (938 steps, one Fashion-MNIST epoch of random data) and the next, with the
 * training thread's CPU time, which depends less on what else the machine runs than wall time.
 * {@code block}: the transformer block of {@link TransformerBlockBenchmark}, its first 8 steps one
 * by one. Run the two with {@code -Dadjoint.simd.warmup=false} and without, alternating: a cold start
 * depends on the load of the machine more than most measurements.
 */
public final class ColdStart {
    private ColdStart() {
    }

    public static void main(String[] args) {
        long start = System.nanoTime();
        String which = args.length > 0 ? args[0] : "mlp";
        Backend engine = Backends.get(args.length > 1 ? args[1] : "simd");
        switch (which) {
            case "mlp" -> mlp(engine, start);
            case "block" -> block(engine, start);
            default -> throw new IllegalArgumentException("ColdStart: expected mlp or block, got " + which);
        }
    }

    private static void mlp(Backend engine, long start) {
        Generator generator = new Generator(2024);
        NnContext ctx = NnContext.of(engine, generator.split());
        Sequential model = new Sequential(new Linear(784, 256, ctx), new ReLU(), new Linear(256, 10, ctx));
        SGD optimizer = new SGD(model.parameters(), 0.01, 0.9);
        CrossEntropyLoss lossFunction = new CrossEntropyLoss();
        TensorFactory on = Tensor.on(engine);
        Tensor x = on.rand(generator, DType.FLOAT32, 64, 784);
        long[] labels = new long[64];
        for (int i = 0; i < labels.length; i++) {
            labels[i] = generator.nextLong(10);
        }
        Tensor target = on.fromArray(labels, 64);
        System.out.printf("mlp on %s: set-up %.2f s%n", engine.name(), seconds(start));
        for (int epoch = 0; epoch < 2; epoch++) {
            long t0 = System.nanoTime();
            long cpu0 = threadCpu();
            for (int step = 0; step < 938; step++) {
                try (MemoryScope scope = MemoryScope.open()) {
                    optimizer.zeroGrad();
                    Tensor loss = lossFunction.forward(model.forward(x), target);
                    loss.backward();
                    optimizer.step();
                    loss.item();
                }
            }
            System.out.printf("epoch %d: %.2f s wall, %.2f s training-thread CPU%n", epoch, seconds(t0),
                    (threadCpu() - cpu0) / 1e9);
        }
    }

    private static void block(Backend engine, long start) {
        TransformerBlock block = ReferenceBlock.build(engine);
        Tensor x = ReferenceBlock.input(engine).requiresGrad(true);
        System.out.printf("block on %s: set-up %.2f s%nsteps (ms):", engine.name(), seconds(start));
        long cpu0 = threadCpu();
        long t0 = System.nanoTime();
        for (int step = 0; step < 8; step++) {
            long s0 = System.nanoTime();
            try (MemoryScope scope = MemoryScope.open()) {
                x.zeroGrad();
                block.zeroGrad();
                Tensor loss = ReferenceBlock.loss(block, x);
                loss.backward();
                loss.item();
            }
            System.out.printf(" %.0f", (System.nanoTime() - s0) / 1e6);
        }
        System.out.printf("%n8 steps: %.2f s wall, %.2f s training-thread CPU%n", seconds(t0), (threadCpu() - cpu0) / 1e9);
    }

    private static double seconds(long since) {
        return (System.nanoTime() - since) / 1e9;
    }

    private static long threadCpu() {
        return ManagementFactory.getThreadMXBean().getCurrentThreadCpuTime();
    }
}
