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
 * the same element. This happened on simd for exp, log, log1p, tanh, sigmoid and erf.
 *
 * <p>Every op runs on tensors of every length from 1 to {@value #MAX_LENGTH} (three vectors of the
 * widest x86 species, 16 floats, so every length has whole vectors and tails of every size in both
 * dtypes), each filled with a cycle of {@link #PROBES} that starts at every probe in turn, so each
 * probe meets each index with varied neighbours. Each element is compared bit for bit with the op on
 * the probe alone; NaN matches any NaN.
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
            for (int start = 0; start < probes; start++) {
                double[] x = new double[n];
                for (int i = 0; i < n; i++) {
                    x[i] = PROBES[(start + i) % probes];
                }
                double[] y = op.apply(f.fromArray(x, dtype, n)).toDoubleArray();
                for (int i = 0; i < n; i++) {
                    int p = (start + i) % probes;
                    if (Double.doubleToLongBits(y[i]) != Double.doubleToLongBits(alone[p])) {
                        fail(name + " " + dtype + " of " + PROBES[p] + " is " + y[i] + " at index " + i
                                + " of a tensor of " + n + " elements, " + alone[p] + " alone (bits "
                                + Long.toHexString(Double.doubleToLongBits(y[i])) + " against "
                                + Long.toHexString(Double.doubleToLongBits(alone[p])) + ")");
                    }
                }
            }
        }
    }
}
