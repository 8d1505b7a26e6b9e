package dev.adjoint.engine.simd;

import dev.adjoint.DType;
import dev.adjoint.Functional;
import dev.adjoint.Generator;
import dev.adjoint.Tensor;
import dev.adjoint.TensorFactory;
import dev.adjoint.autograd.Autograd;
import dev.adjoint.spi.FusedKernels;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The fused attention kernel ({@link FloatAttention}, {@link DoubleAttention}) against the composite
 * formula {@code softmax(scale q k^T + mask) v} and its autograd gradients, on the shapes the catalogue's
 * small samples do not reach: matrices larger than a GEMM block, the permuted slices of a fused qkv
 * projection (strided, no copy), masks of every form, dropout; and the same bits on one, two and three
 * threads.
 */
class SimdAttentionTest {
    private static final TensorFactory F = Tensor.on(new SimdBackend());

    /** q, k, v {@code [batch, heads, tokens, headDim]}: permuted views of one {@code [batch, tokens, 3, heads, headDim]}. */
    private static Tensor[] qkv(DType dtype, int batch, int heads, int tokens, int headDim, long seed) {
        Tensor packed = F.randn(new Generator(seed), dtype, batch, tokens, 3, heads, headDim);
        Tensor[] out = new Tensor[3];
        for (int i = 0; i < 3; i++) {
            out[i] = packed.narrow(2, i, 1).squeeze(2).permute(0, 2, 1, 3).detach().requiresGrad(true);
        }
        return out;
    }

    private static Tensor composite(Tensor q, Tensor k, Tensor v, Tensor additiveMask, double scale) {
        return composite(q, k, v, additiveMask, scale, null);
    }

    /** With the weights multiplied by {@code dropout}'s multipliers when not null. */
    private static Tensor composite(Tensor q, Tensor k, Tensor v, Tensor additiveMask, double scale, Tensor dropout) {
        Tensor scores = q.matmul(k.transpose(-1, -2)).mul(scale);
        if (additiveMask != null) {
            scores = scores.add(additiveMask);
        }
        Tensor weights = scores.softmax(-1);
        return (dropout == null ? weights : weights.mul(dropout)).matmul(v);
    }

    /** nn.Dropout's multipliers for weights of {@code shape} from a generator of {@code seed}. */
    private static Tensor dropoutMultipliers(long seed, DType dtype, double p, int... shape) {
        return F.rand(new Generator(seed), dtype, shape).ge(p).toType(dtype).mul(1 / (1 - p));
    }

