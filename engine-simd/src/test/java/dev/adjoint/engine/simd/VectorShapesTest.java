package dev.adjoint.engine.simd;

import dev.adjoint.DType;
import dev.adjoint.Functional;
import dev.adjoint.Generator;
import dev.adjoint.Tensor;
import dev.adjoint.TensorFactory;
import jdk.incubator.vector.VectorShape;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The kernels use vectors of one shape, the preferred one, for every lane type: no
 * {@code Float256Vector} beside {@code Float512Vector} on an AVX-512 machine. The Vector API's
 * Java fallback (what runs before C2 has compiled a kernel) passes vectors through the shared
 * methods of their lane type's class ({@code FloatVector.intoArray} and the methods it calls), so a
 * second shape there puts a second receiver class into the type profiles that C2 later compiles
 * every kernel's vector calls from; calls that C2 inlines late (the GEMM micro-kernels' epilogues)
 * were then compiled as virtual calls in some JVMs, each boxing its vector: 0.45-0.9 MB more per MLP
 * step and a step 15% slower (docs/benchmarks.md, allocation).
 *
 * <p>A child JVM runs a program touching every family of kernel (elementwise, the ops FLOAT32
 * computes in double lanes, reductions, matrix products, convolution, pooling, normalisations,
 * attention, dropout, softmax and losses), forward and backward, in FLOAT32 and in FLOAT64, and logs
 * which classes it initialises: a vector class is initialised when its first vector is made. One
 * exception, in FLOAT64 below 512-bit vectors: the JDK indexes a gather of doubles with int vectors of
 * as many lanes, half the preferred width ({@code DoubleVector.fromArray} with an index map), as
 * FLOAT64 max pooling at a stride above 2 and some of the convolutions' transposes do.
 */
class VectorShapesTest {
    private static final Pattern VECTOR_CLASS = Pattern.compile(
            "Initializing 'jdk/incubator/vector/(Byte|Short|Int|Long|Float|Double)(64|128|256|512|Max)Vector");

    @Test
    void kernelsMakeVectorsOfThePreferredShapeOnly() throws IOException, InterruptedException {
        int bits = VectorShape.preferredShape().vectorBitSize();
        String preferred = String.valueOf(bits);
        String gatherIndex = bits < 512 ? "Int" + bits / 2 + "Vector" : null;
        for (DType dtype : new DType[] {DType.FLOAT32, DType.FLOAT64}) {
            String output = ChildJvm.run(Child.class, List.of("-Xlog:class+init=info:stdout"), dtype.name());
            assertTrue(output.contains(Child.DONE), dtype + ": the child did not finish its program:\n" + output);
            Set<String> classes = new TreeSet<>();
            Set<String> others = new TreeSet<>();
            Matcher m = VECTOR_CLASS.matcher(output);
            while (m.find()) {
                String name = m.group(1) + m.group(2) + "Vector";
                classes.add(name);
                if (!m.group(2).equals(preferred) && !(dtype == DType.FLOAT64 && name.equals(gatherIndex))) {
                    others.add(name);
                }
            }
            assertTrue(classes.contains(dtype == DType.FLOAT32 ? "Float" + preferred + "Vector"
                    : "Double" + preferred + "Vector"), dtype + ": no vector classes logged: " + classes);
            assertEquals(Set.of(), others, dtype + ": vector classes of a shape other than the preferred "
                    + preferred + "-bit one were made (all made: " + classes + ")");
        }
    }

    /** The program: one dtype per JVM, sizes past every kernel's vector length and scalar tails. */
    static final class Child {
        static final String DONE = "program done";

        public static void main(String[] args) {
            DType dtype = DType.valueOf(args[0]);
            TensorFactory on = Tensor.on(new SimdBackend());
            Generator g = new Generator(7);
            for (int round = 0; round < 3; round++) {
                // Elementwise, with the ops FLOAT32 runs in double lanes (trigonometric, hyperbolic).
                Tensor x = on.rand(g, dtype, 40, 100).sub(0.5).requiresGrad(true);
                Tensor y = on.rand(g, dtype, 40, 100).add(1.0).requiresGrad(true);
                Tensor e = x.sin().add(x.cos()).add(x.tan()).add(x.asin()).add(x.acos()).add(x.atan())
                        .add(x.sinh()).add(x.cosh()).add(x.tanh()).add(x.asinh()).add(y.acosh()).add(x.atanh())
                        .add(x.exp()).add(y.log()).add(x.log1p()).add(x.erf()).add(x.sigmoid()).add(x.relu())
                        .add(Functional.gelu(x)).add(Functional.gelu(x, "tanh")).add(Functional.silu(x))
                        .add(Functional.softplus(x)).add(Functional.logSigmoid(x)).add(x.mul(y).div(y))
                        .add(x.maximum(y.neg())).add(y.sqrt());
                Tensor reduced = e.sum(0, true).add(e.sum(1, true)).add(e.mean(new int[] {0, 1}, true))
                        .add(e.amax(0, true)).add(e.amin(1, true));
                // Products, normalisations, softmax, dropout and a loss.
                Tensor w = on.randn(g, dtype, 64, 100).requiresGrad(true);
                Tensor b = on.randn(g, dtype, 64).requiresGrad(true);
                Tensor h = Functional.linear(reduced, w, b);
                Tensor gamma = on.ones(dtype, 64).requiresGrad(true);
                Tensor beta = on.zeros(dtype, 64).requiresGrad(true);
                h = Functional.layerNorm(h, new int[] {64}, gamma, beta, 1e-5);
                h = Functional.dropout(h, 0.1, true, g);
                Tensor target = on.randint(0, 64, g, 40);
                Tensor loss = Functional.crossEntropy(h, target).add(Functional.logSoftmax(h, 1).mean())
                        .add(Functional.softmax(h, 0).square().mean());
                // Attention: [2, 4, 33, 16].
                Tensor q = on.randn(g, dtype, 2, 4, 33, 16).requiresGrad(true);
                Tensor k = on.randn(g, dtype, 2, 4, 33, 16).requiresGrad(true);
                Tensor v = on.randn(g, dtype, 2, 4, 33, 16).requiresGrad(true);
                loss = loss.add(Functional.scaledDotProductAttention(q, k, v).square().mean());
                // Convolution, batch norm, max and average pooling: [4, 3, 20, 20].
                Tensor image = on.randn(g, dtype, 4, 3, 20, 20).requiresGrad(true);
                Tensor filters = on.randn(g, dtype, 8, 3, 3, 3).requiresGrad(true);
                Tensor c = Functional.conv2d(image, filters, null, 1, 1);
                c = Functional.batchNorm(c, null, null, on.ones(dtype, 8).requiresGrad(true),
                        on.zeros(dtype, 8).requiresGrad(true), true, 0.1, 1e-5).relu();
                Tensor pooled = Functional.maxPool2d(c, 2).add(Functional.avgPool2d(c, 2));
                Tensor strided = Functional.maxPool2d(c, new int[] {3, 3}, new int[] {1, 1}, new int[] {1, 1});
                loss = loss.add(pooled.square().mean()).add(strided.mean());
                loss.backward();
                loss.item();
            }
            System.out.println(DONE);
        }
    }
}
