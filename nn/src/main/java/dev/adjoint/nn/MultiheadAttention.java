package dev.adjoint.nn;

import dev.adjoint.Generator;
import dev.adjoint.DType;
import dev.adjoint.DTypeMismatchException;
import dev.adjoint.Functional;
import dev.adjoint.Tensor;
import dev.adjoint.TensorShapeException;

/**
 * Multi-head scaled dot-product attention, as {@code nn.MultiheadAttention} (PyTorch 1.13):
 * {@code softmax(Q K^T / sqrt(headDim) + mask) V} per head, with {@code Q, K, V} the query, key and value
 * projected by the packed {@code in_proj_weight} ({@code [3E, E]}) and {@code in_proj_bias}, the heads
 * concatenated and projected by {@code out_proj}. Parameter names and initialisation are PyTorch's
 * (Xavier-uniform in-projection, zero biases), so a PyTorch state dict loads as is.
 *
 * <p>Shapes: query {@code [L, N, E]}, key and value {@code [S, N, E]} ({@code [N, L, E]} and
 * {@code [N, S, E]} with {@code batchFirst}), or unbatched {@code [L, E]} and {@code [S, E]}.
 *
 * <p>Masks, as PyTorch's, where a floating mask is added to the attention scores and a boolean mask
 * (BOOL, e.g. {@code tokens.eq(PAD)}: true means "do not attend") puts -inf there:
 * {@code keyPaddingMask} {@code [N, S]} (or {@code [S]} unbatched) hides padded keys of each sequence;
 * {@code attnMask} {@code [L, S]} or {@code [N * numHeads, L, S]} hides positions for every sequence or
 * per sequence and head (e.g. a causal mask). Both may be given; a query whose keys are all hidden gets
 * NaN, as in PyTorch. Dropout on the attention weights uses the module's generator, in training mode only.
 *
 * <p>When the weights are not returned, the heads are one {@link Functional#scaledDotProductAttention},
 * dropout included (a backend may fuse it; its mask is drawn from the module's generator as the
 * composite's, so both give the same masks and leave the generator alike); returned, they are composed
 * from matmul, softmax and dropout, so that the weights exist.
 */
public final class MultiheadAttention extends Module {
    private final int embedDim;
    private final int numHeads;
    private final int headDim;
    private final double dropout;
    private final boolean hasBias;
    private final boolean batchFirst;
    private final Generator generator;
    private final Linear outProj;

    /** The attention output and, when asked for, the attention weights ({@code null} otherwise). */
    public record Output(Tensor output, Tensor weights) {
    }

    public MultiheadAttention(int embedDim, int numHeads, double dropout, boolean bias, boolean batchFirst,
                              NnContext ctx) {
        if (embedDim <= 0 || numHeads <= 0 || embedDim % numHeads != 0) {
            throw new IllegalArgumentException("MultiheadAttention: embedDim (" + embedDim + ") must be a positive "
                    + "multiple of numHeads (" + numHeads + ")");
        }
        if (!(dropout >= 0 && dropout <= 1)) {
            throw new IllegalArgumentException("MultiheadAttention: dropout must be in [0, 1], got " + dropout);
        }
        this.embedDim = embedDim;
        this.numHeads = numHeads;
        this.headDim = embedDim / numHeads;
        this.dropout = dropout;
        this.hasBias = bias;
        this.batchFirst = batchFirst;
        this.generator = ctx.generator();
        var create = Tensor.on(ctx.backend());
        Tensor inProjWeight = create.zeros(ctx.dtype(), 3 * embedDim, embedDim);
        registerParameter("in_proj_weight", Init.xavierUniform(inProjWeight, 1.0, ctx.generator()));
        if (bias) {
            registerParameter("in_proj_bias", create.zeros(ctx.dtype(), 3 * embedDim));
        }
        outProj = registerModule("out_proj", new Linear(embedDim, embedDim, bias, ctx));
        if (bias) {
            Init.zeros(outProj.bias());
        }
    }

    /** No dropout, with biases, sequence-first ({@code [L, N, E]}). */
    public MultiheadAttention(int embedDim, int numHeads, NnContext ctx) {
        this(embedDim, numHeads, 0.0, true, false, ctx);
    }

    public int embedDim() {
        return embedDim;
    }

    public int numHeads() {
        return numHeads;
    }

    public boolean batchFirst() {
        return batchFirst;
    }

    public Tensor inProjWeight() {
        return parameter("in_proj_weight");
    }

    /** {@code null} when built without biases. */
    public Tensor inProjBias() {
        return hasBias ? parameter("in_proj_bias") : null;
    }

    public Linear outProj() {
        return outProj;
    }

    /** Self-attention of {@code x} without masks: the output only. */
    @Override
    public Tensor forward(Tensor x) {
        return forward(x, x, x, null, false, null, true).output();
    }

