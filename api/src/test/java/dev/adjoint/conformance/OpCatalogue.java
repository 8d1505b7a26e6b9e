package dev.adjoint.conformance;

import dev.adjoint.DType;
import dev.adjoint.DTypeMismatchException;
import dev.adjoint.Functional;
import dev.adjoint.Generator;
import dev.adjoint.InterpolationMode;
import dev.adjoint.PadMode;
import dev.adjoint.Tensor;
import dev.adjoint.TensorShapeException;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.BiFunction;
import java.util.function.Function;
import java.util.function.UnaryOperator;

import static dev.adjoint.conformance.InputSpec.bools;
import static dev.adjoint.conformance.InputSpec.index;
import static dev.adjoint.conformance.InputSpec.integers;
import static dev.adjoint.conformance.InputSpec.indexValues;
import static dev.adjoint.conformance.InputSpec.mask;
import static dev.adjoint.conformance.InputSpec.of;

/**
 * Every differentiable op of the api, each described once (PyTorch OpInfo style). Samples cover
 * broadcasting, size-1 dims, 0-d tensors and non-contiguous views; domains keep inputs where the op
 * is smooth (log of positives, kinks of abs/relu/max avoided by random inputs); error inputs pin the
 * message a user sees.
 */
public final class OpCatalogue {
    private OpCatalogue() {
    }

    public static List<OpInfo> all() {
        List<OpInfo> ops = new ArrayList<>();
        unary(ops);
        binary(ops);
        comparisons(ops);
        reductions(ops);
        linearAlgebra(ops);
        movement(ops);
        indexing(ops);
        normalization(ops);
        attention(ops);
        losses(ops);
        convolution(ops);
        pooling(ops);
        batchNormalization(ops);
        trigonometric(ops);
        rounding(ops);
        activations(ops);
        cumulative(ops);
        sorting(ops);
        statistics(ops);
        rearranging(ops);
        partitions(ops);
        masking(ops);
        contractions(ops);
        factories(ops);
        integersAndBools(ops);
        dimsOfZeroDimensional(ops);
        return ops;
    }

    // ---- dims of a 0-d tensor -------------------------------------------------------------------------

    /**
     * PyTorch takes dim 0 and -1 of a 0-d tensor as one dimension of size 1; the entries elsewhere
     * whose dim is 0 or -1 have a 0-d sample, these are the ones whose dim there is another.
     */
    private static void dimsOfZeroDimensional(List<OpInfo> ops) {
        ops.add(OpInfo.op("sum(dim of a 0-d tensor)", Set.of("sum"), in -> in.get(0).sum(-1, true)).then(Tensor::square)
                .sample(of())
                .error("dimension out of range", f -> f.ones(DType.FLOAT64).sum(1, false),
                        TensorShapeException.class, "sum: dimension 1 is out of range for shape [] (valid: [-1, 0]")
                .error("dimension 0 twice", f -> f.ones(DType.FLOAT64).sum(new int[] {0, -1}, false),
                        TensorShapeException.class, "sum: dimension -1 appears twice in [0, -1] for shape []"));
        ops.add(OpInfo.op("var(dim of a 0-d tensor, correction 0)", Set.of("var"),
                        in -> in.get(0).var(new int[] {0}, 0, true).add(in.get(0).square()))
                .sample(of()));
        ops.add(OpInfo.op("logSoftmax(dim of a 0-d tensor)", Set.of("logSoftmax"), in -> in.get(0).logSoftmax(0))
                .sample(of())
                .error("dimension out of range", f -> f.ones(DType.FLOAT64).logSoftmax(-2),
                        TensorShapeException.class, "logSoftmax: dimension -2 is out of range for shape [] (valid: [-1, 0]"));
        ops.add(OpInfo.op("squeeze(dim of a 0-d tensor)", Set.of("squeeze"), in -> in.get(0).squeeze(-1)).then(Tensor::square)
                .sample(of()));
        ops.add(OpInfo.op("flip(dim of a 0-d tensor)", Set.of("flip"), in -> in.get(0).flip(0)).then(Tensor::square)
                .sample(of()));
        ops.add(OpInfo.op("scatterAdd(0-d input, index or source)", Set.of("scatterAdd"),
                        in -> in.get(0).scatterAdd(0, in.get(1), in.get(2))).then(Tensor::square)
                .sample(of(), index(1), of()).sample(of(), index(1, 2), of(2)).sample(of(3), index(3), of())
                .error("index and src of different sizes", f -> f.ones(DType.FLOAT64)
                                .scatterAdd(0, f.fromArray(new long[] {0, 0}, 2), f.ones(DType.FLOAT64)),
                        TensorShapeException.class, "scatterAdd: index shape [2] must equal src shape []"));
    }

    // ---- unary ---------------------------------------------------------------------------------------

    private static OpInfo unaryOp(String name, UnaryOperator<Tensor> f, double lo, double hi) {
        return unaryOp(name, Set.of(name), f, lo, hi);
    }

    /** As above, for an entry covering api methods with other names than its own. */
    private static OpInfo unaryOp(String name, Set<String> covers, UnaryOperator<Tensor> f, double lo, double hi) {
        OpInfo op = OpInfo.op(name, covers, in -> f.apply(in.get(0)))
                .sample(of().domain(lo, hi))
                .sample(of(5).domain(lo, hi))
                .sample(of(2, 3).domain(lo, hi))
                .sample(of(3, 4).domain(lo, hi).transposed())
                .sample(of(3, 4).domain(lo, hi).sliced())
                .sample(of(2, 1, 3).domain(lo, hi).expandedTo(2, 4, 3));
        if (lo < 0 && hi > 0) {
            // Near 0, checked in ulps. Long enough for a vectorised kernel's main loop, not only its tail.
            op.sample(of(100).domain(lo, hi).tiny());
        }
        return op;
    }

    private static void unary(List<OpInfo> ops) {
        ops.add(unaryOp("neg", Tensor::neg, -2, 2));
        ops.add(unaryOp("exp", Tensor::exp, -2, 2));
        ops.add(unaryOp("log", Tensor::log, 0.5, 2));
        ops.add(unaryOp("log1p", Tensor::log1p, -0.5, 2));
        ops.add(unaryOp("sqrt", Tensor::sqrt, 0.5, 2));
        ops.add(unaryOp("square", Tensor::square, -2, 2));
        ops.add(unaryOp("abs", Tensor::abs, -2, 2));
        ops.add(unaryOp("sign", Tensor::sign, -2, 2).notDifferentiable());
        ops.add(unaryOp("sin", Tensor::sin, -3, 3));
        ops.add(unaryOp("cos", Tensor::cos, -3, 3));
        ops.add(unaryOp("tanh", Tensor::tanh, -3, 3));
        ops.add(unaryOp("sigmoid", Tensor::sigmoid, -4, 4));
        ops.add(unaryOp("relu", Tensor::relu, -2, 2));
        ops.add(unaryOp("erf", Tensor::erf, -3, 3));
        ops.add(unaryOp("pow", t -> t.pow(2.5), 0.5, 2));
        ops.add(OpInfo.op("pow(negative exponent)", Set.of("pow"), in -> in.get(0).pow(-1.5))
                .sample(of(2, 3).domain(0.5, 2)));
        ops.add(OpInfo.op("pow(integer exponent)", Set.of("pow"), in -> in.get(0).pow(3))
                .sample(of(2, 3)));
        ops.add(unaryOp("clamp", t -> t.clamp(-0.5, 0.5), -1, 1)
                .error("a fractional bound for an INT64 tensor", f -> f.arange(3).clamp(0.5, 1),
                        IllegalArgumentException.class, "clamp: the bound 0.5 is not a whole number, so it cannot clamp "
                                + "a tensor of dtype INT64 (shape [3])"));
        // min > max: PyTorch's min(max(x, min), max) is max everywhere, with a zero gradient.
        ops.add(OpInfo.op("clamp(min above max)", Set.of("clamp"), in -> in.get(0).clamp(0.5, -0.5).add(in.get(0).square()))
                .sample(of(2, 3)).sample(of()));
    }

    // ---- binary --------------------------------------------------------------------------------------

    private static OpInfo binaryOp(String name, BiFunction<Tensor, Tensor, Tensor> f, double bLo, double bHi) {
        return OpInfo.op(name, in -> f.apply(in.get(0), in.get(1)))
                .sample(of(2, 3), of(2, 3).domain(bLo, bHi))
                .sample(of(2, 3), of(3).domain(bLo, bHi))
                .sample(of(2, 1), of(1, 3).domain(bLo, bHi))
                .sample(of(), of(2, 2).domain(bLo, bHi))
                .sample(of(3, 4).transposed(), of(3, 4).domain(bLo, bHi).sliced())
                .sample(of(1, 3).expandedTo(2, 3), of(2, 1, 3).domain(bLo, bHi))
                .error("shapes that do not broadcast", f2 -> f.apply(f2.ones(DType.FLOAT64, 2, 3),
                        f2.ones(DType.FLOAT64, 4)), TensorShapeException.class,
                        name + ": shapes [2, 3] and [4] cannot be broadcast")
                .error("mixed dtypes", f2 -> f.apply(f2.ones(DType.FLOAT64, 2), f2.ones(DType.FLOAT32, 2)),
                        DTypeMismatchException.class, name + ": dtypes differ (FLOAT64 for shape [2], FLOAT32");
    }

    private static OpInfo scalarOp(String name, String covers, Function<Tensor, Tensor> f, double lo, double hi) {
        return OpInfo.op(name, Set.of(covers), in -> f.apply(in.get(0)))
                .sample(of(2, 3).domain(lo, hi))
                .sample(of().domain(lo, hi))
                .sample(of(3, 2).domain(lo, hi).transposed());
    }

    private static void binary(List<OpInfo> ops) {
        ops.add(binaryOp("add", Tensor::add, -2, 2));
        ops.add(binaryOp("sub", Tensor::sub, -2, 2));
        ops.add(binaryOp("mul", Tensor::mul, -2, 2));
        ops.add(binaryOp("div", Tensor::div, 0.5, 2));
        ops.add(binaryOp("maximum", Tensor::maximum, -2, 2));
        ops.add(binaryOp("minimum", Tensor::minimum, -2, 2));
        ops.add(OpInfo.op("maximum(ties)", Set.of("maximum"), in -> in.get(0).maximum(in.get(0).mul(1.0)))
                .sample(of(2, 3)));
        ops.add(OpInfo.op("pow(tensor exponent)", Set.of("pow"), in -> in.get(0).pow(in.get(1)))
                .sample(of(2, 3).domain(0.5, 2), of(2, 3).domain(-1.5, 2.5))
                .sample(of(2, 3).domain(0.5, 2), of(3).domain(-1, 2))
                .sample(of(3, 4).domain(0.5, 2).transposed(), of().domain(0.5, 3)));
        ops.add(scalarOp("add(scalar)", "add", t -> t.add(1.5), -2, 2));
        ops.add(scalarOp("sub(scalar)", "sub", t -> t.sub(1.5), -2, 2));
        ops.add(scalarOp("mul(scalar)", "mul", t -> t.mul(-1.5), -2, 2));
        ops.add(scalarOp("div(scalar)", "div", t -> t.div(3.0), -2, 2));
        ops.add(scalarOp("maximum(scalar)", "maximum", t -> t.maximum(0.25), -2, 2));
        ops.add(scalarOp("minimum(scalar)", "minimum", t -> t.minimum(0.25), -2, 2));
        ops.add(OpInfo.op("where", in -> Tensor.where(in.get(0), in.get(1), in.get(2)))
                .sample(bools(2, 3), of(2, 3), of(2, 3))
                .sample(bools(2, 1), of(3), of(2, 3))
                .sample(bools(3), of(2, 3).transposed().domain(-1, 1), of())
                // A mask of the floating dtype counts its non-zero elements as true.
                .sample(mask(2, 3), of(2, 3), of(2, 3))
                .error("shapes that do not broadcast", f -> Tensor.where(f.ones(DType.FLOAT64, 2),
                        f.ones(DType.FLOAT64, 3), f.ones(DType.FLOAT64, 3)), TensorShapeException.class,
                        "where: shapes [2] and [3] cannot be broadcast"));
    }

    private static void comparisons(List<OpInfo> ops) {
        ops.add(binaryOp("gt", Tensor::gt, -2, 2).notDifferentiable());
        ops.add(binaryOp("lt", Tensor::lt, -2, 2).notDifferentiable());
        ops.add(binaryOp("ge", Tensor::ge, -2, 2).notDifferentiable());
        ops.add(binaryOp("le", Tensor::le, -2, 2).notDifferentiable());
        // Random inputs are never equal, so eq compares a tensor with a copy that matches where the mask is set.
        ops.add(OpInfo.op("eq(ties)", Set.of("eq"), in -> in.get(0).eq(Tensor.where(in.get(2), in.get(0), in.get(1))))
                .sample(of(2, 3), of(2, 3), mask(2, 3))
                .sample(of(2, 3), of(3), mask(1, 3))
                .notDifferentiable());
        ops.add(scalarOp("gt(scalar)", "gt", t -> t.gt(0.5), -2, 2).notDifferentiable());
        ops.add(scalarOp("lt(scalar)", "lt", t -> t.lt(0.5), -2, 2).notDifferentiable());
        ops.add(scalarOp("ge(scalar)", "ge", t -> t.ge(0.5), -2, 2).notDifferentiable());
        ops.add(scalarOp("le(scalar)", "le", t -> t.le(0.5), -2, 2).notDifferentiable());
        // eq(scalar) needs exact hits: compare a mask with 1.
        ops.add(OpInfo.op("eq(scalar)", Set.of("eq"), in -> in.get(0).eq(1.0))
                .sample(mask(2, 3))
                .sample(mask())
                .notDifferentiable());
        // INT64 operands (argmax(...).eq(labels)): compared exactly, a 0/1 INT64 result. Values in
        // [0, 3) tie often; the last sample differs only by 1 above 2^53, where doubles cannot tell.
        long big = 1L << 53;
        List<BiFunction<Tensor, Tensor, Tensor>> comparisons =
                List.of(Tensor::gt, Tensor::lt, Tensor::ge, Tensor::le, Tensor::eq);
        List<String> names = List.of("gt", "lt", "ge", "le", "eq");
        for (int i = 0; i < names.size(); i++) {
            BiFunction<Tensor, Tensor, Tensor> compare = comparisons.get(i);
            ops.add(OpInfo.op(names.get(i) + "(INT64)", Set.of(names.get(i)), in -> compare.apply(in.get(0), in.get(1)))
                    .sample(index(3, 2, 3), index(3, 2, 3))
                    .sample(index(3, 2, 3), index(3, 3))
                    .sample(index(3, 3, 4).transposed(), index(3, 3, 4).sliced())
                    .sample(index(3, 1, 3).expandedTo(2, 3), index(3))
                    .sample(indexValues(new long[] {big, big + 1, -big - 1, Long.MAX_VALUE}, 4),
                            indexValues(new long[] {big + 1, big, -big - 1, Long.MAX_VALUE - 1}, 4))
                    .notDifferentiable()
                    .error("FLOAT64 against FLOAT32", f -> compare.apply(f.ones(DType.FLOAT64, 3), f.ones(DType.FLOAT32, 3)),
                            DTypeMismatchException.class, names.get(i) + ": dtypes differ (FLOAT64 for shape [3], FLOAT32"));
        }
        // A number that is not a whole long is compared in FLOAT64, not truncated into INT64.
        ops.add(OpInfo.op("comparisons(INT64, scalar)", Set.of("gt", "lt", "ge", "le", "eq"),
                        in -> Tensor.stack(List.of(in.get(0).gt(0.5), in.get(0).lt(1.5), in.get(0).ge(1),
                                in.get(0).le(-0.5), in.get(0).eq(1), in.get(0).eq(1.5), in.get(0).lt(Double.NaN),
                                in.get(0).lt(Double.POSITIVE_INFINITY)), 0))
                .sample(index(3, 2, 3))
                .sample(index(3, 4, 3).transposed())
                .notDifferentiable());
    }

