package dev.adjoint.nn;

import dev.adjoint.Tensor;

/**
 * A multi-layer gated recurrent unit over a sequence, as {@code nn.GRU}: {@link GRUCell}'s step
 * through time per layer (and backwards too when bidirectional), each layer and direction one
 * {@link RecurrentLayer} node, dropout between layers in training mode. Shapes, names and
 * initialisation as {@link LSTM}, with the single state h.
 */
public final class GRU extends RNNBase {
    /** The output sequence and the final hidden state. */
    public record Output(Tensor output, Tensor h) {
    }

    /** As {@code nn.GRU(input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional)}. */
    public GRU(int inputSize, int hiddenSize, int numLayers, boolean bias, boolean batchFirst, double dropout,
               boolean bidirectional, NnContext ctx) {
        super("GRU", 3, inputSize, hiddenSize, numLayers, bias, batchFirst, dropout, bidirectional, ctx);
    }

    /** One layer, with biases, sequence-first, unidirectional. */
    public GRU(int inputSize, int hiddenSize, NnContext ctx) {
        this(inputSize, hiddenSize, 1, true, false, 0.0, false, ctx);
    }

    /** The whole sequence from {@code h0} ({@code null} for zeros). */
    public Output forward(Tensor input, Tensor h0) {
        Tensor[] out = run(input, new Tensor[] {h0});
        return new Output(out[0], out[1]);
    }

    @Override
    RecurrentLayer.Cell cell() {
        return GRUCell.ARITHMETIC;
    }
}
