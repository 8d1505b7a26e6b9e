package dev.adjoint.spark;

import dev.adjoint.DType;
import dev.adjoint.Generator;
import dev.adjoint.Tensor;
import dev.adjoint.nn.Linear;
import dev.adjoint.nn.Module;
import dev.adjoint.nn.NnContext;
import dev.adjoint.nn.Sequential;
import dev.adjoint.nn.Tanh;
import dev.adjoint.nn.optim.Adam;
import dev.adjoint.nn.optim.SGD;
import dev.adjoint.spi.Backend;
import org.apache.spark.TaskContext;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/** A small classifier, synthetic data, and misbehaving replicas for the trainer's tests. */
final class TestModels {
    static final int FEATURES = 12;
    static final int CLASSES = 3;

    private TestModels() {
    }

    /**
     * MLP 12-16-3 with tanh, seeded. On a Spark task whose partition is {@code faultyRank} in stage attempt
     * 0, forward call {@code faultAtCall} (1-based) either throws (the task dies) or nudges a weight
     * (the replica drifts).
     */
    record Mlp(DType dtype, int faultyRank, int faultAtCall, boolean drift) implements ModelFactory {
        static Mlp plain(DType dtype) {
            return new Mlp(dtype, -1, 0, false);
        }

        @Override
        public Module create(Backend backend) {
            NnContext ctx = NnContext.of(backend, dtype, new Generator(7));
            Module inner = new Sequential(new Linear(FEATURES, 16, ctx), new Tanh(), new Linear(16, CLASSES, ctx));
            return faultyRank < 0 ? inner : new Faulty(inner, this);
        }
    }

    /** Wraps a model; the state dict keys gain the prefix "inner.". */
    static final class Faulty extends Module {
        private final Module inner;
        private final Mlp spec;
        private int calls;

        Faulty(Module inner, Mlp spec) {
            this.inner = registerModule("inner", inner);
            this.spec = spec;
        }

        @Override
        public Tensor forward(Tensor input) {
            calls++;
            TaskContext task = TaskContext.get();
            if (task != null && task.partitionId() == spec.faultyRank() && task.stageAttemptNumber() == 0
                    && calls == spec.faultAtCall()) {
                if (!spec.drift()) {
                    throw new IllegalStateException("injected failure: replica " + spec.faultyRank() + " dies in step "
                            + (calls - 1));
                }
                try (var scope = Tensor.noGrad()) {
                    inner.parameters().get(0).add_(1e-3);
                }
            }
            return inner.call(input);
        }
    }

    static OptimizerFactory adam() {
        return model -> new Adam(model.parameters(), 0.01);
    }

    static OptimizerFactory sgdMomentum() {
        return model -> new SGD(model.parameters(), 0.05, 0.9);
    }

    /** Three Gaussian blobs in 12 dimensions, seeded; FLOAT32 features as Spark delivers them. */
    static List<Example> blobs(int n, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        double[][] centres = new double[CLASSES][FEATURES];
        for (double[] c : centres) {
            for (int j = 0; j < FEATURES; j++) {
                c[j] = random.nextDouble(-2, 2);
            }
        }
        List<Example> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            int label = random.nextInt(CLASSES);
            float[] x = new float[FEATURES];
            for (int j = 0; j < FEATURES; j++) {
                x[j] = (float) (centres[label][j] + random.nextGaussian());
            }
            out.add(new Example(x, label));
        }
        return out;
    }
}
