package dev.adjoint.nn;

import dev.adjoint.Functional;
import dev.adjoint.Tensor;

/**
 * Normalises each sample's channels in {@code numGroups} consecutive groups, as {@code nn.GroupNorm}:
 * over a group's channels and the trailing dimensions of {@code [N, C, ...]}, with the biased
 * variance, then a per-channel weight (starting at ones) and bias (zeros). Unlike batch norm it keeps
 * no running statistics and is the same in training and evaluation.
 */
public final class GroupNorm extends Module {
    private final int numGroups;
    private final int numChannels;
    private final double eps;
    private final boolean affine;

    public GroupNorm(int numGroups, int numChannels, double eps, boolean affine, NnContext ctx) {
        if (numGroups <= 0 || numChannels % numGroups != 0) {
            throw new IllegalArgumentException("GroupNorm: " + numChannels + " channels do not split into "
                    + numGroups + " groups");
        }
        this.numGroups = numGroups;
        this.numChannels = numChannels;
        this.eps = eps;
        this.affine = affine;
        if (affine) {
            var create = Tensor.on(ctx.backend());
            registerParameter("weight", create.ones(ctx.dtype(), numChannels));
            registerParameter("bias", create.zeros(ctx.dtype(), numChannels));
        }
    }

    /** eps 1e-5, with weight and bias. */
    public GroupNorm(int numGroups, int numChannels, NnContext ctx) {
        this(numGroups, numChannels, 1e-5, true, ctx);
    }

    /** The weight, or {@code null} without affine. */
    public Tensor weight() {
        return affine ? parameter("weight") : null;
    }

    public Tensor bias() {
        return affine ? parameter("bias") : null;
    }

    @Override
    public Tensor forward(Tensor x) {
        return Functional.groupNorm(x, numGroups, weight(), bias(), eps);
    }

    @Override
    protected String describe() {
        return numGroups + ", " + numChannels + ", eps=" + eps + ", affine=" + (affine ? "True" : "False");
    }
}