    @Test
    void fusedEqualsTheCompositeFormulaWithItsGradients() {
        assertTrue(FusedKernels.offered(F.backend(), FusedKernels.Kernel.ATTENTION, DType.FLOAT32) != null);
        for (DType dtype : new DType[] {DType.FLOAT32, DType.FLOAT64}) {
            double tol = dtype == DType.FLOAT32 ? 2e-5 : 1e-12;
            Tensor[] t = qkv(dtype, 2, 3, 70, 24, 1);
            Tensor q = t[0];
            Tensor k = t[1];
            Tensor v = t[2];
            Tensor floatMask = F.randn(new Generator(5), dtype, 70, 70);
            Tensor boolMask = F.rand(new Generator(6), dtype, 3, 1, 70).gt(0.3);
            Tensor causal = F.ones(dtype, 70, 70).tril().logicalNot();
            Tensor causalAdditive = Tensor.where(causal, F.scalar(Double.NEGATIVE_INFINITY, dtype), F.scalar(0, dtype));
            Tensor boolAdditive = Tensor.where(boolMask, F.scalar(0, dtype), F.scalar(Double.NEGATIVE_INFINITY, dtype));
            double scale = 1 / Math.sqrt(24);
            check("no mask " + dtype, Functional.scaledDotProductAttention(q, k, v), composite(q, k, v, null, scale), t,
                    tol);
            check("float mask " + dtype, Functional.scaledDotProductAttention(q, k, v, floatMask),
                    composite(q, k, v, floatMask, scale), t, tol);
            check("bool mask " + dtype, Functional.scaledDotProductAttention(q, k, v, boolMask),
                    composite(q, k, v, boolAdditive, scale), t, tol);
            check("causal " + dtype, Functional.scaledDotProductAttention(q, k, v, null, true),
                    composite(q, k, v, causalAdditive, scale), t, tol);
            check("scale 0.3 " + dtype, Functional.scaledDotProductAttention(q, k, v, null, false, 0.3),
                    composite(q, k, v, null, 0.3), t, tol);
            // L != S, Ev != E, the key and value broadcast over the heads.
            Tensor q2 = F.randn(new Generator(7), dtype, 2, 3, 40, 24).requiresGrad(true);
            Tensor k2 = F.randn(new Generator(8), dtype, 2, 1, 90, 24).requiresGrad(true);
            Tensor v2 = F.randn(new Generator(9), dtype, 90, 10).requiresGrad(true);
            check("broadcast, L != S, Ev != E " + dtype, Functional.scaledDotProductAttention(q2, k2, v2),
                    composite(q2, k2, v2, null, scale), new Tensor[] {q2, k2, v2}, tol);
            // Dropout: the mask of the composite's weights' shape, which leaves out the value's batch dims
            // and takes in the mask's; with and without causal and masks.
            check("dropout, causal " + dtype, Functional.scaledDotProductAttention(q, k, v, null, true, Double.NaN,
                    0.2, new Generator(12)), composite(q, k, v, causalAdditive, scale,
                    dropoutMultipliers(12, dtype, 0.2, 2, 3, 70, 70)), t, tol);
            check("dropout, float mask " + dtype, Functional.scaledDotProductAttention(q, k, v, floatMask, 0.5,
                    new Generator(13)), composite(q, k, v, floatMask, scale,
                    dropoutMultipliers(13, dtype, 0.5, 2, 3, 70, 70)), t, tol);
            Tensor q3 = F.randn(new Generator(14), dtype, 3, 40, 24).requiresGrad(true);
            Tensor k3 = F.randn(new Generator(15), dtype, 3, 90, 24).requiresGrad(true);
            Tensor v3 = F.randn(new Generator(16), dtype, 2, 1, 90, 10).requiresGrad(true);
            check("dropout, the value broadcast " + dtype, Functional.scaledDotProductAttention(q3, k3, v3, null,
                    0.3, new Generator(17)), composite(q3, k3, v3, null, scale,
                    dropoutMultipliers(17, dtype, 0.3, 3, 40, 90)), new Tensor[] {q3, k3, v3}, tol);
            Tensor wide = F.randn(new Generator(18), dtype, 2, 1, 1, 90);
            check("dropout, the mask broadcast " + dtype, Functional.scaledDotProductAttention(q3, k3, v3, wide,
                    0.3, new Generator(19)), composite(q3, k3, v3, wide, scale,
                    dropoutMultipliers(19, dtype, 0.3, 2, 3, 40, 90)), new Tensor[] {q3, k3, v3}, tol);
        }
    }

    private static void check(String what, Tensor fused, Tensor composite, Tensor[] inputs, double tol) {
        assertClose(what + ": output", composite, fused, tol);
        Tensor g = F.randn(new Generator(11), fused.dtype(), fused.shape().toArray());
        List<Tensor> fusedGrads = Autograd.grad(List.of(fused), List.of(inputs), List.of(g), false, false, false);
        List<Tensor> compositeGrads = Autograd.grad(List.of(composite), List.of(inputs), List.of(g), false, false,
                false);
        String[] names = {"dq", "dk", "dv"};
        for (int i = 0; i < inputs.length; i++) {
            assertClose(what + ": " + names[i], compositeGrads.get(i), fusedGrads.get(i), tol);
        }
    }

