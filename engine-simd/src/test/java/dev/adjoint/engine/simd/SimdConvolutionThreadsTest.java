package dev.adjoint.engine.simd;

import dev.adjoint.DType;
import dev.adjoint.Functional;
import dev.adjoint.Generator;
import dev.adjoint.Tensor;
import dev.adjoint.TensorFactory;
import dev.adjoint.autograd.Autograd;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A convolution and its three gradients have the same bits on one, two and three threads, through
 * every simd path: each output element and each weight-gradient sum is computed by one work item in
 * a fixed order, whatever the thread count. The count is read once per JVM
 * ({@code adjoint.simd.threads}), so each runs in a child JVM of its own; the shapes are large
 * enough that every path splits its work. Each count runs with Winograd convolution on (the 3 x 3
 * stride-1 cases of many channels take it) and off (they take the implicit kernels), as
 * {@code adjoint.simd.winograd} too is read once per JVM.
 */
class SimdConvolutionThreadsTest {
    /** name, input shape, weight shape, stride, padding, groups: one per simd convolution path. */
    private static final Object[][] CASES = {
            // Implicit GEMM (stride 1, a sample's padded images fit half of L2), batch above and below the threads.
            {"implicit", new int[] {6, 32, 14, 14}, new int[] {64, 32, 3, 3}, 1, 1, 1},
            {"implicit, batch 1", new int[] {1, 32, 14, 14}, new int[] {64, 32, 3, 3}, 1, 1, 1},
            // Two samples per register block, a lone last sample: FLOAT32's forward and input gradient
            // (32 channels), FLOAT64's forward (16 channels).
            {"implicit sample pairs, odd batch", new int[] {5, 32, 14, 14}, new int[] {32, 32, 3, 3}, 1, 1, 1},
            {"implicit sample pairs, FLOAT64", new int[] {3, 64, 10, 10}, new int[] {16, 64, 3, 3}, 1, 1, 1},
            // The implicit weight gradient's rows of taps cut per thread, with output channels past its
            // last whole register block, in groups.
            {"implicit weight gradient, groups", new int[] {4, 16, 12, 12}, new int[] {160, 8, 3, 3}, 1, 1, 2},
            // Strided windows on the implicit kernels' phase images: 3 x 3 stride 2 and 1 x 1 stride 2.
            {"implicit, stride 2", new int[] {6, 32, 15, 16}, new int[] {64, 32, 3, 3}, 2, 1, 1},
            {"implicit, 1 x 1 stride 2", new int[] {5, 24, 16, 13}, new int[] {80, 24, 1, 1}, 2, 0, 1},
            // Winograd (with it on): blocks of tiles that end inside samples and tile rows, padding 0 and 2.
            {"winograd, odd sizes", new int[] {5, 33, 15, 9}, new int[] {70, 33, 3, 3}, 1, 0, 1},
            {"winograd, padding 2", new int[] {3, 24, 9, 10}, new int[] {40, 24, 3, 3}, 1, 2, 1},
            // The Winograd weight gradient (whole register blocks of output channels): five samples in
            // four chunks, odd sizes.
            {"winograd weight gradient", new int[] {5, 40, 13, 11}, new int[] {64, 40, 3, 3}, 1, 1, 1},
            // Its narrow register blocks: alone (32 output channels), after whole blocks (96), and
            // padded (27 output channels).
            {"winograd weight gradient, narrow", new int[] {5, 32, 15, 13}, new int[] {32, 32, 3, 3}, 1, 1, 1},
            {"winograd weight gradient, wide and narrow", new int[] {3, 24, 12, 11}, new int[] {96, 24, 3, 3}, 1,
                    1, 1},
            {"winograd weight gradient, padded", new int[] {5, 25, 11, 9}, new int[] {27, 25, 3, 3}, 1, 0, 1},
            // Its sums larger than half of L2: the weights cut into parts of channels, the last part of
            // output channels narrow in the second case.
            {"winograd weight gradient, parts", new int[] {3, 300, 9, 10}, new int[] {64, 300, 3, 3}, 1, 1, 1},
            {"winograd weight gradient, narrow parts", new int[] {3, 300, 9, 10}, new int[] {96, 300, 3, 3}, 1, 1,
                    1},
            // Flat direct kernels (depthwise, stride 1, "same").
            {"flat depthwise", new int[] {4, 64, 28, 28}, new int[] {64, 1, 3, 3}, 1, 1, 64},
            // Direct kernels strided along the width (phased rows).
            {"strided depthwise", new int[] {4, 32, 28, 28}, new int[] {32, 1, 3, 3}, 2, 1, 32},
            // Banded GEMM (stride 2), and several samples per product for the weight gradient.
            {"banded", new int[] {4, 8, 48, 48}, new int[] {32, 8, 5, 5}, 2, 2, 1},
            // Batches of one and two: fewer samples than some of the thread counts.
            {"banded, batch 1", new int[] {1, 8, 48, 48}, new int[] {32, 8, 5, 5}, 2, 2, 1},
            {"banded, batch 2", new int[] {2, 8, 48, 48}, new int[] {32, 8, 5, 5}, 2, 2, 1},
    };

    @Test
    void sameBitsOnOneTwoAndThreeThreads() throws IOException, InterruptedException {
        for (boolean winograd : new boolean[] {true, false}) {
            String one = child(1, winograd);
            for (int threads : new int[] {2, 3}) {
                assertEquals(one, child(threads, winograd), "convolution results on 1 and on " + threads
                        + " threads, Winograd " + winograd);
            }
            assertEquals(CASES.length * 2 * 4, one.lines().count(), one);
        }
    }

    /** The child's lines: one bit hash per case, dtype and tensor (output, input, weight and bias gradients). */
    private static String child(int threads, boolean winograd) throws IOException, InterruptedException {
        String output = ChildJvm.run(Child.class,
                List.of("-D" + MatmulThreads.PROPERTY + "=" + threads, "-Dadjoint.simd.winograd=" + winograd));
        return output.lines().filter(l -> l.startsWith("conv ")).reduce("", (a, l) -> a + l + "\n");
    }

    /** Run by {@link #sameBitsOnOneTwoAndThreeThreads} with the thread count as a system property. */
    static final class Child {
        public static void main(String[] args) {
            TensorFactory f = Tensor.on(new SimdBackend());
            for (DType dtype : new DType[] {DType.FLOAT32, DType.FLOAT64}) {
                for (Object[] c : CASES) {
                    int[] stride = {(int) c[3], (int) c[3]};
                    int[] padding = {(int) c[4], (int) c[4]};
                    int groups = (int) c[5];
                    Tensor x = f.randn(new Generator(1), dtype, (int[]) c[1]).requiresGrad(true);
                    Tensor w = f.randn(new Generator(2), dtype, (int[]) c[2]).requiresGrad(true);
                    Tensor b = f.randn(new Generator(3), dtype, ((int[]) c[2])[0]).requiresGrad(true);
                    Tensor y = Functional.conv2d(x, w, b, stride, padding, new int[] {1, 1}, groups);
                    Tensor g = f.randn(new Generator(4), dtype, y.shape().toArray());
                    List<Tensor> grads = Autograd.grad(List.of(y), List.of(x, w, b), List.of(g), false, false,
                            false);
                    String[] names = {"output", "input grad", "weight grad", "bias grad"};
                    Tensor[] results = {y, grads.get(0), grads.get(1), grads.get(2)};
                    for (int i = 0; i < results.length; i++) {
                        System.out.println("conv " + c[0] + " " + dtype + " " + names[i] + " " + bits(results[i]));
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
