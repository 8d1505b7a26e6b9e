package dev.adjoint.conformance;

import dev.adjoint.DType;
import dev.adjoint.Functional;
import dev.adjoint.Generator;
import dev.adjoint.PadMode;
import dev.adjoint.Shape;
import dev.adjoint.Tensor;
import dev.adjoint.conformance.ProgramGenome.StepGene;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.BiFunction;
import java.util.function.DoubleBinaryOperator;
import java.util.function.DoubleUnaryOperator;
import java.util.function.Predicate;
import java.util.function.UnaryOperator;
import java.util.stream.IntStream;

/**
 * The ops random programs are made of: the Tensor ops of the catalogue that take any shape (every
 * elementwise op, broadcasting binaries and their scalar forms, reductions along chosen dims, the
 * softmax family, matmul in every rank combination, views and copies, indexing, losses), each as a
 * builder that reads a {@link StepGene} against the values computed so far.
 *
 * <p>A builder returns {@code null} when its op cannot take the values the gene points at (a rank it
 * needs, a partner of a matching shape), and also outside its guard. The guards keep a program where
 * FLOAT32 and FLOAT64 must agree: away from kinks and jumps (relu, abs, sign, clamp, maximum, where,
 * amax: one FLOAT32 rounding must not pick another branch than the FLOAT64 reference), away from
 * singularities (log, sqrt, div, negative powers), and exp below overflow. Ties that are exact by
 * construction (an expanded or repeated value) stay allowed: they are exact in both dtypes.
 */
final class ProgramOps {
    /** How far from a kink or jump every input element must be; FLOAT32 rounding of values up to
     *  {@link Program#MAGNITUDE} over ten steps stays below 1e-4. */
    static final double KINK_MARGIN = 1e-3;
    /** The smallest input of log, sqrt, a reciprocal or a divisor (where derivatives reach 1 / 0.25^2). */
    static final double SINGULAR_MARGIN = 0.25;

    /** A value of a program being built: v{id}, and its FLOAT64 value on the reference backend. */
    record Value(int id, Tensor ref) {
        Shape shape() {
            return ref.shape();
        }

        int rank() {
            return ref.rank();
        }

        @Override
        public String toString() {
            return "v" + id;
        }
    }

    /** How a step computes its value from all values before it, on any backend and dtype. */
    @FunctionalInterface
    interface Compute {
        Tensor apply(List<Tensor> values);
    }

    /** A built step: how it reads ({@code v3.add(v1)}) and what it computes. */
    record Step(String text, Compute compute) {
    }

    /** One op: its name and its builder. */
    record Op(String name, BiFunction<List<Value>, StepGene, Step> builder) {
        Step build(List<Value> values, StepGene gene) {
            return builder.apply(values, gene);
        }
    }

    /** Op 0 is the simplest (shrinking moves op genes toward 0). */
    static final List<Op> ALL = ops();

    private ProgramOps() {
    }