    /** Attention without masks, with the head-averaged weights. */
    public Output forward(Tensor query, Tensor key, Tensor value) {
        return forward(query, key, value, null, true, null, true);
    }

    /** As PyTorch's {@code forward(query, key, value, key_padding_mask, need_weights, attn_mask)}. */
    public Output forward(Tensor query, Tensor key, Tensor value, Tensor keyPaddingMask, boolean needWeights,
                          Tensor attnMask) {
        return forward(query, key, value, keyPaddingMask, needWeights, attnMask, true);
    }

    /**
     * The full form; masks may be {@code null}. With {@code needWeights} the weights are returned,
     * averaged over the heads ({@code [N, L, S]}) or per head ({@code [N, numHeads, L, S]}) as
     * {@code averageAttnWeights} says; with dropout they are the weights after dropout, as PyTorch's.
     */
    public Output forward(Tensor query, Tensor key, Tensor value, Tensor keyPaddingMask, boolean needWeights,
                          Tensor attnMask, boolean averageAttnWeights) {
        boolean batched = checkShapes(query, key, value);
        boolean self = query == key && key == value;
        // Work in the inputs' own layout: batch dim n and sequence dim l are (1, 0), or (0, 1) batch first.
        int n = batchFirst ? 0 : 1;
        int l = 1 - n;
        if (!batched) {
            query = query.unsqueeze(n);
            key = self ? query : key.unsqueeze(n);
            value = self ? query : value.unsqueeze(n);
            if (keyPaddingMask != null) {
                keyPaddingMask = keyPaddingMask.unsqueeze(0);
            }
        }
        int tgtLen = query.size(l);
        int batch = query.size(n);
        int srcLen = key.size(l);

        // q, k, v as [N, heads, length, headDim] views of the projections, as PyTorch's [N * heads, ...]
        // (head h of sequence n is its entry n * heads + h). Self-attention projects once with the packed
        // weight, [.., 3E], and takes the three as permuted views of it, without a copy.
        Tensor w = inProjWeight();
        Tensor b = inProjBias();
        Tensor q;
        Tensor k;
        Tensor v;
        if (self) {
            Tensor[] heads = heads(Functional.linear(query, w, b), 3);
            q = heads[0];
            k = heads[1];
            v = heads[2];
        } else {
            q = heads(project(query, w, b, 0), 1)[0];
            k = heads(project(key, w, b, 1), 1)[0];
            v = heads(project(value, w, b, 2), 1)[0];
        }

        Tensor mask = combinedMask(keyPaddingMask, attnMask, batch, tgtLen, srcLen, q);
        boolean dropping = isTraining() && dropout > 0;
        Tensor weights = null;
        Tensor attended;
        if (!needWeights) {
            // Nobody sees the weights: one op, which a backend may fuse so that each head's scores stay in
            // cache. (q / sqrt(d)) k^T there is (q k^T) / sqrt(d), equal within rounding; the dropout mask
            // is the composite's, drawn for the same [N, heads, L, S] weights from the same generator.
            attended = Functional.scaledDotProductAttention(q, k, v, mask, false, 1.0 / Math.sqrt(headDim),
                    dropping ? dropout : 0.0, generator);
        } else {
            Tensor scores = q.div(Math.sqrt(headDim)).matmul(k.transpose(-1, -2));
            if (mask != null) {
                scores = scores.add(mask);
            }
            weights = scores.softmax(-1);
            if (dropping) {
                weights = Dropout.apply(weights, dropout, generator);
            }
            attended = weights.matmul(v);
        }
        // [N, heads, L, headDim] back to the input's layout, [L, N, E] or [N, L, E], heads concatenated.
        Tensor concatenated = (batchFirst ? attended.permute(0, 2, 1, 3) : attended.permute(2, 0, 1, 3))
                .reshape(query.size(0), query.size(1), embedDim);
        Tensor out = outProj.call(concatenated);

        Tensor returnedWeights = null;
        if (needWeights) {
            returnedWeights = weights;
            if (averageAttnWeights) {
                returnedWeights = returnedWeights.sum(1, false).div(numHeads);
            }
            if (!batched) {
                returnedWeights = returnedWeights.squeeze(0);
            }
        }
        if (!batched) {
            out = out.squeeze(n);
        }
        return new Output(out, returnedWeights);
    }

    /**
     * A projection {@code [.., .., count * E]} in the inputs' layout as {@code count} views
     * {@code [N, heads, length, headDim]}.
     */
    private Tensor[] heads(Tensor projected, int count) {
        int n = batchFirst ? 0 : 1;
        Tensor split = projected.reshape(projected.size(0), projected.size(1), count, numHeads, headDim)
                .permute(2, n, 3, 1 - n, 4);
        Tensor[] heads = new Tensor[count];
        for (int i = 0; i < count; i++) {
            heads[i] = split.narrow(0, i, 1).squeeze(0);
        }
        return heads;
    }