    // ---- reductions ---------------------------------------------------------------------------------

    private static void reductions(List<OpInfo> ops) {
        ops.add(OpInfo.op("sum", in -> in.get(0).sum())
                .sample(of()).sample(of(5)).sample(of(3, 4).transposed()).sample(of(2, 1, 3).expandedTo(2, 4, 3)));
        ops.add(OpInfo.op("sum(dim)", Set.of("sum"), in -> in.get(0).sum(1, false))
                .sample(of(3, 4)).sample(of(2, 3, 4)).sample(of(4, 3).transposed()).sample(of(3, 4).sliced())
                .error("dimension out of range", f -> f.ones(DType.FLOAT64, 2, 3).sum(2, false),
                        TensorShapeException.class, "sum: dimension 2 is out of range for shape [2, 3]"));
        ops.add(OpInfo.op("sum(dims, keepDim)", Set.of("sum"), in -> in.get(0).sum(new int[] {0, -1}, true))
                .sample(of(2, 3, 4)).sample(of(3, 1, 2)).sample(of(2, 1, 3).expandedTo(2, 4, 3))
                .error("repeated dimension", f -> f.ones(DType.FLOAT64, 2, 3).sum(new int[] {1, -1}, false),
                        TensorShapeException.class, "sum: dimension -1 appears twice"));
        // Counting a comparison's INT64 mask: an exact INT64 sum.
        ops.add(OpInfo.op("sum(INT64)", Set.of("sum"),
                        in -> Tensor.cat(List.of(in.get(0).sum(1, false).reshape(-1), in.get(0).sum().reshape(1)), 0))
                .sample(index(3, 3, 4)).sample(index(5, 4, 3).transposed()).sample(index(2, 1, 3).expandedTo(2, 4, 3))
                .notDifferentiable());
        ops.add(OpInfo.op("mean", in -> in.get(0).mean())
                .sample(of()).sample(of(3, 4)).sample(of(3, 4).sliced())
                .error("INT64 input", f -> f.arange(4).mean(), DTypeMismatchException.class,
                        "mean: expected a FLOAT32 or FLOAT64 tensor, got INT64"));
        ops.add(OpInfo.op("mean(dims, keepDim)", Set.of("mean"), in -> in.get(0).mean(new int[] {1}, true))
                .sample(of(2, 3, 4)).sample(of(4, 3).transposed()));
        ops.add(OpInfo.op("mean(dim)", Set.of("mean"), in -> in.get(0).mean(0, false))
                .sample(of(2, 3, 4)).sample(of(4, 3).transposed()).sample(of()));
        for (String name : List.of("argmax", "argmin")) {
            boolean max = name.equals("argmax");
            ops.add(OpInfo.op(name, in -> max ? in.get(0).argmax() : in.get(0).argmin())
                    .sample(of(5)).sample(of(3, 4).transposed()).sample(of())
                    .notDifferentiable());
            ops.add(OpInfo.op(name + "(dim)", Set.of(name),
                            in -> max ? in.get(0).argmax(-1, false) : in.get(0).argmin(0, true))
                    .sample(of(3, 4)).sample(of(2, 3, 4).sliced()).sample(of(2, 1, 3).expandedTo(2, 4, 3)).sample(of())
                    .notDifferentiable());
        }
        for (String name : List.of("amax", "amin")) {
            boolean max = name.equals("amax");
            ops.add(OpInfo.op(name, in -> max ? in.get(0).amax() : in.get(0).amin())
                    .sample(of(5)).sample(of(3, 4).transposed()).sample(of()));
            ops.add(OpInfo.op(name + "(dim)", Set.of(name),
                            in -> max ? in.get(0).amax(-1, true) : in.get(0).amin(-1, true))
                    .sample(of(3, 4)).sample(of(2, 3, 4).sliced()).sample(of(2, 1, 3).expandedTo(2, 4, 3)).sample(of()));
            ops.add(OpInfo.op(name + "(dims)", Set.of(name),
                            in -> max ? in.get(0).amax(new int[] {0, 2}, false) : in.get(0).amin(new int[] {0, 2}, false))
                    .sample(of(2, 3, 4)));
            // The gradient is split between tied extrema: feed a tensor with exact ties.
            ops.add(OpInfo.op(name + "(ties)", Set.of(name),
                            in -> max ? in.get(0).expand(3, 2).amax(0, false) : in.get(0).expand(3, 2).amin(0, false))
                    .sample(of(1, 2)));
        }
        // Logits near +-1e3 are spaced 6.1e-5 apart in FLOAT32, so results that keep that magnitude
        // (logSumExp) or subtract it (logSoftmax) carry absolute errors of a few such ulps.
        double largeLogitAtol32 = 2.5e-4;
        ops.add(OpInfo.op("logSumExp", in -> in.get(0).logSumExp(-1, false))
                .sample(of(3, 4)).sample(of(2, 3, 4).transposed()).sample(of(5)).sample(of())
                .sample(of(2, 5).domain(990, 1010))
                .tolerance32(largeLogitAtol32, 1e-4));
        ops.add(OpInfo.op("logSumExp(dims, keepDim)", Set.of("logSumExp"),
                        in -> in.get(0).logSumExp(new int[] {0, 1}, true))
                .sample(of(2, 3, 4)).sample(of(2, 3).domain(-1010, -990))
                .tolerance32(largeLogitAtol32, 1e-4));
        ops.add(OpInfo.op("softmax", in -> in.get(0).softmax(-1))
                .sample(of(3, 4)).sample(of(4, 3).transposed()).sample(of(2, 3, 4).sliced()).sample(of())
                .sample(of(2, 5).domain(990, 1010)));
        ops.add(OpInfo.op("softmax(dim 0)", Set.of("softmax"), in -> in.get(0).softmax(0))
                .sample(of(3, 4)).sample(of(2, 1, 3).expandedTo(2, 4, 3)));
        ops.add(OpInfo.op("logSoftmax", in -> in.get(0).logSoftmax(1))
                .sample(of(3, 4)).sample(of(4, 3).transposed()).sample(of(2, 5).domain(990, 1010))
                .sample(of(2, 5).domain(-1010, -990))
                .tolerance32(largeLogitAtol32, 1e-4));
    }

    // ---- linear algebra -------------------------------------------------------------------------------

    private static void linearAlgebra(List<OpInfo> ops) {
        ops.add(OpInfo.op("matmul", in -> in.get(0).matmul(in.get(1)))
                .sample(of(3), of(3))
                .sample(of(2, 3), of(3))
                .sample(of(3), of(3, 2))
                .sample(of(2, 3), of(3, 4))
                .sample(of(2, 3).transposed(), of(3, 4).sliced())
                .sample(of(4, 3), of(3, 2).transposed()) // nn.Linear's x @ W^T
                .sample(of(2, 2, 3), of(3, 2))
                .sample(of(2, 1, 2, 3), of(3, 3, 2))
                .sample(of(1, 2, 3).expandedTo(2, 2, 3), of(2, 3, 2).transposed())
                // A batch times a matrix folds into one product: over a strided view of the rows (a
                // narrow of the features), or over a copy where no stride order runs through them.
                .sample(of(2, 3, 4).sliced(), of(4, 5))
                .sample(of(3, 2, 4).transposed(), of(4, 5))
                .tolerance32(1e-5, 1e-4)
                .error("inner sizes differ", f -> f.ones(DType.FLOAT64, 3, 4).matmul(f.ones(DType.FLOAT64, 5, 2)),
                        TensorShapeException.class, "matmul: shapes [3, 4] and [5, 2] cannot be multiplied (4 != 5)")
                .error("0-d operand", f -> f.ones(DType.FLOAT64).matmul(f.ones(DType.FLOAT64, 2)),
                        TensorShapeException.class, "matmul: both arguments need at least 1 dimension")
                .error("batch dims that do not broadcast",
                        f -> f.ones(DType.FLOAT64, 2, 3, 4).matmul(f.ones(DType.FLOAT64, 3, 4, 2)),
                        TensorShapeException.class, "matmul: shapes [2] and [3] cannot be broadcast"));
        // The rows of a permuted batch (multi-head attention's [tokens, batch, features] view of a
        // batch-first input) fold into one product in stride order, the output permuted back.
        ops.add(OpInfo.op("matmul(permuted batch)", Set.of("matmul"), in -> in.get(0).transpose(0, 1).matmul(in.get(1)))
                .sample(of(3, 2, 4), of(4, 5))
                .sample(of(3, 2, 4).sliced(), of(4, 5).transposed())
                .tolerance32(1e-5, 1e-4));
        ops.add(OpInfo.op("matmul(permuted 4-d batch)", Set.of("matmul"),
                        in -> in.get(0).permute(2, 0, 1, 3).matmul(in.get(1)))
                .sample(of(2, 3, 2, 4), of(4, 3))
                .tolerance32(1e-5, 1e-4));
        // nn.Linear's op. The [2, 20, 24] sample folds into a 40 x 24 @ 24 x 40 product, large enough for
        // a packed GEMM with partial register blocks (where a bias epilogue meets the edges); the
        // narrow ones take products without packing, with the weight dense or transposed.
        ops.add(OpInfo.op("linear", in -> Functional.linear(in.get(0), in.get(1), in.get(2)))
                .sample(of(3), of(4, 3), of(4))
                .sample(of(5, 3), of(4, 3), of(4))
                .sample(of(5, 3).transposed(), of(4, 3).transposed(), of(4).sliced())
                .sample(of(2, 3, 4), of(5, 4), of(5))
                .sample(of(3, 2, 4).transposed(), of(2, 4), of(2))
                .sample(of(2, 20, 24), of(40, 24), of(40))
                .tolerance32(1e-5, 1e-4)
                .error("input that does not end in in_features",
                        f -> Functional.linear(f.ones(DType.FLOAT64, 2, 3), f.ones(DType.FLOAT64, 4, 5), null),
                        TensorShapeException.class, "linear: input shape [2, 3] must end in in_features=5 (weight shape [4, 5])")
                .error("1-D weight",
                        f -> Functional.linear(f.ones(DType.FLOAT64, 2, 3), f.ones(DType.FLOAT64, 3), null),
                        TensorShapeException.class, "linear: weight must be 2-D [out_features, in_features], got shape [3]")
                .error("bias of the wrong size",
                        f -> Functional.linear(f.ones(DType.FLOAT64, 2, 3), f.ones(DType.FLOAT64, 4, 3),
                                f.ones(DType.FLOAT64, 3)),
                        TensorShapeException.class, "linear: bias shape [3] must be [4]")
                .error("bias of another dtype",
                        f -> Functional.linear(f.ones(DType.FLOAT64, 2, 3), f.ones(DType.FLOAT64, 4, 3),
                                f.ones(DType.FLOAT32, 4)),
                        DTypeMismatchException.class, "linear: dtypes differ"));
        ops.add(OpInfo.op("linear(no bias)", Set.of("linear"), in -> Functional.linear(in.get(0), in.get(1), null))
                .sample(of(3), of(4, 3))
                .sample(of(5, 3), of(4, 3).transposed())
                .sample(of(2, 3, 4).transposed(), of(5, 4))
                .sample(of(2, 20, 24), of(40, 24))
                .tolerance32(1e-5, 1e-4));
    }

    // ---- movement -------------------------------------------------------------------------------------

