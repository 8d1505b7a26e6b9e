package dev.adjoint.conformance;

import dev.adjoint.DType;
import dev.adjoint.Tensor;
import dev.adjoint.TensorFactory;
import dev.adjoint.spi.Backend;
import dev.adjoint.spi.UnaryOp;
import org.junit.jupiter.api.DynamicNode;

import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.DynamicContainer.dynamicContainer;
import static org.junit.jupiter.api.DynamicTest.dynamicTest;

/**
 * An elementwise op gives a value the same bits wherever the value sits in the tensor and whatever
 * its neighbours are. A vector kernel that finishes the elements past its last whole vector with a
 * different formula (the scalar reference, a library call) rounds some of them differently in the last
 * bit, and a kernel that picks a formula per vector from all its lanes makes a value's result depend
 * on its neighbours; either way {@code x.exp()} and {@code x.narrow(0, 1, n - 1).exp()} disagree on
 * the same element; and a kernel that runs views through another formula makes a value's result
 * depend on the layout. This happened on simd for exp, log, log1p, tanh, sigmoid and erf.
 *
 * <p>Every op runs on tensors of every length from 1 to {@value #MAX_LENGTH} (three vectors of the
 * widest x86 species, 16 floats, so every length has whole vectors and tails of every size in both
 * dtypes), each filled with a cycle of {@link #PROBES} that starts at every probe in turn, so each
 * probe meets each index with varied neighbours; and on a transpose. Each element is compared bit for
 * bit with the op on the probe alone; NaN matches any NaN.
 */
final class UnaryPositionIndependence {
    static final int MAX_LENGTH = 48;
    /**
     * Signed zeros, tiny and subnormal magnitudes, values on both sides of the kernels' internal
     * switches (tanh's rational range, exp's normal-result range, the domains of log, asin, acosh),
     * values past overflow in float or double, infinities and NaN.
     */
    static final double[] PROBES = {0.0, -0.0, 1e-12, -3e-8, 1e-39, 0.3, -0.7, 0.99, 1.0, 1.5, -2.5, 2.999, 3.2,
            -3.6, 5.5, -9.5, 20.5, -30, 88.9, -104.5, 710, -746, Double.POSITIVE_INFINITY,
            Double.NEGATIVE_INFINITY, Double.NaN};

    private UnaryPositionIndependence() {
    }

    static Stream<DynamicNode> tests(Backend backend) {
        TensorFactory f = Tensor.on(backend);
        List<DynamicNode> nodes = new ArrayList<>();
        for (DType dtype : List.of(DType.FLOAT32, DType.FLOAT64)) {
            List<DynamicNode> ops = new ArrayList<>();
            for (UnaryOp op : UnaryOp.values()) {
                ops.add(dynamicTest(op.opName(), () -> check(f, dtype, op.opName(), UnaryOpCalls.of(op))));
            }
            nodes.add(dynamicContainer(dtype.toString(), ops));
        }
        return nodes.stream();
    }

    private static void check(TensorFactory f, DType dtype, String name, UnaryOperator<Tensor> op) {
        int probes = PROBES.length;
        double[] alone = new double[probes];
        for (int p = 0; p < probes; p++) {
            alone[p] = op.apply(f.fromArray(new double[] {PROBES[p]}, dtype, 1)).toDoubleArray()[0];
        }
        for (int n = 1; n <= MAX_LENGTH; n++) {
            // Row s holds the cycle from probe s, so every probe meets every index. The rows are
            // separate runs of n elements (a view whose rows are contiguous, one kernel call per row
            // on simd), which costs one call per length where a tensor per row cost 25: nd4j spent a
            // minute on those.
            double[] grid = new double[probes * (n + 1)];
            for (int s = 0; s < probes; s++) {
                for (int i = 0; i <= n; i++) {
                    grid[s * (n + 1) + i] = PROBES[(s + i) % probes];
                }
            }
            Tensor rows = f.fromArray(grid, dtype, probes, n + 1).narrow(1, 0, n);
            compare(name, dtype, "a row of " + n + " elements", rows, op.apply(rows), alone);
            // And one plain tensor of n elements, from a different probe for each n.
            Tensor plain = rows.narrow(0, n % probes, 1).reshape(n).contiguous();
            compare(name, dtype, "a tensor of " + n + " elements", plain, op.apply(plain), alone);
        }
        // A transpose: no element in a contiguous run.
        double[] grid = new double[probes * 7];
        for (int i = 0; i < grid.length; i++) {
            grid[i] = PROBES[i % probes];
        }
        Tensor transposed = f.fromArray(grid, dtype, probes, 7).transpose(0, 1);
        compare(name, dtype, "a transposed view", transposed, op.apply(transposed), alone);
    }

    /** Fails at the first element of {@code y} whose bits differ from {@code op} of its probe alone. */
    private static void compare(String name, DType dtype, String where, Tensor x, Tensor y, double[] alone) {
        double[] in = x.contiguous().toDoubleArray();
        double[] out = y.toDoubleArray();
        int last = x.shape().dim(x.shape().rank() - 1);
        for (int i = 0; i < in.length; i++) {
            int p = indexOf(in[i], dtype);
            if (Double.doubleToLongBits(out[i]) != Double.doubleToLongBits(alone[p])) {
                fail(name + " " + dtype + " of " + PROBES[p] + " is " + out[i] + " at index " + i % last + " of "
                        + where + ", " + alone[p] + " alone (bits " + Long.toHexString(Double.doubleToLongBits(out[i]))
                        + " against " + Long.toHexString(Double.doubleToLongBits(alone[p])) + ")");
            }
        }
    }

    /** Which probe {@code value} holds (as stored in {@code dtype}). */
    private static int indexOf(double value, DType dtype) {
        for (int p = 0; p < PROBES.length; p++) {
            double probe = dtype == DType.FLOAT32 ? (float) PROBES[p] : PROBES[p];
            if (Double.doubleToLongBits(probe) == Double.doubleToLongBits(value)) {
                return p;
            }
        }
        throw new IllegalStateException(value + " is not a probe");
    }
}