    private static List<Op> ops() {
        List<Op> ops = new ArrayList<>();
        // ---- unary, from any value ---------------------------------------------------------------------
        ops.add(unary("neg", Tensor::neg, x -> true));
        ops.add(unary("exp", Tensor::exp, x -> max(x) <= 4));
        ops.add(unary("log", Tensor::log, x -> min(x) >= SINGULAR_MARGIN));
        ops.add(unary("log1p", Tensor::log1p, x -> min(x) >= SINGULAR_MARGIN - 1));
        ops.add(unary("sqrt", Tensor::sqrt, x -> min(x) >= SINGULAR_MARGIN));
        ops.add(unary("square", Tensor::square, x -> true));
        ops.add(unary("abs", Tensor::abs, x -> awayFrom(x, 0)));
        ops.add(unary("sign", Tensor::sign, x -> awayFrom(x, 0)));
        ops.add(unary("sin", Tensor::sin, x -> true));
        ops.add(unary("cos", Tensor::cos, x -> true));
        ops.add(unary("tanh", Tensor::tanh, x -> true));
        ops.add(unary("sigmoid", Tensor::sigmoid, x -> true));
        ops.add(unary("relu", Tensor::relu, x -> awayFrom(x, 0)));
        ops.add(unary("erf", Tensor::erf, x -> true));
        ops.add(unary("pow(3)", t -> t.pow(3), x -> true));
        ops.add(unary("pow(2.5)", t -> t.pow(2.5), x -> min(x) >= SINGULAR_MARGIN));
        ops.add(unary("pow(-1)", t -> t.pow(-1), x -> minAbs(x) >= SINGULAR_MARGIN));
        ops.add(unary("clamp(-0.5, 0.5)", t -> t.clamp(-0.5, 0.5), x -> awayFrom(x, -0.5) && awayFrom(x, 0.5)));
        ops.add(unary("add(0.75)", t -> t.add(0.75), x -> true));
        ops.add(unary("sub(1.5)", t -> t.sub(1.5), x -> true));
        ops.add(unary("mul(-1.5)", t -> t.mul(-1.5), x -> true));
        ops.add(unary("div(4)", t -> t.div(4.0), x -> true));
        ops.add(unary("maximum(0.25)", t -> t.maximum(0.25), x -> awayFrom(x, 0.25)));
        ops.add(unary("minimum(-0.25)", t -> t.minimum(-0.25), x -> awayFrom(x, -0.25)));
        ops.add(unary("contiguous()", Tensor::contiguous, x -> true));
        ops.add(unary("clone()", Tensor::clone, x -> true));
        ops.add(new Op("toType round trip", (values, g) -> {
            Value x = pick(values, g.a());
            return new Step(x + ".toType(the other dtype).toType(its own)", v -> {
                Tensor t = v.get(x.id());
                DType other = t.dtype() == DType.FLOAT64 ? DType.FLOAT32 : DType.FLOAT64;
                return t.toType(other).toType(t.dtype());
            });
        }));
        // ---- binary, broadcasting -----------------------------------------------------------------------
        ops.add(binary("add", Tensor::add, (a, b) -> true));
        ops.add(binary("sub", Tensor::sub, (a, b) -> true));
        ops.add(binary("mul", Tensor::mul, (a, b) -> true));
        ops.add(binary("div", Tensor::div, (a, b) -> minAbs(b) >= SINGULAR_MARGIN));
        ops.add(binary("maximum", Tensor::maximum, (a, b) -> exactOrApart(a.sub(b))));
        ops.add(binary("minimum", Tensor::minimum, (a, b) -> exactOrApart(a.sub(b))));
        ops.add(new Op("where", (values, g) -> {
            Value x = pick(values, g.a());
            Value y = partner(values, g.b(), s -> broadcasts(s, x.shape()));
            if (!awayFrom(x.ref(), 0.25)) {
                return null;
            }
            Shape xy = Shape.broadcast("where", x.shape(), y.shape());
            Value z = partner(values, g.c(), s -> broadcasts(s, xy));
            return new Step("where(" + x + " > 0.25, " + y + ", " + z + ")",
                    v -> Tensor.where(v.get(x.id()).gt(0.25), v.get(y.id()), v.get(z.id())));
        }));
        ops.add(new Op("mseLoss", (values, g) -> {
            Value x = pick(values, g.a());
            Value y = partner(values, g.b(), s -> s.equals(x.shape()));
            return new Step("mseLoss(" + x + ", " + y + ")", v -> Functional.mseLoss(v.get(x.id()), v.get(y.id())));
        }));
        // ---- reductions and the softmax family ----------------------------------------------------------
        ops.add(new Op("sum()", (values, g) -> {
            Value x = pick(values, g.a());
            return new Step(x + ".sum()", v -> v.get(x.id()).sum());
        }));
        ops.add(alongDim("sum", true, (t, d, keep) -> t.sum(d, keep), (x, d) -> true));
        ops.add(new Op("sum(two dims)", (values, g) -> {
            Value x = pick(values, g.a());
            if (x.rank() < 2) {
                return null;
            }
            int d0 = Math.floorMod(g.p(), x.rank());
            int d1 = (d0 + 1 + Math.floorMod(g.c(), x.rank() - 1)) % x.rank();
            boolean keep = g.b() % 2 == 1;
            int[] dims = {d0, d1 - x.rank()};
            return new Step(x + ".sum(" + Arrays.toString(dims) + ", " + keep + ")",
                    v -> v.get(x.id()).sum(dims, keep));
        }));
        ops.add(new Op("mean()", (values, g) -> {
            Value x = pick(values, g.a());
            return new Step(x + ".mean()", v -> v.get(x.id()).mean());
        }));
        ops.add(alongDim("mean", true, (t, d, keep) -> t.mean(d, keep), (x, d) -> true));
        ops.add(alongDim("amax", true, (t, d, keep) -> t.amax(d, keep), (x, d) -> clearExtremum(x, d)));
        ops.add(alongDim("amin", true, (t, d, keep) -> t.amin(d, keep), (x, d) -> clearExtremum(x.neg(), d)));
        // argmax as a one-hot mask: INT64 argmax, an INT64 comparison broadcast against positions, the
        // mask converted to the values' dtype.
        ops.add(new Op("argmax one-hot", (values, g) -> {
            Value x = pick(values, g.a());
            if (x.rank() == 0) {
                return null;
            }
            int d = Math.floorMod(g.p(), x.rank());
            int n = x.shape().dim(d);
            if (!clearExtremum(x.ref(), d)) {
                return null;
            }
            int[] along = new int[x.rank()];
            Arrays.fill(along, 1);
            along[d] = n;
            return new Step(x + ".mul(" + x + ".argmax(" + d + ", true).eq(arange(" + n + ").reshape(" + join(along)
                    + ")).toType(its dtype))", v -> {
                        Tensor t = v.get(x.id());
                        Tensor positions = Tensor.on(t.backend()).arange(n).reshape(along);
                        return t.mul(t.argmax(d, true).eq(positions).toType(t.dtype()));
                    });
        }));
        ops.add(new Op("argmin offset", (values, g) -> {
            Value x = pick(values, g.a());
            if (x.rank() == 0) {
                return null;
            }
            int d = Math.floorMod(g.p(), x.rank());
            boolean keep = g.b() % 2 == 1;
            if (!clearExtremum(x.ref().neg(), d)) {
                return null;
            }
            Shape out = keep ? x.shape().withDim(d, 1) : dropDim(x.shape(), d);
            if (!broadcasts(out, x.shape())) {
                return null;
            }
            return new Step(x + ".add(" + x + ".argmin(" + d + ", " + keep + ").toType(its dtype))", v -> {
                Tensor t = v.get(x.id());
                return t.add(t.argmin(d, keep).toType(t.dtype()));
            });
        }));
        ops.add(alongDim("logSumExp", true, (t, d, keep) -> t.logSumExp(d, keep), (x, d) -> true));
        ops.add(alongDim("softmax", false, (t, d, keep) -> t.softmax(d), (x, d) -> true));
        ops.add(alongDim("logSoftmax", false, (t, d, keep) -> t.logSoftmax(d), (x, d) -> true));
        ops.add(new Op("crossEntropy", (values, g) -> {
            Value x = pick(values, g.a());
            if (x.rank() != 2 || x.shape().dim(1) == 0) {
                return null;
            }
            long[] target = indices(g.c(), x.shape().dim(0), x.shape().dim(1));
            return new Step("crossEntropy(" + x + ", target " + Arrays.toString(target) + ")",
                    v -> Functional.crossEntropy(v.get(x.id()),
                            Tensor.on(v.get(x.id()).backend()).fromArray(target, target.length)));
        }));
        // ---- matmul -------------------------------------------------------------------------------------
        ops.add(new Op("matmul", (values, g) -> {
            Value x = pick(values, g.a());
            if (x.rank() == 0) {
                return null;
            }
            Value y = partnerOrNull(values, g.b(), s -> multiplies(x.shape(), s)
                    && productNumel(x.shape(), s) <= Program.MAX_NUMEL);
            if (y == null) {
                // Always possible, unless too large: x @ x^T, or the dot product of a vector with itself.
                if (x.rank() > 1 && productNumel(x.shape(), transposed(x.shape())) > Program.MAX_NUMEL) {
                    return null;
                }
                return x.rank() == 1
                        ? new Step(x + ".matmul(" + x + ")", v -> v.get(x.id()).matmul(v.get(x.id())))
                        : new Step(x + ".matmul(" + x + ".transpose(-1, -2))",
                                v -> v.get(x.id()).matmul(v.get(x.id()).transpose(-1, -2)));
            }
            return new Step(x + ".matmul(" + y + ")", v -> v.get(x.id()).matmul(v.get(y.id())));
        }));
        // ---- views and copies ---------------------------------------------------------------------------
        ops.add(new Op("reshape", (values, g) -> {
            Value x = pick(values, g.a());
            int n = x.shape().numel();
            List<Integer> divisors = new ArrayList<>();
            for (int k = 1; k <= n; k++) {
                if (n % k == 0) {
                    divisors.add(k);
                }
            }
            if (n == 0) {
                divisors.add(1);
            }
            int[] target = g.p() % 3 == 0 ? new int[] {-1}
                    : g.p() % 3 == 1 ? new int[] {divisors.get(Math.floorMod(g.c(), divisors.size())), -1}
                    : new int[] {1, divisors.get(Math.floorMod(g.c(), divisors.size())), -1};
            return new Step(x + ".reshape(" + join(target) + ")", v -> v.get(x.id()).reshape(target));
        }));
        ops.add(new Op("transpose", (values, g) -> {
            Value x = pick(values, g.a());
            if (x.rank() < 2) {
                return null;
            }
            int d0 = Math.floorMod(g.p(), x.rank());
            int d1 = Math.floorMod(g.c(), x.rank());
            return new Step(x + ".transpose(" + d0 + ", " + d1 + ")", v -> v.get(x.id()).transpose(d0, d1));
        }));
        ops.add(new Op("permute", (values, g) -> {
            Value x = pick(values, g.a());
            if (x.rank() < 2) {
                return null;
            }
            int[] perm = new Generator(g.p()).permutation(x.rank());
            return new Step(x + ".permute(" + join(perm) + ")", v -> v.get(x.id()).permute(perm));
        }));
        ops.add(new Op("unsqueeze", (values, g) -> {
            Value x = pick(values, g.a());
            if (x.rank() >= ProgramGenome.MAX_RANK + 1) {
                return null;
            }
            int d = Math.floorMod(g.p(), x.rank() + 1);
            return new Step(x + ".unsqueeze(" + d + ")", v -> v.get(x.id()).unsqueeze(d));
        }));
        ops.add(new Op("squeeze", (values, g) -> {
            Value x = pick(values, g.a());
            int[] ones = sizeOneDims(x.shape());
            if (ones.length == 0) {
                return null;
            }
            if (g.p() % 2 == 0) {
                return new Step(x + ".squeeze()", v -> v.get(x.id()).squeeze());
            }
            int d = ones[Math.floorMod(g.c(), ones.length)];
            return new Step(x + ".squeeze(" + d + ")", v -> v.get(x.id()).squeeze(d));
        }));
        ops.add(new Op("expand", (values, g) -> {
            Value x = pick(values, g.a());
            boolean lead = g.p() % 2 == 1 && x.rank() < ProgramGenome.MAX_RANK + 1;
            int[] own = x.shape().toArray();
            int[] target = new int[own.length + (lead ? 1 : 0)];
            int at = 0;
            if (lead) {
                target[at++] = 2;
            }
            boolean grows = lead;
            for (int i = 0; i < own.length; i++) {
                int size = own[i] == 1 ? 1 + Math.floorMod(g.c() >> i, 3) : own[i];
                grows |= size != own[i];
                // -1 keeps a dimension, as torch's expand: the step says so.
                target[at++] = size == own[i] && g.b() % 2 == 1 ? -1 : size;
            }
            if (!grows) {
                return null;
            }
            return new Step(x + ".expand(" + join(target) + ")", v -> v.get(x.id()).expand(target));
        }));
        ops.add(new Op("narrow", (values, g) -> {
            Value x = pick(values, g.a());
            List<Integer> wide = new ArrayList<>();
            for (int d = 0; d < x.rank(); d++) {
                if (x.shape().dim(d) >= 2) {
                    wide.add(d);
                }
            }
            if (wide.isEmpty()) {
                return null;
            }
            int d = wide.get(Math.floorMod(g.p(), wide.size()));
            int size = x.shape().dim(d);
            int start = Math.floorMod(g.c(), size);
            int length = 1 + Math.floorMod(g.b(), size - start);
            return new Step(x + ".narrow(" + d + ", " + start + ", " + length + ")",
                    v -> v.get(x.id()).narrow(d, start, length));
        }));
        ops.add(new Op("cat", (values, g) -> {
            Value x = pick(values, g.a());
            if (x.rank() == 0) {
                return null;
            }
            int d = Math.floorMod(g.p(), x.rank());
            Value y = partner(values, g.b(), s -> s.rank() == x.rank() && s.withDim(d, 1).equals(x.shape().withDim(d, 1)));
            return new Step("cat([" + x + ", " + y + "], " + d + ")",
                    v -> Tensor.cat(List.of(v.get(x.id()), v.get(y.id())), d));
        }));
        ops.add(new Op("stack", (values, g) -> {
            Value x = pick(values, g.a());
            if (x.rank() >= ProgramGenome.MAX_RANK + 1) {
                return null;
            }
            int d = Math.floorMod(g.p(), x.rank() + 1);
            Value y = partner(values, g.b(), s -> s.equals(x.shape()));
            return new Step("stack([" + x + ", " + y + "], " + d + ")",
                    v -> Tensor.stack(List.of(v.get(x.id()), v.get(y.id())), d));
        }));
        // ---- indexing -----------------------------------------------------------------------------------
        ops.add(new Op("gather", (values, g) -> {
            Value x = pick(values, g.a());
            if (x.rank() == 0) {
                return null;
            }
            int d = Math.floorMod(g.p(), x.rank());
            if (x.shape().dim(d) == 0) {
                return null;
            }
            int[] shape = x.shape().toArray();
            Generator gen = new Generator(g.c());
            for (int k = 0; k < shape.length; k++) {
                shape[k] = k == d ? 1 + (int) gen.nextLong(3) : shape[k] == 0 ? 0 : 1 + (int) gen.nextLong(shape[k]);
            }
            long[] index = indices(g.b(), Shape.of(shape).numel(), x.shape().dim(d));
            return new Step(x + ".gather(" + d + ", index " + Arrays.toString(shape) + " " + Arrays.toString(index) + ")",
                    v -> v.get(x.id()).gather(d, Tensor.on(v.get(x.id()).backend()).fromArray(index, shape)));
        }));
        ops.add(new Op("indexSelect", (values, g) -> {
            Value x = pick(values, g.a());
            if (x.rank() == 0) {
                return null;
            }
            int d = Math.floorMod(g.p(), x.rank());
            if (x.shape().dim(d) == 0) {
                return null;
            }
            long[] index = indices(g.b(), 1 + Math.floorMod(g.c(), 4), x.shape().dim(d));
            return new Step(x + ".indexSelect(" + d + ", " + Arrays.toString(index) + ")",
                    v -> v.get(x.id()).indexSelect(d, Tensor.on(v.get(x.id()).backend()).fromArray(index, index.length)));
        }));
        ops.add(new Op("scatterAdd", (values, g) -> {
            Value x = pick(values, g.a());
            if (x.rank() == 0) {
                return null;
            }
            int d = Math.floorMod(g.p(), x.rank());
            Value src = partner(values, g.c(), s -> s.rank() == x.rank() && fitsBesides(s, x.shape(), d));
            if (x.shape().dim(d) == 0 && src.shape().numel() > 0) {
                return null;
            }
            int[] shape = src.shape().toArray();
            long[] index = indices(g.b(), src.shape().numel(), x.shape().dim(d));
            return new Step(x + ".scatterAdd(" + d + ", index " + Arrays.toString(shape) + " "
                    + Arrays.toString(index) + ", " + src + ")",
                    v -> v.get(x.id()).scatterAdd(d, Tensor.on(v.get(x.id()).backend()).fromArray(index, shape),
                            v.get(src.id())));
        }));
        wider(ops);
        return List.copyOf(ops);
    }