    private static void movement(List<OpInfo> ops) {
        ops.add(OpInfo.op("reshape", in -> in.get(0).reshape(3, -1))
                .sample(of(2, 3)).sample(of(3, 2).transposed()).sample(of(2, 3).sliced())
                .error("wrong element count", f -> f.ones(DType.FLOAT64, 2, 3).reshape(4, 2),
                        TensorShapeException.class, "reshape: shape [4, 2] is invalid for input of shape [2, 3]"));
        // Views of strided inputs where the strides allow the new shape, copies where they do not: the
        // leading dims of a narrow merge into a view and the transposed ones copy; the stride-0 dims of
        // an expand merge into a view; the last dim of a transpose or an expand splits into a view.
        ops.add(OpInfo.op("reshape(merge leading)", Set.of("reshape"), in -> in.get(0).reshape(-1, in.get(0).size(-1)))
                .then(Tensor::square)
                .sample(of(2, 3, 4).sliced()).sample(of(2, 3, 4).transposed()).sample(of(1, 4).expandedTo(2, 3, 4)));
        ops.add(OpInfo.op("reshape(split last)", Set.of("reshape"), in -> in.get(0).reshape(in.get(0).size(0), 2, -1))
                .then(Tensor::square)
                .sample(of(3, 4).transposed()).sample(of(3, 1).expandedTo(3, 4)).sample(of(2, 3, 4).sliced()));
        // A permute that leaves two dims adjacent and in order: merged, a view; the others copy.
        ops.add(OpInfo.op("reshape(permuted)", Set.of("reshape"),
                        in -> in.get(0).permute(0, 3, 1, 2).reshape(in.get(0).size(0), in.get(0).size(3), -1))
                .then(Tensor::square)
                .sample(of(2, 3, 4, 5)).sample(of(2, 3, 4, 5).sliced()).sample(of(2, 3, 4, 5).transposed()));
        ops.add(OpInfo.op("view", in -> in.get(0).view(-1, in.get(0).size(-1))).then(Tensor::square)
                .sample(of(2, 3, 4)).sample(of(2, 3, 4).sliced()).sample(of(1, 4).expandedTo(2, 3, 4))
                .error("dims that span two strided runs",
                        f -> f.ones(DType.FLOAT64, 3, 2).transpose(0, 1).view(6),
                        TensorShapeException.class, "view: shape [6] is not compatible with the input's shape [2, 3] "
                                + "and strides [1, 2] (at least one dimension spans across two contiguous subspaces)"));
        ops.add(OpInfo.op("transpose", in -> in.get(0).transpose(0, -1)).then(Tensor::square)
                .sample(of(2, 3)).sample(of(2, 3, 4)).sample(of(4, 3).sliced()).sample(of()));
        ops.add(OpInfo.op("permute", in -> in.get(0).permute(2, 0, 1)).then(Tensor::exp)
                .sample(of(2, 3, 4)).sample(of(2, 4, 3).transposed())
                .error("not a permutation", f -> f.ones(DType.FLOAT64, 2, 3).permute(0, 0),
                        TensorShapeException.class, "permute: [0, 0] repeats dimension 0"));
        ops.add(OpInfo.op("squeeze", in -> in.get(0).squeeze()).then(Tensor::square)
                .sample(of(2, 1, 3)).sample(of(1, 1)).sample(of(3, 1).transposed()));
        ops.add(OpInfo.op("squeeze(dim)", Set.of("squeeze"), in -> in.get(0).squeeze(1)).then(Tensor::square)
                .sample(of(2, 1, 3)).sample(of(2, 3)));
        ops.add(OpInfo.op("unsqueeze", in -> in.get(0).unsqueeze(1)).then((out, in) -> out.mul(in.get(0).unsqueeze(-1)))
                .sample(of(3)).sample(of(2, 3).transposed())
                .error("dimension out of range", f -> f.ones(DType.FLOAT64, 2).unsqueeze(3),
                        TensorShapeException.class, "unsqueeze: dimension 3 is out of range for shape [2]"));
        ops.add(OpInfo.op("expand", in -> in.get(0).expand(2, 3, -1)).then(Tensor::square)
                .sample(of(3, 1)).sample(of(1, 4)).sample(of(3, 2).transposed())
                .error("incompatible size", f -> f.ones(DType.FLOAT64, 2, 3).expand(4, 3),
                        TensorShapeException.class, "expand: shape [2, 3] cannot be expanded to [4, 3]"));
        ops.add(OpInfo.op("narrow", in -> in.get(0).narrow(1, 1, 2)).then(Tensor::square)
                .sample(of(2, 4)).sample(of(3, 4).transposed()).sample(of(2, 3, 5).sliced())
                .error("out of range", f -> f.ones(DType.FLOAT64, 2, 3).narrow(1, 2, 2),
                        TensorShapeException.class, "narrow: start 2 and length 2 exceed dimension 1 of size 3")
                .error("start below -size", f -> f.ones(DType.FLOAT64, 2, 3).narrow(1, -4, 1),
                        TensorShapeException.class, "narrow: start -4 is out of range for dimension 1 of size 3 "
                                + "(shape [2, 3]; valid: [-3, 3])")
                .error("a 0-d tensor", f -> f.ones(DType.FLOAT64).narrow(0, 0, 1),
                        TensorShapeException.class, "narrow: dimension 0 is out of range for shape [] (valid: none, the tensor is 0-d)"));
        // A negative start counts from the end, as in PyTorch 1.13.
        ops.add(OpInfo.op("narrow(negative start)", Set.of("narrow"), in -> in.get(0).narrow(-1, -3, 2)).then(Tensor::square)
                .sample(of(2, 4)).sample(of(3, 5).transposed()).sample(of(3)));
        ops.add(OpInfo.op("contiguous", in -> in.get(0).contiguous()).then(Tensor::square)
                .sample(of(3, 4).transposed()).sample(of(2, 3)).sample(of(2, 3).sliced()));
        ops.add(OpInfo.op("clone", in -> in.get(0).clone()).then((out, in) -> out.mul(in.get(0)))
                .sample(of(2, 3)).sample(of(3, 4).transposed()).sample(of()));
        ops.add(OpInfo.op("cat", in -> Tensor.cat(List.of(in.get(0), in.get(1), in.get(2)), 1)).then(Tensor::square)
                .sample(of(2, 1), of(2, 3), of(2, 2))
                .sample(of(2, 3).transposed(), of(2, 1), of(2, 2).sliced())
                .error("sizes differ outside the cat dimension",
                        f -> Tensor.cat(List.of(f.ones(DType.FLOAT64, 2, 3), f.ones(DType.FLOAT64, 3, 3)), 1),
                        TensorShapeException.class, "cat: tensor 0 has shape [2, 3] but tensor 1 has shape [3, 3]")
                .error("a 0-d tensor", f -> Tensor.cat(List.of(f.ones(DType.FLOAT64, 2), f.ones(DType.FLOAT64)), 0),
                        TensorShapeException.class, "cat: tensor 1 is 0-d (shape []) and cannot be concatenated"));
        ops.add(OpInfo.op("cat(dim 0)", Set.of("cat"), in -> Tensor.cat(List.of(in.get(0), in.get(1)), 0)).then(Tensor::exp)
                .sample(of(1, 3), of(2, 3)).sample(of(2), of(3)));
        ops.add(OpInfo.op("stack", in -> Tensor.stack(List.of(in.get(0), in.get(1)), 1)).then(Tensor::square)
                .sample(of(2, 3), of(2, 3)).sample(of(3), of(3).expandedTo(3))
                .error("shapes differ", f -> Tensor.stack(List.of(f.ones(DType.FLOAT64, 2), f.ones(DType.FLOAT64, 3)), 0),
                        TensorShapeException.class, "stack: tensor 0 has shape [2] but tensor 1 has shape [3]")
                .error("dimension out of range", f -> Tensor.stack(List.of(f.ones(DType.FLOAT64), f.ones(DType.FLOAT64)), 1),
                        TensorShapeException.class, "stack: dimension 1 is out of range for stacking tensors of shape [] "
                                + "(valid: [-1, 0])"));
        ops.add(OpInfo.op("toType", in -> in.get(0).toType(DType.FLOAT64))
                .then((out, in) -> out.mul(2.0).toType(in.get(0).dtype()))
                .sample(of(2, 3)).sample(of(3, 2).transposed()));
    }

    // ---- indexing ---------------------------------------------------------------------------------------

    private static void indexing(List<OpInfo> ops) {
        ops.add(OpInfo.op("gather", in -> in.get(0).gather(1, in.get(1))).then(Tensor::square)
                .sample(of(3, 4), index(4, 3, 2))
                .sample(of(3, 4).transposed(), index(4, 2, 5))
                .sample(of(2, 3, 4), index(3, 2, 2, 4).expandedTo(2, 2, 4))
                .error("index out of range", f -> f.ones(DType.FLOAT64, 2, 3)
                                .gather(1, f.fromArray(new long[] {0, 3}, 2, 1)),
                        IndexOutOfBoundsException.class, "gather: index 3 at position [1, 0] is out of range for dimension 1 of size 3")
                .error("floating index", f -> f.ones(DType.FLOAT64, 2, 3).gather(1, f.ones(DType.FLOAT64, 2, 1)),
                        DTypeMismatchException.class, "gather: index must be INT64"));
        // A 0-d input or index counts as a vector of one element, as in PyTorch.
        ops.add(OpInfo.op("gather(dim 0)", Set.of("gather"), in -> in.get(0).gather(0, in.get(1))).then(Tensor::square)
                .sample(of(3, 4), index(3, 5, 4))
                .sample(of(), index(1)).sample(of(), index(1, 3)).sample(of(4), index(4)));
        ops.add(OpInfo.op("scatterAdd", in -> in.get(0).scatterAdd(1, in.get(1), in.get(2))).then(Tensor::square)
                .sample(of(3, 4), index(4, 3, 5), of(3, 5))
                .sample(of(3, 4).transposed(), index(4, 2, 3), of(2, 3).sliced())
                .error("index and src shapes differ", f -> f.ones(DType.FLOAT64, 2, 3)
                                .scatterAdd(1, f.fromArray(new long[] {0, 1}, 2, 1), f.ones(DType.FLOAT64, 2, 2)),
                        TensorShapeException.class, "scatterAdd: index shape [2, 1] must equal src shape [2, 2]"));
        ops.add(OpInfo.op("indexSelect", in -> in.get(0).indexSelect(0, in.get(1))).then(Tensor::square)
                .sample(of(4, 3), index(4, 6))
                .sample(of(3, 4).transposed(), index(3, 2))
                .sample(of(), index(1)).sample(of(), index(1, 1)).sample(of(4, 3), index(4))
                .error("2-D index", f -> f.ones(DType.FLOAT64, 2, 3).indexSelect(0, f.fromArray(new long[] {0, 1}, 1, 2)),
                        TensorShapeException.class, "indexSelect: index must be 1-D (or 0-d, one index), got shape [1, 2]")
                .error("two indices into a 0-d input", f -> f.ones(DType.FLOAT64).indexSelect(0, f.fromArray(new long[] {0, 0}, 2)),
                        TensorShapeException.class, "indexSelect: a 0-d input takes exactly one index, got index shape [2]"));
        ops.add(OpInfo.op("indexSelect(dim 1)", Set.of("indexSelect"), in -> in.get(0).indexSelect(1, in.get(1))).then(Tensor::exp)
                .sample(of(2, 3, 4), index(3, 5)));
    }

    // ---- losses -----------------------------------------------------------------------------------------

    private static void normalization(List<OpInfo> ops) {
        ops.add(OpInfo.op("layerNorm", in -> Functional.layerNorm(in.get(0), new int[] {4}, in.get(1), in.get(2), 1e-5))
                .sample(of(3, 4), of(4), of(4))
                .sample(of(2, 3, 4).transposed(), of(4), of(4))
                .sample(of(4), of(4), of(4))
                .error("normalized shape that is not a suffix", f -> Functional.layerNorm(f.ones(DType.FLOAT64, 3, 4),
                                new int[] {3}, null, null, 1e-5),
                        TensorShapeException.class, "layerNorm: input shape [3, 4] must end in the normalized shape [3]")
                .error("weight of the wrong shape", f -> Functional.layerNorm(f.ones(DType.FLOAT64, 3, 4),
                                new int[] {4}, f.ones(DType.FLOAT64, 3), null, 1e-5),
                        TensorShapeException.class, "layerNorm: weight has shape [3] but the normalized shape is [4]"));
        ops.add(OpInfo.op("layerNorm(two dims, no affine)", Set.of("layerNorm"),
                        in -> Functional.layerNorm(in.get(0), new int[] {3, 4}, null, null, 1e-3))
                .sample(of(2, 3, 4)).sample(of(3, 4)).sample(of(2, 3, 4).transposed()));
        ops.add(OpInfo.op("layerNorm(weight only)", Set.of("layerNorm"),
                        in -> Functional.layerNorm(in.get(0), new int[] {5}, in.get(1), null, 1e-5))
                .sample(of(2, 5), of(5)).sample(of(1, 3, 5), of(5)));
    }

    // ---- attention ------------------------------------------------------------------------------------

    /** scaledDotProductAttention with {@code in.get(3)} as its mask when {@code masked}, and these options. */
    private static OpInfo attentionOp(String name, boolean masked, boolean isCausal, double scale) {
        return attentionOp(name, masked, isCausal, scale, 0.0);
    }

    /**
     * With dropout of probability {@code dropoutP}, its mask drawn from a generator of a fixed seed at
     * every call: the mask is a constant of the op, the same for the scalar backend's composite (the
     * reference), the fused kernels and every evaluation of gradcheck.
     */
    private static OpInfo attentionOp(String name, boolean masked, boolean isCausal, double scale, double dropoutP) {
        // Sums of a few products as matmul's, then a softmax: FLOAT32 keeps the matmul's tolerance.
        return OpInfo.op(name, Set.of("scaledDotProductAttention"), in -> Functional.scaledDotProductAttention(
                        in.get(0), in.get(1), in.get(2), masked ? in.get(3) : null, isCausal, scale, dropoutP,
                        new Generator(29)))
                .tolerance32(1e-5, 1e-4);
    }

