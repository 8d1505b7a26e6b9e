package dev.adjoint.benchmarks;

import java.util.Arrays;
import java.util.List;

/**
 * The matrix products of two benchmarked training steps, as the steps run them, for the benchmarks
 * that time products on their own ({@code MatmulShapesBenchmark}, {@code benchmarks/ab/StepProductsAB}):
 * the transformer block's eighteen ({@link #BLOCK}, TransformerBlockBenchmark's step) and the MLP's
 * five ({@link #MLP}, TrainingStepBenchmark's 784-256-10 on a batch of 64).
 */
public final class StepProducts {
    /**
     * One product, {@code m x k @ k x n} per matrix over {@code batch} leading dims ({@code {}} for a
     * single matrix, {@code {8, 4}} for batch x heads), each operand a view with the given strides
     * (batch dims first) and offset into a storage of the given size; plus a bias over n when
     * {@code bias} (the step runs it through {@code linear}). {@code aTensor}, {@code bTensor} and
     * {@code outTensor} name the step's tensors the operands and the output are views of: products
     * naming the same tensor read (or write) one storage when a benchmark shares them, so that each
     * finds its operands where the step's products before it left them (the qkv projection's output
     * is the attention's q, k and v); a name of a product's own ({@code name + ".a"}) is a tensor no
     * other product touches.
     */
    public record Spec(String name, int[] batch, int m, int n, int k, int aSize, int[] aStrides, int aOffset,
                       int bSize, int[] bStrides, int bOffset, boolean bias, String aTensor, String bTensor,
                       String outTensor) {
        /** This product with its operands and output views of the step's tensors of these names. */
        public Spec on(String a, String b, String out) {
            return new Spec(name, batch, m, n, k, aSize, aStrides, aOffset, bSize, bStrides, bOffset, bias, a, b, out);
        }

        /** Matrices in the batch. */
        public int matrices() {
            int matrices = 1;
            for (int d : batch) {
                matrices *= d;
            }
            return matrices;
        }

        public int[] aDims() {
            return dims(m, k);
        }

        public int[] bDims() {
            return dims(k, n);
        }

        public int[] outDims() {
            return dims(m, n);
        }

        public double gflop() {
            return 2.0 * matrices() * m * n * k / 1e9;
        }

        private int[] dims(int rows, int columns) {
            int[] dims = Arrays.copyOf(batch, batch.length + 2);
            dims[batch.length] = rows;
            dims[batch.length + 1] = columns;
            return dims;
        }
    }

    /**
     * Storage sizes: the fused q/k/v projection's output {@code [8, 128, 768]} (q, k, v at offsets 0,
     * 256, 512), a gradient {@code [8, 128, 256]}, attention weights {@code [8, 4, 128, 128]}.
     *
     * <p>The tensors they share ({@link Spec#on}): {@code qkv}, the projection's output; {@code scores}
     * ({@code q @ k.T}), which also stands for the softmax's weights p of the same shape that the
     * step computes from it just before {@code p @ v}; {@code attn}, the heads' output, which the
     * output projection reads; {@code dAttn}, its gradient from {@code proj.inputGrad}; and
     * {@code dP}, the gradient of p, which also stands for that of the scores computed from it.
     */
    private static final int QKV = 1024 * 768, GRAD = 1024 * 256, SQUARE = 32 * 128 * 128;

