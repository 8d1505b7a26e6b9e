package dev.adjoint.nn;

import dev.adjoint.Functional;
import dev.adjoint.Generator;
import dev.adjoint.Tensor;
import dev.adjoint.TensorShapeException;
import dev.adjoint.autograd.ForwardAD;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * What {@link LSTM} and {@link GRU} share, as PyTorch's {@code RNNBase}: parameters per layer and
 * direction under PyTorch's names ({@code weight_ih_l0}, {@code weight_hh_l0}, {@code bias_ih_l0},
 * {@code bias_hh_l0}, then {@code ..._reverse} for the backward direction, then layer 1, ...), the
 * layout ({@code [L, N, in]}, {@code [N, L, in]} with {@code batchFirst}, or unbatched {@code [L, in]}),
 * the walk through layers and time, and dropout between layers. A subclass gives the cell's step.
 *
 * <p>Each layer projects its whole input sequence through {@code W_ih} in one matrix product, then steps
 * through time with {@code h W_hh^T}; the output of layer k (both directions concatenated along the
 * features) is the input of layer k + 1, after dropout in training mode.
 */
abstract class RNNBase extends Module {
    final String kind;
    final int inputSize;
    final int hiddenSize;
    final int numLayers;
    final boolean hasBias;
    final boolean batchFirst;
    final double dropout;
    final boolean bidirectional;
    private final Generator generator;

    RNNBase(String kind, int gates, int inputSize, int hiddenSize, int numLayers, boolean bias, boolean batchFirst,
            double dropout, boolean bidirectional, NnContext ctx) {
        checkSizes(kind, inputSize, hiddenSize);
        if (numLayers <= 0) {
            throw new IllegalArgumentException(kind + ": numLayers must be positive, got " + numLayers);
        }
        if (!(dropout >= 0 && dropout <= 1)) {
            throw new IllegalArgumentException(kind + ": dropout must be in [0, 1], got " + dropout);
        }
        this.kind = kind;
        this.inputSize = inputSize;
        this.hiddenSize = hiddenSize;
        this.numLayers = numLayers;
        this.hasBias = bias;
        this.batchFirst = batchFirst;
        this.dropout = dropout;
        this.bidirectional = bidirectional;
        this.generator = ctx.generator();
        for (int layer = 0; layer < numLayers; layer++) {
            int in = layer == 0 ? inputSize : hiddenSize * directions();
            for (int dir = 0; dir < directions(); dir++) {
                registerWeights(this, suffix(layer, dir), gates, in, hiddenSize, bias, ctx);
            }
        }
    }

    /** The cell's arithmetic, which each layer and direction steps through time. */
    abstract RecurrentLayer.Cell cell();

    /** How many tensors the state has: 1 (h) or 2 (h, c). */
    final int stateCount() {
        return cell().stateCount();
    }

    /**
     * One layer and direction over the whole sequence: {@code xGates} {@code [L, N, gates * H]} is the
     * projected input, {@code reverse} steps from the last time step to the first. Returns the outputs
     * {@code [L, N, H]} (in time order) followed by the final state: one {@link RecurrentLayer} node, or
     * inside a forward-mode dual level each step recorded op by op (their ops carry their own JVPs).
     */
    final Tensor[] layer(Tensor xGates, Tensor[] state, Tensor wHhT, Tensor bHh, boolean reverse) {
        if (!ForwardAD.isDualLevelOpen()) {
            Tensor[] inputs = new Tensor[2 + state.length + (bHh == null ? 0 : 1)];
            inputs[0] = xGates;
            System.arraycopy(state, 0, inputs, 1, state.length);
            inputs[1 + state.length] = wHhT;
            if (bHh != null) {
                inputs[2 + state.length] = bHh;
            }
            return new RecurrentLayer(cell(), reverse).apply(inputs);
        }
        Tensor[] steps = Unbind.of(xGates, 0);
        Tensor[] hs = new Tensor[steps.length];
        for (int s = 0; s < steps.length; s++) {
            int t = reverse ? steps.length - 1 - s : s;
            state = RecurrentLayer.step(cell(), steps[t], state, wHhT, bHh);
            hs[t] = state[0];
        }
        Tensor[] out = new Tensor[1 + state.length];
        out[0] = Tensor.stack(Arrays.asList(hs), 0);
        System.arraycopy(state, 0, out, 1, state.length);
        return out;
    }