    private static void attention(List<OpInfo> ops) {
        ops.add(attentionOp("scaledDotProductAttention", false, false, Double.NaN)
                .sample(of(2, 3, 4), of(2, 3, 4), of(2, 3, 4))
                .sample(of(2, 3, 4), of(2, 5, 4), of(2, 5, 4)) // L != S
                .sample(of(2, 3, 4), of(2, 5, 4), of(2, 5, 2)) // Ev != E
                .sample(of(2, 2, 3, 4), of(2, 1, 5, 4), of(5, 3)) // broadcast batch dims
                .sample(of(3, 4), of(5, 4), of(2, 5, 3)) // only the value has batch dims
                .sample(of(3, 4).transposed(), of(2, 5, 4).sliced(), of(2, 5, 3).transposed())
                .sample(of(1, 2, 4).expandedTo(2, 2, 4), of(2, 3, 4), of(2, 3, 3))
                .error("embedding sizes that differ", f -> Functional.scaledDotProductAttention(
                                f.ones(DType.FLOAT64, 2, 3, 4), f.ones(DType.FLOAT64, 2, 5, 3), f.ones(DType.FLOAT64, 2, 5, 4)),
                        TensorShapeException.class, "scaledDotProductAttention: query [2, 3, 4] and key [2, 5, 3] must "
                                + "end in the same embedding size (4 != 3)")
                .error("key and value of different lengths", f -> Functional.scaledDotProductAttention(
                                f.ones(DType.FLOAT64, 3, 4), f.ones(DType.FLOAT64, 5, 4), f.ones(DType.FLOAT64, 6, 4)),
                        TensorShapeException.class, "scaledDotProductAttention: key [5, 4] and value [6, 4] must have "
                                + "the same sequence length S (5 != 6)")
                .error("batch dims that do not broadcast", f -> Functional.scaledDotProductAttention(
                                f.ones(DType.FLOAT64, 2, 3, 4), f.ones(DType.FLOAT64, 3, 5, 4), f.ones(DType.FLOAT64, 3, 5, 4)),
                        TensorShapeException.class, "scaledDotProductAttention: shapes [2] and [3] cannot be broadcast")
                .error("a mask and isCausal", f -> Functional.scaledDotProductAttention(f.ones(DType.FLOAT64, 3, 4),
                                f.ones(DType.FLOAT64, 3, 4), f.ones(DType.FLOAT64, 3, 4), f.ones(DType.FLOAT64, 3, 3), true),
                        IllegalArgumentException.class, "scaledDotProductAttention: give either attnMask (shape [3, 3]) "
                                + "or isCausal, not both")
                .error("a mask that does not broadcast", f -> Functional.scaledDotProductAttention(
                                f.ones(DType.FLOAT64, 2, 3, 4), f.ones(DType.FLOAT64, 2, 5, 4), f.ones(DType.FLOAT64, 2, 5, 4),
                                f.ones(DType.FLOAT64, 3, 4)),
                        TensorShapeException.class, "scaledDotProductAttention: attnMask of shape [3, 4] does not "
                                + "broadcast to the scores' shape [2, 3, 5]")
                .error("an integer mask", f -> Functional.scaledDotProductAttention(f.ones(DType.FLOAT64, 3, 4),
                                f.ones(DType.FLOAT64, 3, 4), f.ones(DType.FLOAT64, 3, 4), f.zeros(DType.INT64, 3, 3)),
                        DTypeMismatchException.class, "scaledDotProductAttention: attnMask must be BOOL"));
        // A floating mask is added to the scores and has a gradient of its own.
        ops.add(attentionOp("scaledDotProductAttention(float mask)", true, false, Double.NaN)
                .sample(of(2, 3, 4), of(2, 5, 4), of(2, 5, 3), of(3, 5))
                .sample(of(2, 3, 4), of(2, 5, 4), of(2, 5, 4), of(2, 1, 5))
                .sample(of(2, 2, 3, 4), of(2, 2, 3, 4), of(2, 2, 3, 4), of(2, 1, 3, 3).transposed()));
        // A BOOL mask, true where the key takes part; key 0 always does, so no row is all masked (NaN).
        ops.add(OpInfo.op("scaledDotProductAttention(bool mask)", Set.of("scaledDotProductAttention"), in -> {
                    Tensor mask = in.get(3);
                    int keys = mask.size(-1);
                    boolean[] first = new boolean[keys];
                    first[0] = true;
                    Tensor firstKey = Tensor.on(mask.backend()).fromArray(first, keys);
                    return Functional.scaledDotProductAttention(in.get(0), in.get(1), in.get(2),
                            mask.logicalOr(firstKey));
                })
                .tolerance32(1e-5, 1e-4)
                .sample(of(2, 3, 4), of(2, 5, 4), of(2, 5, 3), bools(3, 5))
                .sample(of(2, 2, 3, 4), of(2, 2, 6, 4), of(2, 2, 6, 4), bools(2, 1, 3, 6)));
        ops.add(attentionOp("scaledDotProductAttention(causal)", false, true, Double.NaN)
                .sample(of(2, 4, 3), of(2, 4, 3), of(2, 4, 2))
                .sample(of(2, 3, 4), of(2, 5, 4), of(2, 5, 4)) // L < S: the last keys are seen by none
                .sample(of(2, 5, 4), of(2, 3, 4), of(2, 3, 4)) // L > S: the last queries see every key
                .sample(of(2, 2, 4, 3), of(2, 1, 4, 3), of(4, 3)));
        ops.add(attentionOp("scaledDotProductAttention(scale)", false, false, 0.7)
                .sample(of(2, 3, 4), of(2, 5, 4), of(2, 5, 3)));
        // Dropout: the weights times nn.Dropout's multipliers (0 or 1 / (1 - p)), of the weights' shape.
        ops.add(attentionOp("scaledDotProductAttention(dropout)", false, false, Double.NaN, 0.3)
                .sample(of(2, 3, 4), of(2, 5, 4), of(2, 5, 3))
                .sample(of(2, 2, 3, 4), of(2, 1, 5, 4), of(5, 3)) // the weights [2, 2, 3, 5]
                .sample(of(3, 4), of(5, 4), of(2, 5, 3)) // the weights [3, 5], repeated over the value's batch
                .sample(of(3, 4).transposed(), of(2, 5, 4).sliced(), of(2, 5, 3).transposed())
                .error("a probability above 1", f -> Functional.scaledDotProductAttention(f.ones(DType.FLOAT64, 3, 4),
                                f.ones(DType.FLOAT64, 3, 4), f.ones(DType.FLOAT64, 3, 4), null, 1.5, new Generator(1)),
                        IllegalArgumentException.class, "scaledDotProductAttention: dropoutP must be in [0, 1], got 1.5")
                .error("no generator", f -> Functional.scaledDotProductAttention(f.ones(DType.FLOAT64, 3, 4),
                                f.ones(DType.FLOAT64, 3, 4), f.ones(DType.FLOAT64, 3, 4), null, 0.1, null),
                        IllegalArgumentException.class, "scaledDotProductAttention: dropoutP 0.1 needs a generator"));
        ops.add(attentionOp("scaledDotProductAttention(dropout, causal)", false, true, Double.NaN, 0.5)
                .sample(of(2, 4, 3), of(2, 4, 3), of(2, 4, 2))
                .sample(of(2, 5, 4), of(2, 3, 4), of(2, 3, 4)));
        ops.add(attentionOp("scaledDotProductAttention(dropout, float mask)", true, false, Double.NaN, 0.25)
                .sample(of(2, 3, 4), of(2, 5, 4), of(2, 5, 3), of(3, 5))
                .sample(of(3, 4), of(5, 4), of(2, 5, 3), of(2, 1, 5))); // the mask widens the weights to [2, 3, 5]
        // p = 1 drops everything, drawing nothing, as nn.Dropout: zeros, and zero gradients.
        ops.add(attentionOp("scaledDotProductAttention(dropout 1)", false, false, Double.NaN, 1.0)
                .sample(of(2, 3, 4), of(2, 5, 4), of(2, 5, 3)));
    }

    private static void losses(List<OpInfo> ops) {
        ops.add(OpInfo.op("mseLoss", in -> Functional.mseLoss(in.get(0), in.get(1)))
                .sample(of(4, 3), of(4, 3))
                .sample(of(4, 3).transposed(), of(4, 3).sliced())
                .error("shapes differ", f -> Functional.mseLoss(f.ones(DType.FLOAT64, 4, 3), f.ones(DType.FLOAT64, 3)),
                        TensorShapeException.class, "mseLoss: input shape [4, 3] and target shape [3] must be equal"));
        ops.add(OpInfo.op("crossEntropy", in -> Functional.crossEntropy(in.get(0), in.get(1)))
                .sample(of(4, 3), index(3, 4))
                .sample(of(5, 2).transposed(), index(2, 5))
                .sample(of(3, 4).domain(990, 1010), index(4, 3))
                .error("target of the wrong length", f -> Functional.crossEntropy(f.ones(DType.FLOAT64, 4, 3),
                                f.fromArray(new long[] {0, 1, 2}, 3)),
                        TensorShapeException.class, "crossEntropy: target shape [3] does not match logits shape [4, 3]")
                .error("class index out of range", f -> Functional.crossEntropy(f.ones(DType.FLOAT64, 2, 3),
                                f.fromArray(new long[] {0, 3}, 2)),
                        IndexOutOfBoundsException.class, "crossEntropy: target 3 at position 1 is out of range for 3 classes"));
        ops.add(OpInfo.op("logSoftmax(loss-sized)", Set.of("logSoftmax"),
                        in -> Functional.logSoftmax(in.get(0), 1).mul(Functional.softmax(in.get(0), 1)).sum())
                .sample(of(3, 4)));
    }
    // ---- convolution ------------------------------------------------------------------------------------

    /** A 2-D convolution entry with fixed geometry; {@code in.get(2)} is the bias when {@code withBias}. */
    private static OpInfo conv2dOp(String name, int[] stride, int[] padding, int[] dilation, int groups,
                                   boolean withBias) {
        return OpInfo.op(name, Set.of("conv2d"), in -> Functional.conv2d(in.get(0), in.get(1),
                        withBias ? in.get(2) : null, stride, padding, dilation, groups))
                .tolerance32(1e-5, 1e-4);
    }

    private static int[] ints(int... values) {
        return values;
    }

    private static void convolution(List<OpInfo> ops) {
        // Sums of up to a few dozen products of values in [-2, 2]: FLOAT32 keeps the matmul's tolerance.
        ops.add(conv2dOp("conv2d", ints(1), ints(0), ints(1), 1, true)
                .sample(of(2, 2, 4, 4), of(2, 2, 3, 3), of(2))
                .sample(of(1, 2, 3, 5).transposed(), of(2, 2, 2, 2), of(2))
                .error("input channels that do not match the weight", f -> Functional.conv2d(
                                f.ones(DType.FLOAT64, 1, 3, 5, 5), f.ones(DType.FLOAT64, 4, 2, 3, 3), null),
                        TensorShapeException.class,
                        "conv2d: input shape [1, 3, 5, 5] has 3 channels, but weight shape [4, 2, 3, 3] with groups 1 expects 2")
                .error("a kernel larger than the padded input", f -> Functional.conv2d(
                                f.ones(DType.FLOAT64, 1, 1, 2, 2), f.ones(DType.FLOAT64, 1, 1, 3, 3), null),
                        TensorShapeException.class, "conv2d: the kernel 3x3 with dilation 1x1 spans 3 along dimension 0")
                .error("a bias of the wrong size", f -> Functional.conv2d(f.ones(DType.FLOAT64, 1, 1, 3, 3),
                                f.ones(DType.FLOAT64, 2, 1, 1, 1), f.ones(DType.FLOAT64, 3)),
                        TensorShapeException.class, "conv2d: bias shape [3] must be [2]")
                .error("a 2-D input", f -> Functional.conv2d(f.ones(DType.FLOAT64, 3, 3),
                                f.ones(DType.FLOAT64, 1, 1, 1, 1), null),
                        TensorShapeException.class, "conv2d: expected a 3-D (unbatched) or 4-D (batched) input, got shape [3, 3]")
                .error("a zero stride", f -> Functional.conv2d(f.ones(DType.FLOAT64, 1, 1, 3, 3),
                                f.ones(DType.FLOAT64, 1, 1, 1, 1), null, 0, 0),
                        IllegalArgumentException.class, "conv2d: stride must be positive, got [0]"));
        ops.add(conv2dOp("conv2d(stride 2, padding 1, non-square)", ints(2), ints(1), ints(1), 1, true)
                .sample(of(1, 2, 5, 5), of(2, 2, 3, 2), of(2))
                .sample(of(1, 1, 4, 7), of(2, 1, 1, 3), of(2)));
        ops.add(conv2dOp("conv2d(dilation 2, padding 2)", ints(1), ints(2), ints(2), 1, false)
                .sample(of(1, 1, 6, 6), of(2, 1, 3, 3)));
        ops.add(conv2dOp("conv2d(depthwise)", ints(1), ints(1), ints(1), 3, true)
                .sample(of(1, 3, 4, 4), of(3, 1, 3, 3), of(3)));
        // Rows of 37 span more than one vector of either dtype, with a masked last one: the direct kernels' tails.
        ops.add(conv2dOp("conv2d(depthwise, channel multiplier 2, wide rows)", ints(1), ints(1), ints(1), 2, true)
                .sample(of(2, 2, 3, 37), of(4, 1, 3, 3), of(4)));
        ops.add(conv2dOp("conv2d(depthwise, channel multiplier 2, stride 2)", ints(2), ints(1), ints(1), 3, true)
                .sample(of(2, 3, 5, 6), of(6, 1, 3, 3), of(6)));
        ops.add(conv2dOp("conv2d(depthwise, stride (2, 1), padding (1, 2), dilation 2)", ints(2, 1), ints(1, 2),
                        ints(2), 2, false)
                .sample(of(1, 2, 6, 7), of(2, 1, 2, 3)));
        // More output channels per group than a GEMM micro-kernel has rows (12 on AVX-512): simd's banded kernels.
        ops.add(conv2dOp("conv2d(13 output channels)", ints(1), ints(1), ints(1), 1, true)
                .sample(of(2, 2, 4, 5), of(13, 2, 3, 3), of(13)));
        ops.add(conv2dOp("conv2d(groups 2, stride 2)", ints(2), ints(1), ints(1), 2, true)
                .sample(of(1, 4, 5, 5), of(4, 2, 3, 3), of(4)));
        ops.add(conv2dOp("conv2d(groups 2, stride (2, 1), padding (0, 1))", ints(2, 1), ints(0, 1), ints(1), 2, false)
                .sample(of(1, 4, 4, 3), of(4, 2, 3, 2))
                .error("output channels that do not split into the groups", f -> Functional.conv2d(
                                f.ones(DType.FLOAT64, 1, 4, 3, 3), f.ones(DType.FLOAT64, 3, 2, 1, 1), null,
                                ints(1), ints(0), ints(1), 2),
                        TensorShapeException.class, "conv2d: weight shape [3, 2, 1, 1] has 3 channels in dimension 0, "
                                + "which do not split into 2 groups"));
        ops.add(conv2dOp("conv2d(1x1)", ints(1), ints(0), ints(1), 1, true)
                .sample(of(2, 2, 3, 3), of(3, 2, 1, 1), of(3))
                .sample(of(1, 2, 2, 3).transposed(), of(2, 2, 1, 1), of(2)));
        ops.add(conv2dOp("conv2d(1x1, stride 2)", ints(2), ints(0), ints(1), 1, false)
                .sample(of(1, 2, 5, 5), of(2, 2, 1, 1)));
        ops.add(conv2dOp("conv2d(batch 1, odd sizes, stride (2, 3))", ints(2, 3), ints(1, 2), ints(1), 1, true)
                .sample(of(1, 1, 5, 7), of(2, 1, 3, 4), of(2)));
        ops.add(conv2dOp("conv2d(unbatched)", ints(1), ints(1), ints(1), 1, true)
                .sample(of(2, 3, 3), of(2, 2, 2, 2), of(2)));
        ops.add(OpInfo.op("conv2d(padding same, even kernel, dilation (1, 2))", Set.of("conv2d"),
                        in -> Functional.conv2d(in.get(0), in.get(1), in.get(2), ints(1), "same", ints(1, 2), 1))
                .sample(of(1, 2, 4, 5), of(2, 2, 4, 3), of(2))
                .tolerance32(1e-5, 1e-4)
                .error("same with a stride", f -> Functional.conv2d(f.ones(DType.FLOAT64, 1, 1, 4, 4),
                                f.ones(DType.FLOAT64, 1, 1, 3, 3), null, ints(2), "same", ints(1), 1),
                        IllegalArgumentException.class, "conv2d: padding \"same\" needs stride 1"));
        ops.add(OpInfo.op("conv1d", in -> Functional.conv1d(in.get(0), in.get(1), in.get(2), 2, 1, 1, 1))
                .sample(of(2, 2, 7), of(3, 2, 3), of(3))
                .sample(of(3, 8), of(2, 3, 2), of(2))
                .tolerance32(1e-5, 1e-4)
                .error("a 4-D input", f -> Functional.conv1d(f.ones(DType.FLOAT64, 1, 1, 3, 3),
                                f.ones(DType.FLOAT64, 1, 1, 1), null),
                        TensorShapeException.class, "conv1d: expected a 2-D (unbatched) or 3-D (batched) input, got shape [1, 1, 3, 3]"));
        ops.add(OpInfo.op("conv1d(padding same, dilation 2, groups 2)", Set.of("conv1d"),
                        in -> Functional.conv1d(in.get(0), in.get(1), null, 1, "same", 2, 2))
                .sample(of(1, 4, 9), of(2, 2, 4))
                .tolerance32(1e-5, 1e-4));
        ops.add(OpInfo.op("convTranspose2d", in -> Functional.convTranspose2d(in.get(0), in.get(1), in.get(2),
                        ints(2), ints(1), ints(1), 1, ints(1)))
                .sample(of(1, 2, 3, 3), of(2, 1, 3, 3), of(1))
                .sample(of(1, 2, 2, 3).transposed(), of(2, 2, 2, 3), of(2))
                .tolerance32(1e-5, 1e-4)
                .error("output padding as large as the stride", f -> Functional.convTranspose2d(
                                f.ones(DType.FLOAT64, 1, 1, 3, 3), f.ones(DType.FLOAT64, 1, 1, 3, 3), null,
                                ints(2), ints(0), ints(2), 1, ints(1)),
                        IllegalArgumentException.class,
                        "convTranspose2d: output padding 2x2 must be smaller than either the stride 2x2 or the dilation 1x1"));
        ops.add(OpInfo.op("convTranspose2d(groups 2, dilation 2, non-square)", Set.of("convTranspose2d"),
                        in -> Functional.convTranspose2d(in.get(0), in.get(1), null, ints(1, 2), ints(1, 0), ints(0, 1),
                                2, ints(2)))
                .sample(of(1, 4, 3, 2), of(4, 1, 2, 3))
                .tolerance32(1e-5, 1e-4));
        ops.add(OpInfo.op("convTranspose2d(stride 1)", Set.of("convTranspose2d"),
                        in -> Functional.convTranspose2d(in.get(0), in.get(1), in.get(2), 1, 0))
                .sample(of(1, 2, 3, 3), of(2, 2, 2, 2), of(2))
                .tolerance32(1e-5, 1e-4));
        ops.add(OpInfo.op("unfold", in -> Functional.unfold(in.get(0), ints(2, 3), ints(1, 2), ints(1), ints(2, 1)))
                .sample(of(1, 2, 5, 6))
                .sample(of(2, 4, 5).transposed())
                .error("a kernel larger than the padded input", f -> Functional.unfold(f.ones(DType.FLOAT64, 1, 1, 2, 2),
                                ints(4), ints(1), ints(0), ints(1)),
                        TensorShapeException.class, "unfold: the kernel 4x4 with dilation 1x1 spans 4"));
        ops.add(OpInfo.op("fold", in -> Functional.fold(in.get(0), ints(5, 6), ints(2, 3), ints(1, 2), ints(1), ints(2, 1)))
                .sample(of(1, 12, 12))
                .sample(of(12, 12).transposed())
                .error("columns that do not match the windows", f -> Functional.fold(f.ones(DType.FLOAT64, 1, 4, 5),
                                ints(3, 3), ints(2), ints(1), ints(0), ints(1)),
                        TensorShapeException.class, "fold: the input (shape [1, 4, 5]) has 5 window positions, but"));
    }