    /** The op set of issue 15 that takes any shape: more elementwise ops, running ops, selection, rearranging. */
    private static void wider(List<Op> ops) {
        // ---- elementwise: away from poles, branch points and jumps ------------------------------------------
        ops.add(unary("expm1", Tensor::expm1, x -> max(x) <= 4));
        ops.add(unary("tan", Tensor::tan, x -> maxAbs(x) <= 1.2));
        ops.add(unary("asin", Tensor::asin, x -> maxAbs(x) <= 0.9));
        ops.add(unary("acos", Tensor::acos, x -> maxAbs(x) <= 0.9));
        ops.add(unary("atan", Tensor::atan, x -> true));
        ops.add(unary("sinh", Tensor::sinh, x -> maxAbs(x) <= 4));
        ops.add(unary("cosh", Tensor::cosh, x -> maxAbs(x) <= 4));
        ops.add(unary("asinh", Tensor::asinh, x -> true));
        ops.add(unary("acosh", Tensor::acosh, x -> min(x) >= 1 + SINGULAR_MARGIN));
        ops.add(unary("atanh", Tensor::atanh, x -> maxAbs(x) <= 0.75));
        ops.add(unary("floor", Tensor::floor, x -> awayFromGrid(x, 0)));
        ops.add(unary("ceil", Tensor::ceil, x -> awayFromGrid(x, 0)));
        ops.add(unary("round", Tensor::round, x -> awayFromGrid(x, 0.5)));
        ops.add(unary("trunc", Tensor::trunc, x -> awayFromGrid(x, 0)));
        ops.add(unary("remainder(-0.75)", t -> t.remainder(-0.75), x -> awayFromGrid(x.div(0.75), 0)));
        ops.add(unary("silu", Functional::silu, x -> true));
        ops.add(unary("logSigmoid", Functional::logSigmoid, x -> true));
        ops.add(unary("softplus", Functional::softplus, x -> awayFrom(x, 20)));
        ops.add(unary("elu(1.5)", t -> Functional.elu(t, 1.5), x -> awayFrom(x, 0)));
        ops.add(unary("leakyRelu(0.2)", t -> Functional.leakyRelu(t, 0.2), x -> awayFrom(x, 0)));
        ops.add(unary("hardtanh(-0.5, 0.75)", t -> Functional.hardtanh(t, -0.5, 0.75),
                x -> awayFrom(x, -0.5) && awayFrom(x, 0.75)));
        // atan2 jumps where the point crosses the negative x axis (a = 0, b < 0) and has a pole at the origin.
        ops.add(binary("atan2", Tensor::atan2, (a, b) -> minAbs(a.square().add(b.square())) >= SINGULAR_MARGIN
                && (awayFrom(a, 0) || min(b) > 0)));
        ops.add(binary("remainder", Tensor::remainder, (a, b) -> minAbs(b) >= SINGULAR_MARGIN
                && awayFromGrid(a.div(b), 0)));
        // ---- along a dim --------------------------------------------------------------------------------------
        ops.add(alongDim("cumsum", false, (t, d, keep) -> t.cumsum(d), (x, d) -> true));
        ops.add(alongDim("cumprod", false, (t, d, keep) -> t.cumprod(d), (x, d) -> maxAbs(x) <= 2));
        ops.add(alongDim("prod", true, (t, d, keep) -> t.prod(d, keep), (x, d) -> maxAbs(x) <= 2));
        ops.add(alongDim("var", true, (t, d, keep) -> t.var(d, keep), (x, d) -> x.shape().dim(d) >= 2));
        ops.add(alongDim("std", true, (t, d, keep) -> t.std(d, keep),
                (x, d) -> x.shape().dim(d) >= 2 && min(x.var(d, true)) >= SINGULAR_MARGIN));
        ops.add(alongDim("norm", true, (t, d, keep) -> t.norm(2, d, keep),
                (x, d) -> x.shape().dim(d) >= 1 && min(x.norm(2, d, true)) >= SINGULAR_MARGIN));
        ops.add(alongDim("sortDescending", false, (t, d, keep) -> t.sort(d, true).values(),
                (x, d) -> distinctOrTied(x, d)));
        ops.add(alongDim("topkSmallest2", false, (t, d, keep) -> t.topk(Math.min(2, t.size(d)), d, false).values(),
                (x, d) -> distinctOrTied(x, d)));
        ops.add(alongDim("max", true, (t, d, keep) -> t.max(d, keep).values(), (x, d) -> clearExtremum(x, d)));
        ops.add(alongDim("flip", false, (t, d, keep) -> t.flip(d), (x, d) -> true));
        ops.add(alongDim("rollBy2", false, (t, d, keep) -> t.roll(2, d), (x, d) -> true));
        ops.add(alongDim("chunk2Reversed", false, (t, d, keep) -> {
            List<Tensor> pieces = new ArrayList<>(t.chunk(2, d));
            java.util.Collections.reverse(pieces);
            return Tensor.cat(pieces, d);
        }, (x, d) -> x.shape().dim(d) >= 1));
        ops.add(alongDim("unbindThenStackLast", false, (t, d, keep) -> Tensor.stack(t.unbind(d), -1),
                (x, d) -> x.shape().dim(d) >= 1));
        // ---- rearranging --------------------------------------------------------------------------------------
        ops.add(new Op("repeat", (values, g) -> {
            Value x = pick(values, g.a());
            int[] repeats = new int[x.rank() + g.b() % 2];
            for (int i = 0; i < repeats.length; i++) {
                repeats[i] = 1 + Math.floorMod(g.c() >> i, 2);
            }
            return new Step(x + ".repeat(" + join(repeats) + ")", v -> v.get(x.id()).repeat(repeats));
        }));
        ops.add(new Op("pad", (values, g) -> {
            Value x = pick(values, g.a());
            if (x.rank() == 0) {
                return null;
            }
            PadMode mode = PadMode.values()[Math.floorMod(g.p(), PadMode.values().length)];
            int n = x.shape().dim(x.rank() - 1);
            int before = Math.floorMod(g.c(), 3);
            int after = Math.floorMod(g.b(), 3);
            boolean fits = switch (mode) {
                case REFLECT -> before < n && after < n;
                case CIRCULAR -> before <= n && after <= n;
                case REPLICATE -> n > 0;
                case CONSTANT -> true;
            };
            if (!fits) {
                return null;
            }
            int[] pad = {before, after};
            return new Step("pad(" + x + ", [" + join(pad) + "], " + mode + ", 0.5)",
                    v -> Functional.pad(v.get(x.id()), pad, mode, 0.5));
        }));
        ops.add(new Op("tril/triu", (values, g) -> {
            Value x = pick(values, g.a());
            if (x.rank() < 2) {
                return null;
            }
            int diagonal = Math.floorMod(g.c(), 3) - 1;
            boolean lower = g.p() % 2 == 0;
            return new Step(x + (lower ? ".tril(" : ".triu(") + diagonal + ")",
                    v -> lower ? v.get(x.id()).tril(diagonal) : v.get(x.id()).triu(diagonal));
        }));
        ops.add(new Op("maskedFill", (values, g) -> {
            Value x = pick(values, g.a());
            Value m = partner(values, g.b(), s -> broadcasts(s, x.shape()) && Shape.broadcast("maskedFill", s, x.shape())
                    .equals(x.shape()));
            if (!awayFrom(m.ref(), 0)) {
                return null;
            }
            return new Step(x + ".maskedFill(" + m + " > 0, -0.5)", v -> v.get(x.id()).maskedFill(v.get(m.id()).gt(0.0), -0.5));
        }));
        ops.add(new Op("outer", (values, g) -> {
            Value x = pick(values, g.a());
            if (x.rank() != 1) {
                return null;
            }
            Value y = partnerOrNull(values, g.b(), s -> s.rank() == 1);
            Value other = y == null ? x : y;
            // The product of the two lengths: two long vectors would ask for more elements than a tensor
            // can hold (a refusal the builder must not provoke), and any over MAX_NUMEL are dropped anyway.
            if ((long) x.shape().numel() * other.shape().numel() > Program.MAX_NUMEL) {
                return null;
            }
            return new Step(x + ".outer(" + other + ")", v -> v.get(x.id()).outer(v.get(other.id())));
        }));
        ops.add(new Op("einsum transposed product", (values, g) -> {
            Value x = pick(values, g.a());
            if (x.rank() < 2) {
                return null;
            }
            if (productNumel(transposed(x.shape()), x.shape()) > Program.MAX_NUMEL) {
                return null;
            }
            // x^T x over the last two dims, batch dims kept: a contraction and a broadcast batch in one equation.
            return new Step("einsum(\"...ji,...jk->...ik\", " + x + ", " + x + ")",
                    v -> Functional.einsum("...ji,...jk->...ik", v.get(x.id()), v.get(x.id())));
        }));
    }

