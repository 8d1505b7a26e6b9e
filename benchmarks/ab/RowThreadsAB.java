import dev.adjoint.DType;
import dev.adjoint.Shape;
import dev.adjoint.backend.Backends;
import dev.adjoint.spi.Backend;
import dev.adjoint.spi.BinaryOp;
import dev.adjoint.spi.Layout;
import dev.adjoint.spi.Storage;
import dev.adjoint.spi.UnaryOp;

/**
 * Where splitting a row-wise or elementwise call over two threads starts to pay
 * (engine-simd's RowThreads.PARALLEL_ELEMENTS): softmax, layer norm, GELU and an add over FLOAT32
 * {@code [rows, 256]} at 2^10 ... 2^21 elements, best of many rounds per size. Run it twice, each
 * JVM splitting every call ({@code -Dadjoint.simd.parallelElements=1}), once on one thread and once
 * on two, and compare the columns:
 *
 * <pre>
 * for t in 1 2; do flock /tmp/adjoint-bench.lock java --add-modules jdk.incubator.vector \
 *     -Dadjoint.simd.threads=$t -Dadjoint.simd.parallelElements=1 \
 *     -cp benchmarks/target/benchmarks.jar benchmarks/ab/RowThreadsAB.java; done
 * </pre>
 */
public class RowThreadsAB {
    public static void main(String[] args) {
        Backend simd = Backends.get("simd");
        int width = 256;
        System.out.println("threads=" + System.getProperty("adjoint.simd.threads") + "  best us per call");
        System.out.printf("%10s %10s %10s %10s %10s%n", "elements", "softmax", "layerNorm", "gelu", "add");
        for (int log2 = 10; log2 <= 21; log2++) {
            int n = 1 << log2;
            int rows = n / width;
            Shape shape = Shape.of(rows, width);
            Layout layout = Layout.contiguous(shape);
            Storage x = simd.allocate(DType.FLOAT32, n);
            Storage y = simd.allocate(DType.FLOAT32, n);
            Storage out = simd.allocate(DType.FLOAT32, n);
            simd.fill(x, layout, 0.25);
            simd.fill(y, layout, -0.5);
            Storage mean = simd.allocate(DType.FLOAT32, rows);
            Storage rstd = simd.allocate(DType.FLOAT32, rows);
            // About 0.3 s of calls per kernel and size, in rounds of ~1 ms, best round kept.
            int perRound = Math.max(1, (1 << 20) / n);
            int rounds = 300;
            double softmax = best(rounds, perRound, () -> simd.fused().softmax(x, layout, false, out, layout));
            double layerNorm = best(rounds, perRound,
                    () -> simd.fused().layerNorm(x, 0, rows, width, null, null, 1e-5, out, mean, rstd));
            double gelu = best(rounds, perRound, () -> simd.unary(UnaryOp.GELU, x, layout, out, layout));
            double add = best(rounds, perRound, () -> simd.binary(BinaryOp.ADD, x, layout, y, layout, out, layout));
            System.out.printf("%10d %10.2f %10.2f %10.2f %10.2f%n", n, softmax, layerNorm, gelu, add);
        }
    }

    private static double best(int rounds, int perRound, Runnable call) {
        double best = Double.MAX_VALUE;
        for (int r = 0; r < rounds; r++) {
            long t0 = System.nanoTime();
            for (int i = 0; i < perRound; i++) {
                call.run();
            }
            best = Math.min(best, (System.nanoTime() - t0) / 1e3 / perRound);
        }
        return best;
    }
}