    // ---- pooling ----------------------------------------------------------------------------------------

    private static void pooling(List<OpInfo> ops) {
        // Random inputs have no ties, so each window has one maximum and the gradient is well defined.
        ops.add(OpInfo.op("maxPool2d", in -> Functional.maxPool2d(in.get(0), 2))
                .sample(of(1, 2, 4, 6))
                .sample(of(1, 1, 5, 5).transposed())
                .sample(of(2, 4, 4))
                .error("padding more than half the kernel", f -> Functional.maxPool2d(f.ones(DType.FLOAT64, 1, 1, 4, 4),
                                ints(3), null, ints(2)),
                        IllegalArgumentException.class, "maxPool2d: padding 2x2 must be at most half the kernel size 3x3")
                .error("a kernel larger than the input", f -> Functional.maxPool2d(f.ones(DType.FLOAT64, 1, 1, 2, 2), 3),
                        TensorShapeException.class, "maxPool2d: the output would be empty for input shape [1, 1, 2, 2]"));
        ops.add(OpInfo.op("maxPool2d(kernel 3, stride 2, padding 1, non-square)", Set.of("maxPool2d"),
                        in -> Functional.maxPool2d(in.get(0), ints(3, 2), ints(2), ints(1)))
                .sample(of(1, 2, 7, 6)));
        ops.add(OpInfo.op("maxPool2d(dilation 2, ceil mode)", Set.of("maxPool2d"),
                        in -> Functional.maxPool2d(in.get(0), ints(2), ints(2), ints(1), ints(2), true))
                .sample(of(1, 2, 6, 7)));
        ops.add(OpInfo.op("maxPool2d(ceil mode, stride 2)", Set.of("maxPool2d"),
                        in -> Functional.maxPool2d(in.get(0), ints(3), ints(2), ints(0), ints(1), true))
                .sample(of(1, 1, 6, 8)));
        ops.add(OpInfo.op("maxPool2dWithIndices", in -> Functional.maxPool2dWithIndices(in.get(0), ints(2, 3), ints(2),
                        ints(1), ints(1), false).output())
                .sample(of(1, 2, 5, 7)));
        ops.add(OpInfo.op("maxPool2dWithIndices(indices)", Set.of("maxPool2dWithIndices"),
                        in -> Functional.maxPool2dWithIndices(in.get(0), ints(2, 3), ints(2), ints(1), ints(1), true)
                                .indices().toType(in.get(0).dtype()))
                .sample(of(2, 2, 5, 7))
                .notDifferentiable());
        ops.add(OpInfo.op("avgPool2d", in -> Functional.avgPool2d(in.get(0), 2))
                .sample(of(1, 2, 4, 6))
                .sample(of(1, 1, 5, 5).transposed())
                .error("padding more than half the kernel", f -> Functional.avgPool2d(f.ones(DType.FLOAT64, 1, 1, 4, 4),
                                ints(2), null, ints(2)),
                        IllegalArgumentException.class, "avgPool2d: padding 2x2 must be at most half the kernel size 2x2"));
        ops.add(OpInfo.op("avgPool2d(kernel 3, stride 2, padding 1, ceil mode)", Set.of("avgPool2d"),
                        in -> Functional.avgPool2d(in.get(0), ints(3, 2), ints(2), ints(1), true, true))
                .sample(of(1, 2, 6, 7)));
        // No window over the far edge: the case backends with a native kernel of torch's floor-mode extent run.
        ops.add(OpInfo.op("avgPool2d(count_include_pad false, padding)", Set.of("avgPool2d"),
                        in -> Functional.avgPool2d(in.get(0), ints(3, 2), ints(2, 1), ints(1), false, false))
                .sample(of(2, 2, 5, 6)));
        ops.add(OpInfo.op("avgPool2d(count_include_pad false, ceil mode)", Set.of("avgPool2d"),
                        in -> Functional.avgPool2d(in.get(0), ints(3), ints(2), ints(1), true, false))
                .sample(of(1, 2, 6, 5))
                .sample(of(2, 5, 4)));
        ops.add(OpInfo.op("adaptiveAvgPool2d", in -> Functional.adaptiveAvgPool2d(in.get(0), ints(3, 2)))
                .sample(of(1, 2, 7, 5))
                .sample(of(1, 2, 3, 4).transposed())
                .sample(of(2, 5, 6))
                .error("a zero output size", f -> Functional.adaptiveAvgPool2d(f.ones(DType.FLOAT64, 1, 1, 4, 4), ints(0)),
                        IllegalArgumentException.class, "adaptiveAvgPool2d: output size must be positive"));
        ops.add(OpInfo.op("adaptiveAvgPool2d(1x1)", Set.of("adaptiveAvgPool2d"),
                        in -> Functional.adaptiveAvgPool2d(in.get(0), ints(1)))
                .sample(of(2, 2, 4, 5)));
        ops.add(OpInfo.op("interpolate", in -> Functional.interpolate(in.get(0), ints(5, 7), InterpolationMode.NEAREST))
                .sample(of(1, 2, 3, 4))
                .sample(of(2, 1, 4, 3).transposed())
                .error("size and scale factor both", f -> Functional.interpolate(f.ones(DType.FLOAT64, 1, 1, 4, 4), ints(8),
                                new double[] {2}, InterpolationMode.NEAREST, false),
                        IllegalArgumentException.class, "interpolate: give either size or scaleFactor, not both")
                .error("a linear mode of the wrong rank", f -> Functional.interpolate(f.ones(DType.FLOAT64, 1, 1, 4),
                                ints(8), InterpolationMode.BILINEAR),
                        TensorShapeException.class, "interpolate: mode BILINEAR needs 4 dimensions, got input shape [1, 1, 4]")
                .error("alignCorners with nearest", f -> Functional.interpolate(f.ones(DType.FLOAT64, 1, 1, 4), ints(8),
                                null, InterpolationMode.NEAREST, true),
                        IllegalArgumentException.class, "interpolate: alignCorners applies to the linear and bicubic modes only")
                .error("bicubic of a 1-D input", f -> Functional.interpolate(f.ones(DType.FLOAT64, 1, 1, 4), ints(8),
                                InterpolationMode.BICUBIC),
                        TensorShapeException.class, "interpolate: mode BICUBIC needs 4 dimensions, got input shape [1, 1, 4]"));
        ops.add(OpInfo.op("interpolate(nearest, scale factor 2, 1-D and 3-D)", Set.of("interpolate"),
                        in -> Functional.interpolate(in.get(0), new double[] {2}, InterpolationMode.NEAREST))
                .sample(of(2, 3, 4))
                .sample(of(1, 2, 2, 3, 2)));
        ops.add(OpInfo.op("interpolate(nearest, the same size)", Set.of("interpolate"),
                        in -> Functional.interpolate(in.get(0), ints(3, 4), InterpolationMode.NEAREST))
                .sample(of(1, 2, 3, 4)));
        ops.add(OpInfo.op("interpolate(nearest-exact, downsampling)", Set.of("interpolate"),
                        in -> Functional.interpolate(in.get(0), ints(3, 2), InterpolationMode.NEAREST_EXACT))
                .sample(of(1, 2, 7, 5)));
        ops.add(OpInfo.op("interpolate(bilinear)", Set.of("interpolate"),
                        in -> Functional.interpolate(in.get(0), ints(5, 7), InterpolationMode.BILINEAR))
                .sample(of(1, 2, 3, 4))
                .sample(of(2, 1, 6, 5).transposed()));
        ops.add(OpInfo.op("interpolate(bilinear, align corners, scale factors)", Set.of("interpolate"),
                        in -> Functional.interpolate(in.get(0), null, new double[] {1.5, 2.5}, InterpolationMode.BILINEAR,
                                true))
                .sample(of(1, 2, 4, 3)));
        ops.add(OpInfo.op("interpolate(linear and trilinear)", Set.of("interpolate"), in -> in.get(0).rank() == 3
                        ? Functional.interpolate(in.get(0), ints(9), InterpolationMode.LINEAR)
                        : Functional.interpolate(in.get(0), ints(3, 4, 2), InterpolationMode.TRILINEAR))
                .sample(of(2, 2, 4))
                .sample(of(1, 1, 2, 3, 4)));
        ops.add(OpInfo.op("interpolate(bicubic)", Set.of("interpolate"),
                        in -> Functional.interpolate(in.get(0), ints(5, 7), InterpolationMode.BICUBIC))
                .sample(of(1, 2, 3, 4))
                .sample(of(2, 1, 6, 5).transposed()));
        ops.add(OpInfo.op("interpolate(bicubic, align corners, scale factors)", Set.of("interpolate"),
                        in -> Functional.interpolate(in.get(0), null, new double[] {0.6, 1.5}, InterpolationMode.BICUBIC,
                                true))
                .sample(of(1, 2, 5, 3)));
        ops.add(OpInfo.op("interpolate(antialiased bilinear and bicubic)", Set.of("interpolate"),
                        in -> in.get(0).size(1) == 2
                                ? Functional.interpolate(in.get(0), ints(3, 2), null, InterpolationMode.BILINEAR, false, true)
                                : Functional.interpolate(in.get(0), ints(2, 4), null, InterpolationMode.BICUBIC, false, true))
                .sample(of(1, 2, 7, 5))
                .sample(of(1, 1, 5, 3).transposed())
                .error("antialiased nearest", f -> Functional.interpolate(f.ones(DType.FLOAT64, 1, 1, 4, 4), ints(2),
                                null, InterpolationMode.NEAREST, false, true),
                        IllegalArgumentException.class, "interpolate: antialias applies to the bilinear and bicubic modes only"));
        ops.add(OpInfo.op("interpolate(area)", Set.of("interpolate"), in -> switch (in.get(0).rank()) {
                    case 3 -> Functional.interpolate(in.get(0), ints(3), InterpolationMode.AREA);
                    case 4 -> Functional.interpolate(in.get(0), ints(3, 2), InterpolationMode.AREA);
                    default -> Functional.interpolate(in.get(0), ints(2, 4, 2), InterpolationMode.AREA);
                })
                .sample(of(2, 2, 7))
                .sample(of(1, 2, 7, 5))
                .sample(of(1, 2, 5, 4).transposed())
                .sample(of(1, 1, 3, 3, 4)));
    }

    // ---- normalization ------------------------------------------------------------------------------------

    private static void batchNormalization(List<OpInfo> ops) {
        // Training: batch statistics; the running statistics are made inside so every call starts from the same.
        ops.add(OpInfo.op("batchNorm", in -> {
                    Tensor x = in.get(0);
                    Tensor mean = x.zerosLike().sum(new int[] {0, 2, 3}, false);
                    Tensor variance = mean.onesLike();
                    return Functional.batchNorm(x, mean, variance, in.get(1), in.get(2), true, 0.1, 1e-5);
                })
                .sample(of(2, 2, 2, 2), of(2), of(2))
                .sample(of(2, 2, 2, 3).transposed(), of(2), of(2))
                .tolerance32(1e-4, 1e-4)
                .error("a weight of the wrong size", f -> Functional.batchNorm(f.ones(DType.FLOAT64, 2, 3), null, null,
                                f.ones(DType.FLOAT64, 2), null, true, 0.1, 1e-5),
                        TensorShapeException.class, "batchNorm: weight shape [2] must be [3]")
                .error("one value per channel in training", f -> Functional.batchNorm(f.ones(DType.FLOAT64, 1, 3),
                                null, null, null, null, true, 0.1, 1e-5),
                        IllegalArgumentException.class, "batchNorm: expected more than 1 value per channel when training"));
        ops.add(OpInfo.op("batchNorm(1-D input, no affine)", Set.of("batchNorm"),
                        in -> Functional.batchNorm(in.get(0), null, null, null, null, true, 0.1, 1e-5))
                .sample(of(5, 3))
                .sample(of(3, 2, 4))
                .tolerance32(1e-4, 1e-4));
        ops.add(OpInfo.op("batchNorm(eval)", Set.of("batchNorm"), in -> Functional.batchNorm(in.get(0), in.get(1),
                        in.get(2), in.get(3), in.get(4), false, 0.1, 1e-5))
                .sample(of(2, 3, 2, 2), of(3), of(3).domain(0.5, 2), of(3), of(3))
                .error("no running statistics in evaluation", f -> Functional.batchNorm(f.ones(DType.FLOAT64, 2, 3),
                                null, null, null, null, false, 0.1, 1e-5),
                        IllegalArgumentException.class, "batchNorm: the running mean and variance are needed in evaluation mode"));
        ops.add(OpInfo.op("groupNorm", in -> Functional.groupNorm(in.get(0), 2, in.get(1), in.get(2), 1e-5))
                .sample(of(2, 4, 3, 2), of(4), of(4))
                .sample(of(3, 4, 5).transposed(), of(4), of(4))
                .sample(of(2, 6), of(6), of(6))
                .tolerance32(1e-4, 1e-4)
                .error("channels that do not split into the groups", f -> Functional.groupNorm(
                                f.ones(DType.FLOAT64, 2, 6, 3), 4, null, null, 1e-5),
                        IllegalArgumentException.class, "groupNorm: 6 channels (input shape [2, 6, 3]) do not split into 4 groups")
                .error("weight of the wrong shape", f -> Functional.groupNorm(f.ones(DType.FLOAT64, 2, 6, 3), 3,
                                f.ones(DType.FLOAT64, 3), null, 1e-5),
                        TensorShapeException.class, "groupNorm: weight shape [3] must be [6]"));
        ops.add(OpInfo.op("groupNorm(one group, no affine)", Set.of("groupNorm"),
                        in -> Functional.groupNorm(in.get(0), 1, null, null, 1e-3))
                .sample(of(2, 3, 4))
                .sample(of(3, 2, 2, 2).transposed())
                .tolerance32(1e-4, 1e-4));
        ops.add(OpInfo.op("groupNorm(a group per channel, weight only)", Set.of("groupNorm"),
                        in -> Functional.groupNorm(in.get(0), 3, in.get(1), null, 1e-5))
                .sample(of(2, 3, 5), of(3))
                .tolerance32(1e-4, 1e-4));
    }

