package dev.adjoint.engine.simd;

import dev.adjoint.DType;
import dev.adjoint.Shape;
import dev.adjoint.backend.Backends;
import dev.adjoint.spi.Backend;
import dev.adjoint.spi.BinaryOp;
import dev.adjoint.spi.Layout;
import dev.adjoint.spi.Storage;

/**
 * Run in a child JVM by {@link SimdAvailabilityTest}: prints what backend discovery sees, one fact per
 * line, so the test can assert on it without parsing anything clever.
 */
public final class AvailabilityProbe {
    private AvailabilityProbe() {
    }

    public static void main(String[] args) {
        System.out.println("describe=" + Backends.describe());
        System.out.println("default=" + Backends.defaultBackend().name());
        // Called directly, the backend still computes, through its strided loops: nothing may touch
        // a Vector API class when the module is absent.
        Backend simd = new SimdBackend();
        int n = 100;
        double[] ones = new double[n];
        java.util.Arrays.fill(ones, 1.0);
        Layout layout = Layout.contiguous(Shape.of(n));
        Storage out = simd.allocate(DType.FLOAT32, n);
        simd.binary(BinaryOp.ADD, simd.fromDoubles(ones, DType.FLOAT32), layout, simd.fromDoubles(ones, DType.FLOAT32),
                layout, out, layout);
        System.out.println("direct=" + simd.toDoubles(out, layout)[n - 1]);
    }
}
