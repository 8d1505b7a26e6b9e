package dev.adjoint.nn;

import dev.adjoint.Functional;
import dev.adjoint.Tensor;

import java.util.List;

/**
 * One step of a long short-term memory, as {@code nn.LSTMCell}: from input {@code x} ({@code [N, in]} or
 * {@code [in]}) and state {@code (h, c)},
 * <pre>
 *   i, f, g, o = split(x W_ih^T + b_ih + h W_hh^T + b_hh, 4)
 *   c' = sigmoid(f) c + sigmoid(i) tanh(g)
 *   h' = sigmoid(o) tanh(c')
 * </pre>
 * Parameters {@code weight_ih} {@code [4H, in]}, {@code weight_hh} {@code [4H, H]}, {@code bias_ih},
 * {@code bias_hh} {@code [4H]}, gates in PyTorch's order (input, forget, cell, output), all initialised
 * U(-1/sqrt(H), 1/sqrt(H)) as PyTorch.
 */
public final class LSTMCell extends Module {
    private final int inputSize;
    private final int hiddenSize;
    private final boolean hasBias;

    /** The hidden and cell state, each {@code [N, H]} (or {@code [H]} unbatched). */
    public record State(Tensor h, Tensor c) {
    }

    public LSTMCell(int inputSize, int hiddenSize, boolean bias, NnContext ctx) {
        RNNBase.checkSizes("LSTMCell", inputSize, hiddenSize);
        this.inputSize = inputSize;
        this.hiddenSize = hiddenSize;
        this.hasBias = bias;
        RNNBase.registerWeights(this, "", 4, inputSize, hiddenSize, bias, ctx);
    }

    public LSTMCell(int inputSize, int hiddenSize, NnContext ctx) {
        this(inputSize, hiddenSize, true, ctx);
    }

    /** One step from the zero state; returns h'. */
    @Override
    public Tensor forward(Tensor input) {
        return forward(input, null).h();
    }

    /** One step; {@code state} {@code null} means zeros. */
    public State forward(Tensor input, State state) {
        boolean batched = RNNBase.checkCellInput("LSTMCell", input, inputSize);
        Tensor x = batched ? input : input.unsqueeze(0);
        Tensor h;
        Tensor c;
        if (state == null) {
            h = RNNBase.zeroState(x, hiddenSize);
            c = h;
        } else {
            h = RNNBase.checkCellState("LSTMCell", "h", state.h(), batched, x.size(0), hiddenSize);
            c = RNNBase.checkCellState("LSTMCell", "c", state.c(), batched, x.size(0), hiddenSize);
        }
        Tensor xGates = Functional.linear(x, parameter("weight_ih"), hasBias ? parameter("bias_ih") : null);
        Tensor[] next = step(xGates, h, c, parameter("weight_hh").transpose(0, 1), hasBias ? parameter("bias_hh") : null);
        return batched ? new State(next[0], next[1]) : new State(next[0].squeeze(0), next[1].squeeze(0));
    }

    /**
     * The cell's arithmetic, shared with {@link LSTM}: {@code xGates} is {@code x W_ih^T + b_ih}
     * ({@code [N, 4H]}), {@code wHhT} the transposed hidden weight; returns {h', c'}.
     */
    static Tensor[] step(Tensor xGates, Tensor h, Tensor c, Tensor wHhT, Tensor bHh) {
        return RecurrentLayer.step(ARITHMETIC, xGates, new Tensor[] {h, c}, wHhT, bHh);
    }

    /**
     * One step forward and backward. Activations {i, f, g, o, c', tanh(c'), h'}; backward, from the
     * gradients of h' and c' (dh, dc):
     * <pre>
     *   dc += dh o (1 - tanh(c')^2)
     *   di = dc g i (1 - i);   df = dc c f (1 - f);   dg = dc i (1 - g^2);   do = dh tanh(c') o (1 - o)
     *   the gates' gradient [di, df, dg, do] for both the input and the hidden product;   dc_prev = dc f
     * </pre>
     */
    static final RecurrentLayer.Cell ARITHMETIC = new RecurrentLayer.Cell() {
        @Override
        public int stateCount() {
            return 2;
        }

        @Override
        public Tensor[] activations(Tensor xGates, Tensor hGates, Tensor[] state) {
            Tensor gates = xGates.add(hGates);
            Tensor[] chunks = Unbind.of(gates.reshape(gates.size(0), 4, -1), 1);
            Tensor i = chunks[0].sigmoid();
            Tensor f = chunks[1].sigmoid();
            Tensor g = chunks[2].tanh();
            Tensor o = chunks[3].sigmoid();
            Tensor cNext = f.mul(state[1]).add(i.mul(g));
            Tensor tanhC = cNext.tanh();
            return new Tensor[] {i, f, g, o, cNext, tanhC, o.mul(tanhC)};
        }

        @Override
        public Tensor[] nextState(Tensor[] a) {
            return new Tensor[] {a[6], a[4]};
        }

        @Override
        public Tensor[] stepBackward(Tensor[] a, Tensor[] previous, Tensor[] dNext) {
            Tensor i = a[0];
            Tensor f = a[1];
            Tensor g = a[2];
            Tensor o = a[3];
            Tensor tanhC = a[5];
            Tensor dh = dNext[0];
            Tensor dc = dNext[1].add(dh.mul(o).mul(tanhC.square().neg().add(1.0)));
            Tensor di = dc.mul(g).mul(i.sub(i.square()));
            Tensor df = dc.mul(previous[1]).mul(f.sub(f.square()));
            Tensor dg = dc.mul(i).mul(g.square().neg().add(1.0));
            Tensor dO = dh.mul(tanhC).mul(o.sub(o.square()));
            Tensor dGates = Tensor.cat(List.of(di, df, dg, dO), 1);
            return new Tensor[] {dGates, dGates, null, dc.mul(f)};
        }

        @Override
        public String nodeName() {
            return "LSTMBackward";
        }
    };

    @Override
    protected String describe() {
        return inputSize + ", " + hiddenSize + (hasBias ? "" : ", bias=False");
    }
}