    // ---- trigonometric and hyperbolic ---------------------------------------------------------------

    private static void trigonometric(List<OpInfo> ops) {
        ops.add(unaryOp("expm1", Tensor::expm1, -2, 2));
        // Domains keep away from the poles and branch points, where finite differences fail.
        ops.add(unaryOp("tan", Tensor::tan, -1.2, 1.2));
        ops.add(unaryOp("asin", Tensor::asin, -0.9, 0.9));
        ops.add(unaryOp("acos", Tensor::acos, -0.9, 0.9));
        ops.add(unaryOp("atan", Tensor::atan, -3, 3));
        ops.add(unaryOp("sinh", Tensor::sinh, -2, 2));
        ops.add(unaryOp("cosh", Tensor::cosh, -2, 2));
        ops.add(unaryOp("asinh", Tensor::asinh, -3, 3));
        ops.add(unaryOp("acosh", Tensor::acosh, 1.2, 3));
        ops.add(unaryOp("atanh", Tensor::atanh, -0.9, 0.9));
        ops.add(binaryOp("atan2", Tensor::atan2, -2, 2));
    }

    // ---- rounding and remainder ---------------------------------------------------------------------

    private static void rounding(List<OpInfo> ops) {
        // Piecewise constant with a zero gradient, as in PyTorch; random inputs are never within a
        // finite-difference step of a jump.
        ops.add(unaryOp("floor", Tensor::floor, -3, 3));
        ops.add(unaryOp("ceil", Tensor::ceil, -3, 3));
        ops.add(unaryOp("round", Tensor::round, -3, 3));
        ops.add(unaryOp("trunc", Tensor::trunc, -3, 3));
        // Halves round to even.
        ops.add(OpInfo.op("round(halves)", Set.of("round"), in -> in.get(0).mul(0.0).add(
                        Tensor.on(in.get(0).backend()).fromArray(new double[] {-2.5, -1.5, -0.5, 0.5, 1.5, 2.5},
                                in.get(0).dtype(), 6)).round())
                .sample(of(6)));
        // Divisors of both signs; the jumps of remainder sit where a / b is a whole number, which random
        // inputs miss.
        ops.add(binaryOp("remainder", Tensor::remainder, 0.5, 2));
        ops.add(OpInfo.op("remainder(negative divisor)", Set.of("remainder"), in -> in.get(0).remainder(in.get(1)))
                .sample(of(2, 3).domain(-5, 5), of(2, 3).domain(-2, -0.5))
                .sample(of(3, 2).domain(-5, 5).transposed(), of(2).domain(-2, -0.5)));
        ops.add(scalarOp("remainder(scalar)", "remainder", t -> t.remainder(-0.75), -3, 3));
    }

    // ---- activations --------------------------------------------------------------------------------

    private static void activations(List<OpInfo> ops) {
        ops.add(unaryOp("silu", Functional::silu, -4, 4));
        ops.add(unaryOp("gelu", Functional::gelu, -4, 4)
                .error("unknown approximation", f -> Functional.gelu(f.ones(DType.FLOAT64, 2), "sigmoid"),
                        IllegalArgumentException.class, "gelu: approximate must be 'none' or 'tanh', got 'sigmoid'"));
        ops.add(unaryOp("gelu(tanh)", Set.of("gelu"), t -> Functional.gelu(t, "tanh"), -4, 4));
        // Far into both tails: 0 (then -0) below about -6 in FLOAT32, x itself above.
        ops.add(OpInfo.op("gelu(large)", Set.of("gelu"), in -> Functional.gelu(in.get(0)))
                .sample(of(2, 20).domain(-12, 12)));
        ops.add(OpInfo.op("gelu(tanh, large)", Set.of("gelu"), in -> Functional.gelu(in.get(0), "tanh"))
                .sample(of(2, 20).domain(-12, 12)));
        ops.add(unaryOp("logSigmoid", Functional::logSigmoid, -4, 4));
        ops.add(unaryOp("softplus", Functional::softplus, -4, 4));
        // Both sides of the threshold: x itself above it, with gradient 1.
        ops.add(OpInfo.op("softplus(beta, threshold)", Set.of("softplus"),
                        in -> Functional.softplus(in.get(0), 2.0, 3.0))
                .sample(of(4, 5).domain(-3, 3))
                .sample(of(3, 4).domain(-3, 3).transposed())
                .sample(of(2, 5).domain(15, 25))
                .error("beta 0", f -> Functional.softplus(f.ones(DType.FLOAT64, 2), 0, 20),
                        IllegalArgumentException.class, "softplus: beta must be a non-zero number, got 0.0"));
        ops.add(OpInfo.op("softplus(large)", Set.of("softplus"), in -> Functional.softplus(in.get(0)))
                .sample(of(2, 5).domain(15, 25)));
        ops.add(unaryOp("elu", t -> Functional.elu(t, 1.5), -2, 2)
                .error("INT64 input", f -> Functional.elu(f.arange(3)), DTypeMismatchException.class,
                        "elu: expected a FLOAT32 or FLOAT64 tensor, got INT64"));
        ops.add(OpInfo.op("elu(default)", Set.of("elu"), in -> Functional.elu(in.get(0)))
                .sample(of(3, 4)));
        ops.add(unaryOp("leakyRelu", t -> Functional.leakyRelu(t, 0.2), -2, 2));
        ops.add(OpInfo.op("leakyRelu(default)", Set.of("leakyRelu"), in -> Functional.leakyRelu(in.get(0)))
                .sample(of(3, 4)));
        ops.add(unaryOp("hardtanh", t -> Functional.hardtanh(t, -0.5, 0.75), -1, 1)
                .error("min > max", f -> Functional.hardtanh(f.ones(DType.FLOAT64, 2), 1, 0),
                        IllegalArgumentException.class, "hardtanh: need min <= max, got min=1.0 max=0.0"));
        ops.add(OpInfo.op("hardtanh(default)", Set.of("hardtanh"), in -> Functional.hardtanh(in.get(0)))
                .sample(of(3, 4)));
    }

    // ---- running sums and products ------------------------------------------------------------------

    private static void cumulative(List<OpInfo> ops) {
        ops.add(OpInfo.op("cumsum", in -> in.get(0).cumsum(1))
                .sample(of(3, 4)).sample(of(2, 3, 4)).sample(of(4, 3).transposed()).sample(of(3, 4).sliced())
                .sample(of(2, 1, 3).expandedTo(2, 4, 3)).sample(of(0, 3))
                .error("dimension out of range", f -> f.ones(DType.FLOAT64, 2, 3).cumsum(2),
                        TensorShapeException.class, "cumsum: dimension 2 is out of range for shape [2, 3]")
                .error("INT64 input", f -> f.arange(3).cumsum(0), DTypeMismatchException.class,
                        "cumsum: expected a FLOAT32 or FLOAT64 tensor, got INT64"));
        ops.add(OpInfo.op("cumsum(last dim)", Set.of("cumsum"), in -> in.get(0).cumsum(-1))
                .sample(of(5)).sample(of()).sample(of(3, 4).transposed()));
        // Factors near 1 in magnitude keep the running product O(1).
        ops.add(OpInfo.op("cumprod", in -> in.get(0).cumprod(1))
                .sample(of(3, 4).domain(0.5, 1.5)).sample(of(2, 3, 4).domain(-1.5, 1.5))
                .sample(of(4, 3).domain(0.5, 1.5).transposed()).sample(of(3, 4).domain(-1.5, 1.5).sliced())
                .sample(of(2, 1, 3).domain(0.5, 1.5).expandedTo(2, 4, 3))
                .error("INT64 input", f -> f.arange(3).cumprod(0), DTypeMismatchException.class,
                        "cumprod: expected a FLOAT32 or FLOAT64 tensor, got INT64"));
        ops.add(OpInfo.op("cumprod(dim 0)", Set.of("cumprod"), in -> in.get(0).cumprod(0))
                .sample(of(4, 3).domain(-1.5, 1.5)).sample(of(5).domain(0.5, 1.5)).sample(of().domain(0.5, 1.5)));
        ops.add(OpInfo.op("prod", in -> in.get(0).prod())
                .sample(of(2, 3).domain(0.5, 1.5)).sample(of(3, 2).domain(-1.5, 1.5).transposed())
                .sample(of().domain(0.5, 1.5)).sample(of(0, 2)));
        ops.add(OpInfo.op("prod(dim)", Set.of("prod"), in -> in.get(0).prod(1, false))
                .sample(of(3, 4).domain(-1.5, 1.5)).sample(of(2, 3, 4).domain(0.5, 1.5).sliced())
                .sample(of(3, 0))
                .error("dimension out of range", f -> f.ones(DType.FLOAT64, 2).prod(1, false),
                        TensorShapeException.class, "prod: dimension 1 is out of range for shape [2]"));
        ops.add(OpInfo.op("prod(dim, keepDim)", Set.of("prod"), in -> in.get(0).prod(0, true))
                .sample(of(3, 4).domain(-1.5, 1.5)).sample(of(2, 1, 3).domain(0.5, 1.5).expandedTo(2, 4, 3))
                .sample(of().domain(0.5, 1.5)));
    }

    // ---- sorting and selection ----------------------------------------------------------------------

    private static void sorting(List<OpInfo> ops) {
        // Random inputs have no ties, so the order (and the indices) are unique.
        ops.add(OpInfo.op("sort", in -> in.get(0).sort(1, false).values())
                .sample(of(3, 5)).sample(of(2, 3, 4)).sample(of(4, 3).transposed()).sample(of(3, 4).sliced())
                .sample(of(0, 3))
                .error("INT64 input", f -> f.arange(3).sort().values(), DTypeMismatchException.class,
                        "sort: expected a FLOAT32 or FLOAT64 tensor, got INT64"));
        ops.add(OpInfo.op("sort(descending)", Set.of("sort"), in -> in.get(0).sort(0, true).values())
                .sample(of(5, 3)).sample(of(4)).sample(of()).sample(of(2, 1, 3).expandedTo(2, 4, 3)));
        ops.add(OpInfo.op("sort(indices)", Set.of("sort"), in -> in.get(0).sort().indices())
                .sample(of(3, 5)).sample(of(4, 3).transposed()).notDifferentiable());
        ops.add(OpInfo.op("argsort", in -> in.get(0).argsort(0, true))
                .sample(of(5, 3)).sample(of(3, 4).sliced()).sample(of()).notDifferentiable());
        ops.add(OpInfo.op("topk", in -> in.get(0).topk(2).values())
                .sample(of(3, 5)).sample(of(4, 3).transposed()).sample(of(2, 3, 4).sliced())
                .error("k larger than the dimension", f -> f.ones(DType.FLOAT64, 2, 3).topk(4).values(),
                        TensorShapeException.class, "topk: k = 4 is out of range for dimension -1 of size 3"));
        ops.add(OpInfo.op("topk(smallest, dim 0)", Set.of("topk"), in -> in.get(0).topk(3, 0, false).values())
                .sample(of(4, 3)).sample(of(5)).sample(of(3, 2).expandedTo(3, 2)));
        ops.add(OpInfo.op("topk(indices)", Set.of("topk"), in -> in.get(0).topk(2, 1, true).indices())
                .sample(of(3, 5)).notDifferentiable());
        for (String name : List.of("max", "min")) {
            boolean isMax = name.equals("max");
            ops.add(OpInfo.op(name + "(dim)", Set.of(name),
                            in -> isMax ? in.get(0).max(1, false).values() : in.get(0).min(1, false).values())
                    .sample(of(3, 4)).sample(of(2, 3, 4).sliced()).sample(of(4, 3).transposed()));
            ops.add(OpInfo.op(name + "(dim, keepDim)", Set.of(name),
                            in -> isMax ? in.get(0).max(-1, true).values() : in.get(0).min(0, true).values())
                    .sample(of(3, 4)).sample(of(2, 1, 3).expandedTo(2, 4, 3)).sample(of()));
            ops.add(OpInfo.op(name + "(indices)", Set.of(name),
                            in -> isMax ? in.get(0).max(1, false).indices() : in.get(0).min(1, false).indices())
                    .sample(of(3, 4)).sample(of(4, 3).transposed()).notDifferentiable());
            // All elements: the gradient is shared between ties, as amax / amin.
            ops.add(OpInfo.op(name, in -> isMax ? in.get(0).max() : in.get(0).min())
                    .sample(of(3, 4)).sample(of(5)).sample(of()));
            ops.add(OpInfo.op(name + "(ties)", Set.of(name),
                            in -> isMax ? in.get(0).expand(3, 2).max(0, false).values()
                                    : in.get(0).expand(3, 2).min(0, false).values())
                    .sample(of(1, 2)));
        }
    }

    // ---- variance and norms -------------------------------------------------------------------------

