package dev.adjoint.nn;

import dev.adjoint.DType;
import dev.adjoint.DTypeMismatchException;
import dev.adjoint.Generator;
import dev.adjoint.Tensor;
import dev.adjoint.TensorShapeException;
import dev.adjoint.backend.Backends;
import dev.adjoint.check.GradCheck;
import dev.adjoint.nn.loss.BCELoss;
import dev.adjoint.nn.loss.CrossEntropyLoss;
import dev.adjoint.nn.loss.HuberLoss;
import dev.adjoint.nn.loss.KLDivLoss;
import dev.adjoint.nn.loss.L1Loss;
import dev.adjoint.nn.loss.MSELoss;
import dev.adjoint.nn.loss.NLLLoss;
import dev.adjoint.nn.loss.Reduction;
import dev.adjoint.nn.loss.SmoothL1Loss;
import dev.adjoint.spi.Backend;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.List;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The newer losses and activations beyond the PyTorch values: first and second derivatives against
 * finite differences (so gradient penalties through them work), and the errors a user meets.
 */
final class LossesTest {
    static List<String> backends() {
        return Reference.backendNames();
    }

    private static Tensor randn(Backend b, long seed, int... shape) {
        return Tensor.on(b).randn(new Generator(seed), DType.FLOAT64, shape).requiresGrad(true);
    }

    private static Tensor uniform(Backend b, long seed, double low, double high, int... shape) {
        return Tensor.on(b).rand(new Generator(seed), DType.FLOAT64, shape).mul(high - low).add(low).detach()
                .requiresGrad(true);
    }

    private static void check(String name, Function<List<Tensor>, Tensor> f, List<Tensor> inputs) {
        GradCheck.gradcheck(name, f, inputs, GradCheck.Options.defaults());
        GradCheck.gradgradcheck(name, f, inputs, GradCheck.Options.defaults());
    }

