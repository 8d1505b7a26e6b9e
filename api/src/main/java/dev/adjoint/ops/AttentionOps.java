package dev.adjoint.ops;

import dev.adjoint.DType;
import dev.adjoint.DTypeMismatchException;
import dev.adjoint.Generator;
import dev.adjoint.Shape;
import dev.adjoint.Tensor;
import dev.adjoint.TensorShapeException;
import dev.adjoint.autograd.Graph;
import dev.adjoint.internal.TensorInternals;
import dev.adjoint.spi.FusedKernels;
import dev.adjoint.spi.FusedKernels.Kernel;

import java.util.ArrayList;
import java.util.List;

import static dev.adjoint.ops.LinalgOps.batchShape;
import static dev.adjoint.ops.LinalgOps.withMatrix;

/**
 * torch.nn.functional.scaled_dot_product_attention (PyTorch 2) as one primitive:
 * {@code dropout(softmax(scale * q k^T + mask), p) v}, one node in the graph with its VJP and JVP side by side.
 * The forward runs the backend's fused kernel when it offers one ({@link Kernel#ATTENTION}), which
 * keeps each matrix's scores in cache instead of sending them through memory between five ops, and
 * the composite otherwise; the backward likewise, except when it is recorded (createGraph), carries
 * tangents or a floating mask wants its gradient, where the composite formula, differentiable, runs.
 *
 * <p>Dropout on the weights is inverted dropout with its mask drawn, before anything is computed, from
 * the caller's generator exactly as nn.Dropout draws one for a tensor of the weights' shape (the
 * uniforms of {@code rand}, kept where {@code >= p}, times {@code 1 / (1 - p)}); so the fused op gives
 * the numbers, and leaves the generator in the state, of the composite {@code softmax}, {@code Dropout},
 * {@code matmul}. The mask is a constant of the node: the backward and the JVP multiply by it too.
 *
 * <p>A query row whose keys are all masked out (boolean mask all false, or every score -inf) gets NaN,
 * as the softmax of an all -inf row does here and in PyTorch 2.0 and 2.1 (later PyTorch versions
 * return 0 from their fused kernels); every backend gives NaN.
 */
public final class AttentionOps {
    private static final String OP = "scaledDotProductAttention";

    private AttentionOps() {
    }

    /**
     * query {@code [..., L, E]}, key {@code [..., S, E]}, value {@code [..., S, Ev]}, the batch dims
     * broadcasting; {@code attnMask} {@code null}, BOOL (true: the key takes part) or of the query's
     * dtype (added to the scores), broadcastable to {@code [..., L, S]}; {@code isCausal} masks key
     * {@code j > i} for query {@code i} (PyTorch's top-left {@code tril}); {@code scale} NaN for
     * {@code 1 / sqrt(E)}. The result is {@code [..., L, Ev]}.
     */
    public static Tensor scaledDotProductAttention(Tensor query, Tensor key, Tensor value, Tensor attnMask,
                                                   boolean isCausal, double scale) {
        return scaledDotProductAttention(query, key, value, attnMask, isCausal, scale, 0.0, null);
    }