    /** The transformer block's products in the order its step runs them (forward, then backward). */
    public static final List<Spec> BLOCK = List.of(
            linear("qkv.forward", 1024, 768, 256, false).on("x.ln1", "wqkv", "qkv"),
            batched("scores", 128, 128, 64, QKV, new int[] {98304, 64, 768, 1}, 0, QKV, new int[] {98304, 64, 1, 768}, 256)
                    .on("qkv", "qkv", "scores"),
            batched("values", 128, 64, 128, SQUARE, new int[] {65536, 16384, 128, 1}, 0, QKV,
                    new int[] {98304, 64, 768, 1}, 512).on("scores", "qkv", "attn"),
            linear("proj.forward", 1024, 256, 256, false).on("attn", "wproj", "proj.forward.out"),
            linear("fc1.forward", 1024, 1024, 256, false),
            linear("fc2.forward", 1024, 256, 1024, false),
            rowMajor("fc2.inputGrad", 1024, 1024, 256),
            linear("fc2.weightGrad", 256, 1024, 1024, true),
            rowMajor("fc1.inputGrad", 1024, 256, 1024),
            linear("fc1.weightGrad", 1024, 256, 1024, true),
            rowMajor("proj.inputGrad", 1024, 256, 256).on("proj.inputGrad.a", "wproj", "dAttn"),
            linear("proj.weightGrad", 256, 256, 1024, true),
            batched("values.gradP", 128, 128, 64, GRAD, new int[] {32768, 64, 256, 1}, 0, QKV,
                    new int[] {98304, 64, 1, 768}, 512).on("dAttn", "qkv", "dP"),
            batched("values.gradV", 128, 64, 128, SQUARE, new int[] {65536, 16384, 1, 128}, 0, GRAD,
                    new int[] {32768, 64, 256, 1}, 0).on("scores", "dAttn", "values.gradV.out"),
            batched("scores.gradQ", 128, 64, 128, SQUARE, new int[] {65536, 16384, 128, 1}, 0, QKV,
                    new int[] {98304, 64, 768, 1}, 256).on("dP", "qkv", "scores.gradQ.out"),
            batched("scores.gradKT", 64, 128, 128, QKV, new int[] {98304, 64, 1, 768}, 0, SQUARE,
                    new int[] {65536, 16384, 128, 1}, 0).on("qkv", "dP", "scores.gradKT.out"),
            rowMajor("qkv.inputGrad", 1024, 256, 768),
            linear("qkv.weightGrad", 768, 256, 1024, true));

    private static final int BATCH = 64, IN = 784, HIDDEN = 256, CLASSES = 10;

    /** The MLP's products: both layers' {@code x @ w.T + b}, then fc2's gradients and fc1's weight gradient. */
    public static final List<Spec> MLP = List.of(
            withBias(linear("fc1.forward", BATCH, HIDDEN, IN, false)),
            withBias(linear("fc2.forward", BATCH, CLASSES, HIDDEN, false)),
            linear("fc2.weightGrad", CLASSES, HIDDEN, BATCH, true),
            rowMajor("fc2.inputGrad", BATCH, HIDDEN, CLASSES),
            linear("fc1.weightGrad", HIDDEN, IN, BATCH, true));

    private StepProducts() {
    }

    /** {@code x @ w.T} (B transposed, {@code transposedA} false) or {@code dy.T @ x} (A transposed). */
    private static Spec linear(String name, int m, int n, int k, boolean transposedA) {
        return transposedA
                ? own(new Spec(name, new int[0], m, n, k, m * k, new int[] {1, m}, 0, k * n, new int[] {n, 1}, 0, false,
                        null, null, null))
                : own(new Spec(name, new int[0], m, n, k, m * k, new int[] {k, 1}, 0, k * n, new int[] {1, k}, 0, false,
                        null, null, null));
    }

    private static Spec rowMajor(String name, int m, int n, int k) {
        return own(new Spec(name, new int[0], m, n, k, m * k, new int[] {k, 1}, 0, k * n, new int[] {n, 1}, 0, false,
                null, null, null));
    }

    /** One product per head of each of the 8 samples: the attention's. */
    private static Spec batched(String name, int m, int n, int k, int aSize, int[] aStrides, int aOffset, int bSize,
                                int[] bStrides, int bOffset) {
        return own(new Spec(name, new int[] {8, 4}, m, n, k, aSize, aStrides, aOffset, bSize, bStrides, bOffset, false,
                null, null, null));
    }

    private static Spec withBias(Spec p) {
        return new Spec(p.name, p.batch, p.m, p.n, p.k, p.aSize, p.aStrides, p.aOffset, p.bSize, p.bStrides,
                p.bOffset, true, p.aTensor, p.bTensor, p.outTensor);
    }

    /** {@code p} on tensors of its own, which no other product reads or writes. */
    private static Spec own(Spec p) {
        return p.on(p.name + ".a", p.name + ".b", p.name + ".out");
    }
}
