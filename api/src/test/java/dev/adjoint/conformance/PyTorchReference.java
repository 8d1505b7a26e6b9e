package dev.adjoint.conformance;

import com.fasterxml.jackson.databind.JsonNode;
import dev.adjoint.DType;
import dev.adjoint.Functional;
import dev.adjoint.InterpolationMode;
import dev.adjoint.PadMode;
import dev.adjoint.Tensor;
import dev.adjoint.ValuesAndIndices;
import dev.adjoint.autograd.Autograd;
import dev.adjoint.spi.Backend;
import org.junit.jupiter.api.DynamicNode;
import org.opentest4j.AssertionFailedError;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;

import static org.junit.jupiter.api.DynamicContainer.dynamicContainer;
import static org.junit.jupiter.api.DynamicTest.dynamicTest;

/**
 * Composite functions (an MLP with cross-entropy, attention, layer norm, a graph that reuses a
 * tensor, large-logit softmax family, a Hessian-vector product, broadcast and vector matmul, F.linear) and one
 * case per family of the wider op set (trigonometric and hyperbolic, rounding and remainder,
 * activations, running sums and products, sorting and selection with their indices, variance and
 * norms, rearranging, einsum and factories) checked against outputs and gradients PyTorch computed in
 * float64.
 *
 * <p>The reference values live in {@code pytorch-reference.json}, written by
 * {@code tools/pytorch-reference/generate.py}; the file carries every input's values, so these
 * tests need neither Python nor agreement with torch's random numbers. Each Python case function
 * has a Java method of the same name below doing the same computation with Adjoint ops.
 *
 * <p>Every case runs twice: in FLOAT64 against the reference at near round-off tolerance, and in
 * FLOAT32 (inputs rounded to float) at tolerances that allow for float32 round-off.
 */
public final class PyTorchReference {
    private static final String RESOURCE = "/dev/adjoint/conformance/pytorch-reference.json";

    /** A case's computation: builds the graph from its inputs and returns outputs and gradients. */
    @FunctionalInterface
    private interface CaseFunction {
        Computed compute(CaseInputs in);
    }

    /** The Java mirror of each Python case function, under the same name. */
    private static final Map<String, CaseFunction> CASES = Map.ofEntries(
            Map.entry("mlp", PyTorchReference::mlp),
            Map.entry("attention", PyTorchReference::attention),
            Map.entry("layer_norm", PyTorchReference::layerNorm),
            Map.entry("linear", PyTorchReference::linear),
            Map.entry("branch_reuse", PyTorchReference::branchReuse),
            Map.entry("log_softmax_large", PyTorchReference::logSoftmaxLarge),
            Map.entry("softmax_large", PyTorchReference::softmaxLarge),
            Map.entry("logsumexp_large", PyTorchReference::logSumExpLarge),
            Map.entry("cross_entropy_large", PyTorchReference::crossEntropyLarge),
            Map.entry("mse_loss", PyTorchReference::mseLoss),
            Map.entry("hessian_vector_product", PyTorchReference::hessianVectorProduct),
            Map.entry("batched_matmul_broadcast", PyTorchReference::batchedMatmulBroadcast),
            Map.entry("vector_matmul", PyTorchReference::vectorMatmul),
            Map.entry("conv2d_stride_padding", PyTorchReference::conv2dStridePadding),
            Map.entry("conv2d_dilation_groups", PyTorchReference::conv2dDilationGroups),
            Map.entry("conv2d_depthwise", PyTorchReference::conv2dDepthwise),
            Map.entry("conv2d_1x1", PyTorchReference::conv2d1x1),
            Map.entry("conv2d_same_even", PyTorchReference::conv2dSameEven),
            Map.entry("conv2d_batch1_odd", PyTorchReference::conv2dBatch1Odd),
            Map.entry("conv1d", PyTorchReference::conv1d),
            Map.entry("conv_transpose2d", PyTorchReference::convTranspose2d),
            Map.entry("conv_transpose2d_groups_dilation", PyTorchReference::convTranspose2dGroupsDilation),
            Map.entry("unfold_fold", PyTorchReference::unfoldFold),
            Map.entry("max_pool2d", PyTorchReference::maxPool2d),
            Map.entry("avg_pool2d", PyTorchReference::avgPool2d),
            Map.entry("adaptive_avg_pool2d", PyTorchReference::adaptiveAvgPool2d),
            Map.entry("batch_norm_train", PyTorchReference::batchNormTrain),
            Map.entry("batch_norm_eval", PyTorchReference::batchNormEval),
            Map.entry("batch_norm_1d", PyTorchReference::batchNorm1d),
            Map.entry("small_cnn", PyTorchReference::smallCnn),
            Map.entry("conv_double_backward", PyTorchReference::convDoubleBackward),
            Map.entry("conv2d_depthwise_multiplier", PyTorchReference::conv2dDepthwiseMultiplier),
            Map.entry("conv2d_many_channels", PyTorchReference::conv2dManyChannels),
            Map.entry("group_norm", PyTorchReference::groupNorm),
            Map.entry("interpolate", PyTorchReference::interpolate),
            Map.entry("trig_hyperbolic", PyTorchReference::trigHyperbolic),
            Map.entry("rounding_remainder", PyTorchReference::roundingRemainder),
            Map.entry("activations", PyTorchReference::activations),
            Map.entry("gelu", PyTorchReference::gelu),
            Map.entry("cumulative", PyTorchReference::cumulative),
            Map.entry("selection", PyTorchReference::selection),
            Map.entry("statistics", PyTorchReference::statistics),
            Map.entry("rearranging", PyTorchReference::rearranging),
            Map.entry("contractions", PyTorchReference::contractions));