    // ---- builders ---------------------------------------------------------------------------------------

    private static Op unary(String name, UnaryOperator<Tensor> f, Predicate<Tensor> guard) {
        String call = name.endsWith(")") ? name : name + "()";
        return new Op(name, (values, g) -> {
            Value x = pick(values, g.a());
            if (!guard.test(x.ref())) {
                return null;
            }
            return new Step(x + "." + call, v -> f.apply(v.get(x.id())));
        });
    }

    private static Op binary(String name, BiFunction<Tensor, Tensor, Tensor> f,
                             BiFunction<Tensor, Tensor, Boolean> guard) {
        return new Op(name, (values, g) -> {
            Value x = pick(values, g.a());
            Value y = partner(values, g.b(), s -> broadcasts(s, x.shape()));
            if (!guard.apply(x.ref(), y.ref())) {
                return null;
            }
            return new Step(x + "." + name + "(" + y + ")", v -> f.apply(v.get(x.id()), v.get(y.id())));
        });
    }

    @FunctionalInterface
    private interface AlongDim {
        Tensor apply(Tensor t, int dim, boolean keepDim);
    }

    /** An op along one dim (negative half the time, as users write -1), keepDim from the gene if it has one. */
    private static Op alongDim(String name, boolean hasKeepDim, AlongDim f, BiFunction<Tensor, Integer, Boolean> guard) {
        return new Op(name + "(dim)", (values, g) -> {
            Value x = pick(values, g.a());
            if (x.rank() == 0) {
                return null;
            }
            int d = Math.floorMod(g.p(), x.rank());
            if (!guard.apply(x.ref(), d)) {
                return null;
            }
            int dim = g.c() % 2 == 1 ? d - x.rank() : d;
            boolean keep = g.b() % 2 == 1;
            String args = hasKeepDim ? dim + ", " + keep : String.valueOf(dim);
            return new Step(x + "." + name + "(" + args + ")", v -> f.apply(v.get(x.id()), dim, keep));
        });
    }