    /** {@code x W_i^T + b_i} with {@code W_i} the i-th block of rows of the packed weight (q, k, v). */
    private Tensor project(Tensor x, Tensor w, Tensor b, int i) {
        return Functional.linear(x, w.narrow(0, i * embedDim, embedDim),
                b == null ? null : b.narrow(0, i * embedDim, embedDim));
    }

    private boolean checkShapes(Tensor query, Tensor key, Tensor value) {
        int rank = query.rank();
        if (rank != 2 && rank != 3) {
            throw new TensorShapeException("MultiheadAttention: query must be [L, E], [L, N, E] or (batchFirst) "
                    + "[N, L, E], got " + query.shape());
        }
        if (key.rank() != rank || value.rank() != rank) {
            throw new TensorShapeException("MultiheadAttention: query, key and value must have the same rank, got "
                    + query.shape() + ", " + key.shape() + " and " + value.shape());
        }
        if (query.size(-1) != embedDim || key.size(-1) != embedDim || value.size(-1) != embedDim) {
            throw new TensorShapeException("MultiheadAttention: query, key and value must end in embedDim=" + embedDim
                    + ", got " + query.shape() + ", " + key.shape() + " and " + value.shape());
        }
        if (!key.shape().equals(value.shape())) {
            throw new TensorShapeException("MultiheadAttention: key shape " + key.shape() + " and value shape "
                    + value.shape() + " must be equal");
        }
        int batchDim = batchFirst ? 0 : 1;
        if (rank == 3 && query.size(batchDim) != key.size(batchDim)) {
            throw new TensorShapeException("MultiheadAttention: query " + query.shape() + " and key " + key.shape()
                    + " have different batch sizes (batchFirst=" + batchFirst + ")");
        }
        return rank == 3;
    }

    /**
     * The key-padding and attention masks as one additive mask of the dtype and backend of {@code like}
     * broadcasting against the scores {@code [N, heads, L, S]}, or {@code null}. A BOOL mask becomes -inf
     * where it is true and 0 elsewhere, so adding masks is PyTorch's logical or / masked_fill.
     */
    private Tensor combinedMask(Tensor keyPaddingMask, Tensor attnMask, int batch, int tgtLen, int srcLen,
                                Tensor like) {
        Tensor mask = null;
        if (attnMask != null) {
            boolean ok = attnMask.rank() == 2 ? attnMask.size(0) == tgtLen && attnMask.size(1) == srcLen
                    : attnMask.rank() == 3 && attnMask.size(0) == batch * numHeads && attnMask.size(1) == tgtLen
                    && attnMask.size(2) == srcLen;
            if (!ok) {
                throw new TensorShapeException("MultiheadAttention: attnMask must be [" + tgtLen + ", " + srcLen + "] or ["
                        + batch * numHeads + ", " + tgtLen + ", " + srcLen + "] (batch * numHeads, L, S), got "
                        + attnMask.shape());
            }
            mask = additive(attnMask, like);
            if (mask.rank() == 3) {
                mask = mask.reshape(batch, numHeads, tgtLen, srcLen);
            }
        }
        if (keyPaddingMask != null) {
            if (keyPaddingMask.rank() != 2 || keyPaddingMask.size(0) != batch || keyPaddingMask.size(1) != srcLen) {
                throw new TensorShapeException("MultiheadAttention: keyPaddingMask must be [" + batch + ", " + srcLen
                        + "] (N, S), got " + keyPaddingMask.shape());
            }
            Tensor padding = additive(keyPaddingMask, like).reshape(batch, 1, 1, srcLen);
            mask = mask == null ? padding : mask.add(padding);
        }
        return mask;
    }

    private static Tensor additive(Tensor mask, Tensor scores) {
        Tensor m = mask.to(scores.backend());
        if (m.dtype().isFloatingPoint()) {
            return m.toType(scores.dtype());
        }
        if (m.dtype() != DType.BOOL) {
            throw new DTypeMismatchException("MultiheadAttention: a mask must be BOOL (true hides a position) or "
                    + "floating (added to the scores), got " + m.dtype() + " of shape " + m.shape()
                    + "; a comparison makes a BOOL mask, e.g. tokens.eq(PAD)");
        }
        var create = Tensor.on(scores.backend());
        return Tensor.where(m, create.scalar(Double.NEGATIVE_INFINITY, scores.dtype()), create.scalar(0.0, scores.dtype()));
    }

    @Override
    protected String describe() {
        return "embed_dim=" + embedDim + ", num_heads=" + numHeads + ", dropout=" + dropout + ", batch_first="
                + batchFirst;
    }
}