    /**
     * As above with dropout of probability {@code dropoutP} in [0, 1] on the weights, its mask drawn from
     * {@code generator} (which may be {@code null} when {@code dropoutP} is 0 or 1: nothing is drawn then).
     * PyTorch's {@code dropout_p}: pass 0 outside training.
     */
    public static Tensor scaledDotProductAttention(Tensor query, Tensor key, Tensor value, Tensor attnMask,
                                                   boolean isCausal, double scale, double dropoutP,
                                                   Generator generator) {
        Shape batch = check(query, key, value, attnMask, isCausal);
        checkDropout(dropoutP, generator);
        int l = query.size(-2);
        int e = query.size(-1);
        int s = key.size(-2);
        int ev = value.size(-1);
        double sc = Double.isNaN(scale) ? 1.0 / Math.sqrt(e) : scale;
        DType dtype = query.dtype();
        boolean floatMask = attnMask != null && attnMask.dtype().isFloatingPoint();
        // The additive mask the scores get: a floating mask as given (an input, it may want a gradient), a
        // BOOL one as 0 / -inf, a causal one built here; all constants but the floating mask.
        Tensor additive = attnMask == null ? isCausal ? causalMask(query, l, s) : null
                : floatMask ? attnMask : booleanAsAdditive(attnMask, dtype);

        // The dropout's multipliers (0 or 1 / (1 - p)), of the composite weights' shape, which leaves out
        // the batch dims only the value has.
        Tensor drop = dropoutP > 0.0
                ? dropoutMultipliers(query, withMatrix(weightsBatch(query, key, attnMask), l, s), dropoutP, generator)
                : null;

        Shape outShape = withMatrix(batch, l, ev);
        boolean recording = Graph.needsGraph(floatMask ? new Tensor[] {query, key, value, attnMask}
                : new Tensor[] {query, key, value});
        FusedKernels fused = FusedKernels.offered(query.backend(), Kernel.ATTENTION, dtype);
        Tensor out;
        Tensor probs = null;
        boolean fusedForward = fused != null && l > 0 && s > 0 && e > 0 && ev > 0;
        if (fusedForward) {
            Tensor q = broadcast(query, withMatrix(batch, l, e));
            Tensor k = broadcast(key, withMatrix(batch, s, e));
            Tensor v = broadcast(value, withMatrix(batch, s, ev));
            Tensor m = additive == null || isCausal ? null : broadcast(additive, withMatrix(batch, l, s));
            Tensor d = drop == null ? null : broadcast(drop, withMatrix(batch, l, s));
            out = Dispatch.empty(query.backend(), dtype, outShape);
            probs = recording ? Dispatch.empty(query.backend(), dtype, withMatrix(batch, l, s)) : null;
            fused.attention(q.storage(), q.layout(), k.storage(), k.layout(), v.storage(), v.layout(),
                    m == null ? null : m.storage(), m == null ? null : m.layout(), isCausal, sc,
                    d == null ? null : d.storage(), d == null ? null : d.layout(), out.storage(),
                    probs == null ? null : probs.storage());
        } else {
            try (var scope = Tensor.noGrad()) {
                Tensor p = weights(query.detach(), key.detach(), additive == null ? null : additive.detach(), sc);
                out = dropped(p, drop).matmul(value.detach());
                probs = recording ? p : null;
            }
        }

        List<Tensor> inputs = new ArrayList<>(List.of(query, key, value));
        if (floatMask) {
            inputs.add(attnMask);
        }
        Tensor[] in = inputs.toArray(new Tensor[0]);
        int maskAt = floatMask ? 3 : -1;
        // Everything backward reads goes through the node (checkpointing may drop it): q, k, v, the
        // additive mask, the dropout's multipliers and the weights of the forward, when there are.
        List<Tensor> kept = new ArrayList<>(List.of(query, key, value));
        int maskSavedAt = additive != null ? kept.size() : -1;
        if (additive != null) {
            kept.add(additive);
        }
        int dropAt = drop != null ? kept.size() : -1;
        if (drop != null) {
            kept.add(drop);
        }
        int probsAt = probs != null ? kept.size() : -1;
        if (probs != null) {
            kept.add(probs);
        }
        Tensor[] saved = kept.toArray(new Tensor[0]);
        return Graph.record("ScaledDotProductAttentionBackward", out, in, saved, (g, c) -> {
            Tensor sq = c.saved(0);
            Tensor sk = c.saved(1);
            Tensor sv = c.saved(2);
            Tensor sm = maskSavedAt >= 0 ? c.saved(maskSavedAt) : null;
            Tensor sd = dropAt >= 0 ? c.saved(dropAt) : null;
            Tensor sp = probsAt >= 0 ? c.saved(probsAt) : null;
            boolean wantMask = maskAt >= 0 && c.needsInputGrad(maskAt);
            boolean plain = NormalizationOps.plain(g, sq, sk, sv, sm);
            Tensor[] grads = new Tensor[in.length];
            FusedKernels fusedBackward = FusedKernels.offered(g.backend(), Kernel.ATTENTION_BACKWARD, dtype);
            if (fusedForward && fusedBackward != null && sp != null && plain && !wantMask) {
                Tensor q = broadcast(sq, withMatrix(batch, l, e));
                Tensor k = broadcast(sk, withMatrix(batch, s, e));
                Tensor v = broadcast(sv, withMatrix(batch, s, ev));
                Tensor gq = c.needsInputGrad(0) ? Dispatch.empty(g.backend(), dtype, withMatrix(batch, l, e)) : null;
                Tensor gk = c.needsInputGrad(1) ? Dispatch.empty(g.backend(), dtype, withMatrix(batch, s, e)) : null;
                Tensor gv = c.needsInputGrad(2) ? Dispatch.empty(g.backend(), dtype, withMatrix(batch, s, ev)) : null;
                Tensor d = sd == null ? null : broadcast(sd, withMatrix(batch, l, s));
                fusedBackward.attentionBackward(g.storage(), g.layout(), q.storage(), q.layout(), k.storage(),
                        k.layout(), v.storage(), v.layout(), d == null ? null : d.storage(),
                        d == null ? null : d.layout(), sp.storage(), sc, gq == null ? null : gq.storage(),
                        gk == null ? null : gk.storage(), gv == null ? null : gv.storage());
                grads[0] = gq;
                grads[1] = gk;
                grads[2] = gv;
                return grads;
            }
            // The composite: the weights recomputed from q and k with differentiable ops when the backward
            // is recorded, so that its own derivatives reach q and k through them. With dropout the output
            // is (P D) v: dV = (P D)^T g, and the softmax's VJP takes dP = (g v^T) D.
            Tensor p = plain && sp != null ? sp : weights(sq, sk, sm, sc);
            if (c.needsInputGrad(2)) {
                grads[2] = dropped(p, sd).transpose(-1, -2).matmul(g);
            }
            if (c.needsInputGrad(0) || c.needsInputGrad(1) || wantMask) {
                Tensor dp = dropped(g.matmul(sv.transpose(-1, -2)), sd);
                // dP has the batch dims of the output, which the value may widen beyond the weights': the
                // softmax's VJP along the keys then needs the weights repeated over them.
                Tensor pw = p.shape().equals(dp.shape()) ? p : p.expand(dp.shape().toArray());
                Tensor ds = NormalizationOps.softmaxVjp(dp, pw, dp.rank() - 1, false);
                if (c.needsInputGrad(0)) {
                    grads[0] = ds.matmul(sk).mul(sc);
                }
                if (c.needsInputGrad(1)) {
                    grads[1] = ds.transpose(-1, -2).matmul(sq).mul(sc);
                }
                if (wantMask) {
                    grads[maskAt] = ds;
                }
            }
            return grads;
        }, (t, at, y) -> {
            Tensor mask = maskAt >= 0 ? at[maskAt] : additive;
            Tensor p = weights(at[0], at[1], mask, sc);
            // d(scores) = scale (dq k^T + q dk^T) + dmask, then the softmax's JVP, then
            // d((p D) v) = (dp D) v + (p D) dv, the dropout's multipliers D a constant.
            Tensor dScores = null;
            if (t[0] != null) {
                dScores = t[0].matmul(at[1].transpose(-1, -2)).mul(sc);
            }
            if (t[1] != null) {
                Tensor part = at[0].matmul(t[1].transpose(-1, -2)).mul(sc);
                dScores = dScores == null ? part : dScores.add(part);
            }
            if (maskAt >= 0 && t[maskAt] != null) {
                dScores = dScores == null ? t[maskAt] : dScores.add(t[maskAt]);
            }
            Tensor tangent = null;
            if (dScores != null) {
                // The scores' tangent may lack batch dims a mask gives the weights: repeated over them.
                if (!dScores.shape().equals(p.shape())) {
                    dScores = dScores.expand(p.shape().toArray());
                }
                // The softmax's Jacobian diag(p) - p p^T is symmetric: its JVP is its VJP.
                tangent = dropped(NormalizationOps.softmaxVjp(dScores, p, p.rank() - 1, false), drop).matmul(at[2]);
            }
            if (t[2] != null) {
                Tensor part = dropped(p, drop).matmul(t[2]);
                tangent = tangent == null ? part : tangent.add(part);
            }
            return tangent;
        });
    }

