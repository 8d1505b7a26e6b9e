package dev.adjoint.nn;

import dev.adjoint.Functional;
import dev.adjoint.Tensor;
import dev.adjoint.autograd.ForwardAD;
import dev.adjoint.autograd.Function;
import dev.adjoint.autograd.FunctionContext;
import dev.adjoint.autograd.GradMode;

import java.util.Arrays;
import java.util.List;

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
 * <p>Each layer and direction runs as one {@link Layer} node rather than a dozen recorded ops per time
 * step: its backward walks back through time itself and forms the hidden weight's gradient as one
 * product over all steps ({@code [H, L N] @ [L N, 4H]}) instead of L products of inner size N summed
 * into it one by one.
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
    int stateCount() {
        return 2;
    }

    @Override
    Tensor[] step(Tensor xGates, Tensor[] state, Tensor wHhT, Tensor bHh) {
        return LSTMCell.step(xGates, state[0], state[1], wHhT, bHh);
    }

    @Override
    Tensor[] layer(Tensor xGates, Tensor[] state, Tensor wHhT, Tensor bHh, boolean reverse) {
        if (ForwardAD.isDualLevelOpen()) {
            // Forward mode goes through the recorded steps, whose ops carry their own JVPs.
            return super.layer(xGates, state, wHhT, bHh, reverse);
        }
        Tensor[] inputs = bHh == null ? new Tensor[] {xGates, state[0], state[1], wHhT}
                : new Tensor[] {xGates, state[0], state[1], wHhT, bHh};
        return new Layer(reverse).apply(inputs);
    }

    /**
     * One layer and direction through time as a single node: inputs {@code xGates} {@code [L, N, 4H]},
     * h0, c0 {@code [N, H]}, {@code W_hh^T} {@code [H, 4H]} and optionally {@code b_hh}; outputs h for
     * every step {@code [L, N, H]} and the final h and c. Forward computes each step as
     * {@link LSTMCell#step} does and keeps the gates and cell states; backward runs the chain rule
     * step by step for the gates' gradients, the only part that is sequential, then the hidden
     * weight's and bias's gradients in one product and one sum over all steps. A recorded backward
     * (createGraph) recomputes the steps with recording on, so that its gradients are differentiable
     * functions of the inputs.
     */
    private static final class Layer extends Function {
        private final boolean reverse;

        Layer(boolean reverse) {
            this.reverse = reverse;
        }

        @Override
        protected Tensor[] forward(FunctionContext ctx, Tensor... in) {
            ctx.saveForBackward(in);
            Tensor[][] saved = steps(in);
            ctx.put("steps", saved);
            int length = saved.length;
            Tensor[] hs = new Tensor[length];
            for (int t = 0; t < length; t++) {
                hs[t] = saved[t][6];
            }
            int last = reverse ? 0 : length - 1;
            return new Tensor[] {Tensor.stack(Arrays.asList(hs), 0), saved[last][6], saved[last][4]};
        }

        /** Runs the steps; per time step {i, f, g, o, c, tanh(c), h}. */
        private Tensor[][] steps(Tensor[] in) {
            Tensor xGates = in[0];
            // W_hh^T is a transposed view; one row-major copy for all steps spares each step's product
            // a transposing pack of it. Each step's product is then a linear op with this copy's
            // transpose as its weight, which adds b_hh as it writes.
            Tensor wHh = in[3].contiguous().transpose(0, 1);
            Tensor bHh = in.length > 4 ? in[4] : null;
            int length = xGates.size(0);
            Tensor[][] acts = new Tensor[length][];
            Tensor h = in[1];
            Tensor c = in[2];
            for (int s = 0; s < length; s++) {
                int t = reverse ? length - 1 - s : s;
                Tensor gates = xGates.narrow(0, t, 1).squeeze(0).add(Functional.linear(h, wHh, bHh));
                acts[t] = LSTMCell.activations(gates, c);
                c = acts[t][4];
                h = acts[t][6];
            }
            return acts;
        }

        @Override
        protected Tensor[] backward(FunctionContext ctx, Tensor... grad) {
            Tensor[] in = ctx.savedTensors().toArray(new Tensor[0]);
            Tensor[][] acts = GradMode.isEnabled() ? steps(in) : ctx.<Tensor[][]>get("steps");
            Tensor h0 = in[1];
            Tensor c0 = in[2];
            Tensor wHh = in[3].transpose(0, 1);
            int length = acts.length;
            Tensor[] dGates = new Tensor[length];
            Tensor[] hPrev = new Tensor[length];
            Tensor dh = grad[1];
            Tensor dc = grad[2];
            for (int s = 0; s < length; s++) {
                int t = reverse ? s : length - 1 - s;
                int previous = reverse ? t + 1 : t - 1;
                boolean first = previous < 0 || previous >= length;
                Tensor[] a = acts[t];
                Tensor i = a[0];
                Tensor f = a[1];
                Tensor g = a[2];
                Tensor o = a[3];
                Tensor tanhC = a[5];
                Tensor cPrev = first ? c0 : acts[previous][4];
                hPrev[t] = first ? h0 : acts[previous][6];
                Tensor dhT = grad[0].narrow(0, t, 1).squeeze(0).add(dh);
                dc = dc.add(dhT.mul(o).mul(tanhC.square().neg().add(1.0)));
                Tensor di = dc.mul(g).mul(i.sub(i.square()));
                Tensor df = dc.mul(cPrev).mul(f.sub(f.square()));
                Tensor dg = dc.mul(i).mul(g.square().neg().add(1.0));
                Tensor dO = dhT.mul(tanhC).mul(o.sub(o.square()));
                dGates[t] = Tensor.cat(List.of(di, df, dg, dO), 1);
                dh = dGates[t].matmul(wHh);
                dc = dc.mul(f);
            }
            Tensor dAll = Tensor.stack(Arrays.asList(dGates), 0);
            Tensor[] out = new Tensor[in.length];
            out[0] = ctx.needsInputGrad(0) ? dAll : null;
            out[1] = ctx.needsInputGrad(1) ? dh : null;
            out[2] = ctx.needsInputGrad(2) ? dc : null;
            Tensor dFlat = dAll.reshape(-1, dAll.size(2));
            if (ctx.needsInputGrad(3)) {
                Tensor hFlat = Tensor.stack(Arrays.asList(hPrev), 0).reshape(-1, h0.size(1));
                out[3] = hFlat.transpose(0, 1).matmul(dFlat);
            }
            if (in.length > 4 && ctx.needsInputGrad(4)) {
                out[4] = dFlat.sum(0, false);
            }
            return out;
        }

        @Override
        protected String name() {
            return "LSTMBackward";
        }
    }
}
