package dev.adjoint.benchmarks;

import dev.adjoint.DType;
import dev.adjoint.Shape;
import dev.adjoint.backend.Backends;
import dev.adjoint.spi.Backend;
import dev.adjoint.spi.Layout;
import dev.adjoint.spi.Storage;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;

/**
 * The story: the matrix products of one training step of the 784-256-10 MLP (batch 64, FLOAT32) as
 * {@code nn.Linear} issues them, each on its own, in GFLOP/s, on one thread and on two. Linear
 * computes {@code x @ w.T} with {@code w} stored {@code [out, in]}, so the forward's B and the
 * weight gradient's A ({@code dy.T @ x}) are transposed views, not contiguous matrices:
 * <ul>
 *   <li>{@code fc1.forward}: {@code [64 x 784] @ w1.T}, w1 {@code [256 x 784]};</li>
 *   <li>{@code fc1.weightGrad}: {@code dy1.T @ x}, dy1 {@code [64 x 256]}, x {@code [64 x 784]};</li>
 *   <li>{@code fc2.forward}: {@code [64 x 256] @ w2.T}, w2 {@code [10 x 256]};</li>
 *   <li>{@code fc2.weightGrad}: {@code dy2.T @ h}, dy2 {@code [64 x 10]}, h {@code [64 x 256]};</li>
 *   <li>{@code fc2.inputGrad}: {@code dy2 @ w2}, {@code [64 x 10] @ [10 x 256]}.</li>
 * </ul>
 * {@code step} runs all five once (the step's matmuls, ~52 MFLOP; the first layer's input gradient
 * is not needed, the input does not require grad): read its primary score as microseconds per step.
 *
 * <p>Two batched products, as 8 attention heads of 128 tokens and width 64 issue them, are here for
 * {@code -prof gc}: a batch takes each matrix's offsets from its index, so it allocates nothing either.
 * <ul>
 *   <li>{@code heads.scores}: {@code q @ k.T}, q and k {@code [8, 128, 64]} (k.T a transposed view);</li>
 *   <li>{@code heads.values}: {@code p @ v}, p {@code [8, 128, 128]}, v {@code [8, 128, 64]}.</li>
 * </ul>
 *
 * <p>The eighteen products of one forward and backward step of {@code TransformerBlockBenchmark}'s
 * block (x {@code [8, 128, 256]}, so 1024 tokens; width 256, 4 heads of 64, MLP width 1024), with the
 * layouts the block hands the engine: {@code block.<layer>.forward} is {@code x @ w.T} (B transposed),
 * {@code .inputGrad} {@code dy @ w} (both row-major), {@code .weightGrad} {@code dy.T @ x} (A
 * transposed, its columns {@code out} elements apart); the attention products are batches of 32
 * (8 x 4 heads) whose q, k and v are strided views into the fused projection's output (rows 768
 * apart) and whose output gradient is a permuted view (rows 256 apart): {@code block.scores}
 * {@code q @ k.T}, {@code block.values} {@code p @ v}, {@code block.values.gradP} {@code dO @ v.T},
 * {@code block.values.gradV} {@code p.T @ dO}, {@code block.scores.gradQ} {@code ds @ k},
 * {@code block.scores.gradKT} {@code q.T @ ds}. {@code block.step} runs all eighteen once (~5.2
 * GFLOP), the block's GEMM time per step.
 *
 * <p>Pitfalls avoided: as in {@link GemmBenchmark}, the output storage is preallocated and returned
 * (no allocation to measure, no dead code), operands come from a seeded generator, and the thread
 * count is set per method in the forks' command line because the engine reads it once per JVM.
 * Shapes this small are where a thread hand-off or a scalar packing loop shows, so they are
 * measured apart from the large square products.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = "--add-modules=jdk.incubator.vector")
public class MatmulShapesBenchmark {
    @Param({"simd"})
    public String backend;

    @Param({"fc1.forward", "fc1.weightGrad", "fc2.forward", "fc2.weightGrad", "fc2.inputGrad", "step",
        "heads.scores", "heads.values",
        "block.qkv.forward", "block.scores", "block.values", "block.proj.forward", "block.fc1.forward",
        "block.fc2.forward", "block.fc2.inputGrad", "block.fc2.weightGrad", "block.fc1.inputGrad",
        "block.fc1.weightGrad", "block.proj.inputGrad", "block.proj.weightGrad", "block.values.gradP",
        "block.values.gradV", "block.scores.gradQ", "block.scores.gradKT", "block.qkv.inputGrad",
        "block.qkv.weightGrad", "block.step"})
    public String shape;

    private static final int BATCH = 64, IN = 784, HIDDEN = 256, OUT = 10;
    private static final int HEADS = 8, TOKENS = 128, WIDTH = 64;

    private Backend engine;
    private Product[] products;
    private double gflopsPerCall;

    /** One {@code a @ b} with its operand views and preallocated output. */
    private record Product(Storage a, Layout aLayout, Storage b, Layout bLayout, Storage out, Layout outLayout,
                           double gflop) {
    }

    /** Floating operations done in this iteration, in units of 10^9: per second, GFLOP/s. */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    public static class Flops {
        public double gflops;

        @Setup(Level.Iteration)
        public void reset() {
            gflops = 0;
        }
    }

    @Setup
    public void setUp() {
        engine = Backends.get(backend);
        products = switch (shape) {
            case "fc1.forward" -> new Product[] {forward(BATCH, IN, HIDDEN, 1)};
            case "fc1.weightGrad" -> new Product[] {weightGrad(BATCH, HIDDEN, IN, 2)};
            case "fc2.forward" -> new Product[] {forward(BATCH, HIDDEN, OUT, 3)};
            case "fc2.weightGrad" -> new Product[] {weightGrad(BATCH, OUT, HIDDEN, 4)};
            case "fc2.inputGrad" -> new Product[] {inputGrad(BATCH, OUT, HIDDEN, 5)};
            case "step" -> new Product[] {forward(BATCH, IN, HIDDEN, 1), forward(BATCH, HIDDEN, OUT, 3),
                    inputGrad(BATCH, OUT, HIDDEN, 5), weightGrad(BATCH, OUT, HIDDEN, 4),
                    weightGrad(BATCH, HIDDEN, IN, 2)};
            case "heads.scores" -> new Product[] {scores(6)};
            case "heads.values" -> new Product[] {values(7)};
            case "block.step" -> StepProducts.BLOCK.stream().map(this::blockProduct).toArray(Product[]::new);
            default -> {
                if (shape.startsWith("block.")) {
                    yield StepProducts.BLOCK.stream().filter(b -> ("block." + b.name()).equals(shape))
                            .map(this::blockProduct).toArray(Product[]::new);
                }
                throw new IllegalArgumentException("MatmulShapesBenchmark: unknown shape '" + shape + "'");
            }
        };
        for (Product p : products) {
            gflopsPerCall += p.gflop;
        }
    }

    /** One product of the transformer block ({@link StepProducts#BLOCK}), its operands filled from its name. */
    private Product blockProduct(StepProducts.Spec p) {
        String name = "block." + p.name();
        return new Product(matrix(p.aSize(), name.hashCode()), new Layout(Shape.of(p.aDims()), p.aStrides(), p.aOffset()),
                matrix(p.bSize(), name.hashCode() + 100L), new Layout(Shape.of(p.bDims()), p.bStrides(), p.bOffset()),
                engine.allocate(DType.FLOAT32, p.matrices() * p.m() * p.n()), Layout.contiguous(Shape.of(p.outDims())),
                p.gflop());
    }

    /** {@code x[batch, in] @ w.T}, w stored {@code [out, in]}. */
    private Product forward(int batch, int in, int out, long seed) {
        Storage x = matrix(batch * in, seed);
        Storage w = matrix(out * in, seed + 100);
        return product(x, Layout.contiguous(Shape.of(batch, in)),
                w, new Layout(Shape.of(in, out), new int[] {1, in}, 0), batch, in, out);
    }

    /** {@code dy.T @ x}: dy stored {@code [batch, out]}, x {@code [batch, in]}, result {@code [out, in]}. */
    private Product weightGrad(int batch, int out, int in, long seed) {
        Storage dy = matrix(batch * out, seed);
        Storage x = matrix(batch * in, seed + 100);
        return product(dy, new Layout(Shape.of(out, batch), new int[] {1, out}, 0),
                x, Layout.contiguous(Shape.of(batch, in)), out, batch, in);
    }

    /** {@code dy[batch, out] @ w[out, in]}. */
    private Product inputGrad(int batch, int out, int in, long seed) {
        Storage dy = matrix(batch * out, seed);
        Storage w = matrix(out * in, seed + 100);
        return product(dy, Layout.contiguous(Shape.of(batch, out)), w, Layout.contiguous(Shape.of(out, in)),
                batch, out, in);
    }

    /** {@code q @ k.T} per head: q and k stored {@code [heads, tokens, width]}, scores {@code [heads, tokens, tokens]}. */
    private Product scores(long seed) {
        Storage q = matrix(HEADS * TOKENS * WIDTH, seed);
        Storage k = matrix(HEADS * TOKENS * WIDTH, seed + 100);
        Storage out = engine.allocate(DType.FLOAT32, HEADS * TOKENS * TOKENS);
        return new Product(q, Layout.contiguous(Shape.of(HEADS, TOKENS, WIDTH)),
                k, new Layout(Shape.of(HEADS, WIDTH, TOKENS), new int[] {TOKENS * WIDTH, 1, WIDTH}, 0),
                out, Layout.contiguous(Shape.of(HEADS, TOKENS, TOKENS)), 2.0 * HEADS * TOKENS * TOKENS * WIDTH / 1e9);
    }

    /** {@code p @ v} per head: p {@code [heads, tokens, tokens]}, v {@code [heads, tokens, width]}. */
    private Product values(long seed) {
        Storage p = matrix(HEADS * TOKENS * TOKENS, seed);
        Storage v = matrix(HEADS * TOKENS * WIDTH, seed + 100);
        Storage out = engine.allocate(DType.FLOAT32, HEADS * TOKENS * WIDTH);
        return new Product(p, Layout.contiguous(Shape.of(HEADS, TOKENS, TOKENS)),
                v, Layout.contiguous(Shape.of(HEADS, TOKENS, WIDTH)),
                out, Layout.contiguous(Shape.of(HEADS, TOKENS, WIDTH)), 2.0 * HEADS * TOKENS * TOKENS * WIDTH / 1e9);
    }

    private Product product(Storage a, Layout aLayout, Storage b, Layout bLayout, int m, int k, int n) {
        Storage out = engine.allocate(DType.FLOAT32, m * n);
        return new Product(a, aLayout, b, bLayout, out, Layout.contiguous(Shape.of(m, n)), 2.0 * m * n * k / 1e9);
    }

    private Storage matrix(int size, long seed) {
        return engine.fromDoubles(GemmBenchmark.uniform(size, seed), DType.FLOAT32);
    }

    @Benchmark
    @Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "-Dadjoint.simd.threads=1"})
    public Storage oneThread(Flops flops) {
        return multiply(flops);
    }

    @Benchmark
    @Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "-Dadjoint.simd.threads=2"})
    public Storage twoThreads(Flops flops) {
        return multiply(flops);
    }

    private Storage multiply(Flops flops) {
        Storage last = null;
        for (Product p : products) {
            engine.matmul(p.a, p.aLayout, p.b, p.bLayout, p.out, p.outLayout);
            last = p.out;
        }
        flops.gflops += gflopsPerCall;
        return last;
    }
}
