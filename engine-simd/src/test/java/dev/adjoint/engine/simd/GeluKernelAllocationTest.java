package dev.adjoint.engine.simd;

import dev.adjoint.DType;
import dev.adjoint.Shape;
import dev.adjoint.spi.Layout;
import dev.adjoint.spi.Storage;
import dev.adjoint.spi.UnaryOp;
import org.junit.jupiter.api.Test;

import java.lang.management.ManagementFactory;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The GELU kernels allocate nothing once C2 has compiled them: each loop body must fit what C2
 * inlines in one compilation, or a transcendental is left a call and every vector is boxed (the
 * exact derivative in FLOAT32 allocated 12 bytes per element that way, 12 MB per 2^20 floats, and
 * ran three times slower). The kernel is called until one call allocates (almost) nothing, which the
 * compiled code does; the interpreter and C1 box, so the first calls always allocate. Allocation is
 * counted per thread by the JVM, so the test does not depend on the machine's speed or load.
 */
class GeluKernelAllocationTest {
    private static final int N = 1 << 14;
    /** Calls before giving up: C2 compiles a loop this hot within a few hundred. */
    private static final int MAX_CALLS = 20_000;

    @Test
    void float32KernelsStopAllocatingOnceCompiled() {
        assumeTrue(!System.getProperty("java.vm.info", "").contains("interpreted"), "needs a JIT");
        for (UnaryOp op : new UnaryOp[] {UnaryOp.GELU, UnaryOp.GELU_DERIVATIVE, UnaryOp.GELU_TANH,
                UnaryOp.GELU_TANH_DERIVATIVE}) {
            assertStopsAllocating(op, DType.FLOAT32);
        }
    }

    /** FLOAT64's exact derivative (a degree-10 and a degree-11 polynomial with exp) still boxes. */
    @Test
    void float64KernelsStopAllocatingOnceCompiled() {
        assumeTrue(!System.getProperty("java.vm.info", "").contains("interpreted"), "needs a JIT");
        for (UnaryOp op : new UnaryOp[] {UnaryOp.GELU, UnaryOp.GELU_TANH, UnaryOp.GELU_TANH_DERIVATIVE}) {
            assertStopsAllocating(op, DType.FLOAT64);
        }
    }

    private static void assertStopsAllocating(UnaryOp op, DType dtype) {
        SimdBackend backend = new SimdBackend();
        double[] values = new double[N];
        for (int i = 0; i < N; i++) {
            values[i] = (i % 2000 - 1000) / 250.0;
        }
        Storage x = backend.fromDoubles(values, dtype);
        Storage out = backend.allocate(dtype, N);
        Layout layout = Layout.contiguous(Shape.of(N));
        var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long least = Long.MAX_VALUE;
        for (int call = 0; call < MAX_CALLS && least > 1024; call++) {
            long before = threads.getCurrentThreadAllocatedBytes();
            backend.unary(op, x, layout, out, layout);
            least = Math.min(least, threads.getCurrentThreadAllocatedBytes() - before);
        }
        assertTrue(least <= 1024, op + " " + dtype + " on " + N + " elements still allocates " + least
                + " bytes per call after " + MAX_CALLS + " calls (boxed vectors: see -XX:+PrintInlining)");
    }
}
