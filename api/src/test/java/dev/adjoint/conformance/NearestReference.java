package dev.adjoint.conformance;

import com.fasterxml.jackson.databind.JsonNode;
import dev.adjoint.DType;
import dev.adjoint.Functional;
import dev.adjoint.InterpolationMode;
import dev.adjoint.Tensor;
import dev.adjoint.TensorFactory;
import dev.adjoint.spi.Backend;
import org.junit.jupiter.api.DynamicNode;
import org.opentest4j.AssertionFailedError;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.DynamicContainer.dynamicContainer;
import static org.junit.jupiter.api.DynamicTest.dynamicTest;

/**
 * The input elements nearest and nearest-exact interpolation read, against PyTorch 1.13's CPU forward
 * ({@code pytorch-nearest.json}, written by tools/pytorch-reference/generate_nearest.py): every input size
 * 1..20 resized by scale factors and to sizes, in 1-D and in 2-D with one channel and with three (PyTorch
 * uses a different kernel for each), in both dtypes; and whole 2-D and 3-D inputs resized along every
 * dimension, with their input gradients. The input is an arange, so each output value is the flat index
 * of the element it read and the comparison is exact.
 */
final class NearestReference {
    private static final String RESOURCE = "/dev/adjoint/conformance/pytorch-nearest.json";

    private NearestReference() {
    }

    static Stream<DynamicNode> tests(Backend backend) {
        JsonNode root = ReferenceFiles.load(RESOURCE, "generate_nearest.py");
        List<DynamicNode> sweeps = new ArrayList<>();
        for (JsonNode sweep : root.get("sweeps")) {
            String name = sweep.get("mode").asText() + ", " + sweep.get("spatial").asInt() + "-D, "
                    + sweep.get("channels").asInt() + " channel(s), " + sweep.get("dtype").asText();
            sweeps.add(dynamicTest(name, () -> checkSweep(sweep, Tensor.on(backend), name)));
        }
        List<DynamicNode> shapes = new ArrayList<>();
        for (JsonNode c : root.get("shapes")) {
            String name = c.get("mode").asText() + " " + c.get("dtype").asText() + " " + c.get("shape")
                    + (c.get("scale").isNull() ? " to size " + c.get("size") : " by " + c.get("scale"));
            shapes.add(dynamicTest(name, () -> checkShape(c, Tensor.on(backend), name)));
        }
        return Stream.of(dynamicContainer("along one dimension", sweeps), dynamicContainer("whole inputs", shapes));
    }

    /** Each case {@code [in, scale or null, size or null, sources]} resizes the last dimension only. */
    private static void checkSweep(JsonNode sweep, TensorFactory f, String name) {
        InterpolationMode mode = InterpolationMode.valueOf(sweep.get("mode").asText());
        DType dtype = DType.valueOf(sweep.get("dtype").asText());
        int spatial = sweep.get("spatial").asInt();
        int channels = sweep.get("channels").asInt();
        for (JsonNode c : sweep.get("cases")) {
            int in = c.get(0).asInt();
            long[] sources = longs(c.get(3));
            int out = sources.length;
            int[] shape = new int[spatial + 2];
            Arrays.fill(shape, 1);
            shape[1] = channels;
            shape[spatial + 1] = in;
            Tensor x = f.arange(0, channels * in, 1, dtype).reshape(shape);
            Tensor y;
            String call;
            if (c.get(1).isNull()) {
                int[] size = new int[spatial];
                Arrays.fill(size, 1);
                size[spatial - 1] = c.get(2).asInt();
                y = Functional.interpolate(x, size, mode);
                call = "size " + Arrays.toString(size);
            } else {
                double[] scale = new double[spatial];
                Arrays.fill(scale, 1.0);
                scale[spatial - 1] = c.get(1).asDouble();
                y = Functional.interpolate(x, scale, mode);
                call = "scale factor " + Arrays.toString(scale);
            }
            long[] expected = new long[channels * out];
            for (int ch = 0; ch < channels; ch++) {
                for (int i = 0; i < out; i++) {
                    expected[ch * out + i] = ch * in + sources[i];
                }
            }
            long[] got = y.toLongArray();
            if (!Arrays.equals(expected, got)) {
                throw new AssertionFailedError(name + ": input size " + in + ", " + call + ": PyTorch reads "
                        + Arrays.toString(sources) + " (per channel, flat " + Arrays.toString(expected) + "), got flat "
                        + Arrays.toString(got));
            }
        }
    }

    /**
     * A whole input resized along every spatial dimension: the output is the input gathered by the
     * per-dimension sources, and its gradient for the output gradient 1, 2, 3, ... adds each weight onto
     * the element read -- PyTorch's gradient, where that is the gradient of its forward.
     */
    private static void checkShape(JsonNode c, TensorFactory f, String name) {
        InterpolationMode mode = InterpolationMode.valueOf(c.get("mode").asText());
        DType dtype = DType.valueOf(c.get("dtype").asText());
        int[] shape = ints(c.get("shape"));
        int spatial = shape.length - 2;
        long[][] sources = new long[spatial][];
        int[] outShape = shape.clone();
        for (int d = 0; d < spatial; d++) {
            sources[d] = longs(c.get("index").get(d));
            outShape[d + 2] = sources[d].length;
        }
        int numel = Arrays.stream(shape).reduce(1, (a, b) -> a * b);
        int outNumel = Arrays.stream(outShape).reduce(1, (a, b) -> a * b);
        Tensor x = f.arange(0, numel, 1, dtype).reshape(shape).requiresGrad(true);
        Tensor y = c.get("scale").isNull() ? Functional.interpolate(x, ints(c.get("size")), mode)
                : Functional.interpolate(x, doubles(c.get("scale")), mode);
        assertArrayEquals(outShape, y.shape().toArray(), name + ": output shape");

        long[] expected = new long[outNumel];
        double[] gradOfForward = new double[numel];
        int[] at = new int[shape.length];
        for (int o = 0; o < outNumel; o++) {
            int rest = o;
            for (int d = shape.length - 1; d >= 0; d--) {
                at[d] = rest % outShape[d];
                rest /= outShape[d];
            }
            long source = 0;
            for (int d = 0; d < shape.length; d++) {
                long along = d < 2 ? at[d] : sources[d - 2][at[d]];
                source = source * shape[d] + along;
            }
            expected[o] = source;
            gradOfForward[(int) source] += o + 1;
        }
        assertArrayEquals(expected, y.toLongArray(), name + ": flat index of the element each output reads");

        y.backward(f.arange(1, outNumel + 1, 1, dtype).reshape(outShape));
        double[] grad = x.grad().toDoubleArray();
        assertArrayEquals(gradOfForward, grad, name + ": gradient of the forward");
        if (!c.get("grad").isNull()) {
            assertArrayEquals(doubles(c.get("grad")), grad, name + ": PyTorch's gradient");
        }
    }

    private static long[] longs(JsonNode array) {
        long[] out = new long[array.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = array.get(i).asLong();
        }
        return out;
    }

    private static int[] ints(JsonNode array) {
        int[] out = new int[array.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = array.get(i).asInt();
        }
        return out;
    }

    private static double[] doubles(JsonNode array) {
        double[] out = new double[array.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = array.get(i).asDouble();
        }
        return out;
    }
}