    private static void statistics(List<OpInfo> ops) {
        ops.add(OpInfo.op("var", in -> in.get(0).var())
                .sample(of(3, 4)).sample(of(5)).sample(of(4, 3).transposed()).sample(of(2, 1, 3).expandedTo(2, 4, 3))
                .error("INT64 input", f -> f.arange(3).var(), DTypeMismatchException.class,
                        "var: expected a FLOAT32 or FLOAT64 tensor, got INT64"));
        ops.add(OpInfo.op("var(dim)", Set.of("var"), in -> in.get(0).var(1, false))
                .sample(of(3, 4)).sample(of(2, 3, 4).sliced()).sample(of(4, 3).transposed()));
        ops.add(OpInfo.op("var(dims, correction, keepDim)", Set.of("var"), in -> in.get(0).var(new int[] {0, -1}, 0, true))
                .sample(of(2, 3, 4)).sample(of(3, 4).sliced())
                .error("repeated dimension", f -> f.ones(DType.FLOAT64, 2, 3).var(new int[] {1, -1}, 1, false),
                        TensorShapeException.class, "var: dimension -1 appears twice"));
        ops.add(OpInfo.op("std", in -> in.get(0).std())
                .sample(of(3, 4)).sample(of(4, 3).transposed()));
        ops.add(OpInfo.op("std(dim)", Set.of("std"), in -> in.get(0).std(0, true))
                .sample(of(3, 4)).sample(of(2, 1, 3).expandedTo(2, 4, 3)));
        ops.add(OpInfo.op("std(dims, correction, keepDim)", Set.of("std"), in -> in.get(0).std(new int[] {1, 2}, 2, false))
                .sample(of(2, 3, 4)));
        ops.add(OpInfo.op("norm", in -> in.get(0).norm())
                .sample(of(3, 4)).sample(of(5)).sample(of()).sample(of(4, 3).transposed())
                .error("INT64 input", f -> f.arange(3).norm(), DTypeMismatchException.class,
                        "norm: expected a FLOAT32 or FLOAT64 tensor, got INT64"));
        for (double p : new double[] {1, 3, 0.5, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY, 0}) {
            ops.add(OpInfo.op("norm(p=" + p + ")", Set.of("norm"), in -> in.get(0).norm(p))
                    .sample(of(3, 4)).sample(of(2, 3).sliced()));
            ops.add(OpInfo.op("norm(p=" + p + ", dims, keepDim)", Set.of("norm"),
                            in -> in.get(0).norm(p, new int[] {-1}, true))
                    .sample(of(3, 4)).sample(of(2, 1, 3).expandedTo(2, 4, 3)).sample(of()));
        }
        ops.add(OpInfo.op("norm(2, dim)", Set.of("norm"), in -> in.get(0).norm(2, 0, false))
                .sample(of(3, 4)).sample(of(2, 3, 4).transposed()).sample(of()));
    }

    // ---- rearranging --------------------------------------------------------------------------------

    private static void rearranging(List<OpInfo> ops) {
        ops.add(OpInfo.op("flip", in -> in.get(0).flip(1)).then(Tensor::square)
                .sample(of(3, 4)).sample(of(4, 3).transposed()).sample(of(2, 3, 4).sliced()).sample(of(0, 3))
                .error("repeated dimension", f -> f.ones(DType.FLOAT64, 2, 3).flip(1, -1),
                        TensorShapeException.class, "flip: dimension -1 appears twice"));
        ops.add(OpInfo.op("flip(dims)", Set.of("flip"), in -> in.get(0).flip(0, 2)).then(Tensor::square)
                .sample(of(2, 3, 4)).sample(of(2, 1, 3).expandedTo(2, 4, 3)));
        ops.add(OpInfo.op("roll", in -> in.get(0).roll(2, 1)).then(Tensor::square)
                .sample(of(3, 4)).sample(of(4, 3).transposed()).sample(of(3, 1)));
        ops.add(OpInfo.op("roll(flattened)", Set.of("roll"), in -> in.get(0).roll(-5)).then(Tensor::square)
                .sample(of(3, 4)).sample(of(2, 3).sliced()));
        ops.add(OpInfo.op("roll(dims)", Set.of("roll"), in -> in.get(0).roll(new int[] {1, -7}, new int[] {0, 2}))
                .then(Tensor::square)
                .sample(of(2, 3, 4))
                .error("shifts and dims of different lengths", f -> f.ones(DType.FLOAT64, 2, 3).roll(new int[] {1}, new int[] {0, 1}),
                        TensorShapeException.class, "roll: 1 shifts [1] for 2 dims [0, 1]"));
        ops.add(OpInfo.op("repeat", in -> in.get(0).repeat(2, 3)).then(Tensor::square)
                .sample(of(2, 3)).sample(of(3, 2).transposed()).sample(of(1, 3).expandedTo(2, 3))
                .error("fewer repeats than dims", f -> f.ones(DType.FLOAT64, 2, 3).repeat(2),
                        TensorShapeException.class, "repeat: 1 repeats [2] for a tensor of 2 dimensions"));
        ops.add(OpInfo.op("repeat(new dims)", Set.of("repeat"), in -> in.get(0).repeat(2, 1, 3)).then(Tensor::square)
                .sample(of(3)).sample(of()).sample(of(2, 3)));
        ops.add(OpInfo.op("tile", in -> in.get(0).tile(2)).then(Tensor::square)
                .sample(of(2, 3)).sample(of(4)).sample(of(3, 2).transposed()));
        ops.add(OpInfo.op("pad", in -> Functional.pad(in.get(0), new int[] {1, 2})).then(Tensor::square)
                .sample(of(3, 4)).sample(of(4, 3).transposed()).sample(of(3)).sample(of(2, 0))
                .error("odd padding", f -> Functional.pad(f.ones(DType.FLOAT64, 2, 3), new int[] {1, 2, 3}),
                        TensorShapeException.class, "pad: padding [1, 2, 3] has an odd length")
                .error("more pairs than dims", f -> Functional.pad(f.ones(DType.FLOAT64, 3), new int[] {1, 1, 1, 1}),
                        TensorShapeException.class, "pad: padding [1, 1, 1, 1] has 2 pairs but the input has 1 dimensions"));
        for (PadMode mode : PadMode.values()) {
            ops.add(OpInfo.op("pad(" + mode + ")", Set.of("pad"),
                            in -> Functional.pad(in.get(0), new int[] {2, 1, 1, 2}, mode, 1.5)).then(Tensor::square)
                    .sample(of(2, 3, 4)).sample(of(4, 3).transposed()).sample(of(2, 3, 4).sliced()));
        }
        ops.add(OpInfo.op("pad(CONSTANT, cropping)", Set.of("pad"),
                        in -> Functional.pad(in.get(0), new int[] {-1, 2, 0, -2}, PadMode.CONSTANT, -1))
                .then(Tensor::square)
                .sample(of(4, 5)).sample(of(5, 4).transposed())
                .error("reflect padding as large as the dim", f -> Functional.pad(f.ones(DType.FLOAT64, 2, 3),
                                new int[] {3, 0}, PadMode.REFLECT, 0),
                        TensorShapeException.class, "pad: REFLECT padding (3, 0) of dimension 1 must be smaller than its size 3"));
    }

    // ---- partitions (lists of views; each entry reassembles them in another order) ------------------

    private static Tensor reversedCat(List<Tensor> pieces, int dim) {
        List<Tensor> reversed = new ArrayList<>(pieces);
        java.util.Collections.reverse(reversed);
        return Tensor.cat(reversed, dim);
    }

    private static void partitions(List<OpInfo> ops) {
        ops.add(OpInfo.op("split", in -> reversedCat(in.get(0).split(2, 1), 1)).then(Tensor::square)
                .sample(of(3, 5)).sample(of(5, 3).transposed()).sample(of(2, 4, 3).sliced())
                .error("size 0", f -> f.ones(DType.FLOAT64, 2, 3).split(0, 1).get(0),
                        TensorShapeException.class, "split: split size must be positive, got 0"));
        ops.add(OpInfo.op("split(sizes)", Set.of("split"), in -> reversedCat(in.get(0).split(new int[] {1, 0, 3}, 0), 0))
                .then(Tensor::square)
                .sample(of(4, 2)).sample(of(4, 2).transposed())
                .error("sizes that do not add up", f -> f.ones(DType.FLOAT64, 4, 2).split(new int[] {1, 2}, 0).get(0),
                        TensorShapeException.class, "split: sizes [1, 2] add up to 3 but dimension 0 has size 4"));
        ops.add(OpInfo.op("chunk", in -> reversedCat(in.get(0).chunk(3, -1), -1)).then(Tensor::square)
                .sample(of(2, 7)).sample(of(2, 3)).sample(of(4, 2).transposed())
                .error("0 chunks", f -> f.ones(DType.FLOAT64, 2).chunk(0, 0).get(0),
                        TensorShapeException.class, "chunk: the number of chunks must be positive, got 0"));
        ops.add(OpInfo.op("unbind", in -> Tensor.stack(in.get(0).unbind(1).reversed(), 0)).then(Tensor::square)
                .sample(of(2, 3)).sample(of(2, 3, 2).sliced()).sample(of(3, 2).transposed()));
    }

    // ---- masking ------------------------------------------------------------------------------------

    private static void masking(List<OpInfo> ops) {
        ops.add(OpInfo.op("maskedFill", in -> in.get(0).maskedFill(in.get(1), -0.5))
                .sample(of(2, 3), bools(2, 3)).sample(of(2, 3), bools(3)).sample(of(3, 2).transposed(), bools(3, 1))
                .sample(of(), bools())
                .error("a mask that does not broadcast to the input", f -> f.ones(DType.FLOAT64, 3).maskedFill(
                                f.ones(DType.FLOAT64, 2, 3), 0),
                        TensorShapeException.class, "maskedFill: mask shape [2, 3] does not broadcast to the input shape [3]"));
        ops.add(OpInfo.op("maskedFill(tensor value)", Set.of("maskedFill"), in -> in.get(0).maskedFill(in.get(1), in.get(2)))
                .sample(of(2, 3), bools(2, 3), of()).sample(of(3, 4).sliced(), bools(1, 4), of()));
        for (String name : List.of("tril", "triu")) {
            boolean lower = name.equals("tril");
            ops.add(OpInfo.op(name, in -> lower ? in.get(0).tril() : in.get(0).triu())
                    .sample(of(3, 4)).sample(of(4, 3).transposed()).sample(of(2, 3, 3).sliced())
                    .error("1-D input", f -> lower ? f.ones(DType.FLOAT64, 3).tril() : f.ones(DType.FLOAT64, 3).triu(),
                            TensorShapeException.class, name + ": input must have at least 2 dimensions, got shape [3]"));
            ops.add(OpInfo.op(name + "(diagonal)", Set.of(name), in -> lower ? in.get(0).tril(-1) : in.get(0).triu(2))
                    .sample(of(4, 5)).sample(of(2, 1, 3).expandedTo(2, 4, 3)));
        }
    }

    // ---- contractions -------------------------------------------------------------------------------

    private static void contractions(List<OpInfo> ops) {
        ops.add(OpInfo.op("outer", in -> in.get(0).outer(in.get(1)))
                .sample(of(3), of(4)).sample(of(1), of(2)).sample(of(3).expandedTo(3), of(0))
                .error("2-D argument", f -> f.ones(DType.FLOAT64, 2, 2).outer(f.ones(DType.FLOAT64, 2)),
                        TensorShapeException.class, "outer: both arguments must be 1-D, got shapes [2, 2] and [2]"));
        ops.add(OpInfo.op("einsum", in -> Functional.einsum("ij,jk->ik", in.get(0), in.get(1)))
                .sample(of(2, 3), of(3, 4)).sample(of(2, 3).transposed(), of(3, 4).sliced())
                .error("sizes that differ", f -> Functional.einsum("ij,jk->ik", f.ones(DType.FLOAT64, 2, 3),
                                f.ones(DType.FLOAT64, 4, 4)),
                        TensorShapeException.class, "einsum: subscript 'j' has size 3 in operand 0 but 4 in operand 1")
                .error("too few operands", f -> Functional.einsum("ij,jk->ik", f.ones(DType.FLOAT64, 2, 3)),
                        IllegalArgumentException.class, "einsum: equation \"ij,jk->ik\" has 2 operand subscripts but 1 operands")
                .error("output subscript not in the inputs", f -> Functional.einsum("ij->iz", f.ones(DType.FLOAT64, 2, 3)),
                        IllegalArgumentException.class, "einsum: output subscript 'z' in \"ij->iz\" does not appear in any operand"));
        // Attention scores, a batched matmul with a transposed operand, a bilinear form with three
        // operands, broadcast ellipsis dims, implicit output, a trace, a diagonal, a sum and a permutation.
        String[] equations = {"bhqd,bhkd->bhqk", "bi,ij,bj->b", "...ij,...jk->...ik", "ij,jk", "ii", "ii->i", "ij->",
                "ijk->kji", "i,i->", "ba,ab->a"};
        InputSpec[][][] samples = {
                {{of(2, 2, 3, 4), of(2, 2, 5, 4)}},
                {{of(3, 2), of(2, 4), of(3, 4)}},
                {{of(2, 1, 2, 3), of(3, 3, 2)}, {of(2, 3), of(4, 3, 2)}},
                {{of(2, 3), of(3, 4)}},
                {{of(3, 3)}, {of(3, 3).transposed()}},
                {{of(4, 4)}},
                {{of(3, 4)}},
                {{of(2, 3, 4)}},
                {{of(5), of(5)}},
                {{of(3, 4), of(4, 3)}}};
        for (int e = 0; e < equations.length; e++) {
            String equation = equations[e];
            OpInfo op = OpInfo.op("einsum(" + equation + ")", Set.of("einsum"),
                    in -> Functional.einsum(equation, in.toArray(new Tensor[0])));
            for (InputSpec[] sample : samples[e]) {
                op.sample(sample);
            }
            ops.add(op);
        }
    }

    // ---- factories and random draws -----------------------------------------------------------------

    private static void factories(List<OpInfo> ops) {
        // Each made on the tested backend and dtype; then multiplied by an input so there is a gradient.
        ops.add(OpInfo.op("eye", in -> Tensor.on(in.get(0).backend()).eye(3, 4, in.get(0).dtype()))
                .then((out, in) -> out.mul(in.get(0)))
                .sample(of(3, 4))
                .error("negative size", f -> f.eye(-1, 2, DType.FLOAT64),
                        TensorShapeException.class, "eye: sizes must not be negative, got -1 x 2"));
        ops.add(OpInfo.op("linspace", in -> Tensor.on(in.get(0).backend()).linspace(-1.3, 2.9, 8, in.get(0).dtype()))
                .then((out, in) -> out.mul(in.get(0)))
                .sample(of(8)).sample(of(2, 8).sliced())
                .error("negative steps", f -> f.linspace(0, 1, -1, DType.FLOAT64),
                        IllegalArgumentException.class, "linspace: need steps >= 0"));
        ops.add(OpInfo.op("linspace(one step, none)", Set.of("linspace"), in -> Tensor.cat(List.of(
                        Tensor.on(in.get(0).backend()).linspace(2, 5, 1, in.get(0).dtype()),
                        Tensor.on(in.get(0).backend()).linspace(2, 5, 0, in.get(0).dtype())), 0))
                .then((out, in) -> out.mul(in.get(0)))
                .sample(of(1)));
        ops.add(OpInfo.op("randint", in -> Tensor.on(in.get(0).backend()).randint(-3, 4, new Generator(5), 3, 4))
                .sample(of(1)).notDifferentiable()
                .error("empty range", f -> f.randint(2, 2, new Generator(1), 3),
                        IllegalArgumentException.class, "randint: need low < high, got low=2 high=2"));
        ops.add(OpInfo.op("bernoulli", in -> in.get(0).bernoulli(new Generator(11)))
                .sample(of(3, 4).domain(0, 1)).sample(of(4, 3).domain(0, 1).transposed()).notDifferentiable()
                .error("probability above 1", f -> f.full(1.5, DType.FLOAT64, 2).bernoulli(new Generator(1)),
                        IllegalArgumentException.class, "bernoulli: probability 1.5 at position [0] is outside [0, 1]"));
        // A fixed seed makes the mask a constant of the sample, so the kept elements' gradient is checked.
        ops.add(OpInfo.op("dropout", in -> Functional.dropout(in.get(0), 0.4, true, new Generator(19)))
                .sample(of(3, 4)).sample(of(4, 5).transposed()).sample(of(2, 3, 4).sliced())
                .error("probability above 1", f -> Functional.dropout(f.ones(DType.FLOAT64, 2), 1.5, true, new Generator(1)),
                        IllegalArgumentException.class, "dropout: probability must be in [0, 1], got 1.5 (input shape [2])"));
        ops.add(OpInfo.op("multinomial", in -> in.get(0).multinomial(3, false, new Generator(13)))
                .sample(of(5).domain(0.1, 1)).sample(of(2, 6).domain(0.1, 1)).sample(of(2, 6).domain(0.1, 1).transposed())
                .notDifferentiable()
                .error("more samples than categories without replacement",
                        f -> f.ones(DType.FLOAT64, 3).multinomial(4, false, new Generator(1)),
                        IllegalArgumentException.class, "multinomial: cannot draw 4 samples from 3 categories without replacement")
                .error("negative weight", f -> f.fromArray(new double[] {1, -1}, 2).multinomial(1, true, new Generator(1)),
                        IllegalArgumentException.class, "multinomial: weight -1.0 of category 1 is not a finite number >= 0"));
        ops.add(OpInfo.op("multinomial(replacement)", Set.of("multinomial"), in -> in.get(0).multinomial(20, true, new Generator(17)))
                .sample(of(4).domain(0, 1)).sample(of(3, 5).domain(0, 1)).notDifferentiable());
    }

