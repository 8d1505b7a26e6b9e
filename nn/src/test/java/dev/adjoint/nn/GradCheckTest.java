package dev.adjoint.nn;

import dev.adjoint.DType;
import dev.adjoint.DTypeMismatchException;
import dev.adjoint.Generator;
import dev.adjoint.Tensor;
import dev.adjoint.TensorShapeException;
import dev.adjoint.backend.Backends;
import dev.adjoint.check.GradCheck;
import dev.adjoint.nn.loss.BCEWithLogitsLoss;
import dev.adjoint.nn.loss.CrossEntropyLoss;
import dev.adjoint.nn.loss.MSELoss;
import dev.adjoint.nn.loss.NLLLoss;
import dev.adjoint.nn.loss.Reduction;
import dev.adjoint.spi.Backend;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.List;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * First and second derivatives of the losses and layers against finite differences (FLOAT64), so
 * that gradient penalties and Hessian-vector products through them work, and the losses' error
 * messages.
 */
final class GradCheckTest {
    static List<String> backends() {
        return Reference.backendNames();
    }

    private static Tensor randn(Backend b, long seed, int... shape) {
        return Tensor.on(b).randn(new Generator(seed), DType.FLOAT64, shape).requiresGrad(true);
    }

    private static void check(String name, Function<List<Tensor>, Tensor> f, List<Tensor> inputs) {
        GradCheck.gradcheck(name, f, inputs, GradCheck.Options.defaults());
        GradCheck.gradgradcheck(name, f, inputs, GradCheck.Options.defaults());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("backends")
    void lossesAndLayersHaveCorrectFirstAndSecondDerivatives(String backend) {
        Backend b = Backends.get(backend);
        var create = Tensor.on(b);
        Tensor target = create.fromArray(new long[] {2, 0, 1, 2}, 4);
        check("CrossEntropyLoss ignore", in -> new CrossEntropyLoss(Reduction.MEAN, 0).forward(in.get(0), target),
                List.of(randn(b, 1, 4, 3)));
        check("NLLLoss sum", in -> new NLLLoss(Reduction.SUM).forward(in.get(0), target), List.of(randn(b, 2, 4, 3)));
        Tensor probs = create.fromArray(new double[] {0, 1, 0.3, 0.9, 0.5, 0.1}, DType.FLOAT64, 2, 3);
        check("BCEWithLogitsLoss", in -> new BCEWithLogitsLoss(Reduction.SUM, create.fromArray(new double[] {1, 2, 0.5},
                DType.FLOAT64, 3)).forward(in.get(0), probs), List.of(randn(b, 3, 2, 3)));
        check("MSELoss none", in -> new MSELoss(Reduction.NONE).forward(in.get(0), in.get(1)),
                List.of(randn(b, 4, 2, 3), randn(b, 5, 2, 3)));
        NnContext ctx = NnContext.of(b, DType.FLOAT64, new Generator(6));
        LayerNorm norm = new LayerNorm(new int[] {4}, 1e-5, false, ctx);
        check("LayerNorm", in -> norm.forward(in.get(0)).mul(in.get(1)).add(in.get(2)),
                List.of(randn(b, 7, 3, 4), randn(b, 8, 4), randn(b, 9, 4)));
        check("GELU exact", in -> new GELU().forward(in.get(0)), List.of(randn(b, 10, 7)));
        check("GELU tanh", in -> new GELU(GELU.Approximation.TANH).forward(in.get(0)), List.of(randn(b, 11, 7)));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("backends")
    void lossesRejectBadTargetsWithMessagesNamingThem(String backend) {
        var create = Tensor.on(backend);
        Tensor logits = create.zeros(DType.FLOAT64, 3, 4);
        CrossEntropyLoss ce = new CrossEntropyLoss();
        var e1 = assertThrows(DTypeMismatchException.class,
                () -> ce.forward(logits, create.zeros(DType.FLOAT64, 3)));
        assertTrue(e1.getMessage().contains("INT64"), e1.getMessage());
        var e2 = assertThrows(TensorShapeException.class,
                () -> ce.forward(logits, create.fromArray(new long[] {1, 2}, 2)));
        assertTrue(e2.getMessage().contains("[3, 4]") && e2.getMessage().contains("[2]"), e2.getMessage());
        var e3 = assertThrows(IndexOutOfBoundsException.class,
                () -> ce.forward(logits, create.fromArray(new long[] {1, 4, 0}, 3)));
        assertTrue(e3.getMessage().contains("target 4 at position 1"), e3.getMessage());
        assertThrows(TensorShapeException.class,
                () -> new MSELoss().forward(create.zeros(DType.FLOAT64, 3), create.zeros(DType.FLOAT64, 3, 1)));
        assertThrows(TensorShapeException.class,
                () -> new LayerNorm(5).forward(create.zeros(DType.FLOAT32, 2, 4)));
        // Every target ignored: the mean is 0/0, NaN, as in PyTorch.
        Tensor allIgnored = create.fromArray(new long[] {-100, -100, -100}, 3);
        assertTrue(Double.isNaN(ce.forward(logits, allIgnored).item()));
        assertEquals(0.0, new CrossEntropyLoss(Reduction.SUM).forward(logits, allIgnored).item());
        // Ignored rows give 0 and no gradient; the mean is over the others.
        Tensor leaf = create.fromArray(new double[] {0, 0, 0, 0, 5, 0, 0, 0, 1, 2, 3, 4}, DType.FLOAT64, 3, 4)
                .requiresGrad(true);
        Tensor loss = new CrossEntropyLoss(Reduction.MEAN, 3).forward(leaf, create.fromArray(new long[] {0, 3, 3}, 3));
        assertEquals(Math.log(4), loss.item(), 1e-15);
        loss.backward();
        double[] g = leaf.grad().toDoubleArray();
        for (int i = 4; i < 12; i++) {
            assertEquals(0.0, g[i]);
        }
    }
}