    // ---- choosing operands --------------------------------------------------------------------------------

    /** The value a gene number points at, counting back from the latest (0 is the latest). */
    static Value pick(List<Value> values, int gene) {
        return values.get(values.size() - 1 - Math.floorMod(gene, values.size()));
    }

    /** The first value, from where {@code gene} points, whose shape fits; null if none does. */
    private static Value partnerOrNull(List<Value> values, int gene, Predicate<Shape> fits) {
        int n = values.size();
        int start = Math.floorMod(gene, n);
        for (int i = 0; i < n; i++) {
            Value candidate = values.get(n - 1 - (start + i) % n);
            if (fits.test(candidate.shape())) {
                return candidate;
            }
        }
        return null;
    }

    /** As {@link #partnerOrNull}, for a predicate the first operand itself satisfies, so there is always one. */
    private static Value partner(List<Value> values, int gene, Predicate<Shape> fits) {
        Value found = partnerOrNull(values, gene, fits);
        if (found == null) {
            throw new IllegalStateException("no partner: the predicate must hold for the first operand");
        }
        return found;
    }

    static boolean broadcasts(Shape a, Shape b) {
        for (int i = 1; i <= Math.min(a.rank(), b.rank()); i++) {
            int da = a.dim(a.rank() - i);
            int db = b.dim(b.rank() - i);
            if (da != db && da != 1 && db != 1) {
                return false;
            }
        }
        return true;
    }