    private PyTorchReference() {
    }

    /** One container per dtype, one test per reference case, plus a check that no case is left unmirrored. */
    public static Stream<DynamicNode> tests(Backend backend) {
        List<ReferenceCase> cases = loadCases();
        DynamicNode coverage = dynamicTest("every reference case has a Java mirror", () -> checkCoverage(cases));
        Stream<DynamicNode> perDType = Stream.of(DType.FLOAT64, DType.FLOAT32).map(dtype -> dynamicContainer(
                dtype.name(),
                cases.stream().map(c -> dynamicTest(c.name(), () -> run(c, backend, dtype)))));
        return Stream.concat(Stream.of(coverage), perDType);
    }

    // ---- cases: keep each in step with the function of the same name in generate.py ---------------

    static Computed mlp(CaseInputs in) {
        Tensor x = in.tensor("x");
        Tensor hidden = x.matmul(in.tensor("W1")).add(in.tensor("b1")).tanh();
        Tensor logits = hidden.matmul(in.tensor("W2")).add(in.tensor("b2"));
        Tensor loss = Functional.crossEntropy(logits, in.tensor("target"));
        return gradsByBackward(in, named("hidden", hidden, "logits", logits, "loss", loss));
    }

    static Computed attention(CaseInputs in) {
        Tensor x = in.tensor("x");
        Tensor q = x.matmul(in.tensor("Wq"));
        Tensor k = x.matmul(in.tensor("Wk"));
        Tensor v = x.matmul(in.tensor("Wv"));
        Tensor scores = q.matmul(k.transpose(0, 1)).div(Math.sqrt(q.size(-1)));
        Tensor attn = scores.softmax(-1);
        Tensor out = attn.matmul(v);
        Tensor loss = out.mul(in.tensor("c")).sum();
        return gradsByBackward(in, named("attn", attn, "out", out, "loss", loss));
    }

    static Computed linear(CaseInputs in) {
        Tensor y = Functional.linear(in.tensor("x"), in.tensor("W"), in.tensor("b"));
        Tensor v = Functional.linear(in.tensor("u"), in.tensor("W"), null);
        Tensor loss = y.mul(in.tensor("c")).sum().add(v.mul(in.tensor("d")).sum());
        return gradsByBackward(in, named("y", y, "v", v, "loss", loss));
    }

    /** Composed from primitives; generate.py asserts this composition equals F.layer_norm. */
    static Computed layerNorm(CaseInputs in) {
        Tensor x = in.tensor("x");
        double eps = in.param("eps");
        Tensor mean = x.mean(-1, true);
        Tensor centered = x.sub(mean);
        // Biased variance (divide by n), as layer norm defines it.
        Tensor variance = centered.square().mean(-1, true);
        Tensor y = centered.div(variance.add(eps).sqrt()).mul(in.tensor("gamma")).add(in.tensor("beta"));
        Tensor loss = y.mul(in.tensor("c")).sum();
        return gradsByBackward(in, named("y", y, "loss", loss));
    }

    static Computed branchReuse(CaseInputs in) {
        Tensor x = in.tensor("x");
        Tensor y = x.mul(x).add(x.sin().mul(x));
        Tensor z = y.exp().sum().add(x.matmul(x.transpose(0, 1)).sum());
        return gradsByBackward(in, named("y", y, "loss", z));
    }

    static Computed logSoftmaxLarge(CaseInputs in) {
        Tensor out = in.tensor("logits").logSoftmax(1);
        Tensor loss = out.mul(in.tensor("c")).sum();
        return gradsByBackward(in, named("out", out, "loss", loss));
    }

    static Computed softmaxLarge(CaseInputs in) {
        Tensor out = in.tensor("logits").softmax(1);
        Tensor loss = out.mul(in.tensor("c")).sum();
        return gradsByBackward(in, named("out", out, "loss", loss));
    }

    static Computed logSumExpLarge(CaseInputs in) {
        Tensor logits = in.tensor("logits");
        Tensor rows = logits.logSumExp(1, false);
        Tensor all = logits.logSumExp(new int[] {0, 1}, true);
        Tensor loss = rows.mul(in.tensor("c")).sum().add(all.sum());
        return gradsByBackward(in, named("rows", rows, "all", all, "loss", loss));
    }

    static Computed crossEntropyLarge(CaseInputs in) {
        Tensor loss = Functional.crossEntropy(in.tensor("logits"), in.tensor("target"));
        return gradsByBackward(in, named("loss", loss));
    }

    static Computed mseLoss(CaseInputs in) {
        Tensor loss = Functional.mseLoss(in.tensor("input"), in.tensor("target"));
        return gradsByBackward(in, named("loss", loss));
    }

