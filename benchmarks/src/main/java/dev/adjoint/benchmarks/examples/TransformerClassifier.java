package dev.adjoint.benchmarks.examples;

import dev.adjoint.Tensor;
import dev.adjoint.nn.Embedding;
import dev.adjoint.nn.Init;
import dev.adjoint.nn.LayerNorm;
import dev.adjoint.nn.Linear;
import dev.adjoint.nn.Module;
import dev.adjoint.nn.NnContext;
import dev.adjoint.nn.TransformerEncoder;
import dev.adjoint.nn.TransformerEncoderLayer;

/**
 * A small transformer-encoder classifier, written as its PyTorch version reads:
 * <pre>
 * class TransformerClassifier(nn.Module):
 *     def __init__(self, vocab, max_len, d_model, heads, ff, layers, classes, dropout):
 *         self.embed = nn.Embedding(vocab, d_model)
 *         self.pos = nn.Parameter(torch.randn(max_len, d_model) * 0.02)
 *         layer = nn.TransformerEncoderLayer(d_model, heads, ff, dropout, activation="gelu",
 *                                            batch_first=True, norm_first=True)
 *         self.encoder = nn.TransformerEncoder(layer, layers, norm=nn.LayerNorm(d_model))
 *         self.head = nn.Linear(d_model, classes)
 *
 *     def forward(self, tokens):                       # [N, L], PAD = 0
 *         padding = tokens == PAD
 *         x = self.embed(tokens) + self.pos[:tokens.size(1)]
 *         x = self.encoder(x, src_key_padding_mask=padding)
 *         keep = (~padding).unsqueeze(2).float()
 *         return self.head((x * keep).sum(1) / keep.sum(1))   # mean over the real tokens
 * </pre>
 */
final class TransformerClassifier extends Module {
    private final Embedding embed;
    private final TransformerEncoder encoder;
    private final Linear head;

    TransformerClassifier(int vocab, int maxLen, int dModel, int heads, int ff, int layers, int classes, double dropout,
                          NnContext ctx) {
        embed = registerModule("embed", new Embedding(vocab, dModel, ctx));
        registerParameter("pos", Init.normal(Tensor.on(ctx.backend()).zeros(ctx.dtype(), maxLen, dModel), 0.0, 0.02,
                ctx.generator()));
        encoder = registerModule("encoder", new TransformerEncoder(() -> new TransformerEncoderLayer(dModel, heads, ff,
                dropout, TransformerEncoderLayer.Activation.GELU, 1e-5, true, true, ctx), layers, new LayerNorm(dModel, ctx)));
        head = registerModule("head", new Linear(dModel, classes, ctx));
    }

    @Override
    public Tensor forward(Tensor tokens) {
        Tensor padding = tokens.eq(SequenceOrderTask.PAD);
        Tensor x = embed.call(tokens).add(parameter("pos").narrow(0, 0, tokens.size(1)));
        x = encoder.forward(x, null, padding);
        Tensor keep = padding.eq(0).toType(x.dtype()).unsqueeze(2);
        return head.call(x.mul(keep).sum(1, false).div(keep.sum(1, false)));
    }
}