    /** Whether torch.matmul takes {@code a} and {@code b} (both of rank >= 1). */
    private static boolean multiplies(Shape a, Shape b) {
        if (b.rank() == 0) {
            return false;
        }
        int inner = b.rank() == 1 ? b.dim(0) : b.dim(b.rank() - 2);
        if (a.dim(a.rank() - 1) != inner) {
            return false;
        }
        Shape batchA = Shape.of(Arrays.copyOf(a.toArray(), Math.max(0, a.rank() - 2)));
        Shape batchB = Shape.of(Arrays.copyOf(b.toArray(), Math.max(0, b.rank() - 2)));
        return broadcasts(batchA, batchB);
    }

    /**
     * Elements of {@code a @ b} (shapes that {@link #multiplies}), counted in long, the broadcast batch
     * dims too (rather than through a {@code Shape}, which refuses more elements than a tensor holds):
     * a product of two long vectors' worth of rows and columns can exceed that.
     */
    private static long productNumel(Shape a, Shape b) {
        long rows = a.rank() >= 2 ? a.dim(a.rank() - 2) : 1;
        long columns = b.rank() >= 2 ? b.dim(b.rank() - 1) : 1;
        int batchRank = Math.max(a.rank(), b.rank()) - 2;
        long batch = 1;
        for (int i = 0; i < batchRank; i++) {
            int da = batchDim(a, i, batchRank);
            int db = batchDim(b, i, batchRank);
            batch *= da == 1 ? db : da;
        }
        return batch * rows * columns;
    }