    /** softmax(scale * q k^T + mask) along the keys, in differentiable ops: the composite's weights. */
    private static Tensor weights(Tensor q, Tensor k, Tensor additiveMask, double scale) {
        Tensor scores = q.matmul(k.transpose(-1, -2)).mul(scale);
        if (additiveMask != null) {
            scores = scores.add(additiveMask);
        }
        return scores.softmax(-1);
    }

    /** {@code x} times the dropout's multipliers, or {@code x} without dropout. */
    private static Tensor dropped(Tensor x, Tensor multipliers) {
        return multipliers == null ? x : x.mul(multipliers);
    }

    /**
     * The batch dims of the composite's weights {@code softmax(q k^T + mask)}: the query's, key's and
     * mask's broadcast (not the value's), the shape nn.Dropout would draw its mask for.
     */
    private static Shape weightsBatch(Tensor query, Tensor key, Tensor attnMask) {
        Shape batch = Shape.broadcast(OP, batchShape(query.shape()), batchShape(key.shape()));
        return attnMask == null || attnMask.rank() <= 2 ? batch : Shape.broadcast(OP, batch, batchShape(attnMask.shape()));
    }

    /**
     * Inverted dropout's multipliers for weights of {@code shape}: 0 where dropped, {@code 1 / (1 - p)}
     * where kept, drawn as Functional.dropout (and so nn.Dropout) draws them: the same uniforms from
     * {@code generator}, the same comparison, so the same bits and the same generator state after; all 0
     * for p = 1, drawing nothing, as dropout multiplies by 0 there.
     */
    private static Tensor dropoutMultipliers(Tensor like, Shape shape, double p, Generator generator) {
        if (p == 1.0) {
            return Tensor.on(like.backend()).zeros(like.dtype(), shape.toArray());
        }
        // Row-major, as the kernels read the matrices (FusedKernels.attention).
        return TensorInternals.get().dropoutMask(like.backend(), like.dtype(), shape, p, generator);
    }

