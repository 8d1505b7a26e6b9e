package dev.adjoint.nn;

import dev.adjoint.DType;
import dev.adjoint.Generator;
import dev.adjoint.MemoryScope;
import dev.adjoint.Tensor;
import dev.adjoint.backend.Backends;
import dev.adjoint.nn.loss.CrossEntropyLoss;
import dev.adjoint.nn.optim.Adam;
import dev.adjoint.nn.optim.AdamW;
import dev.adjoint.nn.optim.Optimizer;
import dev.adjoint.nn.optim.SGD;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Optimizer state outlives a memory scope. On nd4j a {@link MemoryScope} frees the native memory a
 * step allocated when it closes; the momentum and moment buffers an optimizer creates lazily inside the first step must
 * survive it, or the second step fails with ReleasedTensorException. Each optimizer runs several
 * steps with a scope per step and must match, bit for bit, the same steps without scopes.
 */
final class ScopedOptimizerTest {
    private static final String BACKEND = "nd4j";
    private static final int STEPS = 6;

    private static Function<List<Tensor>, Optimizer> optimizer(String name) {
        return switch (name) {
            case "SGD momentum" -> p -> new SGD(p, 0.1, 0.9);
            case "SGD nesterov, weight decay" -> p -> new SGD(p, 0.1, 0.9, 0, 1e-2, true);
            case "Adam" -> p -> new Adam(p, 0.01);
            case "Adam amsgrad" -> p -> new Adam(p, 0.01, 0.9, 0.999, 1e-8, 1e-3, true);
            case "AdamW" -> p -> new AdamW(p, 0.01);
            case "user-written" -> SignMomentum::new;
            default -> throw new IllegalArgumentException(name);
        };
    }

    /**
     * What a user writing an optimizer does: state created on first use, kept in the state map,
     * updated in place afterwards. Nothing in it knows about scopes.
     */
    private static final class SignMomentum extends Optimizer {
        SignMomentum(List<Tensor> params) {
            super(params);
            defineHyper("lr", 0.05);
        }

        @Override
        protected void update(Tensor p, Tensor grad, Map<String, Tensor> state) {
            Tensor velocity = state.get("velocity");
            if (velocity == null) {
                state.put("velocity", grad.mul(1.0));
                velocity = state.get("velocity");
            } else {
                velocity.mul_(0.5).add_(grad, 1.0);
            }
            p.sub_(velocity.sign(), lr());
        }

        @Override
        protected List<String> stateNames(Map<String, Double> hyperparameters) {
            return List.of("velocity");
        }
    }

    private record Run(List<double[]> params, List<Double> losses) {
    }

    private static Run train(String optimizerName, boolean scoped) {
        NnContext ctx = NnContext.of(Backends.get(BACKEND), DType.FLOAT32, new Generator(5));
        Sequential model = new Sequential(new Linear(2, 16, ctx), new Tanh(), new Linear(16, 2, ctx));
        Optimizer opt = optimizer(optimizerName).apply(model.parameters());
        Tensor x = Tensor.on(BACKEND).fromArray(new double[] {0.5, -1, 1.5, 0.25, -0.75, 2, 1, 1}, DType.FLOAT32, 4, 2);
        Tensor y = Tensor.on(BACKEND).fromArray(new long[] {0, 1, 1, 0}, 4);
        List<Double> losses = new ArrayList<>();
        for (int step = 0; step < STEPS; step++) {
            try (MemoryScope scope = scoped ? MemoryScope.open() : null) {
                opt.zeroGrad();
                Tensor loss = new CrossEntropyLoss().forward(model.forward(x), y);
                loss.backward();
                opt.step();
                losses.add(loss.item());
            }
        }
        List<double[]> params = new ArrayList<>();
        for (Tensor p : model.parameters()) {
            params.add(p.toDoubleArray());
        }
        return new Run(params, losses);
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"SGD momentum", "SGD nesterov, weight decay", "Adam", "Adam amsgrad", "AdamW",
            "user-written"})
    void stepsInScopesMatchStepsWithout(String optimizerName) {
        Run plain = train(optimizerName, false);
        Run scoped = train(optimizerName, true);
        assertEquals(plain.losses(), scoped.losses(), optimizerName + ": losses per step");
        for (int i = 0; i < plain.params().size(); i++) {
            assertArrayEquals(plain.params().get(i), scoped.params().get(i), optimizerName + ": parameter " + i);
        }
    }

    /** State restored from a checkpoint inside a scope is state too. */
    @Test
    void stateLoadedInsideAScopeSurvivesIt() {
        NnContext ctx = NnContext.of(Backends.get(BACKEND), DType.FLOAT32, new Generator(3));
        Linear layer = new Linear(3, 2, ctx);
        Optimizer source = new Adam(layer.parameters(), 0.01);
        Tensor x = Tensor.on(BACKEND).fromArray(new double[] {1, 2, 3}, DType.FLOAT32, 1, 3);
        layer.forward(x).sum().backward();
        source.step();
        Map<String, Tensor> checkpoint = source.stateDict();

        Optimizer restored = new Adam(layer.parameters(), 0.01);
        try (MemoryScope scope = MemoryScope.open()) {
            restored.loadStateDict(checkpoint);
        }
        for (int step = 0; step < 3; step++) {
            try (MemoryScope scope = MemoryScope.open()) {
                restored.zeroGrad();
                layer.forward(x).sum().backward();
                restored.step();
            }
        }
        assertEquals(4.0, restored.stateDict().get("state.0.step").item(), "Adam's step count after 1 + 3 steps");
    }
}
