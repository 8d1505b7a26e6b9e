package dev.adjoint.conformance;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.Tuple;

import java.util.List;

/**
 * What jqwik generates and shrinks for a random program: plain numbers, read by {@link Program#build}
 * into a program that is valid by construction. Every genome, and so every shrunk one, is a program:
 * a gene that asks for an op the values so far cannot take makes no step. Shrinking removes inputs
 * and genes and moves numbers toward their low end, which {@link Program} reads as the simplest
 * choice (op 0 is {@code neg}, operand 0 the latest value, size 1, no view), so a failing program
 * shrinks to the few steps that still fail.
 *
 * @param inputs the program's leaves, one to three
 * @param steps  one gene per step it tries to add
 * @param secondOrder whether the check also differentiates the gradients (a Hessian-vector product)
 * @param seed   seeds the leaves' values (uniform in [-2, 2)), the cotangent, and the index tensors
 */
public record ProgramGenome(List<InputGene> inputs, List<StepGene> steps, boolean secondOrder, long seed) {
    /**
     * A leaf: {@code rank} dims of sizes {@code dims} (the first {@code rank} of them, 0 to 40), seen through
     * {@code view}: 0 none, 1 transposed (last two dims), 2 sliced (a narrow() of a wider last dim),
     * 3 expanded (its size-1 dims and a new leading dim broadcast to 2).
     */
    public record InputGene(int rank, List<Integer> dims, int view) {
    }

    /** A step: which op, and numbers it reads as operand choices ({@code a}, {@code b}) and parameters. */
    public record StepGene(int op, int a, int b, int c, int p) {
    }

    static final int MAX_INPUTS = 3;
    static final int MAX_STEPS = 12;
    static final int MAX_RANK = 3;
    static final int MAX_DIM = 4;
    static final int MAX_LARGE_DIM = 40;

    static Arbitrary<ProgramGenome> arbitrary() {
        // Mostly small sizes; now and then a dim of size 0 (every op must take empty tensors) or a
        // larger one, which reaches vector loops with tails and blocked kernels (a 40^3 product is
        // above engine-simd's packed-GEMM threshold). Sizes shrink toward 1.
        Arbitrary<Integer> size = Arbitraries.frequencyOf(
                Tuple.of(1, Arbitraries.just(0)),
                Tuple.of(14, Arbitraries.integers().between(1, MAX_DIM)),
                Tuple.of(2, Arbitraries.integers().between(MAX_DIM + 1, MAX_LARGE_DIM)));
        Arbitrary<InputGene> input = Combinators.combine(
                Arbitraries.integers().between(0, MAX_RANK),
                size.list().ofSize(MAX_RANK),
                Arbitraries.integers().between(0, 3)).as(InputGene::new);
        Arbitrary<Integer> number = Arbitraries.integers().between(0, 1 << 16);
        Arbitrary<StepGene> step = Combinators.combine(
                Arbitraries.integers().between(0, ProgramOps.ALL.size() - 1), number, number, number, number)
                .as(StepGene::new);
        return Combinators.combine(
                input.list().ofMinSize(1).ofMaxSize(MAX_INPUTS),
                step.list().ofMinSize(1).ofMaxSize(MAX_STEPS),
                Arbitraries.of(false, true),
                Arbitraries.longs().between(0, 1L << 32)).as(ProgramGenome::new);
    }

    /** What jqwik prints for a (shrunk) failing sample: the program itself. */
    @Override
    public String toString() {
        try {
            return "\n" + Program.build(this).describe();
        } catch (RuntimeException | AssertionError e) {
            return "genome " + inputs + " " + steps + " secondOrder " + secondOrder + " seed " + seed + " (could not be built: " + e + ")";
        }
    }
}