    private static void checkDropout(double dropoutP, Generator generator) {
        if (!(dropoutP >= 0.0 && dropoutP <= 1.0)) {
            throw new IllegalArgumentException(OP + ": dropoutP must be in [0, 1], got " + dropoutP);
        }
        if (generator == null && dropoutP > 0.0 && dropoutP < 1.0) {
            throw new IllegalArgumentException(OP + ": dropoutP " + dropoutP + " needs a generator to draw its mask "
                    + "from (null only with dropoutP 0 or 1)");
        }
    }

    /** Every check before any backend runs; returns the broadcast batch shape. */
    private static Shape check(Tensor query, Tensor key, Tensor value, Tensor attnMask, boolean isCausal) {
        Dispatch.checkFloating(OP, query);
        Dispatch.checkSameBackend(OP, query, key);
        Dispatch.checkSameBackend(OP, query, value);
        Dispatch.checkSameDType(OP, query, key);
        Dispatch.checkSameDType(OP, query, value);
        if (query.rank() < 2 || key.rank() < 2 || value.rank() < 2) {
            throw new TensorShapeException(OP + ": query, key and value need at least 2 dimensions ([..., L, E], "
                    + "[..., S, E], [..., S, Ev]), got " + query.shape() + ", " + key.shape() + " and " + value.shape());
        }
        if (key.size(-1) != query.size(-1)) {
            throw new TensorShapeException(OP + ": query " + query.shape() + " and key " + key.shape()
                    + " must end in the same embedding size (" + query.size(-1) + " != " + key.size(-1) + ")");
        }
        if (value.size(-2) != key.size(-2)) {
            throw new TensorShapeException(OP + ": key " + key.shape() + " and value " + value.shape()
                    + " must have the same sequence length S (" + key.size(-2) + " != " + value.size(-2) + ")");
        }
        Shape batch = Shape.broadcast(OP, batchShape(query.shape()),
                Shape.broadcast(OP, batchShape(key.shape()), batchShape(value.shape())));
        if (attnMask == null) {
            return batch;
        }
        if (isCausal) {
            throw new IllegalArgumentException(OP + ": give either attnMask (shape " + attnMask.shape()
                    + ") or isCausal, not both, as PyTorch");
        }
        Dispatch.checkSameBackend(OP, query, attnMask);
        if (attnMask.dtype() != DType.BOOL && attnMask.dtype() != query.dtype()) {
            throw new DTypeMismatchException(OP + ": attnMask must be BOOL (true: the key takes part) or of the "
                    + "query's dtype " + query.dtype() + " (added to the scores), got " + attnMask.dtype() + " of shape "
                    + attnMask.shape());
        }
        Shape scores = withMatrix(batch, query.size(-2), key.size(-2));
        boolean fits = attnMask.rank() <= scores.rank();
        for (int i = 1; fits && i <= attnMask.rank(); i++) {
            int m = attnMask.shape().dim(attnMask.rank() - i);
            fits = m == 1 || m == scores.dim(scores.rank() - i);
        }
        if (!fits) {
            throw new TensorShapeException(OP + ": attnMask of shape " + attnMask.shape()
                    + " does not broadcast to the scores' shape " + scores + " (query " + query.shape() + ", key "
                    + key.shape() + ")");
        }
        return batch;
    }

    /** 0 where the key takes part, -inf where not. */
    private static Tensor booleanAsAdditive(Tensor mask, DType dtype) {
        var create = Tensor.on(mask.backend());
        return Tensor.where(mask, create.scalar(0.0, dtype), create.scalar(Double.NEGATIVE_INFINITY, dtype));
    }

    /** -inf above the diagonal of an {@code [L, S]} matrix: key j is hidden from query i when j > i. */
    private static Tensor causalMask(Tensor query, int l, int s) {
        double[] values = new double[l * s];
        for (int i = 0; i < l; i++) {
            for (int j = i + 1; j < s; j++) {
                values[i * s + j] = Double.NEGATIVE_INFINITY;
            }
        }
        return Tensor.on(query.backend()).fromArray(values, query.dtype(), l, s);
    }

    /** {@code t} viewed with its batch dims broadcast (stride 0 where it repeats) to {@code shape}. */
    private static Tensor broadcast(Tensor t, Shape shape) {
        return Dispatch.view(t.detach(), t.layout().broadcastTo(shape));
    }
}