    // ---- bool and integer dtypes, promotion ------------------------------------------------------------

    /** {@code d} with its zeros and positives moved up by one: a divisor of either sign that is never 0. */
    private static Tensor nonZero(Tensor d) {
        return d.add(d.ge(0L).toType(d.dtype()));
    }

    private static void integersAndBools(List<OpInfo> ops) {
        // Integer arithmetic, exact, on both integer dtypes and mixed (INT32 with INT64 is INT64), with
        // negative operands for the sign rules of floor division and remainder. Integer samples are the
        // same in both tested dtypes: the reference compares them as they are.
        List<BiFunction<Tensor, Tensor, Tensor>> fns = List.of(Tensor::add, Tensor::sub, Tensor::mul,
                (a, b) -> a.floorDivide(nonZero(b)), (a, b) -> a.remainder(nonZero(b)),
                (a, b) -> a.div(nonZero(b), "trunc"), (a, b) -> a.div(nonZero(b), "floor"), Tensor::maximum,
                Tensor::minimum);
        List<String> names = List.of("add", "sub", "mul", "floorDivide", "remainder", "div", "div", "maximum",
                "minimum");
        List<String> labels = List.of("add", "sub", "mul", "floorDivide", "remainder", "div(trunc)", "div(floor)",
                "maximum", "minimum");
        for (int i = 0; i < fns.size(); i++) {
            BiFunction<Tensor, Tensor, Tensor> f = fns.get(i);
            ops.add(OpInfo.op(labels.get(i) + "(integers)", Set.of(names.get(i)), in -> f.apply(in.get(0), in.get(1)))
                    .sample(integers(DType.INT64, -20, 20, 2, 3), integers(DType.INT64, -6, 6, 2, 3))
                    .sample(integers(DType.INT32, -20, 20, 3, 4).transposed(), integers(DType.INT32, -6, 6, 4))
                    .sample(integers(DType.INT32, -20, 20, 2, 3), integers(DType.INT64, -6, 6, 1, 3))
                    .sample(integers(DType.INT64, -20, 20), integers(DType.INT32, -6, 6, 2, 2).sliced())
                    .notDifferentiable());
        }
        ops.add(OpInfo.op("floorDivide", in -> in.get(0).floorDivide(in.get(1)))
                .sample(of(2, 3).domain(-5, 5), of(2, 3).domain(0.5, 2))
                .sample(of(3), of(2, 3).domain(-2, -0.5))
                .notDifferentiable()
                .error("integer division by zero", f -> f.arange(3).floorDivide(f.arange(3)), ArithmeticException.class,
                        "floorDivide: integer division by zero (the INT64 divisor of shape [3] is 0 at position 0)")
                .error("BOOL operands", f -> f.ones(DType.BOOL, 2).floorDivide(f.ones(DType.BOOL, 2)),
                        DTypeMismatchException.class, "floorDivide: not defined for BOOL operands"));
        ops.add(OpInfo.op("remainder(integer scalar)", Set.of("remainder"), in -> in.get(0).remainder(-3L))
                .sample(integers(DType.INT32, -10, 10, 2, 5))
                .notDifferentiable()
                .error("integer remainder by zero", f -> f.arange(3).remainder(0L), ArithmeticException.class,
                        "remainder: integer division by zero"));
        // Integer values beyond 2^53, where a double cannot tell neighbours apart: exact results.
        long big = (1L << 53) + 1;
        ops.add(OpInfo.op("add(INT64 above 2^53)", Set.of("add", "sub", "mul"), in -> Tensor.stack(List.of(
                        in.get(0).add(in.get(1)).sub(in.get(1)).sub(in.get(0)), in.get(0).add(1L).sub(in.get(0)),
                        in.get(0).mul(3L).sub(in.get(0)).sub(in.get(0)).sub(in.get(0))), 0))
                .sample(indexValues(new long[] {big, big + 2, Long.MAX_VALUE / 4, 1L << 60}, 4),
                        indexValues(new long[] {1, 3, 5, 7}, 4))
                .notDifferentiable());
        ops.add(OpInfo.op("neg, abs, sign(integers)", Set.of("neg", "abs", "sign"), in -> Tensor.stack(List.of(
                        in.get(0).neg(), in.get(0).abs(), in.get(0).sign()), 0))
                .sample(integers(DType.INT32, -9, 9, 2, 3))
                .sample(integers(DType.INT64, -9, 9, 3, 2).transposed())
                .notDifferentiable()
                .error("neg of a BOOL tensor", f -> f.ones(DType.BOOL, 2).neg(), DTypeMismatchException.class,
                        "neg: not defined for a BOOL tensor (shape [2]); to invert a mask use logicalNot()"));
        // Reductions of integers: sum is INT64 whatever the integer dtype, max and min keep it.
        ops.add(OpInfo.op("sum, amax, amin(integers)", Set.of("sum", "amax", "amin"), in -> Tensor.stack(List.of(
                        in.get(0).sum(1, false), in.get(0).amax(1, false).toType(DType.INT64),
                        in.get(0).amin(1, false).toType(DType.INT64)), 0))
                .sample(integers(DType.INT32, -50, 50, 3, 4))
                .sample(integers(DType.INT64, -50, 50, 4, 3).transposed())
                .sample(bools(2, 5))
                .notDifferentiable());
        ops.add(OpInfo.op("argmax, max(dim)(integers)", Set.of("argmax", "argmin", "max", "min"),
                        in -> Tensor.stack(List.of(in.get(0).argmax(1, false), in.get(0).argmin(1, false),
                                in.get(0).max(1, false).values().toType(DType.INT64),
                                in.get(0).min(1, false).indices()), 0))
                .sample(integers(DType.INT32, -3, 3, 3, 5))
                .sample(integers(DType.INT64, -3, 3, 5, 3).transposed())
                .notDifferentiable());
        // A causal mask is often built as tril of a BOOL or integer tensor; the dtype is kept, as torch.tril.
        ops.add(OpInfo.op("tril, triu(integers, BOOL)", Set.of("tril", "triu"), in -> Tensor.stack(List.of(
                        in.get(0).tril().toType(DType.INT64), in.get(0).triu(1).toType(DType.INT64)), 0))
                .sample(integers(DType.INT32, -9, 9, 3, 4))
                .sample(integers(DType.INT64, -9, 9, 2, 4, 3).transposed())
                .sample(bools(4, 4))
                .notDifferentiable());
        ops.add(OpInfo.op("gather(integer source)", Set.of("gather"), in -> in.get(0).gather(1, in.get(1)))
                .sample(integers(DType.INT64, -100, 100, 3, 4), index(4, 3, 2))
                .sample(integers(DType.INT32, -100, 100, 4, 3).transposed(), index(3, 3, 5))
                .sample(bools(3, 4), index(4, 3, 4))
                .notDifferentiable());
        // Comparisons: BOOL results, on promoted operands.
        ops.add(binaryOp("ne", Tensor::ne, -2, 2).notDifferentiable());
        ops.add(OpInfo.op("ne(NaN)", Set.of("ne"), in -> in.get(0).log().ne(in.get(0).log()))
                .sample(of(2, 4))
                .notDifferentiable());
        ops.add(OpInfo.op("comparisons(INT32 with INT64)", Set.of("eq", "ne", "lt", "ge"), in -> Tensor.stack(List.of(
                        in.get(0).eq(in.get(1)), in.get(0).ne(in.get(1)), in.get(0).lt(in.get(1)),
                        in.get(0).ge(in.get(1))), 0))
                .sample(integers(DType.INT32, -2, 2, 2, 3), integers(DType.INT64, -2, 2, 2, 3))
                .sample(bools(2, 3), integers(DType.INT32, -1, 2, 3))
                .notDifferentiable());
        // Logical ops read any dtype as "non-zero" and give BOOL.
        List<BiFunction<Tensor, Tensor, Tensor>> logical = List.of(Tensor::logicalAnd, Tensor::logicalOr,
                Tensor::logicalXor);
        List<String> logicalNames = List.of("logicalAnd", "logicalOr", "logicalXor");
        for (int i = 0; i < logical.size(); i++) {
            BiFunction<Tensor, Tensor, Tensor> f = logical.get(i);
            ops.add(OpInfo.op(logicalNames.get(i), in -> f.apply(in.get(0), in.get(1)))
                    .sample(bools(2, 3), bools(2, 3))
                    .sample(bools(3, 4).transposed(), bools(4))
                    .sample(mask(2, 3), integers(DType.INT64, -1, 2, 2, 3))
                    .notDifferentiable());
        }
        ops.add(OpInfo.op("logicalNot", in -> Tensor.stack(List.of(in.get(0).logicalNot(),
                        in.get(1).logicalNot().toType(DType.BOOL)), 0))
                .sample(bools(2, 3), mask(2, 3))
                .sample(bools(3, 2).transposed(), integers(DType.INT32, -1, 2, 3, 2))
                .notDifferentiable());
        // where with a BOOL mask from a comparison, and integer branches promoted to the floating one.
        ops.add(OpInfo.op("where(BOOL mask, promoted)", Set.of("where"),
                        in -> Tensor.where(in.get(1).gt(0.0), in.get(0), in.get(2)))
                .sample(of(2, 3), of(2, 3), integers(DType.INT64, -5, 5, 2, 3))
                .sample(of(3), of(2, 3), integers(DType.INT32, -5, 5, 1))
                .sample(of(2, 3), of(3), bools(2, 3)));
        ops.add(OpInfo.op("where(integers)", Set.of("where"), in -> Tensor.where(in.get(0), in.get(1), in.get(2)))
                .sample(bools(2, 3), integers(DType.INT64, -5, 5, 2, 3), integers(DType.INT32, -5, 5, 3))
                .notDifferentiable());
        ops.add(OpInfo.op("maskedFill(BOOL mask)", Set.of("maskedFill"),
                        in -> in.get(0).maskedFill(in.get(1), -1.5))
                .sample(of(2, 3), bools(2, 3))
                .sample(of(2, 3), bools(3)));
        ops.add(OpInfo.op("maskedFill(integers)", Set.of("maskedFill"), in -> in.get(0).maskedFill(in.get(1), -1.5))
                .sample(integers(DType.INT32, -9, 9, 2, 3), bools(1, 3))
                .sample(integers(DType.INT64, -9, 9, 3, 2).transposed(), bools(3, 2))
                .notDifferentiable());
        // Promotion with gradients: the floating operand is differentiated through a mixed op.
        ops.add(OpInfo.op("mul(floating, integer)", Set.of("mul", "add", "div"), in -> in.get(0).mul(in.get(1))
                        .add(in.get(2)).div(nonZero(in.get(1))))
                .sample(of(2, 3), integers(DType.INT64, -4, 4, 2, 3), bools(3))
                .sample(of(3), integers(DType.INT32, -4, 4, 2, 3).transposed(), integers(DType.INT64, 0, 3)));
        // Numbers: a long keeps an integer dtype, a double makes it FLOAT32 (the dtype is checked by stacking).
        ops.add(OpInfo.op("integer tensor with numbers", Set.of("add", "mul", "div", "sub"),
                        in -> Tensor.stack(List.of(in.get(0).add(2).toType(DType.FLOAT32), in.get(0).mul(0.5),
                                in.get(0).div(4), in.get(0).sub(1.25)), 0))
                .sample(integers(DType.INT32, -9, 9, 2, 3))
                .sample(integers(DType.INT64, -9, 9, 3))
                .notDifferentiable()
                .error("INT32 overflow of a number", f -> f.fromArray(new int[] {1}, 1).add(1L << 40),
                        IllegalArgumentException.class, "add: the value 1099511627776 cannot be converted to INT32"));
        // Conversions: floating to integer truncates toward zero, to BOOL tests for non-zero.
        ops.add(OpInfo.op("toType(integers and BOOL)", Set.of("toType", "to"), in -> Tensor.stack(List.of(
                        in.get(0).toType(DType.INT32).toType(DType.FLOAT64), in.get(0).to(DType.INT64).to(DType.FLOAT64),
                        in.get(0).toType(DType.BOOL).toType(DType.FLOAT64),
                        in.get(0).mul(0.0).toType(DType.BOOL).toType(DType.FLOAT64)), 0))
                .sample(of(2, 3).domain(-5, 5))
                .sample(of(3, 4).domain(-5, 5).transposed())
                .notDifferentiable());
        // Each its own entry: names covered together would list in Set order, which varies between runs.
        ops.add(OpInfo.op("toIntArray", in -> Tensor.on(in.get(0).backend())
                        .fromArray(in.get(0).toIntArray(), in.get(0).shape().toArray()).toType(DType.INT64))
                .sample(integers(DType.INT64, -3, 3, 2, 3))
                .sample(of(3, 2).domain(-2, 2).transposed())
                .notDifferentiable());
        ops.add(OpInfo.op("toBooleanArray", in -> Tensor.on(in.get(0).backend())
                        .fromArray(in.get(0).toBooleanArray(), in.get(0).shape().toArray()).toType(DType.INT64))
                .sample(integers(DType.INT64, -3, 3, 2, 3))
                .sample(of(3, 2).domain(-2, 2).transposed())
                .notDifferentiable());
        ops.add(OpInfo.op("sum(BOOL and INT32)", Set.of("sum"), in -> Tensor.stack(List.of(in.get(0).sum(),
                        in.get(1).sum()), 0))
                .sample(bools(3, 4), integers(DType.INT32, -9, 9, 4, 3))
                .notDifferentiable());
    }
}