    /** Double backward: the gradient is built with createGraph and differentiated again. */
    static Computed hessianVectorProduct(CaseInputs in) {
        Tensor x = in.tensor("x");
        Tensor a = in.tensor("A");
        Tensor f = x.matmul(a).tanh().pow(2.0).sum();
        Tensor dfdx = Autograd.grad(List.of(f), List.of(x), null, true, true, false).get(0);
        Tensor directional = dfdx.mul(in.tensor("v")).sum();
        List<Tensor> second = Autograd.grad(List.of(directional), List.of(x, a), null, false, false, false);
        return new Computed(named("f", f, "df_dx", dfdx), named("x", second.get(0), "A", second.get(1)));
    }

    static Computed batchedMatmulBroadcast(CaseInputs in) {
        Tensor out = in.tensor("a").matmul(in.tensor("b"));
        Tensor loss = out.mul(in.tensor("c")).sum();
        return gradsByBackward(in, named("out", out, "loss", loss));
    }

    static Computed vectorMatmul(CaseInputs in) {
        Tensor m = in.tensor("M");
        Tensor um = in.tensor("u").matmul(m);
        Tensor mw = m.matmul(in.tensor("w"));
        Tensor loss = um.mul(in.tensor("c")).sum().add(mw.mul(in.tensor("d")).sum());
        return gradsByBackward(in, named("uM", um, "Mw", mw, "loss", loss));
    }

    // ---- convolution, pooling, batch norm: each loss is sum(out_i * c_i) over the case's outputs -------

    private static int[] ints(int... values) {
        return values;
    }

    /** The case's outputs in order, then the loss {@code sum(out_i * c_i)} and the gradients by backward. */
    private static Computed withLoss(CaseInputs in, Object... namesAndTensors) {
        Map<String, Tensor> outputs = named(namesAndTensors);
        Tensor loss = null;
        int i = 0;
        for (Tensor out : outputs.values()) {
            Tensor term = out.mul(in.tensor("c" + i++)).sum();
            loss = loss == null ? term : loss.add(term);
        }
        outputs.put("loss", loss);
        return gradsByBackward(in, outputs);
    }

    // ---- the op set of issue 15 ----------------------------------------------------------------

    static Computed trigHyperbolic(CaseInputs in) {
        Tensor x = in.tensor("x");
        Tensor y = in.tensor("y");
        Tensor a = in.tensor("a");
        return weighted(in, named("tan", x.tan(), "asin", x.asin(), "acos", x.acos(), "atan", y.atan(),
                "sinh", y.sinh(), "cosh", y.cosh(), "asinh", x.asinh(), "acosh", a.acosh(), "atanh", x.atanh(),
                "expm1", x.expm1(), "atan2", x.atan2(y)));
    }

    static Computed roundingRemainder(CaseInputs in) {
        Tensor x = in.tensor("x");
        return weighted(in, named("floor", x.floor(), "ceil", x.ceil(), "round", x.round(), "trunc", x.trunc(),
                "remainder", x.remainder(in.tensor("d")), "remainder_scalar", x.remainder(-0.75)));
    }

    static Computed activations(CaseInputs in) {
        Tensor x = in.tensor("x");
        return weighted(in, named("silu", Functional.silu(x), "logsigmoid", Functional.logSigmoid(x),
                "softplus", Functional.softplus(x), "softplus_beta", Functional.softplus(x, 2.0, 3.0),
                "elu", Functional.elu(x, 1.5), "leaky_relu", Functional.leakyRelu(x, 0.2),
                "hardtanh", Functional.hardtanh(x, -0.5, 0.75)));
    }

    static Computed gelu(CaseInputs in) {
        Tensor x = in.tensor("x");
        return weighted(in, named("gelu", Functional.gelu(x), "gelu_tanh", Functional.gelu(x, "tanh")));
    }

    static Computed cumulative(CaseInputs in) {
        Tensor x = in.tensor("x");
        Tensor z = in.tensor("z");
        return weighted(in, named("cumsum0", x.cumsum(0), "cumsum1", x.cumsum(1), "cumprod", z.cumprod(1),
                "prod", z.prod().reshape(1), "prod_dim", x.prod(1, true)));
    }

    static Computed selection(CaseInputs in) {
        Tensor x = in.tensor("x");
        ValuesAndIndices up = x.sort(1, false);
        ValuesAndIndices down = x.sort(0, true);
        ValuesAndIndices top = x.topk(2);
        ValuesAndIndices bottom = x.topk(2, 0, false);
        ValuesAndIndices max = x.max(1, false);
        ValuesAndIndices min = x.min(0, true);
        Computed computed = weighted(in, named("sort", up.values(), "sort_desc", down.values(), "topk", top.values(),
                "topk_smallest", bottom.values(), "max", max.values(), "min", min.values(),
                "max_all", x.max().reshape(1)));
        computed.outputs().putAll(named("sort_indices", up.indices(), "sort_desc_indices", down.indices(),
                "topk_indices", top.indices(), "topk_smallest_indices", bottom.indices(), "max_indices", max.indices(),
                "min_indices", min.indices()));
        return computed;
    }

