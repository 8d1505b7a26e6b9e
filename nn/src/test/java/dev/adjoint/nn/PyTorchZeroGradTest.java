package dev.adjoint.nn;

import dev.adjoint.DType;
import dev.adjoint.Tensor;
import dev.adjoint.nn.optim.Adagrad;
import dev.adjoint.nn.optim.Adam;
import dev.adjoint.nn.optim.AdamW;
import dev.adjoint.nn.optim.Optimizer;
import dev.adjoint.nn.optim.RMSprop;
import dev.adjoint.nn.optim.SGD;
import dev.adjoint.spi.Backend;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.TestFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.DynamicContainer.dynamicContainer;
import static org.junit.jupiter.api.DynamicTest.dynamicTest;

/**
 * {@code zeroGrad(false)} against PyTorch 1.13's default {@code zero_grad()} (set_to_none=False), and
 * {@code zeroGrad()} against {@code zero_grad(set_to_none=True)}: with a zeroed gradient, a parameter
 * the next backward pass does not reach still moves by its momentum, weight decay and moments; with a
 * cleared one it stays. Each optimizer takes three steps on w = [1, -2] and v = [0.5]: the first with
 * loss {@code sum(w * w) + 3 sum(v)}, the next two with {@code sum(v * v)}, which does not reach w.
 *
 * <p>The expected values were computed with /usr/bin/python3 (torch 1.13, float64):
 * <pre>
 * for name, make in OPTIMIZERS.items():      # the torch.optim constructors named in optimizers() below
 *     for set_to_none in (False, True):
 *         w = torch.tensor([1.0, -2.0], requires_grad=True)
 *         v = torch.tensor([0.5], requires_grad=True)
 *         opt = make([w, v])
 *         for step in range(3):
 *             opt.zero_grad(set_to_none=set_to_none)
 *             loss = (w * w).sum() + 3 * v.sum() if step == 0 else (v * v).sum()
 *             loss.backward()
 *             opt.step()
 *         print(name, set_to_none, w.tolist(), v.tolist())
 * </pre>
 */
final class PyTorchZeroGradTest {
    private static final double RTOL = 1e-12;

    /** An optimizer, the torch.optim call it matches, and w and v after three steps for each zero_grad. */
    private record Expected(String torch, Function<List<Tensor>, Optimizer> make, double[] wZeroed, double[] wCleared,
                            double v) {
    }

    private static List<Expected> optimizers() {
        return List.of(
                new Expected("SGD(lr=0.1, momentum=0.9)", p -> new SGD(p, 0.1, 0.9),
                        new double[] {0.45799999999999996, -0.9159999999999999}, new double[] {0.8, -1.6},
                        -0.36700000000000005),
                new Expected("SGD(lr=0.1, momentum=0.9, weight_decay=0.1, nesterov=True)",
                        p -> new SGD(p, 0.1, 0.9, 0, 0.1, true),
                        new double[] {0.2535527609999999, -0.5071055219999998}, new double[] {0.601, -1.202},
                        -0.38601457950000007),
                new Expected("Adam(lr=0.1)", p -> new Adam(p, 0.1),
                        new double[] {0.7811984787605275, -1.7811984780491728},
                        new double[] {0.9000000005, -1.90000000025}, 0.23975275573976348),
                new Expected("Adam(lr=0.1, weight_decay=0.1, amsgrad=True)",
                        p -> new Adam(p, 0.1, 0.9, 0.999, 1e-8, 0.1, true),
                        new double[] {0.7731751358493077, -1.77262582706532},
                        new double[] {0.9000000004761904, -1.9000000002380952}, 0.23869505399305507),
                new Expected("AdamW(lr=0.1, weight_decay=0.1)", p -> new AdamW(p, 0.1, 0.9, 0.999, 1e-8, 0.1, false),
                        new double[] {0.7541575369999748, -1.7244565362959647},
                        new double[] {0.8900000004999999, -1.88000000025}, 0.22829310894178834),
                new Expected("RMSprop(lr=0.01, momentum=0.9, centered=True, weight_decay=0.1)",
                        p -> new RMSprop(p, 0.01, 0.99, 1e-8, 0.1, 0.9, true),
                        new double[] {0.7155322011279555, -1.7146038923032427},
                        new double[] {0.8994962232840834, -1.899496220879081}, 0.15785642837635694),
                new Expected("Adagrad(lr=0.1, weight_decay=0.1)", p -> new Adagrad(p, 0.1, 0, 0.1, 0, 1e-10),
                        new double[] {0.8914606670990982, -1.89097694861395},
                        new double[] {0.9000000000047619, -1.900000000002381}, 0.349386119460839));
    }

    @TestFactory
    Stream<DynamicNode> anUnreachedParameterMovesAsInPyTorch() {
        List<DynamicNode> backends = new ArrayList<>();
        for (Backend backend : Reference.backends()) {
            List<DynamicNode> tests = new ArrayList<>();
            for (Expected e : optimizers()) {
                tests.add(dynamicTest(e.torch + " after zeroGrad(false)", () -> check(backend, e, false)));
                tests.add(dynamicTest(e.torch + " after zeroGrad()", () -> check(backend, e, true)));
            }
            backends.add(dynamicContainer(backend.name(), tests));
        }
        return backends.stream();
    }

    private static void check(Backend backend, Expected e, boolean setToNone) {
        var create = Tensor.on(backend);
        Tensor w = create.fromArray(new double[] {1, -2}, DType.FLOAT64, 2).requiresGrad(true);
        Tensor v = create.fromArray(new double[] {0.5}, DType.FLOAT64, 1).requiresGrad(true);
        Optimizer opt = e.make.apply(List.of(w, v));
        for (int step = 0; step < 3; step++) {
            if (setToNone) {
                opt.zeroGrad();
            } else {
                opt.zeroGrad(false);
            }
            Tensor loss = step == 0 ? w.mul(w).sum().add(v.sum().mul(3.0)) : v.mul(v).sum();
            loss.backward();
            opt.step();
        }
        String what = e.torch + (setToNone ? ", zero_grad(set_to_none=True)" : ", zero_grad()");
        assertClose(setToNone ? e.wCleared : e.wZeroed, w.toDoubleArray(), what + ": w");
        assertClose(new double[] {e.v}, v.toDoubleArray(), what + ": v");
        if (setToNone) {
            assertNull(w.grad(), what + ": w's gradient was cleared and not recomputed");
        } else {
            assertArrayEquals(new double[] {0, 0}, w.grad().toDoubleArray(), what + ": w's gradient stays zero");
        }
    }

    private static void assertClose(double[] expected, double[] actual, String what) {
        assertEquals(expected.length, actual.length, what);
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], actual[i], RTOL * Math.abs(expected[i]), what + "[" + i + "]");
        }
    }
}
