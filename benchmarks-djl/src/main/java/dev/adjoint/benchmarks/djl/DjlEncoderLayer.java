package dev.adjoint.benchmarks.djl;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Activation;
import ai.djl.nn.Block;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.Dropout;
import ai.djl.nn.norm.LayerNorm;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;

/**
 * {@code torch.nn.TransformerEncoderLayer(width, heads, dim_feedforward, dropout, activation="gelu",
 * layer_norm_eps=1e-5, batch_first=True, norm_first=True)} as a DJL block, built from DJL's own
 * {@link LayerNorm} and {@link Linear} blocks: DJL's {@code TransformerEncoderBlock} is BERT's
 * post-norm layer, another architecture. As PyTorch's in training mode:
 * {@code h = x + dropout(attention(ln1(x)))}, {@code out = h + dropout(fc2(dropout(gelu(fc1(ln2(h))))))},
 * the attention one packed q, k, v projection ({@code in_proj}, [3 width, width]), softmax(q k^T / sqrt(d))
 * with dropout on the weights, and an output projection; the same parameters, shapes and dropouts.
 * Its input is x [batch, tokens, width], optionally followed by a float mask [tokens, tokens] added to
 * the attention scores (the causal mask of the language model).
 */
final class DjlEncoderLayer extends AbstractBlock {
    private final int heads;
    private final float dropout;
    private final Block ln1;
    private final Block inProj;
    private final Block outProj;
    private final Block ln2;
    private final Block fc1;
    private final Block fc2;

    DjlEncoderLayer(int width, int heads, int hidden, float dropout) {
        this.heads = heads;
        this.dropout = dropout;
        ln1 = addChildBlock("ln1", LayerNorm.builder().axis(2).optEpsilon(1e-5f).build());
        inProj = addChildBlock("inProj", Linear.builder().setUnits(3L * width).build());
        outProj = addChildBlock("outProj", Linear.builder().setUnits(width).build());
        ln2 = addChildBlock("ln2", LayerNorm.builder().axis(2).optEpsilon(1e-5f).build());
        fc1 = addChildBlock("fc1", Linear.builder().setUnits(hidden).build());
        fc2 = addChildBlock("fc2", Linear.builder().setUnits(width).build());
    }

    @Override
    protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        NDArray x = inputs.get(0);
        NDArray mask = inputs.size() > 1 ? inputs.get(1) : null;
        NDArray h = x.add(drop(attention(ps, apply(ps, ln1, x, training), mask, training), training));
        NDArray f = apply(ps, fc2, drop(Activation.gelu(apply(ps, fc1, apply(ps, ln2, h, training), training)), training),
                training);
        return new NDList(h.add(drop(f, training)));
    }

    /** Multi-head self-attention; {@code mask} (or null) is added to the scores, as PyTorch's float attn_mask. */
    private NDArray attention(ParameterStore ps, NDArray x, NDArray mask, boolean training) {
        long batch = x.getShape().get(0);
        long tokens = x.getShape().get(1);
        long width = x.getShape().get(2);
        long headDim = width / heads;
        NDArray qkv = apply(ps, inProj, x, training).reshape(batch, tokens, 3, heads, headDim).transpose(2, 0, 3, 1, 4);
        NDArray q = qkv.get(0);
        NDArray k = qkv.get(1);
        NDArray v = qkv.get(2);
        NDArray scores = q.matMul(k.transpose(0, 1, 3, 2)).div(Math.sqrt(headDim));
        NDArray weights = drop((mask == null ? scores : scores.add(mask)).softmax(3), training);
        NDArray attended = weights.matMul(v).transpose(0, 2, 1, 3).reshape(batch, tokens, width);
        return apply(ps, outProj, attended, training);
    }

    private static NDArray apply(ParameterStore ps, Block block, NDArray x, boolean training) {
        return block.forward(ps, new NDList(x), training).singletonOrThrow();
    }

    private NDArray drop(NDArray x, boolean training) {
        return Dropout.dropout(x, dropout, training).singletonOrThrow();
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return new Shape[] {inputShapes[0]};
    }

    @Override
    protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
        Shape in = inputShapes[0];
        for (Block b : new Block[] {ln1, inProj, ln2, fc1}) {
            b.initialize(manager, dataType, in);
        }
        outProj.initialize(manager, dataType, in);
        fc2.initialize(manager, dataType, fc1.getOutputShapes(new Shape[] {in})[0]);
    }
}