    static Computed statistics(CaseInputs in) {
        Tensor x = in.tensor("x");
        Tensor m = in.tensor("m");
        return weighted(in, named("var", x.var().reshape(1), "var_dims", x.var(new int[] {0, 2}, 0, true),
                "std", x.std(1, false), "norm", x.norm().reshape(1), "norm_rows", m.norm(2, 1, false),
                "norm1", m.norm(1, 1, false), "norm3", m.norm(3, 1, false),
                "norm_inf", m.norm(Double.POSITIVE_INFINITY, 0, false)));
    }

    static Computed rearranging(CaseInputs in) {
        Tensor x = in.tensor("x");
        Tensor x4 = x.unsqueeze(0);
        List<Tensor> split = new ArrayList<>(x.split(2, 2));
        List<Tensor> chunks = new ArrayList<>(x.chunk(2, 1));
        Collections.reverse(split);
        Collections.reverse(chunks);
        return weighted(in, named("flip", x.flip(0, 2), "roll", x.roll(new int[] {1, -2}, new int[] {1, 2}),
                "roll_flat", x.roll(5), "repeat", x.repeat(2, 1, 1, 2), "tile", x.unbind(0).get(0).tile(2),
                "pad_constant", Functional.pad(x, new int[] {1, -1, -1, 2}, PadMode.CONSTANT, 0.5),
                "pad_reflect", Functional.pad(x4, new int[] {2, 3, 1, 1}, PadMode.REFLECT, 0),
                "pad_replicate", Functional.pad(x4, new int[] {2, 1, 0, 3}, PadMode.REPLICATE, 0),
                "pad_circular", Functional.pad(x4, new int[] {1, 2, 2, 0}, PadMode.CIRCULAR, 0),
                "split", Tensor.cat(split, 2), "chunk", Tensor.cat(chunks, 1),
                "unbind", Tensor.stack(x.unbind(0).reversed(), 2),
                "masked_fill", x.maskedFill(in.tensor("mask"), -2.5), "tril", x.tril(-1), "triu", x.triu(1)));
    }

    static Computed contractions(CaseInputs in) {
        Tensor s = in.tensor("S");
        Tensor v = in.tensor("v");
        Tensor u = in.tensor("u");
        Tensor eye = Tensor.on(s.backend()).eye(3, 4, s.dtype());
        Tensor linspace = Tensor.on(s.backend()).linspace(-1.3, 2.9, 8, s.dtype());
        return weighted(in, named("scores", Functional.einsum("bhqd,bhkd->bhqk", in.tensor("q"), in.tensor("k")),
                "bilinear", Functional.einsum("bi,ij,bj->b", u, in.tensor("A"), v),
                "trace", Functional.einsum("ii", s).reshape(1),
                "batched", Functional.einsum("...ij,...jk->...ik", in.tensor("B"), v),
                "outer", u.narrow(1, 0, 1).squeeze(1).outer(v.narrow(0, 0, 1).squeeze(0)),
                "eye", eye.mul(s.narrow(1, 0, 1)), "linspace", linspace.mul(v.reshape(-1).narrow(0, 0, 8))));
    }

    /** The outputs, and {@code loss = sum over outputs of sum(output * w_output)}, backward from it. */
    private static Computed weighted(CaseInputs in, Map<String, Tensor> outputs) {
        Tensor loss = null;
        for (Map.Entry<String, Tensor> out : outputs.entrySet()) {
            Tensor term = out.getValue().mul(in.tensor("w_" + out.getKey())).sum();
            loss = loss == null ? term : loss.add(term);
        }
        outputs.put("loss", loss);
        return gradsByBackward(in, outputs);
    }

    static Computed conv2dStridePadding(CaseInputs in) {
        return withLoss(in, "out", Functional.conv2d(in.tensor("x"), in.tensor("w"), in.tensor("b"), 2, 1));
    }

    static Computed conv2dDilationGroups(CaseInputs in) {
        return withLoss(in, "out", Functional.conv2d(in.tensor("x"), in.tensor("w"), null, ints(1), ints(2), ints(2), 2));
    }

    static Computed conv2dDepthwise(CaseInputs in) {
        return withLoss(in, "out", Functional.conv2d(in.tensor("x"), in.tensor("w"), in.tensor("b"), ints(1), ints(1),
                ints(1), 4));
    }

    static Computed conv2dDepthwiseMultiplier(CaseInputs in) {
        return withLoss(in, "out", Functional.conv2d(in.tensor("x"), in.tensor("w"), in.tensor("b"), ints(2, 1), ints(1),
                ints(1), 3));
    }

    static Computed groupNorm(CaseInputs in) {
        Tensor x = in.tensor("x");
        return withLoss(in, "out", Functional.groupNorm(x, 3, in.tensor("w"), in.tensor("b"), 1e-5),
                "one_group", Functional.groupNorm(x, 1, null, null, 1e-3));
    }

