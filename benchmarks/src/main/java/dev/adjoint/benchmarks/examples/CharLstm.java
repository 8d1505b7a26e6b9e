package dev.adjoint.benchmarks.examples;

import dev.adjoint.Tensor;
import dev.adjoint.nn.Embedding;
import dev.adjoint.nn.LSTM;
import dev.adjoint.nn.LSTMCell;
import dev.adjoint.nn.Linear;
import dev.adjoint.nn.Module;
import dev.adjoint.nn.NnContext;

/**
 * A character-level LSTM language model, written as its PyTorch version reads:
 * <pre>
 * class CharLSTM(nn.Module):
 *     def __init__(self, vocab, embed, hidden, layers, dropout):
 *         self.embed = nn.Embedding(vocab, embed)
 *         self.lstm = nn.LSTM(embed, hidden, layers, batch_first=True, dropout=dropout)
 *         self.head = nn.Linear(hidden, vocab)
 *
 *     def forward(self, tokens, state=None):          # [N, T]
 *         out, state = self.lstm(self.embed(tokens), state)
 *         return self.head(out), state                # logits [N, T, vocab]
 * </pre>
 */
final class CharLstm extends Module {
    private final Embedding embed;
    private final LSTM lstm;
    private final Linear head;

    /** The next-character logits {@code [N, T, vocab]} and the LSTM state after the last character. */
    record Output(Tensor logits, LSTMCell.State state) {
    }

    CharLstm(int vocab, int embedDim, int hidden, int layers, double dropout, NnContext ctx) {
        embed = registerModule("embed", new Embedding(vocab, embedDim, ctx));
        lstm = registerModule("lstm", new LSTM(embedDim, hidden, layers, true, true, dropout, false, ctx));
        head = registerModule("head", new Linear(hidden, vocab, ctx));
    }

    Output forward(Tensor tokens, LSTMCell.State state) {
        LSTM.Output out = lstm.forward(embed.call(tokens), state);
        return new Output(head.call(out.output()), out.state());
    }

    @Override
    public Tensor forward(Tensor tokens) {
        return forward(tokens, null).logits();
    }
}