    final int directions() {
        return bidirectional ? 2 : 1;
    }

    public int inputSize() {
        return inputSize;
    }

    public int hiddenSize() {
        return hiddenSize;
    }

    public int numLayers() {
        return numLayers;
    }

    public boolean bidirectional() {
        return bidirectional;
    }

    public boolean batchFirst() {
        return batchFirst;
    }

    /** The output sequence, from the zero state. */
    @Override
    public Tensor forward(Tensor input) {
        return run(input, new Tensor[stateCount()])[0];
    }

    /**
     * Runs the whole stack. {@code initial} holds one tensor per state kind ({@code [layers * directions, N,
     * H]}, or without N unbatched), entries {@code null} for zeros. Returns the output sequence followed by
     * the final states, in the same layout as the initial ones.
     */
    final Tensor[] run(Tensor input, Tensor[] initial) {
        if (input.rank() != 2 && input.rank() != 3 || input.size(-1) != inputSize) {
            throw new TensorShapeException(kind + ": input must be [L, N, " + inputSize + "], [N, L, " + inputSize
                    + "] (batchFirst) or unbatched [L, " + inputSize + "], got " + input.shape());
        }
        boolean batched = input.rank() == 3;
        if (input.size(batched && batchFirst ? 1 : 0) == 0) {
            throw new TensorShapeException(kind + ": the input sequence is empty (shape " + input.shape() + ")");
        }
        Tensor x = !batched ? input.unsqueeze(1) : batchFirst ? input.transpose(0, 1) : input;
        int batch = x.size(1);
        int stacked = numLayers * directions();
        // Per state kind, the initial state of each layer and direction, [N, H].
        Tensor[][] states = new Tensor[stateCount()][];
        String[] names = stateCount() == 1 ? new String[] {"h0"} : new String[] {"h0", "c0"};
        for (int k = 0; k < stateCount(); k++) {
            Tensor s = initial[k];
            if (s == null) {
                states[k] = new Tensor[stacked];
                Arrays.fill(states[k], Tensor.on(x.backend()).zeros(x.dtype(), batch, hiddenSize));
                continue;
            }
            int[] expected = batched ? new int[] {stacked, batch, hiddenSize} : new int[] {stacked, hiddenSize};
            if (!Arrays.equals(expected, s.shape().toArray())) {
                throw new TensorShapeException(kind + ": " + names[k] + " must have shape " + Arrays.toString(expected)
                        + " (layers * directions, " + (batched ? "N, " : "") + "H) for input shape " + input.shape()
                        + ", got " + s.shape());
            }
            states[k] = Unbind.of(batched ? s : s.unsqueeze(1), 0);
        }

        List<List<Tensor>> finals = new ArrayList<>();
        for (int k = 0; k < stateCount(); k++) {
            finals.add(new ArrayList<>());
        }
        Tensor layerInput = x;
        for (int layer = 0; layer < numLayers; layer++) {
            if (layer > 0 && isTraining() && dropout > 0) {
                layerInput = Dropout.apply(layerInput, dropout, generator);
            }
            Tensor[] outputs = new Tensor[directions()];
            for (int dir = 0; dir < directions(); dir++) {
                int index = layer * directions() + dir;
                Tensor[] state = new Tensor[stateCount()];
                for (int k = 0; k < stateCount(); k++) {
                    state[k] = states[k][index];
                }
                String sfx = suffix(layer, dir);
                Tensor xGates = Functional.linear(layerInput, parameter("weight_ih" + sfx), hasBias ? parameter("bias_ih" + sfx) : null);
                Tensor wHhT = parameter("weight_hh" + sfx).transpose(0, 1);
                Tensor bHh = hasBias ? parameter("bias_hh" + sfx) : null;
                Tensor[] layerOut = layer(xGates, state, wHhT, bHh, dir == 1);
                outputs[dir] = layerOut[0];
                for (int k = 0; k < stateCount(); k++) {
                    finals.get(k).add(layerOut[1 + k]);
                }
            }
            layerInput = directions() == 1 ? outputs[0] : Tensor.cat(Arrays.asList(outputs), 2);
        }

        Tensor[] result = new Tensor[1 + stateCount()];
        Tensor out = layerInput;
        result[0] = !batched ? out.squeeze(1) : batchFirst ? out.transpose(0, 1) : out;
        for (int k = 0; k < stateCount(); k++) {
            Tensor s = Tensor.stack(finals.get(k), 0);
            result[1 + k] = batched ? s : s.squeeze(1);
        }
        return result;
    }