    static Computed interpolate(CaseInputs in) {
        Tensor x = in.tensor("x");
        Tensor s = in.tensor("s");
        Tensor v = in.tensor("v");
        double[] factors = {1.5, 2.5};
        return withLoss(in, "nearest", Functional.interpolate(x, ints(7, 3), InterpolationMode.NEAREST),
                "nearest_scale", Functional.interpolate(x, factors, InterpolationMode.NEAREST),
                "nearest_exact", Functional.interpolate(x, ints(3, 8), InterpolationMode.NEAREST_EXACT),
                "bilinear", Functional.interpolate(x, ints(7, 3), InterpolationMode.BILINEAR),
                "bilinear_scale", Functional.interpolate(x, factors, InterpolationMode.BILINEAR),
                "bilinear_corners", Functional.interpolate(x, ints(6, 9), null, InterpolationMode.BILINEAR, true),
                "linear", Functional.interpolate(s, ints(11), InterpolationMode.LINEAR),
                "linear_down", Functional.interpolate(s, ints(3), null, InterpolationMode.LINEAR, true),
                "trilinear", Functional.interpolate(v, ints(5, 3, 2), InterpolationMode.TRILINEAR),
                "nearest_3d", Functional.interpolate(v, new double[] {2}, InterpolationMode.NEAREST),
                "bicubic", Functional.interpolate(x, ints(7, 3), InterpolationMode.BICUBIC),
                "bicubic_scale", Functional.interpolate(x, factors, InterpolationMode.BICUBIC),
                "bicubic_corners", Functional.interpolate(x, ints(6, 9), null, InterpolationMode.BICUBIC, true),
                "area", Functional.interpolate(x, ints(3, 2), InterpolationMode.AREA),
                "area_up", Functional.interpolate(x, ints(6, 7), InterpolationMode.AREA),
                "area_1d", Functional.interpolate(s, ints(3), InterpolationMode.AREA),
                "area_3d", Functional.interpolate(v, ints(2, 2, 3), InterpolationMode.AREA),
                "bilinear_aa", Functional.interpolate(x, ints(2, 3), null, InterpolationMode.BILINEAR, false, true),
                "bilinear_aa_up", Functional.interpolate(x, ints(7, 8), null, InterpolationMode.BILINEAR, false, true),
                "bilinear_aa_scale", Functional.interpolate(x, null, new double[] {0.5, 0.6}, InterpolationMode.BILINEAR,
                        false, true),
                "bicubic_aa", Functional.interpolate(x, ints(3, 2), null, InterpolationMode.BICUBIC, false, true),
                "bicubic_aa_corners", Functional.interpolate(x, ints(2, 3), null, InterpolationMode.BICUBIC, true,
                        true));
    }

    static Computed conv2dManyChannels(CaseInputs in) {
        return withLoss(in, "out", Functional.conv2d(in.tensor("x"), in.tensor("w"), in.tensor("b"), ints(1), ints(1),
                ints(1), 1));
    }

    static Computed conv2d1x1(CaseInputs in) {
        Tensor x = in.tensor("x");
        Tensor w = in.tensor("w");
        return withLoss(in, "out", Functional.conv2d(x, w, in.tensor("b")), "strided", Functional.conv2d(x, w, null, 2, 0));
    }

    static Computed conv2dSameEven(CaseInputs in) {
        return withLoss(in, "out", Functional.conv2d(in.tensor("x"), in.tensor("w"), in.tensor("b"), ints(1), "same",
                ints(1, 2), 1));
    }

    static Computed conv2dBatch1Odd(CaseInputs in) {
        return withLoss(in, "out", Functional.conv2d(in.tensor("x"), in.tensor("w"), in.tensor("b"), ints(2, 3),
                ints(1, 2), ints(1), 1));
    }

    static Computed conv1d(CaseInputs in) {
        Tensor x = in.tensor("x");
        return withLoss(in, "out", Functional.conv1d(x, in.tensor("w"), in.tensor("b"), 2, 1, 1, 1),
                "same", Functional.conv1d(x, in.tensor("w2"), null, 1, "same", 2, 3));
    }

    static Computed convTranspose2d(CaseInputs in) {
        return withLoss(in, "out", Functional.convTranspose2d(in.tensor("x"), in.tensor("w"), in.tensor("b"), ints(2),
                ints(1), ints(1), 1, ints(1)));
    }

    static Computed convTranspose2dGroupsDilation(CaseInputs in) {
        return withLoss(in, "out", Functional.convTranspose2d(in.tensor("x"), in.tensor("w"), null, ints(1, 2),
                ints(1, 0), ints(0, 1), 2, ints(2)));
    }

    static Computed unfoldFold(CaseInputs in) {
        Tensor cols = Functional.unfold(in.tensor("x"), ints(2, 3), ints(1, 2), ints(1), ints(2, 1));
        Tensor folded = Functional.fold(cols.mul(in.tensor("m")), ints(5, 6), ints(2, 3), ints(1, 2), ints(1), ints(2, 1));
        return withLoss(in, "cols", cols, "folded", folded);
    }