    private static void assertClose(String what, Tensor expected, Tensor actual, double tol) {
        assertEquals(expected.shape(), actual.shape(), what);
        double[] e = expected.toDoubleArray();
        double[] a = actual.toDoubleArray();
        for (int i = 0; i < e.length; i++) {
            assertTrue(Math.abs(e[i] - a[i]) <= tol * (1 + Math.abs(e[i])),
                    what + " at " + i + ": expected " + e[i] + ", got " + a[i]);
        }
    }

    /**
     * Causal attention, by its flag and by an explicit mask of -inf above the diagonal (as a language
     * model passes it, plus finite values), against the composite with that mask built out, at lengths
     * that are not multiples of the kernel's blocks of rows ({@link FloatAttention#BLOCK}), with and
     * without dropout: forward and every gradient.
     */
    @Test
    void causalEqualsTheCompositeWithTheMaskBuiltOutAtEveryLength() {
        for (DType dtype : new DType[] {DType.FLOAT32, DType.FLOAT64}) {
            double tol = dtype == DType.FLOAT32 ? 2e-5 : 1e-12;
            double scale = 1 / Math.sqrt(16);
            for (int n : new int[] {1, 7, 63, 65, 128, 129}) {
                Tensor[] t = qkv(dtype, 1, 2, n, 16, n);
                Tensor causal = causalAdditive(dtype, n, n);
                Tensor extra = causal.add(F.randn(new Generator(n + 1), dtype, n, n));
                for (double p : new double[] {0.0, 0.2}) {
                    String what = dtype + " L=" + n + " dropout " + p;
                    Tensor drop = p == 0 ? null : dropoutMultipliers(n + 2, dtype, p, 1, 2, n, n);
                    check("causal, " + what, Functional.scaledDotProductAttention(t[0], t[1], t[2], null, true,
                            Double.NaN, p, new Generator(n + 2)), composite(t[0], t[1], t[2], causal, scale, drop), t,
                            tol);
                    check("explicit causal mask, " + what, Functional.scaledDotProductAttention(t[0], t[1], t[2], extra,
                            false, Double.NaN, p, new Generator(n + 2)),
                            composite(t[0], t[1], t[2], extra, scale, drop), t, tol);
                }
            }
        }
    }

    /** -inf where key j is hidden from query i (j > i), else 0: {@code [l, s]}. */
    private static Tensor causalAdditive(DType dtype, int l, int s) {
        Tensor hidden = F.ones(dtype, l, s).tril().logicalNot();
        return Tensor.where(hidden, F.scalar(Double.NEGATIVE_INFINITY, dtype), F.scalar(0, dtype));
    }

