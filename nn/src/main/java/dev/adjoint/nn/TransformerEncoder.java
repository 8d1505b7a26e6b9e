package dev.adjoint.nn;

import dev.adjoint.Tensor;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * A stack of {@link TransformerEncoderLayer}s and an optional final norm, as {@code nn.TransformerEncoder}:
 * each layer takes the previous one's output and the same masks. Parameter names are PyTorch's
 * ({@code layers.0.self_attn.in_proj_weight}, ..., {@code norm.weight}).
 *
 * <p>The layers come from a factory, called once per layer, so each is initialised from the context's
 * generator in turn. (PyTorch deep-copies one layer, so its layers start with equal weights; load a
 * PyTorch state dict to reproduce that.)
 */
public final class TransformerEncoder extends Module {
    private final List<TransformerEncoderLayer> layers = new ArrayList<>();
    private final LayerNorm norm;

    /** {@code norm} may be {@code null}. */
    public TransformerEncoder(Supplier<TransformerEncoderLayer> layer, int numLayers, LayerNorm norm) {
        if (numLayers <= 0) {
            throw new IllegalArgumentException("TransformerEncoder: numLayers must be positive, got " + numLayers);
        }
        // A ModuleList, as PyTorch's, for the names "layers.<i>. ..."; the forward calls each layer with the masks.
        ModuleList holder = registerModule("layers", new ModuleList());
        for (int i = 0; i < numLayers; i++) {
            TransformerEncoderLayer l = layer.get();
            holder.add(l);
            layers.add(l);
        }
        this.norm = norm == null ? null : registerModule("norm", norm);
    }

    public TransformerEncoder(Supplier<TransformerEncoderLayer> layer, int numLayers) {
        this(layer, numLayers, null);
    }

    public List<TransformerEncoderLayer> layers() {
        return List.copyOf(layers);
    }

    @Override
    public Tensor forward(Tensor src) {
        return forward(src, null, null);
    }

    /** As PyTorch's {@code forward(src, mask, src_key_padding_mask)}; either mask may be {@code null}. */
    public Tensor forward(Tensor src, Tensor mask, Tensor srcKeyPaddingMask) {
        Tensor x = src;
        for (TransformerEncoderLayer layer : layers) {
            x = layer.forward(x, mask, srcKeyPaddingMask);
        }
        return norm == null ? x : norm.call(x);
    }
}