    static Computed maxPool2d(CaseInputs in) {
        Tensor x = in.tensor("x");
        Functional.MaxPoolResult withIndices = Functional.maxPool2dWithIndices(x, ints(3, 2), ints(2), ints(1), ints(1),
                false);
        return withLoss(in, "k2", Functional.maxPool2d(x, 2), "k3x2", withIndices.output(),
                "dilated_ceil", Functional.maxPool2d(x, ints(2), ints(2), ints(1), ints(2), true),
                "indices", withIndices.indices().toType(x.dtype()));
    }

    static Computed avgPool2d(CaseInputs in) {
        Tensor x = in.tensor("x");
        return withLoss(in, "k2", Functional.avgPool2d(x, 2),
                "ceil", Functional.avgPool2d(x, ints(3, 2), ints(2), ints(1), true, true),
                "exclude_pad", Functional.avgPool2d(x, ints(3), ints(2), ints(1), true, false));
    }

    static Computed adaptiveAvgPool2d(CaseInputs in) {
        Tensor x = in.tensor("x");
        return withLoss(in, "to3x2", Functional.adaptiveAvgPool2d(x, ints(3, 2)),
                "to4x4", Functional.adaptiveAvgPool2d(x, ints(4)), "to1x1", Functional.adaptiveAvgPool2d(x, ints(1)));
    }

    private static Computed batchNorm(CaseInputs in, boolean training) {
        // Copies: the op updates the running statistics in place, and the case reports them afterwards.
        Tensor runningMean = in.tensor("running_mean").clone();
        Tensor runningVar = in.tensor("running_var").clone();
        Tensor y = Functional.batchNorm(in.tensor("x"), runningMean, runningVar, in.tensor("weight"), in.tensor("bias"),
                training, in.param("momentum"), in.param("eps"));
        Tensor loss = y.mul(in.tensor("c")).sum();
        return gradsByBackward(in, training
                ? named("y", y, "running_mean_after", runningMean, "running_var_after", runningVar, "loss", loss)
                : named("y", y, "loss", loss));
    }

    static Computed batchNormTrain(CaseInputs in) {
        return batchNorm(in, true);
    }

    static Computed batchNormEval(CaseInputs in) {
        return batchNorm(in, false);
    }

    static Computed batchNorm1d(CaseInputs in) {
        return withLoss(in, "y", Functional.batchNorm(in.tensor("x"), null, null, null, null, true, 0.1, 1e-5),
                "y3", Functional.batchNorm(in.tensor("x3"), null, null, null, null, true, 0.1, 1e-3));
    }

    static Computed smallCnn(CaseInputs in) {
        Tensor h = Functional.conv2d(in.tensor("x"), in.tensor("w1"), in.tensor("b1"), 1, 1);
        h = Functional.batchNorm(h, null, null, in.tensor("gamma"), in.tensor("beta"), true, 0.1, 1e-5).relu();
        h = Functional.maxPool2d(h, 2);
        h = Functional.conv2d(h, in.tensor("w2"), in.tensor("b2"), 1, 1).relu();
        h = Functional.adaptiveAvgPool2d(h, ints(2, 2)).reshape(h.size(0), -1);
        Tensor logits = h.matmul(in.tensor("w3").transpose(0, 1)).add(in.tensor("b3"));
        Tensor loss = Functional.crossEntropy(logits, in.tensor("target"));
        return gradsByBackward(in, named("logits", logits, "loss", loss));
    }

    static Computed convDoubleBackward(CaseInputs in) {
        Tensor x = in.tensor("x");
        Tensor w = in.tensor("w");
        Tensor f = Functional.maxPool2d(Functional.conv2d(x, w, null, 2, 1).tanh(), 2).pow(2.0).sum();
        Tensor dfdx = Autograd.grad(List.of(f), List.of(x), null, true, true, false).get(0);
        Tensor directional = dfdx.mul(in.tensor("v")).sum();
        List<Tensor> second = Autograd.grad(List.of(directional), List.of(x, w), null, false, false, false);
        return new Computed(named("f", f, "df_dx", dfdx), named("x", second.get(0), "w", second.get(1)));
    }

    // ---- running and comparing ------------------------------------------------------------------

    /** What a case computed: named outputs and the gradient for each differentiable input. */
    record Computed(Map<String, Tensor> outputs, Map<String, Tensor> grads) {
    }

    /** {@code outputs["loss"].backward()}, then each differentiable input's {@code grad()}: the common case. */
    private static Computed gradsByBackward(CaseInputs in, Map<String, Tensor> outputs) {
        outputs.get("loss").backward();
        Map<String, Tensor> grads = new LinkedHashMap<>();
        for (Map.Entry<String, Tensor> leaf : in.differentiable().entrySet()) {
            grads.put(leaf.getKey(), leaf.getValue().grad());
        }
        return new Computed(outputs, grads);
    }

    /** A name-to-tensor map in the order given: {@code named("a", a, "b", b)}. */
    private static Map<String, Tensor> named(Object... namesAndTensors) {
        Map<String, Tensor> named = new LinkedHashMap<>();
        for (int i = 0; i < namesAndTensors.length; i += 2) {
            named.put((String) namesAndTensors[i], (Tensor) namesAndTensors[i + 1]);
        }
        return named;
    }

