package dev.adjoint.nn;

import dev.adjoint.Tensor;

/**
 * One transformer encoder block, as {@code nn.TransformerEncoderLayer} (PyTorch 1.13): self-attention
 * and a position-wise feed-forward network {@code linear2(dropout(activation(linear1(x))))}, each with a
 * residual connection and a layer norm, either after the residual sum (post-norm, the default and the
 * original transformer's) or before each sub-block ({@code normFirst}, pre-norm):
 * <pre>
 *   post-norm: x = norm1(x + sa(x));        x = norm2(x + ff(x))
 *   pre-norm:  x = x + sa(norm1(x));        x = x + ff(norm2(x))
 * </pre>
 * {@code sa} and {@code ff} end in dropout. Children and parameter names are PyTorch's
 * ({@code self_attn.in_proj_weight}, {@code linear1.weight}, {@code norm2.bias}, ...), so a PyTorch state
 * dict loads as is. Every dropout draws from the context's generator, in training mode only.
 */
public final class TransformerEncoderLayer extends Module {
    /** The feed-forward activation, PyTorch's {@code activation="relu"} or {@code "gelu"} (exact). */
    public enum Activation { RELU, GELU }

    private final MultiheadAttention selfAttn;
    private final Linear linear1;
    private final Dropout dropout;
    private final Linear linear2;
    private final boolean normFirst;
    private final LayerNorm norm1;
    private final LayerNorm norm2;
    private final Dropout dropout1;
    private final Dropout dropout2;
    private final Activation activation;
    private final GELU gelu = new GELU();

    /**
     * As {@code nn.TransformerEncoderLayer(d_model, nhead, dim_feedforward, dropout, activation,
     * layer_norm_eps, batch_first, norm_first)}.
     */
    public TransformerEncoderLayer(int dModel, int nhead, int dimFeedforward, double dropout, Activation activation,
                                   double layerNormEps, boolean batchFirst, boolean normFirst, NnContext ctx) {
        if (dimFeedforward <= 0) {
            throw new IllegalArgumentException("TransformerEncoderLayer: dimFeedforward must be positive, got "
                    + dimFeedforward);
        }
        this.selfAttn = registerModule("self_attn", new MultiheadAttention(dModel, nhead, dropout, true, batchFirst, ctx));
        this.linear1 = registerModule("linear1", new Linear(dModel, dimFeedforward, ctx));
        this.dropout = registerModule("dropout", new Dropout(dropout, ctx.generator()));
        this.linear2 = registerModule("linear2", new Linear(dimFeedforward, dModel, ctx));
        this.normFirst = normFirst;
        this.norm1 = registerModule("norm1", new LayerNorm(new int[] {dModel}, layerNormEps, true, ctx));
        this.norm2 = registerModule("norm2", new LayerNorm(new int[] {dModel}, layerNormEps, true, ctx));
        this.dropout1 = registerModule("dropout1", new Dropout(dropout, ctx.generator()));
        this.dropout2 = registerModule("dropout2", new Dropout(dropout, ctx.generator()));
        this.activation = activation;
    }

    /** PyTorch's defaults: dim_feedforward 2048, dropout 0.1, ReLU, eps 1e-5, sequence-first, post-norm. */
    public TransformerEncoderLayer(int dModel, int nhead, NnContext ctx) {
        this(dModel, nhead, 2048, 0.1, Activation.RELU, 1e-5, false, false, ctx);
    }

    public MultiheadAttention selfAttn() {
        return selfAttn;
    }

    public boolean normFirst() {
        return normFirst;
    }

    @Override
    public Tensor forward(Tensor src) {
        return forward(src, null, null);
    }

    /**
     * As PyTorch's {@code forward(src, src_mask, src_key_padding_mask)}; the masks (either may be
     * {@code null}) are those of {@link MultiheadAttention}: {@code srcMask} {@code [S, S]} or
     * {@code [N * nhead, S, S]}, {@code srcKeyPaddingMask} {@code [N, S]}.
     */
    public Tensor forward(Tensor src, Tensor srcMask, Tensor srcKeyPaddingMask) {
        Tensor x = src;
        if (normFirst) {
            x = x.add(selfAttentionBlock(norm1.call(x), srcMask, srcKeyPaddingMask));
            x = x.add(feedForwardBlock(norm2.call(x)));
        } else {
            x = norm1.call(x.add(selfAttentionBlock(x, srcMask, srcKeyPaddingMask)));
            x = norm2.call(x.add(feedForwardBlock(x)));
        }
        return x;
    }

    private Tensor selfAttentionBlock(Tensor x, Tensor mask, Tensor keyPaddingMask) {
        return dropout1.call(selfAttn.forward(x, x, x, keyPaddingMask, false, mask).output());
    }

    private Tensor feedForwardBlock(Tensor x) {
        Tensor hidden = linear1.call(x);
        hidden = activation == Activation.GELU ? gelu.forward(hidden) : hidden.relu();
        return dropout2.call(linear2.call(dropout.call(hidden)));
    }
}