    /**
     * The kernels themselves with the causal flag and a mask operand at once (the api passes one or the
     * other) and dropout, L != S, S over a pass of the GEMM (300 keys): the weights they save are
     * exactly 0 where a key is hidden, and the output and gradients are the composite's with both masks
     * added; keys that no query sees (the mask's last columns, as a padding mask) get gradients of exactly 0.
     */
    @Test
    void kernelsCombineCausalWithAMaskAndDropout() {
        SimdFusedKernels kernels = new SimdFusedKernels();
        for (DType dtype : new DType[] {DType.FLOAT32, DType.FLOAT64}) {
            double tol = dtype == DType.FLOAT32 ? 5e-5 : 1e-12;
            for (int[] ls : new int[][] {{129, 129}, {70, 300}, {300, 65}}) {
                int l = ls[0];
                int s = ls[1];
                int padded = s / 5;
                String what = dtype + " L=" + l + " S=" + s;
                Tensor q = F.randn(new Generator(l), dtype, 2, l, 16).requiresGrad(true);
                Tensor k = F.randn(new Generator(s), dtype, 2, s, 16).requiresGrad(true);
                Tensor v = F.randn(new Generator(l + s), dtype, 2, s, 12).requiresGrad(true);
                double[] m = F.randn(new Generator(3), dtype, l, s).toDoubleArray();
                for (int i = 0; i < l; i++) {
                    for (int j = s - padded; j < s; j++) {
                        m[i * s + j] = Double.NEGATIVE_INFINITY;
                    }
                }
                Tensor mask = F.fromArray(m, dtype, l, s);
                Tensor drop = dropoutMultipliers(4, dtype, 0.25, 2, l, s);
                double scale = 0.3;

                Tensor out = F.zeros(dtype, 2, l, 12);
                Tensor probs = F.zeros(dtype, 2, l, s);
                Tensor maskView = mask.expand(2, l, s);
                kernels.attention(q.storage(), q.layout(), k.storage(), k.layout(), v.storage(), v.layout(),
                        maskView.storage(), maskView.layout(), true, scale, drop.storage(), drop.layout(), out.storage(),
                        probs.storage());
                Tensor both = mask.add(causalAdditive(dtype, l, s));
                Tensor reference = composite(q, k, v, both, scale, drop);
                assertClose(what + ": output", reference, out, tol);
                double[] p = probs.toDoubleArray();
                double[] hidden = both.expand(2, l, s).toDoubleArray();
                for (int i = 0; i < p.length; i++) {
                    if (hidden[i] == Double.NEGATIVE_INFINITY) {
                        assertEquals(0.0, p[i], 0.0, what + ": weight " + i + " of a hidden key");
                    }
                }

                Tensor g = F.randn(new Generator(5), dtype, 2, l, 12);
                Tensor gq = F.zeros(dtype, 2, l, 16);
                Tensor gk = F.zeros(dtype, 2, s, 16);
                Tensor gv = F.zeros(dtype, 2, s, 12);
                kernels.attentionBackward(g.storage(), g.layout(), q.storage(), q.layout(), k.storage(), k.layout(),
                        v.storage(), v.layout(), drop.storage(), drop.layout(), probs.storage(), scale, gq.storage(),
                        gk.storage(), gv.storage());
                List<Tensor> expected = Autograd.grad(List.of(reference), List.of(q, k, v), List.of(g), false, false,
                        false);
                Tensor[] actual = {gq, gk, gv};
                String[] names = {"dq", "dk", "dv"};
                for (int i = 0; i < 3; i++) {
                    assertClose(what + ": " + names[i], expected.get(i), actual[i], tol);
                }
                for (Tensor grad : new Tensor[] {gk, gv}) {
                    double[] x = grad.narrow(1, s - padded, padded).toDoubleArray();
                    for (int i = 0; i < x.length; i++) {
                        assertEquals(0.0, x[i], 0.0, what + ": gradient of a key no query sees, element " + i);
                    }
                }
            }
        }
    }

    /**
     * The terms the blocked products leave out are zeros, and the products over the rest
     * ({@link FloatAttention#passStart}, {@link FloatAttention#passEnd}) have the bits of the product
     * over all k, where k takes one pass of the GEMM or several ({@link FloatGemm#KC}).
     */
    @Test
    void productsOverTheNonzeroTermsHaveTheBitsOfTheWholeProducts() {
        java.util.Random random = new java.util.Random(1);
        int m = 13;
        int n = 35;
        for (int k : new int[] {100, FloatGemm.KC, FloatGemm.KC + 1, 300, 2 * FloatGemm.KC, 600, 769, 1100}) {
            for (int trial = 0; trial < 20; trial++) {
                int from = random.nextInt(k);
                int to = from + 1 + random.nextInt(k - from);
                float[] a = new float[m * k];
                float[] b = new float[k * n];
                for (int i = 0; i < m; i++) {
                    for (int j = from; j < to; j++) {
                        a[i * k + j] = (float) random.nextGaussian();
                    }
                }
                for (int i = 0; i < b.length; i++) {
                    b[i] = (float) random.nextGaussian();
                }
                float[] whole = new float[m * n];
                FloatGemm.multiply(a, at(0), k, 1, b, at(0), n, 1, whole, at(0), n, m, n, k, 0, 1, 1);
                int end = FloatAttention.passEnd(to, k);
                int start = FloatAttention.passStart(from, end, k);
                assertTrue(start <= from && end >= to, "terms [" + start + ", " + end + ") hold [" + from + ", " + to + ")");
                float[] part = new float[m * n];
                FloatGemm.multiply(a, at(start), k, 1, b, at(start * n), n, 1, part, at(0), n, m, n, end - start, 0, 1,
                        1);
                for (int i = 0; i < whole.length; i++) {
                    assertEquals(whole[i], part[i], 0.0, "k " + k + ", terms [" + from + ", " + to + ") as ["
                            + start + ", " + end + "), element " + i);
                }
            }
        }
    }

