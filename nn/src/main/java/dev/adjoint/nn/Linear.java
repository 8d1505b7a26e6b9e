package dev.adjoint.nn;

import dev.adjoint.Functional;
import dev.adjoint.Tensor;

/**
 * {@code y = x W^T + b} with weight {@code [out, in]} and bias {@code [out]}, as {@code nn.Linear}.
 * PyTorch's default initialisation: kaiming-uniform with a = sqrt(5), which works out to
 * U(-1/sqrt(in), 1/sqrt(in)) for the weight, and the same bound for the bias.
 */
public final class Linear extends Module {
    private final int inFeatures;
    private final int outFeatures;
    private final boolean hasBias;

    public Linear(int inFeatures, int outFeatures, boolean bias, NnContext ctx) {
        if (inFeatures <= 0 || outFeatures <= 0) {
            throw new IllegalArgumentException("Linear: feature counts must be positive, got in=" + inFeatures
                    + " out=" + outFeatures);
        }
        this.inFeatures = inFeatures;
        this.outFeatures = outFeatures;
        this.hasBias = bias;
        var create = Tensor.on(ctx.backend());
        Tensor weight = create.zeros(ctx.dtype(), outFeatures, inFeatures);
        Init.kaimingUniform(weight, Math.sqrt(5.0), Init.FanMode.FAN_IN, Init.Nonlinearity.LEAKY_RELU, ctx.generator());
        registerParameter("weight", weight);
        if (bias) {
            double bound = 1.0 / Math.sqrt(inFeatures);
            registerParameter("bias", Init.uniform(create.zeros(ctx.dtype(), outFeatures), -bound, bound,
                    ctx.generator()));
        }
    }

    public Linear(int inFeatures, int outFeatures, NnContext ctx) {
        this(inFeatures, outFeatures, true, ctx);
    }

    /** FLOAT32 on the default backend, unseeded. */
    public Linear(int inFeatures, int outFeatures) {
        this(inFeatures, outFeatures, true, NnContext.defaults());
    }

    public Tensor weight() {
        return parameter("weight");
    }

    /** The bias, or {@code null} when built without one. */
    public Tensor bias() {
        return hasBias ? parameter("bias") : null;
    }

    public int inFeatures() {
        return inFeatures;
    }

    public int outFeatures() {
        return outFeatures;
    }

    @Override
    public Tensor forward(Tensor input) {
        // Functional.linear checks the input against the weight ("must end in in_features=...").
        return Functional.linear(input, weight(), bias());
    }

    @Override
    protected String describe() {
        return "in_features=" + inFeatures + ", out_features=" + outFeatures + ", bias=" + hasBias;
    }
}