    /** Batch dim {@code i} of {@code batchRank} (aligned from the right) of a matmul operand, 1 where it has none. */
    private static int batchDim(Shape s, int i, int batchRank) {
        int own = s.rank() - 2;
        int k = i - (batchRank - own);
        return own <= 0 || k < 0 ? 1 : s.dim(k);
    }

    /**
     * {@code s} with its last two dims swapped, in one step: setting one dim and then the other passes
     * through a shape with both dims the larger one, which for a [59319, 1] value has more elements
     * than a tensor may.
     */
    private static Shape transposed(Shape s) {
        int r = s.rank();
        int[] dims = s.toArray();
        dims[r - 1] = s.dim(r - 2);
        dims[r - 2] = s.dim(r - 1);
        return Shape.of(dims);
    }

    /** Every dim of {@code s} other than {@code d} is at most that dim of {@code base} (gather's and scatterAdd's rule). */
    private static boolean fitsBesides(Shape s, Shape base, int d) {
        for (int k = 0; k < s.rank(); k++) {
            if (k != d && s.dim(k) > base.dim(k)) {
                return false;
            }
        }
        return true;
    }

    private static int[] sizeOneDims(Shape s) {
        return IntStream.range(0, s.rank()).filter(d -> s.dim(d) == 1).toArray();
    }

