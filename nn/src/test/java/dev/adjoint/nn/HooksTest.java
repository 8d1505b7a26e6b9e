package dev.adjoint.nn;

import dev.adjoint.DType;
import dev.adjoint.Generator;
import dev.adjoint.Tensor;
import dev.adjoint.autograd.RemovableHandle;
import dev.adjoint.backend.Backends;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

/** Forward hooks, forward pre-hooks and their handles, as a user of PyTorch's hooks relies on them. */
final class HooksTest {
    static List<String> backends() {
        return Reference.backendNames();
    }

    private static Sequential mlp(String backend) {
        NnContext ctx = NnContext.of(Backends.get(backend), DType.FLOAT64, new Generator(3));
        return new Sequential(new Linear(3, 4, ctx), new Tanh(), new Linear(4, 2, ctx));
    }

    private static Tensor input(String backend) {
        return Tensor.on(backend).fromArray(new double[] {0.5, -1, 2, 1, 0, -0.5}, 2, 3);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("backends")
    void forwardHooksCaptureActivationsOfEveryLayerByName(String backend) {
        Sequential model = mlp(backend);
        Map<String, Tensor> activations = new LinkedHashMap<>();
        List<RemovableHandle> handles = new ArrayList<>();
        model.namedModules().forEach((name, m) -> {
            if (!name.isEmpty()) {
                handles.add(m.registerForwardHook((module, in, out) -> {
                    activations.put(name, out.detach());
                    return null;
                }));
            }
        });
        Tensor x = input(backend);
        Tensor y = model.call(x);
        assertEquals(List.of("0", "1", "2"), new ArrayList<>(activations.keySet()));
        Tensor hidden = model.get(0).forward(x);
        assertArrayEquals(hidden.toDoubleArray(), activations.get("0").toDoubleArray(), 0);
        assertArrayEquals(hidden.tanh().toDoubleArray(), activations.get("1").toDoubleArray(), 0);
        assertArrayEquals(y.toDoubleArray(), activations.get("2").toDoubleArray(), 0);

        handles.forEach(RemovableHandle::remove);
        activations.clear();
        model.call(x);
        assertEquals(Map.of(), activations, "removed hooks do not run");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("backends")
    void hooksMayReplaceInputAndOutputAndGradientsFollowTheReplacement(String backend) {
        Sequential model = mlp(backend);
        Tensor x = input(backend).requiresGrad(true);
        Tensor plain = model.call(x);

        // Doubling the tanh layer's input and negating its output, as the hooks below do, by hand.
        Module tanh = model.get(1);
        Tensor expected = model.get(2).forward(model.get(0).forward(x).mul(2.0).tanh().neg());
        RemovableHandle pre = tanh.registerForwardPreHook((m, in) -> in.mul(2.0));
        RemovableHandle post = tanh.registerForwardHook((m, in, out) -> {
            assertSame(tanh, m);
            return out.neg();
        });
        Tensor hooked = model.call(x);
        assertArrayEquals(expected.toDoubleArray(), hooked.toDoubleArray(), 1e-15);

        hooked.sum().backward();
        double[] hookedGrad = x.grad().toDoubleArray();
        x.zeroGrad();
        expected.sum().backward();
        assertArrayEquals(x.grad().toDoubleArray(), hookedGrad, 1e-15);

        try (pre; post) {
            assertEquals(2, hooked.rank());
        }
        assertArrayEquals(plain.toDoubleArray(), model.call(x).toDoubleArray(), 0, "closing the handles removes both");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("backends")
    void hooksRunInRegistrationOrderOncePerRegistrationAndNotOnDirectForward(String backend) {
        Module tanh = new Tanh();
        List<String> calls = new ArrayList<>();
        Module.ForwardHook logger = (m, in, out) -> {
            calls.add("log");
            return null;
        };
        RemovableHandle first = tanh.registerForwardHook(logger);
        tanh.registerForwardHook((m, in, out) -> {
            calls.add("second");
            return null;
        });
        RemovableHandle third = tanh.registerForwardHook(logger);
        tanh.registerForwardPreHook((m, in) -> {
            calls.add("pre");
            return null;
        });
        Tensor x = input(backend);
        tanh.call(x);
        assertEquals(List.of("pre", "log", "second", "log"), calls);

        calls.clear();
        tanh.forward(x);
        assertEquals(List.of(), calls, "forward() itself skips hooks, as module.forward(x) in PyTorch");

        first.remove();
        first.remove();
        calls.clear();
        tanh.call(x);
        assertEquals(List.of("pre", "second", "log"), calls, "one handle removes one registration");
        third.remove();
        calls.clear();
        tanh.call(x);
        assertEquals(List.of("pre", "second"), calls);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("backends")
    void aHookMayRemoveItselfWhileRunning(String backend) {
        Module relu = new ReLU();
        int[] calls = {0};
        RemovableHandle[] self = new RemovableHandle[1];
        self[0] = relu.registerForwardHook((m, in, out) -> {
            calls[0]++;
            self[0].remove();
            return null;
        });
        relu.call(input(backend));
        relu.call(input(backend));
        assertEquals(1, calls[0]);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("backends")
    void aForwardHookAndATensorHookTogetherGiveAnActivationsGradient(String backend) {
        // The usual saliency recipe: a forward hook keeps the activation, a tensor hook on it its gradient.
        Sequential model = mlp(backend);
        Tensor[] gradOfHidden = new Tensor[1];
        List<RemovableHandle> tensorHooks = new ArrayList<>();
        model.get(1).registerForwardHook((m, in, out) -> {
            tensorHooks.add(out.registerHook(g -> {
                gradOfHidden[0] = g;
                return null;
            }));
            return null;
        });
        Tensor x = input(backend);
        Tensor out = model.call(x);
        out.sum().backward();
        // d sum(W2 h + b2) / dh = the column sums of W2, for every row of the batch.
        double[] w2 = ((Linear) model.get(2)).weight().sum(0, false).toDoubleArray();
        double[] g = gradOfHidden[0].toDoubleArray();
        for (int row = 0; row < 2; row++) {
            for (int j = 0; j < 4; j++) {
                assertEquals(w2[j], g[row * 4 + j], 1e-15);
            }
        }
        tensorHooks.forEach(RemovableHandle::remove);
    }
}
