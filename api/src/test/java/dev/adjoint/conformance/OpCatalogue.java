package dev.adjoint.conformance;

import dev.adjoint.DType;
import dev.adjoint.DTypeMismatchException;
import dev.adjoint.Functional;
import dev.adjoint.Tensor;
import dev.adjoint.TensorShapeException;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.BiFunction;
import java.util.function.Function;
import java.util.function.UnaryOperator;

import static dev.adjoint.conformance.InputSpec.index;
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
        losses(ops);
        return ops;
    }

    // ---- unary ---------------------------------------------------------------------------------------

    private static OpInfo unaryOp(String name, UnaryOperator<Tensor> f, double lo, double hi) {
        OpInfo op = OpInfo.op(name, in -> f.apply(in.get(0)))
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
        ops.add(unaryOp("log", Tensor::log, 0.5, 2)
                .error("log of an INT64 tensor", f -> f.arange(3).log(), DTypeMismatchException.class,
                        "log: expected a FLOAT32 or FLOAT64 tensor, got INT64"));
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
                .error("min > max", f -> f.ones(DType.FLOAT64, 2).clamp(1, 0), IllegalArgumentException.class,
                        "clamp: need min <= max"));
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
        ops.add(scalarOp("add(scalar)", "add", t -> t.add(1.5), -2, 2));
        ops.add(scalarOp("sub(scalar)", "sub", t -> t.sub(1.5), -2, 2));
        ops.add(scalarOp("mul(scalar)", "mul", t -> t.mul(-1.5), -2, 2));
        ops.add(scalarOp("div(scalar)", "div", t -> t.div(3.0), -2, 2));
        ops.add(scalarOp("maximum(scalar)", "maximum", t -> t.maximum(0.25), -2, 2));
        ops.add(scalarOp("minimum(scalar)", "minimum", t -> t.minimum(0.25), -2, 2));
        ops.add(OpInfo.op("where", in -> Tensor.where(in.get(0), in.get(1), in.get(2)))
                .sample(mask(2, 3), of(2, 3), of(2, 3))
                .sample(mask(2, 1), of(3), of(2, 3))
                .sample(mask(3), of(2, 3).transposed().domain(-1, 1), of())
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
        ops.add(OpInfo.op("eq", in -> in.get(0).eq(Tensor.where(in.get(2), in.get(0), in.get(1))))
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
        ops.add(OpInfo.op("mean", in -> in.get(0).mean())
                .sample(of()).sample(of(3, 4)).sample(of(3, 4).sliced()));
        ops.add(OpInfo.op("mean(dims, keepDim)", Set.of("mean"), in -> in.get(0).mean(new int[] {1}, true))
                .sample(of(2, 3, 4)).sample(of(4, 3).transposed()));
        ops.add(OpInfo.op("mean(dim)", Set.of("mean"), in -> in.get(0).mean(0, false))
                .sample(of(2, 3, 4)).sample(of(4, 3).transposed()));
        for (String name : List.of("argmax", "argmin")) {
            boolean max = name.equals("argmax");
            ops.add(OpInfo.op(name, in -> max ? in.get(0).argmax() : in.get(0).argmin())
                    .sample(of(5)).sample(of(3, 4).transposed()).sample(of())
                    .notDifferentiable());
            ops.add(OpInfo.op(name + "(dim)", Set.of(name),
                            in -> max ? in.get(0).argmax(-1, false) : in.get(0).argmin(0, true))
                    .sample(of(3, 4)).sample(of(2, 3, 4).sliced()).sample(of(2, 1, 3).expandedTo(2, 4, 3))
                    .notDifferentiable());
        }
        for (String name : List.of("amax", "amin")) {
            boolean max = name.equals("amax");
            ops.add(OpInfo.op(name, in -> max ? in.get(0).amax() : in.get(0).amin())
                    .sample(of(5)).sample(of(3, 4).transposed()).sample(of()));
            ops.add(OpInfo.op(name + "(dim)", Set.of(name),
                            in -> max ? in.get(0).amax(-1, true) : in.get(0).amin(-1, true))
                    .sample(of(3, 4)).sample(of(2, 3, 4).sliced()).sample(of(2, 1, 3).expandedTo(2, 4, 3)));
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
                .sample(of(3, 4)).sample(of(2, 3, 4).transposed()).sample(of(5))
                .sample(of(2, 5).domain(990, 1010))
                .tolerance32(largeLogitAtol32, 1e-4));
        ops.add(OpInfo.op("logSumExp(dims, keepDim)", Set.of("logSumExp"),
                        in -> in.get(0).logSumExp(new int[] {0, 1}, true))
                .sample(of(2, 3, 4)).sample(of(2, 3).domain(-1010, -990))
                .tolerance32(largeLogitAtol32, 1e-4));
        ops.add(OpInfo.op("softmax", in -> in.get(0).softmax(-1))
                .sample(of(3, 4)).sample(of(4, 3).transposed()).sample(of(2, 3, 4).sliced())
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
                .tolerance32(1e-5, 1e-4)
                .error("inner sizes differ", f -> f.ones(DType.FLOAT64, 3, 4).matmul(f.ones(DType.FLOAT64, 5, 2)),
                        TensorShapeException.class, "matmul: shapes [3, 4] and [5, 2] cannot be multiplied (4 != 5)")
                .error("0-d operand", f -> f.ones(DType.FLOAT64).matmul(f.ones(DType.FLOAT64, 2)),
                        TensorShapeException.class, "matmul: both arguments need at least 1 dimension")
                .error("batch dims that do not broadcast",
                        f -> f.ones(DType.FLOAT64, 2, 3, 4).matmul(f.ones(DType.FLOAT64, 3, 4, 2)),
                        TensorShapeException.class, "matmul: shapes [2] and [3] cannot be broadcast"));
    }

    // ---- movement -------------------------------------------------------------------------------------

    private static void movement(List<OpInfo> ops) {
        ops.add(OpInfo.op("reshape", in -> in.get(0).reshape(3, -1))
                .sample(of(2, 3)).sample(of(3, 2).transposed()).sample(of(2, 3).sliced())
                .error("wrong element count", f -> f.ones(DType.FLOAT64, 2, 3).reshape(4, 2),
                        TensorShapeException.class, "reshape: shape [4, 2] is invalid for input of shape [2, 3]"));
        ops.add(OpInfo.op("transpose", in -> in.get(0).transpose(0, -1).mul(in.get(0).transpose(0, -1)))
                .sample(of(2, 3)).sample(of(2, 3, 4)).sample(of(4, 3).sliced()));
        ops.add(OpInfo.op("permute", in -> in.get(0).permute(2, 0, 1).exp())
                .sample(of(2, 3, 4)).sample(of(2, 4, 3).transposed())
                .error("not a permutation", f -> f.ones(DType.FLOAT64, 2, 3).permute(0, 0),
                        TensorShapeException.class, "permute: [0, 0] repeats dimension 0"));
        ops.add(OpInfo.op("squeeze", in -> in.get(0).squeeze().square())
                .sample(of(2, 1, 3)).sample(of(1, 1)).sample(of(3, 1).transposed()));
        ops.add(OpInfo.op("squeeze(dim)", Set.of("squeeze"), in -> in.get(0).squeeze(1).square())
                .sample(of(2, 1, 3)).sample(of(2, 3)));
        ops.add(OpInfo.op("unsqueeze", in -> in.get(0).unsqueeze(1).mul(in.get(0).unsqueeze(-1)))
                .sample(of(3)).sample(of(2, 3).transposed())
                .error("dimension out of range", f -> f.ones(DType.FLOAT64, 2).unsqueeze(3),
                        TensorShapeException.class, "unsqueeze: dimension 3 is out of range for shape [2]"));
        ops.add(OpInfo.op("expand", in -> in.get(0).expand(2, 3, -1).square())
                .sample(of(3, 1)).sample(of(1, 4)).sample(of(3, 2).transposed())
                .error("incompatible size", f -> f.ones(DType.FLOAT64, 2, 3).expand(4, 3),
                        TensorShapeException.class, "expand: shape [2, 3] cannot be expanded to [4, 3]"));
        ops.add(OpInfo.op("narrow", in -> in.get(0).narrow(1, 1, 2).square())
                .sample(of(2, 4)).sample(of(3, 4).transposed()).sample(of(2, 3, 5).sliced())
                .error("out of range", f -> f.ones(DType.FLOAT64, 2, 3).narrow(1, 2, 2),
                        TensorShapeException.class, "narrow: start 2 and length 2 exceed dimension 1 of size 3"));
        ops.add(OpInfo.op("contiguous", in -> in.get(0).contiguous().square())
                .sample(of(3, 4).transposed()).sample(of(2, 3)).sample(of(2, 3).sliced()));
        ops.add(OpInfo.op("clone", in -> in.get(0).clone().mul(in.get(0)))
                .sample(of(2, 3)).sample(of(3, 4).transposed()).sample(of()));
        ops.add(OpInfo.op("cat", in -> Tensor.cat(List.of(in.get(0), in.get(1), in.get(2)), 1).square())
                .sample(of(2, 1), of(2, 3), of(2, 2))
                .sample(of(2, 3).transposed(), of(2, 1), of(2, 2).sliced())
                .error("sizes differ outside the cat dimension",
                        f -> Tensor.cat(List.of(f.ones(DType.FLOAT64, 2, 3), f.ones(DType.FLOAT64, 3, 3)), 1),
                        TensorShapeException.class, "cat: tensor 0 has shape [2, 3] but tensor 1 has shape [3, 3]"));
        ops.add(OpInfo.op("cat(dim 0)", Set.of("cat"), in -> Tensor.cat(List.of(in.get(0), in.get(1)), 0).exp())
                .sample(of(1, 3), of(2, 3)).sample(of(2), of(3)));
        ops.add(OpInfo.op("stack", in -> Tensor.stack(List.of(in.get(0), in.get(1)), 1).square())
                .sample(of(2, 3), of(2, 3)).sample(of(3), of(3).expandedTo(3))
                .error("shapes differ", f -> Tensor.stack(List.of(f.ones(DType.FLOAT64, 2), f.ones(DType.FLOAT64, 3)), 0),
                        TensorShapeException.class, "stack: tensor 0 has shape [2] but tensor 1 has shape [3]"));
        ops.add(OpInfo.op("toType", in -> in.get(0).toType(DType.FLOAT64).mul(2.0).toType(in.get(0).dtype()))
                .sample(of(2, 3)).sample(of(3, 2).transposed()));
    }

    // ---- indexing ---------------------------------------------------------------------------------------

    private static void indexing(List<OpInfo> ops) {
        ops.add(OpInfo.op("gather", in -> in.get(0).gather(1, in.get(1)).square())
                .sample(of(3, 4), index(4, 3, 2))
                .sample(of(3, 4).transposed(), index(4, 2, 5))
                .sample(of(2, 3, 4), index(3, 2, 2, 4).expandedTo(2, 2, 4))
                .error("index out of range", f -> f.ones(DType.FLOAT64, 2, 3)
                                .gather(1, f.fromArray(new long[] {0, 3}, 2, 1)),
                        IndexOutOfBoundsException.class, "gather: index 3 at position 1 is out of range for dimension 1 of size 3")
                .error("floating index", f -> f.ones(DType.FLOAT64, 2, 3).gather(1, f.ones(DType.FLOAT64, 2, 1)),
                        DTypeMismatchException.class, "gather: index must be INT64"));
        ops.add(OpInfo.op("gather(dim 0)", Set.of("gather"), in -> in.get(0).gather(0, in.get(1)).square())
                .sample(of(3, 4), index(3, 5, 4)));
        ops.add(OpInfo.op("scatterAdd", in -> in.get(0).scatterAdd(1, in.get(1), in.get(2)).square())
                .sample(of(3, 4), index(4, 3, 5), of(3, 5))
                .sample(of(3, 4).transposed(), index(4, 2, 3), of(2, 3).sliced())
                .error("index and src shapes differ", f -> f.ones(DType.FLOAT64, 2, 3)
                                .scatterAdd(1, f.fromArray(new long[] {0, 1}, 2, 1), f.ones(DType.FLOAT64, 2, 2)),
                        TensorShapeException.class, "scatterAdd: index shape [2, 1] must equal src shape [2, 2]"));
        ops.add(OpInfo.op("indexSelect", in -> in.get(0).indexSelect(0, in.get(1)).square())
                .sample(of(4, 3), index(4, 6))
                .sample(of(3, 4).transposed(), index(3, 2))
                .error("2-D index", f -> f.ones(DType.FLOAT64, 2, 3).indexSelect(0, f.fromArray(new long[] {0, 1}, 1, 2)),
                        TensorShapeException.class, "indexSelect: index must be 1-D, got shape [1, 2]"));
        ops.add(OpInfo.op("indexSelect(dim 1)", Set.of("indexSelect"), in -> in.get(0).indexSelect(1, in.get(1)).exp())
                .sample(of(2, 3, 4), index(3, 5)));
    }

    // ---- losses -----------------------------------------------------------------------------------------

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
                        IndexOutOfBoundsException.class, "index 3 at position 1 is out of range for dimension 1 of size 3"));
        ops.add(OpInfo.op("logSoftmax(loss-sized)", Set.of("logSoftmax"),
                        in -> Functional.logSoftmax(in.get(0), 1).mul(Functional.softmax(in.get(0), 1)).sum())
                .sample(of(3, 4)));
    }
}
