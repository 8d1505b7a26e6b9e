package dev.adjoint.conformance;

import dev.adjoint.DType;
import dev.adjoint.Tensor;
import dev.adjoint.TensorFactory;
import dev.adjoint.spi.Backend;
import dev.adjoint.spi.UnaryOp;
import org.junit.jupiter.api.DynamicNode;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static dev.adjoint.spi.UnaryOp.*;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.DynamicContainer.dynamicContainer;
import static org.junit.jupiter.api.DynamicTest.dynamicTest;

/**
 * The sign of a zero result, as PyTorch 1.13 gives it (C99 for the library functions): the odd
 * functions that pass through the origin keep the sign of a zero argument (erf(-0) = -0, as tanh
 * and sin), the rounding functions keep it, sqrt(-0) = -0, and neg, abs and square give the
 * sign their algebra gives. The catalogue's random samples never hit an exact zero; a sign lost
 * here shows up later as 1/x = -inf instead of +inf, or in a copySign. Each input is long enough
 * to fill whole vectors and a tail, so vector bodies and tails are both checked.
 */
public final class SignedZeros {
    private static final double NEG_ZERO = -0.0;
    private static final int LENGTH = 37;

    /** For each op: whether op(-0) and op(+0) have the sign bit set. */
    private static final Map<UnaryOp, boolean[]> SIGN_OF_RESULT = Map.ofEntries(
            Map.entry(NEG, new boolean[] {false, true}),
            Map.entry(ABS, new boolean[] {false, false}),
            Map.entry(SIGN, new boolean[] {false, false}),
            Map.entry(SQUARE, new boolean[] {false, false}),
            Map.entry(SQRT, new boolean[] {true, false}),
            Map.entry(LOG1P, new boolean[] {true, false}),
            Map.entry(EXPM1, new boolean[] {true, false}),
            Map.entry(SIN, new boolean[] {true, false}),
            Map.entry(TAN, new boolean[] {true, false}),
            Map.entry(ASIN, new boolean[] {true, false}),
            Map.entry(ATAN, new boolean[] {true, false}),
            Map.entry(SINH, new boolean[] {true, false}),
            Map.entry(TANH, new boolean[] {true, false}),
            Map.entry(ASINH, new boolean[] {true, false}),
            Map.entry(ATANH, new boolean[] {true, false}),
            Map.entry(ERF, new boolean[] {true, false}),
            Map.entry(FLOOR, new boolean[] {true, false}),
            Map.entry(CEIL, new boolean[] {true, false}),
            Map.entry(ROUND, new boolean[] {true, false}),
            Map.entry(TRUNC, new boolean[] {true, false}));

    private SignedZeros() {
    }

    public static Stream<DynamicNode> tests(Backend backend) {
        List<DynamicNode> nodes = new ArrayList<>();
        for (DType dtype : List.of(DType.FLOAT64, DType.FLOAT32)) {
            List<DynamicNode> ops = new ArrayList<>();
            SIGN_OF_RESULT.entrySet().stream().sorted(Map.Entry.comparingByKey()).forEach(e -> ops.add(
                    dynamicTest(e.getKey().name(), () -> check(Tensor.on(backend), backend, e.getKey(), dtype,
                            e.getValue()))));
            nodes.add(dynamicContainer(dtype.name(), ops));
        }
        return nodes.stream();
    }

    private static void check(TensorFactory f, Backend backend, UnaryOp op, DType dtype, boolean[] expected) {
        double[] zeros = {NEG_ZERO, 0.0};
        for (int z = 0; z < 2; z++) {
            double[] input = new double[LENGTH];
            Arrays.fill(input, zeros[z]);
            double[] out = UnaryOpCalls.of(op).apply(f.fromArray(input, dtype, LENGTH)).toDoubleArray();
            for (int i = 0; i < LENGTH; i++) {
                boolean negative = Double.doubleToRawLongBits(out[i]) < 0;
                if (out[i] != 0 || negative != expected[z]) {
                    fail(op.name().toLowerCase() + "(" + (z == 0 ? "-0.0" : "0.0") + ") on " + backend.name() + " in "
                            + dtype + ": element " + i + " of " + LENGTH + " is " + out[i] + ", PyTorch gives "
                            + (expected[z] ? "-0.0" : "0.0"));
                }
            }
        }
    }
}