    /** {@code count} indices in [0, bound), drawn from {@code seed}. */
    private static long[] indices(long seed, int count, int bound) {
        Generator gen = new Generator(seed);
        long[] out = new long[count];
        for (int i = 0; i < count; i++) {
            out[i] = gen.nextLong(bound);
        }
        return out;
    }

    private static String join(int[] values) {
        String s = Arrays.toString(values);
        return s.substring(1, s.length() - 1);
    }

    // ---- guards -----------------------------------------------------------------------------------------

    private static double fold(Tensor t, double start, DoubleBinaryOperator f, DoubleUnaryOperator map) {
        double acc = start;
        for (double v : t.toDoubleArray()) {
            acc = f.applyAsDouble(acc, map.applyAsDouble(v));
        }
        return acc;
    }

    static double min(Tensor t) {
        return fold(t, Double.POSITIVE_INFINITY, Math::min, v -> v);
    }

    static double max(Tensor t) {
        return fold(t, Double.NEGATIVE_INFINITY, Math::max, v -> v);
    }

    static double minAbs(Tensor t) {
        return fold(t, Double.POSITIVE_INFINITY, Math::min, Math::abs);
    }

    static double maxAbs(Tensor t) {
        return fold(t, 0, Math::max, Math::abs);
    }

    /** Every element at least the margin away from {@code offset + k} for every integer k (the jumps of floor and friends). */
    private static boolean awayFromGrid(Tensor t, double offset) {
        return fold(t, Double.POSITIVE_INFINITY, Math::min, v -> {
            double shifted = v - offset;
            return Math.abs(shifted - Math.rint(shifted));
        }) >= KINK_MARGIN;
    }

    /** Along {@code d}, any two elements are exactly equal (a tie both dtypes keep) or the margin apart, so sort's order is the same in both dtypes. */
    private static boolean distinctOrTied(Tensor x, int d) {
        int n = x.shape().dim(d);
        for (int i = 0; i < n; i++) {
            Tensor gap = x.sub(x.narrow(d, i, 1)).abs();
            if (!exactOrApart(gap)) {
                return false;
            }
        }
        return true;
    }

    private static boolean awayFrom(Tensor t, double point) {
        return fold(t, Double.POSITIVE_INFINITY, Math::min, v -> Math.abs(v - point)) >= KINK_MARGIN;
    }

    /** Every element exactly 0 (an exact tie, the same in both dtypes) or at least the margin away from it. */
    private static boolean exactOrApart(Tensor difference) {
        return fold(difference, Double.POSITIVE_INFINITY, Math::min, v -> v == 0 ? Double.POSITIVE_INFINITY : Math.abs(v))
                >= KINK_MARGIN;
    }

    private static Shape dropDim(Shape s, int d) {
        int[] out = new int[s.rank() - 1];
        for (int i = 0, j = 0; i < s.rank(); i++) {
            if (i != d) {
                out[j++] = s.dim(i);
            }
        }
        return Shape.of(out);
    }

    /**
     * Along {@code d} (of size > 0), every runner-up is either tied exactly with the max or the margin
     * below it.
     */
    private static boolean clearExtremum(Tensor x, int d) {
        if (x.shape().dim(d) == 0) {
            return false;
        }
        Tensor top = x.amax(d, true);
        Tensor attained = x.eq(top);
        Tensor others = Tensor.where(attained, x.fullLike(Double.NEGATIVE_INFINITY), x);
        Tensor gap = top.sub(others.amax(d, true));
        return min(gap) >= KINK_MARGIN;
    }
}
