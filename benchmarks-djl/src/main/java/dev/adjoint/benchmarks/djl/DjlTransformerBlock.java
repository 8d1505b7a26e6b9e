package dev.adjoint.benchmarks.djl;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.LayerNorm;
import dev.adjoint.benchmarks.block.ReferenceBlock;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * {@code dev.adjoint.benchmarks.block.TransformerBlock} on DJL 0.35's PyTorch engine, with the
 * functions DJL's own blocks call ({@link LayerNorm#layerNorm}, {@link Linear#linear},
 * {@link Activation#gelu}, libtorch's native kernels underneath) and {@link ReferenceBlock}'s
 * weights, so it computes what Adjoint's block and {@code benchmarks/peers/transformer_block.py} compute.
 */
final class DjlTransformerBlock {
    private final Map<String, NDArray> parameters = new LinkedHashMap<>();

    /** The reference weights in {@code manager}, each requiring a gradient. */
    DjlTransformerBlock(NDManager manager) {
        for (ReferenceBlock.Parameter p : ReferenceBlock.PARAMETERS) {
            long[] shape = new long[p.shape().length];
            for (int i = 0; i < shape.length; i++) {
                shape[i] = p.shape()[i];
            }
            NDArray array = manager.create(ReferenceBlock.parameterValues(p), new Shape(shape));
            array.setRequiresGradient(true);
            parameters.put(p.name(), array);
        }
    }

    /** The input, requiring a gradient. */
    static NDArray input(NDManager manager) {
        NDArray x = manager.create(ReferenceBlock.inputValues(),
                new Shape(ReferenceBlock.BATCH, ReferenceBlock.TOKENS, ReferenceBlock.WIDTH));
        x.setRequiresGradient(true);
        return x;
    }

    Map<String, NDArray> parameters() {
        return parameters;
    }

    /** mean(block(x)^2). */
    NDArray loss(NDArray x) {
        return forward(x).square().mean();
    }

    private NDArray forward(NDArray x) {
        long batch = x.getShape().get(0);
        long tokens = x.getShape().get(1);
        long width = x.getShape().get(2);
        int heads = ReferenceBlock.HEADS;
        long headDim = width / heads;
        NDArray qkv = linear(layerNorm(x, "ln1"), "qkv").reshape(batch, tokens, 3, heads, headDim)
                .transpose(2, 0, 3, 1, 4);
        NDArray q = qkv.get(0);
        NDArray k = qkv.get(1);
        NDArray v = qkv.get(2);
        NDArray weights = q.matMul(k.transpose(0, 1, 3, 2)).div(Math.sqrt(headDim)).softmax(3);
        NDArray attended = weights.matMul(v).transpose(0, 2, 1, 3).reshape(batch, tokens, width);
        NDArray h = x.add(linear(attended, "proj"));
        return h.add(linear(Activation.gelu(linear(layerNorm(h, "ln2"), "fc1")), "fc2"));
    }

    private NDArray linear(NDArray x, String name) {
        return Linear.linear(x, parameters.get(name + ".weight"), parameters.get(name + ".bias")).singletonOrThrow();
    }

    private NDArray layerNorm(NDArray x, String name) {
        return LayerNorm.layerNorm(x, new Shape(ReferenceBlock.WIDTH), parameters.get(name + ".weight"),
                parameters.get(name + ".bias"), 1e-5f).singletonOrThrow();
    }
}