    private static void checkCoverage(List<ReferenceCase> cases) {
        TreeSet<String> stored = new TreeSet<>();
        cases.forEach(c -> stored.add(c.name()));
        TreeSet<String> missing = new TreeSet<>(stored);
        missing.removeAll(CASES.keySet());
        TreeSet<String> stale = new TreeSet<>(CASES.keySet());
        stale.removeAll(stored);
        if (!missing.isEmpty() || !stale.isEmpty()) {
            throw new AssertionFailedError("pytorch-reference.json and PyTorchReference disagree: cases without a Java "
                    + "mirror " + missing + ", Java cases without reference values " + stale
                    + " (regenerate with tools/pytorch-reference/generate.py)");
        }
    }

    private static void run(ReferenceCase reference, Backend backend, DType dtype) {
        CaseFunction function = CASES.get(reference.name());
        if (function == null) {
            throw new AssertionFailedError(reference.name() + ": no Java mirror for this reference case");
        }
        String label = reference.name() + " [" + dtype + " on " + backend.name() + "]";
        Computed computed = function.compute(new CaseInputs(reference, backend, dtype));
        Tolerance forOutputs = Tolerance.of(reference.name(), false, dtype);
        Tolerance forGrads = Tolerance.of(reference.name(), true, dtype);
        List<String> failures = new ArrayList<>();
        for (StoredTensor expected : reference.outputs()) {
            compare(label, "output", expected, computed.outputs().get(expected.name()), dtype, forOutputs, failures);
        }
        for (StoredTensor expected : reference.grads()) {
            compare(label, "gradient of", expected, computed.grads().get(expected.name()), dtype, forGrads, failures);
        }
        if (!failures.isEmpty()) {
            throw new AssertionFailedError(failures.size() + " mismatch(es) against PyTorch "
                    + reference.torchVersion() + ":\n  " + String.join("\n  ", failures));
        }
    }

    /** How many bad elements to list per tensor before summarising: enough to see a pattern. */
    private static final int ELEMENTS_REPORTED = 4;

    private static void compare(String label, String kind, StoredTensor expected, Tensor actual, DType dtype,
                                Tolerance tolerance, List<String> failures) {
        String what = label + ": " + kind + " '" + expected.name() + "'";
        if (actual == null) {
            failures.add(what + " was not computed (null)");
            return;
        }
        if (!Arrays.equals(actual.shape().toArray(), expected.shape())) {
            failures.add(what + " has shape " + actual.shape() + ", expected " + Arrays.toString(expected.shape()));
            return;
        }
        // Indices stay INT64 whatever the floating dtype of the run.
        DType expectedType = expected.dtype() == DType.INT64 ? DType.INT64 : dtype;
        if (actual.dtype() != expectedType) {
            failures.add(what + " has dtype " + actual.dtype() + ", expected " + expectedType);
            return;
        }
        double[] got = actual.toDoubleArray();
        double[] want = expected.values();
        int bad = 0;
        for (int i = 0; i < want.length; i++) {
            double allowed = tolerance.allowed(want[i]);
            double error = Math.abs(got[i] - want[i]);
            if (!(error <= allowed)) {
                if (bad < ELEMENTS_REPORTED) {
                    failures.add(what + " element " + Arrays.toString(unravel(i, expected.shape())) + ": expected "
                            + want[i] + ", got " + got[i] + " (|diff| " + error + " > allowed " + allowed + " from " + tolerance + ")");
                }
                bad++;
            }
        }
        if (bad > ELEMENTS_REPORTED) {
            failures.add(what + ": " + (bad - ELEMENTS_REPORTED) + " more of " + want.length + " elements differ");
        }
    }

    private static int[] unravel(int flat, int[] shape) {
        int[] index = new int[shape.length];
        for (int d = shape.length - 1; d >= 0; d--) {
            index[d] = flat % shape[d];
            flat /= shape[d];
        }
        return index;
    }

    /**
     * Element-wise bound {@code |actual - expected| <= absolute + relative * |expected|}.
     *
     * <p>FLOAT64: the reference is itself float64, so the only differences are summation order and
     * the choice of equivalent formulas (e.g. tanh' from the output); these stay below 1e-13 relative
     * on the scalar backend, and 1e-9 leaves room for any other summation order. 1e-12 absolute covers
     * elements that are sums cancelling to about zero.
     *
     * <p>FLOAT32: rounding the inputs alone perturbs them by up to 6e-8 relative and each op adds a
     * similar error; 1e-4 relative / 1e-5 absolute allows for the few dozen ops and small condition
     * numbers of these cases (the scalar backend uses at most 2% of that bound, and 12% for the
     * gradients of the large-logit cases).
     *
     * <p>FLOAT32 outputs of the large-logit cases get 2.5e-4 absolute: float32 spacing at 1e3 is
     * 6.1e-5, so rounding a logit to float32 already moves it by up to 3.05e-5, and an output such as
     * {@code x - logSumExp(x)} is O(1) yet keeps that absolute error, which is an unbounded relative
     * error when the output is near zero. 2.5e-4 is four float32 ulps at 1e3; the scalar backend's
     * worst is 3.8e-5. Their gradients (softmax probabilities, free of the 1e3 offset) keep the
     * default bound.
     */
    record Tolerance(double relative, double absolute) {
        static final Tolerance FLOAT64 = new Tolerance(1e-9, 1e-12);
        static final Tolerance FLOAT32 = new Tolerance(1e-4, 1e-5);
        static final Tolerance FLOAT32_LARGE_LOGIT_OUTPUTS = new Tolerance(1e-4, 2.5e-4);

