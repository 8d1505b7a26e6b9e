package dev.adjoint.ops;

import dev.adjoint.Shape;
import dev.adjoint.Tensor;
import dev.adjoint.TensorShapeException;
import dev.adjoint.autograd.Graph;
import dev.adjoint.spi.Layout;

import static dev.adjoint.ops.ElementwiseOps.of;

/**
 * torch.nn.functional.linear as one primitive: {@code input @ weight^T + bias} is one kernel call
 * ({@link dev.adjoint.spi.Backend#linear}, whose GEMM may add the bias as it writes the output) and
 * one node, whose VJP gives the weight's gradient dense in the weight's own layout and the bias's
 * as one column sum, instead of a matmul node, a transpose node and a broadcast add whose gradient
 * is reduced back to the bias's shape.
 */
public final class LinearOps {
    private LinearOps() {
    }

    /**
     * {@code input} {@code [..., in]}, {@code weight} {@code [out, in]}, {@code bias} {@code [out]} or
     * {@code null}; the result is {@code [..., out]} ({@code [out]} for a 1-D input). Leading dims
     * fold into the rows of one matrix product.
     */
    public static Tensor linear(Tensor input, Tensor weight, Tensor bias) {
        check(input, weight, bias);
        int in = weight.size(1);
        int out = weight.size(0);
        int[] outDims = input.shape().toArray();
        outDims[outDims.length - 1] = out;
        Shape outShape = Shape.of(outDims);
        Tensor y = forward(input, weight, bias, outShape);
        Tensor[] inputs = bias == null ? of(input, weight) : of(input, weight, bias);
        return Graph.record("LinearBackward", y, inputs, of(input, weight), (g, c) -> {
            Tensor[] grads = new Tensor[inputs.length];
            Tensor x = c.saved(0);
            Tensor w = c.saved(1);
            // g [..., out] viewed as rows [N, out] (x likewise [N, in]): every leading dim is a row of one product.
            Tensor rows = c.needsInputGrad(1) || bias != null && c.needsInputGrad(2) ? g.reshape(-1, out) : null;
            if (c.needsInputGrad(0)) {
                // dX = g W: a product with W in place, no transpose.
                grads[0] = g.matmul(w);
            }
            if (c.needsInputGrad(1)) {
                // dW = g^T x, computed as [out, in]: born dense in the weight's layout, so
                // AccumulateGrad stores it as it is.
                grads[1] = rows.transpose(0, 1).matmul(x.reshape(-1, in));
            }
            if (bias != null && c.needsInputGrad(2)) {
                grads[2] = rows.sum(0, false);
            }
            return grads;
        }, (t, at, result) -> {
            // d(x W^T + b) = dx W^T + x dW^T + db; the first and last terms are one linear of their own.
            Tensor db = bias == null ? null : t[2];
            Tensor tangent = t[0] != null ? linear(t[0], at[1], db) : null;
            if (t[1] != null) {
                Tensor part = linear(at[0], t[1], tangent == null ? db : null);
                tangent = tangent == null ? part : tangent.add(part);
            }
            return tangent != null ? tangent : db;
        });
    }

    /** The values, recording nothing: one call of the backend's linear kernel on the folded rows. */
    private static Tensor forward(Tensor input, Tensor weight, Tensor bias, Shape outShape) {
        int in = weight.size(1);
        int out = weight.size(0);
        // Fresh and contiguous: its [rows, out] matrix view starts at offset 0.
        Tensor result = Dispatch.empty(input.backend(), input.dtype(), outShape);
        if (result.numel() == 0) {
            return result;
        }
        Tensor b = bias == null ? null : bias.detach();
        if (in == 0) {
            // An empty sum: the bias alone, or allocate's zeros.
            if (b != null) {
                Dispatch.copyInto(b.expand(outShape.toArray()), result, result.layout());
            }
            return result;
        }
        Tensor x = input.detach();
        // A matrix (any strides) goes to the GEMM as it is; more dims fold into its rows, which needs
        // them dense, and a vector is one row.
        Tensor rows = x.rank() == 2 ? x : x.rank() == 1 ? x.unsqueeze(0)
                : (x.isContiguous() ? x : Dispatch.contiguousCopy(x)).reshape(-1, in);
        Tensor w = weight.detach().transpose(0, 1);
        int m = rows.size(0);
        input.backend().linear(rows.storage(), rows.layout(), w.storage(), w.layout(),
                b == null ? null : b.storage(), b == null ? null : b.layout(),
                result.storage(), Layout.contiguous(Shape.of(m, out)));
        return result;
    }

    private static void check(Tensor input, Tensor weight, Tensor bias) {
        String op = "linear";
        Dispatch.checkSameBackend(op, input, weight);
        Dispatch.checkSameDType(op, input, weight);
        Dispatch.checkFloating(op, input);
        if (weight.rank() != 2) {
            throw new TensorShapeException(op + ": weight must be 2-D [out_features, in_features], got shape "
                    + weight.shape() + " (input shape " + input.shape() + ")");
        }
        if (input.rank() == 0 || input.size(-1) != weight.size(1)) {
            throw new TensorShapeException(op + ": input shape " + input.shape() + " must end in in_features="
                    + weight.size(1) + " (weight shape " + weight.shape() + ")");
        }
        if (bias != null) {
            Dispatch.checkSameBackend(op, input, bias);
            Dispatch.checkSameDType(op, input, bias);
            if (bias.rank() != 1 || bias.size(0) != weight.size(0)) {
                throw new TensorShapeException(op + ": bias shape " + bias.shape() + " must be [" + weight.size(0)
                        + "], one value per out_feature (weight shape " + weight.shape() + ")");
            }
        }
    }
}