    static String suffix(int layer, int direction) {
        return "_l" + layer + (direction == 1 ? "_reverse" : "");
    }

    /**
     * Registers {@code weight_ih}, {@code weight_hh} and (with bias) {@code bias_ih}, {@code bias_hh} with
     * {@code suffix}, each U(-1/sqrt(H), 1/sqrt(H)) in that order, as PyTorch's reset_parameters.
     */
    static void registerWeights(Module m, String suffix, int gates, int inputSize, int hiddenSize, boolean bias,
                                NnContext ctx) {
        var create = Tensor.on(ctx.backend());
        double bound = 1.0 / Math.sqrt(hiddenSize);
        m.registerParameter("weight_ih" + suffix, Init.uniform(create.zeros(ctx.dtype(), gates * hiddenSize, inputSize),
                -bound, bound, ctx.generator()));
        m.registerParameter("weight_hh" + suffix, Init.uniform(create.zeros(ctx.dtype(), gates * hiddenSize, hiddenSize),
                -bound, bound, ctx.generator()));
        if (bias) {
            m.registerParameter("bias_ih" + suffix, Init.uniform(create.zeros(ctx.dtype(), gates * hiddenSize),
                    -bound, bound, ctx.generator()));
            m.registerParameter("bias_hh" + suffix, Init.uniform(create.zeros(ctx.dtype(), gates * hiddenSize),
                    -bound, bound, ctx.generator()));
        }
    }

    static void checkSizes(String kind, int inputSize, int hiddenSize) {
        if (inputSize <= 0 || hiddenSize <= 0) {
            throw new IllegalArgumentException(kind + ": inputSize and hiddenSize must be positive, got " + inputSize
                    + " and " + hiddenSize);
        }
    }

    /** {@code x wT + b} with the weight already transposed. */
    static Tensor linearT(Tensor x, Tensor wT, Tensor b) {
        Tensor y = x.matmul(wT);
        return b == null ? y : y.add(b);
    }

    /** Zeros {@code [N, H]} like {@code x} ({@code [N, ...]}): a default initial state. */
    static Tensor zeroState(Tensor x, int hiddenSize) {
        return Tensor.on(x.backend()).zeros(x.dtype(), x.size(0), hiddenSize);
    }

    /** Whether a cell's input is batched ({@code [N, in]}) rather than {@code [in]}; checks its size. */
    static boolean checkCellInput(String kind, Tensor input, int inputSize) {
        if ((input.rank() != 1 && input.rank() != 2) || input.size(-1) != inputSize) {
            throw new TensorShapeException(kind + ": input must be [N, " + inputSize + "] or [" + inputSize + "], got "
                    + input.shape());
        }
        return input.rank() == 2;
    }

    /** A cell's state as {@code [N, H]}, checked against the input's batch. */
    static Tensor checkCellState(String kind, String name, Tensor state, boolean batched, int batch, int hiddenSize) {
        int[] expected = batched ? new int[] {batch, hiddenSize} : new int[] {hiddenSize};
        if (!Arrays.equals(expected, state.shape().toArray())) {
            throw new TensorShapeException(kind + ": " + name + " must have shape " + Arrays.toString(expected)
                    + ", got " + state.shape());
        }
        return batched ? state : state.unsqueeze(0);
    }

    @Override
    protected String describe() {
        return inputSize + ", " + hiddenSize + (numLayers != 1 ? ", num_layers=" + numLayers : "")
                + (hasBias ? "" : ", bias=False") + (batchFirst ? ", batch_first=True" : "")
                + (dropout != 0 ? ", dropout=" + dropout : "") + (bidirectional ? ", bidirectional=True" : "");
    }
}
