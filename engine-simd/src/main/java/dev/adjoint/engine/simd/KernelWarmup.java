package dev.adjoint.engine.simd;

import dev.adjoint.Shape;
import dev.adjoint.spi.Layout;

/**
 * Runs the packed GEMM's micro-kernels and the SGD momentum step on small private arrays, on one
 * daemon thread started by the JVM's first product on this backend, so that C2 compiles them before
 * a model's first large products need them. Until C2 has compiled a kernel, every Vector API call
 * in it is the Java fallback of tier-3 C1 code, 50-100x slower; a product of the real sizes runs
 * long loops, so the JVM counts few invocations and compiles the kernel late (or on-stack, the larger
 * compile). Tiny products count invocations fast and get the smaller, ordinary compile early.
 *
 * <p>Measured on a 2-vCPU AMD EPYC Zen 5 shared with other builds (load 2.3-4.5), JDK 25, no JVM
 * flags, one matmul thread, three alternating pairs: the MLP 784-256-10 (batch 64, SGD momentum) took
 * 3.3-6.8 s for its first 938 steps instead of 4.1-9.8 s, its training thread using 2.6-3.2 s of CPU
 * instead of 4.1-4.8 s; the transformer block ({@code TransformerBlockBenchmark}'s model) took
 * 2.5-5.7 s for its first step instead of 4.2-8.9 s. At load 4.2-4.9 (three more pairs of
 * {@code benchmarks ColdStart}) only the training thread's CPU fell (MLP 2.5-3.6 s instead of
 * 3.4-3.7 s, block's first 8 steps 3.3-3.8 s instead of 4.3-5.4 s): wall time did not change, the
 * cores being busy anyway. With two matmul threads the warm-up competes with the helper for the second
 * core and neither changed measurably.
 *
 * <p>Results never depend on it: the kernels give the same bits compiled or not, and this thread
 * writes only its own arrays (each thread has its own packing buffers). It runs a fixed number of
 * rounds and ends; {@code -Dadjoint.simd.warmup=false} turns it off (the test suite does, to keep its
 * timing its own).
 */
final class KernelWarmup {
    static final String PROPERTY = "adjoint.simd.warmup";
    /** About 1-4 s of one core while the kernels are still cold; far less once they are compiled. */
    static final int ROUNDS = 1000;

    /** Read without the lock on every product: after the first, the check is all it costs. */
    private static volatile boolean started;

    private KernelWarmup() {
    }

    /** Starts the warm-up once per JVM, when the Vector API is present and the property does not say false. */
    static void startOnce() {
        if (!started) {
            startFirst();
        }
    }

    private static synchronized void startFirst() {
        if (started) {
            return;
        }
        started = true;
        if (VectorModule.PRESENT && Boolean.parseBoolean(System.getProperty(PROPERTY, "true"))) {
            start(ROUNDS);
        }
    }

    static Thread start(int rounds) {
        Thread thread = new Thread(() -> run(rounds), "adjoint-simd-warmup");
        thread.setDaemon(true);
        thread.start();
        return thread;
    }

    /**
     * The shapes take the paths of real training steps: 28 rows are a 12-row panel and two 8-row
     * ones, 30 rows two 12-row panels and a 6-row one (rounds alternate between them, so every
     * kernel height compiles), 80 columns two full 32-wide panels and a narrower one, k = 16 one
     * pass of the in-register transposes; a plain product with a bias (nn.Linear), one with b
     * transposed ({@code x @ w.T}) and one with a transposed ({@code x.T @ g}, the weight gradient);
     * and {@code x @ w.T} with w's rows read in place ({@code FloatGemm.multiplyStreamingRowsOfB}, the
     * MLP's first layer), 13 rows of w: two blocks of six and a last of one; and the same for four and
     * 24 rows of x ({@code FloatGemm.microKernelNarrowRowsOfB} and {@code microKernelNarrowRowsOfB2}, a
     * few tokens at inference): a block of twelve rows of w and a last of one.
     */
    static void run(int rounds) {
        try {
            int rows = 30, n = 80, k = 16;
            float[] a = new float[rows * k], b = new float[k * n], o = new float[rows * n], bias = new float[n];
            for (int i = 0; i < a.length; i++) {
                a[i] = (i % 7) * 0.25f;
            }
            for (int i = 0; i < b.length; i++) {
                b[i] = (i % 5) * 0.5f;
            }
            Layout lb = Layout.contiguous(Shape.of(k, n));
            int size = 100;
            float[] p = new float[size], g = new float[size], buf = new float[size];
            for (int r = 0; r < rounds; r++) {
                int m = r % 2 == 0 ? 28 : 30;
                Layout la = Layout.contiguous(Shape.of(m, k));
                Layout lo = Layout.contiguous(Shape.of(m, n));
                FloatGemm.multiply(a, la, k, 1, b, lb, n, 1, bias, 0, o, lo, n, m, n, k, 0, 1, 1);
                FloatGemm.multiply(a, la, k, 1, b, lb, 1, k, o, lo, n, m, n, k, 0, 1, 1);
                FloatGemm.multiply(a, la, 1, m, b, lb, n, 1, o, lo, n, m, n, k, 0, 1, 1);
                if (FloatGemm.MR == 12) {
                    FloatGemm.multiplyStreamingRowsOfB(a, 0, k, b, 0, k, null, 0, o, 0, 13, 16, 13, k, false, 1);
                    FloatGemm.multiplyStreamingRowsOfB(a, 0, k, b, 0, k, null, 0, o, 0, 13, 24, 13, k, true, 1);
                }
                FloatGemm.multiplyStreamingRowsOfB(a, 0, k, b, 0, k, null, 0, o, 0, 13, 4, 13, k, true, 1);
                FloatOptimizerSteps.sgd(p, 0, g, 0, buf, 0, size, -0.01f, 0.9f, 1f, 0f, false, false, false);
            }
        } catch (RuntimeException | LinkageError e) {
            // A warm-up that fails costs the user nothing but the warm-up: the kernels still compile
            // when the real work makes them hot.
        }
    }
}
