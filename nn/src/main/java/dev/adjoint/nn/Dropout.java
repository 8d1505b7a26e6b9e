package dev.adjoint.nn;

import dev.adjoint.Functional;
import dev.adjoint.Generator;
import dev.adjoint.Tensor;

/**
 * Zeroes each element with probability {@code p} during training and scales the survivors by
 * {@code 1/(1-p)} (inverted dropout, as {@code nn.Dropout}), so evaluation is the identity. The mask
 * comes from the module's own generator: the same seed gives the same masks on every backend.
 */
public final class Dropout extends Module {
    private final double p;
    private final Generator generator;

    public Dropout(double p, Generator generator) {
        if (!(p >= 0.0 && p <= 1.0)) {
            throw new IllegalArgumentException("Dropout: probability must be in [0, 1], got " + p);
        }
        this.p = p;
        this.generator = generator;
    }

    public double p() {
        return p;
    }

    @Override
    public Tensor forward(Tensor input) {
        if (!isTraining()) {
            return input;
        }
        return apply(input, p, generator);
    }

    /**
     * Inverted dropout of {@code input} with probability {@code p}, the mask drawn from {@code generator}:
     * what this module does in training, for layers that drop inside their forward (attention weights,
     * recurrent layers between layers).
     */
    static Tensor apply(Tensor input, double p, Generator generator) {
        return Functional.dropout(input, p, true, generator);
    }

    @Override
    protected String describe() {
        return "p=" + p;
    }
}