        /** The cases whose inputs are logits around 1e3. */
        private static final Set<String> LARGE_LOGIT_CASES =
                Set.of("log_softmax_large", "softmax_large", "logsumexp_large", "cross_entropy_large");

        static Tolerance of(String caseName, boolean isGradient, DType dtype) {
            if (dtype == DType.FLOAT64) {
                return FLOAT64;
            }
            return LARGE_LOGIT_CASES.contains(caseName) && !isGradient ? FLOAT32_LARGE_LOGIT_OUTPUTS : FLOAT32;
        }

        double allowed(double expected) {
            return absolute + relative * Math.abs(expected);
        }

        @Override
        public String toString() {
            return "tolerance " + relative + " relative + " + absolute + " absolute";
        }
    }

    // ---- the reference file ---------------------------------------------------------------------

    /** A tensor as stored in the JSON: shape, dtype and row-major data. */
    record StoredTensor(String name, int[] shape, DType dtype, boolean requiresGrad, double[] values, long[] indices) {
        static StoredTensor parse(JsonNode node) {
            String name = node.get("name").asText();
            int[] shape = new int[node.get("shape").size()];
            for (int d = 0; d < shape.length; d++) {
                shape[d] = node.get("shape").get(d).asInt();
            }
            DType dtype = DType.valueOf(node.get("dtype").asText());
            JsonNode data = node.get("data");
            double[] values = new double[data.size()];
            long[] indices = dtype == DType.INT64 ? new long[data.size()] : null;
            for (int i = 0; i < values.length; i++) {
                values[i] = data.get(i).asDouble();
                if (indices != null) {
                    indices[i] = data.get(i).asLong();
                }
            }
            return new StoredTensor(name, shape, dtype, node.path("requires_grad").asBoolean(false), values, indices);
        }

        /** On {@code backend}; floating values converted to {@code floatType}, indices kept INT64. */
        Tensor materialize(Backend backend, DType floatType) {
            if (dtype == DType.INT64) {
                return Tensor.on(backend).fromArray(indices, shape);
            }
            return Tensor.on(backend).fromArray(values, floatType, shape).requiresGrad(requiresGrad);
        }
    }

    record ReferenceCase(String name, String torchVersion, List<StoredTensor> inputs, List<StoredTensor> constants,
                         Map<String, Double> params, List<StoredTensor> outputs, List<StoredTensor> grads) {
        static ReferenceCase parse(JsonNode node, String torchVersion) {
            Map<String, Double> params = new LinkedHashMap<>();
            node.get("params").fields().forEachRemaining(e -> params.put(e.getKey(), e.getValue().asDouble()));
            return new ReferenceCase(node.get("name").asText(), torchVersion, tensors(node.get("inputs")),
                    tensors(node.get("constants")), params, tensors(node.get("outputs")), tensors(node.get("grads")));
        }

        private static List<StoredTensor> tensors(JsonNode array) {
            List<StoredTensor> list = new ArrayList<>();
            array.forEach(t -> list.add(StoredTensor.parse(t)));
            return list;
        }
    }

    /** The tensors and numbers one run of a case reads, built fresh on the backend under test. */
    static final class CaseInputs {
        private final Map<String, Tensor> tensors = new LinkedHashMap<>();
        private final Map<String, Tensor> differentiable = new LinkedHashMap<>();
        private final ReferenceCase reference;

        CaseInputs(ReferenceCase reference, Backend backend, DType dtype) {
            this.reference = reference;
            for (StoredTensor input : reference.inputs()) {
                Tensor t = input.materialize(backend, dtype);
                tensors.put(input.name(), t);
                differentiable.put(input.name(), t);
            }
            for (StoredTensor constant : reference.constants()) {
                tensors.put(constant.name(), constant.materialize(backend, dtype));
            }
        }

        Tensor tensor(String name) {
            Tensor t = tensors.get(name);
            if (t == null) {
                throw new IllegalArgumentException(reference.name() + ": no input or constant named '" + name
                        + "' in the reference file; it has " + tensors.keySet());
            }
            return t;
        }

        double param(String name) {
            Double value = reference.params().get(name);
            if (value == null) {
                throw new IllegalArgumentException(reference.name() + ": no param named '" + name
                        + "' in the reference file; it has " + reference.params().keySet());
            }
            return value;
        }

        /** The inputs that require grad, in file order. */
        Map<String, Tensor> differentiable() {
            return differentiable;
        }
    }

    private static List<ReferenceCase> loadCases() {
        JsonNode root = ReferenceFiles.load(RESOURCE, "generate.py");
        String torchVersion = root.get("torch_version").asText();
        List<ReferenceCase> cases = new ArrayList<>();
        root.get("cases").forEach(c -> cases.add(ReferenceCase.parse(c, torchVersion)));
        return cases;
    }
}
