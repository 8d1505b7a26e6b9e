package dev.adjoint.nn;

import dev.adjoint.Tensor;

/**
 * A multi-layer long short-term memory over a sequence, as {@code nn.LSTM}: each layer runs
 * {@link LSTMCell}'s step through time (and, when bidirectional, a second cell backwards, its outputs
 * concatenated to the forward ones), the next layer reading the previous one's outputs, with dropout
 * between layers in training mode (from the context's generator).
 *
 * <p>Shapes as PyTorch's: input {@code [L, N, in]} ({@code [N, L, in]} with {@code batchFirst}, or
 * unbatched {@code [L, in]}); states h and c {@code [layers * directions, N, H]} ({@code [layers *
 * directions, H]} unbatched) whatever {@code batchFirst}; output {@code [L, N, directions * H]}. Parameter
 * names and initialisation are PyTorch's (see {@link RNNBase}), so a PyTorch state dict loads as is.
 * PyTorch's {@code proj_size} is not supported.
 *
 * <p>Each layer and direction runs as one {@link RecurrentLayer} node rather than a dozen recorded ops
 * per time step.
 */
public final class LSTM extends RNNBase {
    /** The output sequence and the final state. */
    public record Output(Tensor output, LSTMCell.State state) {
    }

    /** As {@code nn.LSTM(input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional)}. */
    public LSTM(int inputSize, int hiddenSize, int numLayers, boolean bias, boolean batchFirst, double dropout,
                boolean bidirectional, NnContext ctx) {
        super("LSTM", 4, inputSize, hiddenSize, numLayers, bias, batchFirst, dropout, bidirectional, ctx);
    }

    /** One layer, with biases, sequence-first, unidirectional. */
    public LSTM(int inputSize, int hiddenSize, NnContext ctx) {
        this(inputSize, hiddenSize, 1, true, false, 0.0, false, ctx);
    }

    /** The whole sequence from {@code state} ({@code null}, or either tensor {@code null}, for zeros). */
    public Output forward(Tensor input, LSTMCell.State state) {
        Tensor[] out = run(input, state == null ? new Tensor[2] : new Tensor[] {state.h(), state.c()});
        return new Output(out[0], new LSTMCell.State(out[1], out[2]));
    }

    @Override
    RecurrentLayer.Cell cell() {
        return LSTMCell.ARITHMETIC;
    }
}