    /** First derivatives only: for the piecewise linear ones, whose second derivative is 0 almost everywhere. */
    private static void checkFirst(String name, Function<List<Tensor>, Tensor> f, List<Tensor> inputs) {
        GradCheck.gradcheck(name, f, inputs, GradCheck.Options.defaults());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("backends")
    void lossesAndActivationsHaveCorrectFirstAndSecondDerivatives(String backend) {
        Backend b = Backends.get(backend);
        var create = Tensor.on(b);
        // Away from the kinks (|d| = beta, x = 0), where finite differences straddle two branches.
        check("SmoothL1Loss", in -> new SmoothL1Loss(Reduction.SUM, 0.5).forward(in.get(0), in.get(1)),
                List.of(randn(b, 1, 2, 3), randn(b, 2, 2, 3)));
        checkFirst("HuberLoss", in -> new HuberLoss(Reduction.MEAN, 0.7).forward(in.get(0), in.get(1)),
                List.of(randn(b, 3, 3, 4), randn(b, 4, 3, 4)));
        checkFirst("L1Loss", in -> new L1Loss(Reduction.NONE).forward(in.get(0), in.get(1)),
                List.of(randn(b, 5, 5), randn(b, 6, 5)));
        Tensor weight = create.fromArray(new double[] {0.5, 2, 1}, DType.FLOAT64, 3);
        check("BCELoss", in -> new BCELoss(weight, Reduction.SUM).forward(in.get(0), in.get(1)),
                List.of(uniform(b, 7, 0.05, 0.95, 2, 3), uniform(b, 8, 0, 1, 2, 3)));
        check("KLDivLoss", in -> new KLDivLoss(Reduction.BATCHMEAN).forward(in.get(0).logSoftmax(1),
                in.get(1).softmax(1)), List.of(randn(b, 9, 2, 3), randn(b, 10, 2, 3)));
        check("KLDivLoss log target", in -> new KLDivLoss(Reduction.SUM, true).forward(in.get(0), in.get(1)),
                List.of(randn(b, 11, 2, 3), randn(b, 12, 2, 3)));
        Tensor target = create.fromArray(new long[] {2, 0, -100, 1}, 2, 2);
        check("CrossEntropyLoss [N, C, d] weight smoothing", in -> new CrossEntropyLoss(weight, -100, Reduction.MEAN, 0.2)
                .forward(in.get(0), target), List.of(randn(b, 13, 2, 3, 2)));
        check("CrossEntropyLoss probabilities", in -> new CrossEntropyLoss(null, -100, Reduction.MEAN, 0.1)
                .forward(in.get(0), in.get(1).softmax(1)), List.of(randn(b, 14, 2, 3), randn(b, 15, 2, 3)));
        check("SiLU", in -> new SiLU().forward(in.get(0)), List.of(randn(b, 16, 5)));
        check("ELU", in -> new ELU(0.7).forward(in.get(0)), List.of(randn(b, 17, 5)));
        check("Softplus", in -> new Softplus(2.0, 20.0).forward(in.get(0)), List.of(randn(b, 18, 5)));
        checkFirst("LeakyReLU", in -> new LeakyReLU(0.1).forward(in.get(0)), List.of(randn(b, 19, 7)));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("backends")
    void lossesRejectBadInputsWithMessagesNamingThem(String backend) {
        var create = Tensor.on(backend);
        Tensor probs = create.fromArray(new double[] {0.2, 1.5, 0.3}, DType.FLOAT64, 3);
        var outOfRange = assertThrows(IllegalArgumentException.class,
                () -> new BCELoss().forward(probs, probs.zerosLike()));
        assertTrue(outOfRange.getMessage().contains("BCELoss") && outOfRange.getMessage().contains("[0, 1]"),
                outOfRange.getMessage());
        Tensor nan = create.fromArray(new double[] {0.2, Double.NaN}, DType.FLOAT64, 2);
        assertThrows(IllegalArgumentException.class, () -> new BCELoss().forward(nan, nan.zerosLike()));
        var badWeight = assertThrows(TensorShapeException.class, () -> new BCELoss(create.ones(DType.FLOAT64, 2),
                Reduction.MEAN).forward(probs.clamp(0, 1), probs.zerosLike()));
        assertTrue(badWeight.getMessage().contains("[2]") && badWeight.getMessage().contains("[3]"),
                badWeight.getMessage());

        var batchMean = assertThrows(IllegalArgumentException.class,
                () -> new MSELoss(Reduction.BATCHMEAN).forward(probs, probs));
        assertTrue(batchMean.getMessage().contains("MSELoss") && batchMean.getMessage().contains("KLDivLoss"),
                batchMean.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new CrossEntropyLoss(null, -100, Reduction.BATCHMEAN, 0));
        assertThrows(IllegalArgumentException.class, () -> new CrossEntropyLoss(null, -100, Reduction.MEAN, 1.5));
        assertThrows(IllegalArgumentException.class, () -> new SmoothL1Loss(Reduction.MEAN, -1));
        assertThrows(IllegalArgumentException.class, () -> new HuberLoss(Reduction.MEAN, 0));

        Tensor logits = create.zeros(DType.FLOAT64, 2, 4, 3);
        CrossEntropyLoss ce = new CrossEntropyLoss();
        var shape = assertThrows(TensorShapeException.class, () -> ce.forward(logits, create.fromArray(new long[] {1, 2}, 2)));
        assertTrue(shape.getMessage().contains("[2, 4, 3]") && shape.getMessage().contains("[2, 3]"), shape.getMessage());
        var floatIndices = assertThrows(DTypeMismatchException.class,
                () -> ce.forward(logits, create.zeros(DType.FLOAT64, 2, 3)));
        assertTrue(floatIndices.getMessage().contains("INT64"), floatIndices.getMessage());
        var floatOtherShape = assertThrows(TensorShapeException.class,
                () -> ce.forward(logits, create.zeros(DType.FLOAT64, 2, 4)));
        assertTrue(floatOtherShape.getMessage().contains("class probabilities"), floatOtherShape.getMessage());
        var classWeight = assertThrows(TensorShapeException.class, () -> new NLLLoss(create.ones(DType.FLOAT64, 3), -100,
                Reduction.MEAN).forward(logits, create.zeros(DType.INT64, 2, 3)));
        assertTrue(classWeight.getMessage().contains("weight must have shape [4]"), classWeight.getMessage());
        var range = assertThrows(IndexOutOfBoundsException.class,
                () -> ce.forward(logits, create.fromArray(new long[] {0, 1, 2, 3, 4, 0}, 2, 3)));
        assertTrue(range.getMessage().contains("target 4 at position 4"), range.getMessage());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("backends")
    void probabilityTargetsRefuseAnIgnoreIndexThatCouldNameAClass(String backend) {
        var create = Tensor.on(backend);
        Tensor logits = create.zeros(DType.FLOAT64, 2, 4);
        Tensor uniform = create.full(0.25, DType.FLOAT64, 2, 4);
        for (long ignoreIndex : new long[] {0, 3, 7}) {
            var e = assertThrows(IllegalArgumentException.class,
                    () -> new CrossEntropyLoss(null, ignoreIndex, Reduction.MEAN, 0).forward(logits, uniform));
            assertTrue(e.getMessage().startsWith("CrossEntropyLoss: ignoreIndex " + ignoreIndex + " is not supported "
                    + "with class-probability targets"), e.getMessage());
            assertTrue(e.getMessage().contains("[2, 4]"), e.getMessage());
        }
        // PyTorch accepts any negative ignore_index here, since none names a class: -log(1/4) per row.
        for (long ignoreIndex : new long[] {-100, -1}) {
            Tensor loss = new CrossEntropyLoss(null, ignoreIndex, Reduction.MEAN, 0).forward(logits, uniform);
            assertEquals(Math.log(4), loss.item(), 1e-15);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("backends")
    void weightedMeanDividesByTheWeightsOfTheCountedTargetsAndIsNaNWhenNoneCount(String backend) {
        var create = Tensor.on(backend);
        Tensor logp = create.fromArray(new double[] {-1, -2, -3, -4, -5, -6}, DType.FLOAT64, 3, 2);
        Tensor weight = create.fromArray(new double[] {2, 0.5}, DType.FLOAT64, 2);
        Tensor target = create.fromArray(new long[] {0, 1, -100}, 3);
        double loss = new NLLLoss(weight, -100, Reduction.MEAN).forward(logp, target).item();
        assertEquals((2 * 1 + 0.5 * 4) / 2.5, loss, 1e-15);
        Tensor allIgnored = create.fromArray(new long[] {-100, -100, -100}, 3);
        assertTrue(Double.isNaN(new NLLLoss(weight, -100, Reduction.MEAN).forward(logp, allIgnored).item()));
        assertEquals(0.0, new CrossEntropyLoss(weight, -100, Reduction.SUM, 0.3).forward(logp, allIgnored).item());
    }
}
