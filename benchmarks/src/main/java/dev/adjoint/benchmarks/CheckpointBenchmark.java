package dev.adjoint.benchmarks;

import dev.adjoint.DType;
import dev.adjoint.Generator;
import dev.adjoint.Tensor;
import dev.adjoint.autograd.Autograd;
import dev.adjoint.nn.Linear;
import dev.adjoint.nn.NnContext;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.util.ArrayList;
import java.util.List;

/**
 * The trade-off of activation checkpointing, measured on a deep stack: a 24-layer MLP (width 1024,
 * batch 256, tanh, FLOAT32) trained forward and backward, plainly and with every block of
 * {@code --segment} layers checkpointed. Reports, per mode:
 * <ul>
 *   <li>the memory the graph holds at the end of the forward pass: heap in use after a full GC at
 *       that point, minus the heap in use before the forward (the activations backward will need);</li>
 *   <li>the time of a step (forward + backward), median of the timed steps after warm-up.</li>
 * </ul>
 * A program rather than JMH because the memory figure needs a GC at a precise point of the step.
 * <pre>{@code java --add-modules jdk.incubator.vector -cp benchmarks/target/benchmarks.jar \
 *     dev.adjoint.benchmarks.CheckpointBenchmark [--backend simd] [--layers 24] [--segment 4]}</pre>
 */
public final class CheckpointBenchmark {
    private CheckpointBenchmark() {
    }

    public static void main(String[] args) {
        String backend = "simd";
        int layers = 24;
        int segment = 4;
        int width = 1024;
        int batch = 256;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--backend" -> backend = CommandLine.value(args, ++i, "--backend");
                case "--layers" -> layers = CommandLine.wholeNumber(args, ++i, "--layers");
                case "--segment" -> segment = CommandLine.wholeNumber(args, ++i, "--segment");
                case "--width" -> width = CommandLine.wholeNumber(args, ++i, "--width");
                case "--batch" -> batch = CommandLine.wholeNumber(args, ++i, "--batch");
                default -> throw new IllegalArgumentException("CheckpointBenchmark: unknown option " + args[i]
                        + " (options: --backend, --layers, --segment, --width, --batch)");
            }
        }
        NnContext ctx = NnContext.of(dev.adjoint.backend.Backends.get(backend), DType.FLOAT32, new Generator(1));
        List<Linear> stack = new ArrayList<>();
        for (int i = 0; i < layers; i++) {
            stack.add(new Linear(width, width, ctx));
        }
        Tensor x = Tensor.on(backend).randn(new Generator(2), DType.FLOAT32, batch, width);
        System.out.printf("%d layers of %d, batch %d, FLOAT32 on %s; checkpoint segments of %d layers%n",
                layers, width, batch, backend, segment);
        for (boolean checkpointed : new boolean[] {false, true, false, true}) {
            Result r = measure(stack, x, checkpointed, segment);
            System.out.printf("%-13s activations held after forward %8.1f MiB   step %8.1f ms%n",
                    checkpointed ? "checkpointed" : "plain", r.heldBytes / 1048576.0, r.stepMillis);
        }
    }

    private record Result(long heldBytes, double stepMillis) {
    }

    private static Result measure(List<Linear> stack, Tensor x, boolean checkpointed, int segment) {
        MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
        double[] times = new double[8];
        long held = 0;
        for (int step = 0; step < 3 + times.length; step++) {
            for (Linear l : stack) {
                l.zeroGrad();
            }
            // The first step of the call: no earlier step of this loop can still hold anything.
            boolean probe = step == 0;
            long before = 0;
            if (probe) {
                gc();
                before = memory.getHeapMemoryUsage().getUsed();
            }
            long start = System.nanoTime();
            Tensor loss = forward(stack, x, checkpointed, segment).square().mean();
            if (probe) {
                gc();
                held = memory.getHeapMemoryUsage().getUsed() - before;
                System.out.printf("  (heap in use %.1f MiB before the forward, %.1f MiB after it)%n",
                        before / 1048576.0, (before + held) / 1048576.0);
            }
            loss.backward();
            long elapsed = System.nanoTime() - start;
            if (step >= 3) {
                times[step - 3] = elapsed / 1e6;
            }
        }
        java.util.Arrays.sort(times);
        return new Result(held, times[times.length / 2]);
    }

    private static Tensor forward(List<Linear> stack, Tensor x, boolean checkpointed, int segment) {
        Tensor h = x;
        for (int start = 0; start < stack.size(); start += segment) {
            List<Linear> part = stack.subList(start, Math.min(start + segment, stack.size()));
            java.util.function.UnaryOperator<Tensor> block = in -> {
                Tensor y = in;
                for (Linear l : part) {
                    y = l.forward(y).tanh();
                }
                return y;
            };
            h = checkpointed ? Autograd.checkpoint(block, h) : block.apply(h);
        }
        return h;
    }

    private static void gc() {
        for (int i = 0; i < 3; i++) {
            System.gc();
        }
    }
}