    private static dev.adjoint.spi.Layout at(int offset) {
        return new dev.adjoint.spi.Layout(dev.adjoint.Shape.of(), new int[0], offset);
    }

    @Test
    void aQueryWithEveryKeyMaskedGetsNaNAsTheCompositeSoftmax() {
        for (DType dtype : new DType[] {DType.FLOAT32, DType.FLOAT64}) {
            Tensor q = F.randn(new Generator(1), dtype, 2, 4, 8);
            Tensor k = F.randn(new Generator(2), dtype, 2, 6, 8);
            Tensor v = F.randn(new Generator(3), dtype, 2, 6, 8);
            boolean[] keep = new boolean[4 * 6];
            for (int i = 0; i < keep.length; i++) {
                keep[i] = i / 6 != 2 && i % 3 != 1; // row 2 all false
            }
            double[] out = Functional.scaledDotProductAttention(q, k, v, F.fromArray(keep, 4, 6)).toDoubleArray();
            for (int i = 0; i < out.length; i++) {
                int row = i / 8 % 4;
                assertEquals(row == 2, Double.isNaN(out[i]), dtype + " element " + i + " of query row " + row);
            }
        }
    }

    @Test
    void sameBitsOnOneTwoAndThreeThreads() throws IOException, InterruptedException {
        String one = child(1);
        assertEquals(2 * 2 * 4, one.lines().count(), one);
        for (int threads : new int[] {2, 3}) {
            assertEquals(one, child(threads), "attention results on 1 and on " + threads + " threads");
        }
    }

    private static String child(int threads) throws IOException, InterruptedException {
        String output = ChildJvm.run(Child.class, List.of("-D" + MatmulThreads.PROPERTY + "=" + threads));
        return output.lines().filter(l -> l.startsWith("attention ")).reduce("", (a, l) -> a + l + "\n");
    }

    /** Run by {@link #sameBitsOnOneTwoAndThreeThreads} with the thread count as a system property. */
    static final class Child {
        public static void main(String[] args) {
            for (DType dtype : new DType[] {DType.FLOAT32, DType.FLOAT64}) {
                // 8 x 4 matrices of 128 x 128 scores: enough work to be split over the threads.
                Tensor[] t = qkv(dtype, 8, 4, 128, 64, 3);
                for (double p : new double[] {0.0, 0.1}) {
                    Tensor y = Functional.scaledDotProductAttention(t[0], t[1], t[2], null, true, Double.NaN, p,
                            new Generator(5));
                    Tensor g = F.randn(new Generator(4), dtype, y.shape().toArray());
                    List<Tensor> results = new ArrayList<>(List.of(y));
                    results.addAll(Autograd.grad(List.of(y), List.of(t), List.of(g), false, false, false));
                    String[] names = {"output", "dq", "dk", "dv"};
                    for (int i = 0; i < results.size(); i++) {
                        System.out.println("attention " + dtype + " dropout " + p + " " + names[i] + " "
                                + bits(results.get(i)));
                    }
                }
            }
        }

        private static String bits(Tensor t) {
            long hash = 1;
            for (double v : t.toDoubleArray()) {
                hash = 31 * hash + Double.doubleToRawLongBits(v);
            }
            return Long.toHexString(hash);
        }
    }
}
