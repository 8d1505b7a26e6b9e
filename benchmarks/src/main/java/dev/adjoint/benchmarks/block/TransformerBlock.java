package dev.adjoint.benchmarks.block;

import dev.adjoint.Tensor;
import dev.adjoint.nn.GELU;
import dev.adjoint.nn.LayerNorm;
import dev.adjoint.nn.Linear;
import dev.adjoint.nn.Module;
import dev.adjoint.nn.NnContext;

/**
 * A pre-LN transformer block as a user writes it with the nn API, the model of
 * {@code TransformerBlockBenchmark}: {@code h = x + proj(attention(ln1(x)))}, then
 * {@code h + fc2(gelu(fc1(ln2(h))))}, with multi-head self-attention
 * {@code softmax(q k^T / sqrt(headDim)) v} over all tokens (no mask) and GELU in its erf form.
 * The parameter names (state-dict keys) are those of {@code benchmarks/peers/transformer_block.py},
 * the same block in PyTorch, so one set of weights loads into both.
 */
public final class TransformerBlock extends Module {
    private final int heads;
    private final LayerNorm ln1;
    private final Linear qkv;
    private final Linear proj;
    private final LayerNorm ln2;
    private final Linear fc1;
    private final GELU gelu;
    private final Linear fc2;

    public TransformerBlock(int width, int heads, int hidden, NnContext ctx) {
        if (width % heads != 0) {
            throw new IllegalArgumentException("TransformerBlock: width " + width + " must be a multiple of heads "
                    + heads);
        }
        this.heads = heads;
        ln1 = registerModule("ln1", new LayerNorm(width, ctx));
        qkv = registerModule("qkv", new Linear(width, 3 * width, ctx));
        proj = registerModule("proj", new Linear(width, width, ctx));
        ln2 = registerModule("ln2", new LayerNorm(width, ctx));
        fc1 = registerModule("fc1", new Linear(width, hidden, ctx));
        gelu = registerModule("gelu", new GELU());
        fc2 = registerModule("fc2", new Linear(hidden, width, ctx));
    }

    /** {@code x}: {@code [batch, tokens, width]}; the result has the same shape. */
    @Override
    public Tensor forward(Tensor x) {
        int batch = x.size(0);
        int tokens = x.size(1);
        int width = x.size(2);
        int headDim = width / heads;
        // [batch, tokens, 3 * width] -> [3, batch, heads, tokens, headDim]: q, k and v, each split into heads.
        Tensor qkvHeads = qkv.forward(ln1.forward(x)).reshape(batch, tokens, 3, heads, headDim).permute(2, 0, 3, 1, 4);
        Tensor q = qkvHeads.narrow(0, 0, 1).squeeze(0);
        Tensor k = qkvHeads.narrow(0, 1, 1).squeeze(0);
        Tensor v = qkvHeads.narrow(0, 2, 1).squeeze(0);
        Tensor weights = q.matmul(k.transpose(2, 3)).div(Math.sqrt(headDim)).softmax(3);
        // [batch, heads, tokens, headDim] -> [batch, tokens, width]: the heads side by side again.
        Tensor attended = weights.matmul(v).permute(0, 2, 1, 3).reshape(batch, tokens, width);
        Tensor h = x.add(proj.forward(attended));
        return h.add(fc2.forward(gelu.forward(fc1.forward(ln2.forward(h)))));
    }
}
