package dev.adjoint.nn;

import dev.adjoint.Functional;
import dev.adjoint.Tensor;
import dev.adjoint.autograd.Function;
import dev.adjoint.autograd.FunctionContext;
import dev.adjoint.autograd.GradMode;

import java.util.Arrays;

/**
 * One layer and direction of a recurrent network through time as a single autograd node, rather than
 * a dozen recorded ops per time step. Inputs: the projected input {@code xGates} {@code [L, N, gates H]},
 * the initial state (h, and c for an LSTM, each {@code [N, H]}), {@code W_hh^T} {@code [H, gates H]} and
 * optionally {@code b_hh}; outputs: h at every step {@code [L, N, H]} in time order, then the final state.
 *
 * <p>Forward runs the {@link Cell}'s step through time and keeps each step's activations. Backward
 * walks back through time for the gates' gradients, the only part that is sequential, then forms the
 * hidden weight's gradient as one product over all steps ({@code [H, L N] @ [L N, gates H]}) and the
 * hidden bias's as one sum, instead of L products of inner size N added into them one by one. A
 * recorded backward (createGraph) recomputes the steps with recording on, so that its gradients are
 * differentiable functions of the inputs.
 */
final class RecurrentLayer extends Function {
    /** A recurrent cell's arithmetic, forward and backward, for one time step. */
    interface Cell {
        /** The tensors of the state: 1 (h) or 2 (h, c); h first. */
        int stateCount();

        /**
         * One step's activations from its projected input {@code xGates} ({@code [N, gates H]}), the hidden
         * product {@code hGates} ({@code h W_hh^T + b_hh}) and the state: all the backward needs of it.
         */
        Tensor[] activations(Tensor xGates, Tensor hGates, Tensor[] state);

        /** The state after a step, within its activations; h first. */
        Tensor[] nextState(Tensor[] activations);

        /**
         * The chain rule through one step, from its activations, the state before it and the gradient of
         * the state after it: {the gradient of xGates, the gradient of hGates, then per state tensor the
         * gradient of the state before except for the hidden product's term (null for none)}.
         */
        Tensor[] stepBackward(Tensor[] activations, Tensor[] previous, Tensor[] dNext);

        /** The node's name in the graph, as PyTorch's ({@code LSTMBackward}). */
        String nodeName();
    }

    private final Cell cell;
    private final boolean reverse;

    RecurrentLayer(Cell cell, boolean reverse) {
        this.cell = cell;
        this.reverse = reverse;
    }

    /** One step of {@code cell} recorded op by op: the next state. */
    static Tensor[] step(Cell cell, Tensor xGates, Tensor[] state, Tensor wHhT, Tensor bHh) {
        return cell.nextState(cell.activations(xGates, RNNBase.linearT(state[0], wHhT, bHh), state));
    }

    @Override
    protected Tensor[] forward(FunctionContext ctx, Tensor... in) {
        ctx.saveForBackward(in);
        Tensor[][] acts = steps(in);
        ctx.put("steps", acts);
        int length = acts.length;
        Tensor[] hs = new Tensor[length];
        for (int t = 0; t < length; t++) {
            hs[t] = cell.nextState(acts[t])[0];
        }
        Tensor[] last = cell.nextState(acts[reverse ? 0 : length - 1]);
        Tensor[] out = new Tensor[1 + last.length];
        out[0] = Tensor.stack(Arrays.asList(hs), 0);
        System.arraycopy(last, 0, out, 1, last.length);
        return out;
    }

    /** Runs the steps; per time step, the cell's activations. */
    private Tensor[][] steps(Tensor[] in) {
        int states = cell.stateCount();
        Tensor xGates = in[0];
        // W_hh^T is a transposed view; one row-major copy for all steps spares each step's product a
        // transposing pack of it. Each step's product is then a linear op with this copy's transpose
        // as its weight, which adds b_hh as it writes.
        Tensor wHh = in[1 + states].contiguous().transpose(0, 1);
        Tensor bHh = in.length > 2 + states ? in[2 + states] : null;
        int length = xGates.size(0);
        Tensor[][] acts = new Tensor[length][];
        Tensor[] state = Arrays.copyOfRange(in, 1, 1 + states);
        for (int s = 0; s < length; s++) {
            int t = reverse ? length - 1 - s : s;
            Tensor hGates = Functional.linear(state[0], wHh, bHh);
            acts[t] = cell.activations(xGates.narrow(0, t, 1).squeeze(0), hGates, state);
            state = cell.nextState(acts[t]);
        }
        return acts;
    }

    @Override
    protected Tensor[] backward(FunctionContext ctx, Tensor... grad) {
        int states = cell.stateCount();
        Tensor[] in = ctx.savedTensors().toArray(new Tensor[0]);
        Tensor[][] acts = GradMode.isEnabled() ? steps(in) : ctx.<Tensor[][]>get("steps");
        Tensor[] initial = Arrays.copyOfRange(in, 1, 1 + states);
        Tensor wHh = in[1 + states].transpose(0, 1);
        int length = acts.length;
        Tensor[] dxGates = new Tensor[length];
        Tensor[] dhGates = new Tensor[length];
        Tensor[] hPrev = new Tensor[length];
        Tensor[] dState = Arrays.copyOfRange(grad, 1, 1 + states);
        for (int s = 0; s < length; s++) {
            int t = reverse ? s : length - 1 - s;
            int previous = reverse ? t + 1 : t - 1;
            Tensor[] before = previous < 0 || previous >= length ? initial : cell.nextState(acts[previous]);
            hPrev[t] = before[0];
            Tensor[] dNext = dState.clone();
            dNext[0] = grad[0].narrow(0, t, 1).squeeze(0).add(dState[0]);
            Tensor[] d = cell.stepBackward(acts[t], before, dNext);
            dxGates[t] = d[0];
            dhGates[t] = d[1];
            dState = Arrays.copyOfRange(d, 2, 2 + states);
            Tensor throughProduct = d[1].matmul(wHh);
            dState[0] = dState[0] == null ? throughProduct : dState[0].add(throughProduct);
        }
        Tensor dAll = Tensor.stack(Arrays.asList(dhGates), 0);
        Tensor[] out = new Tensor[in.length];
        if (ctx.needsInputGrad(0)) {
            // An LSTM's gates take the same gradient through the input and the hidden product.
            out[0] = Arrays.equals(dxGates, dhGates) ? dAll : Tensor.stack(Arrays.asList(dxGates), 0);
        }
        for (int k = 0; k < states; k++) {
            out[1 + k] = ctx.needsInputGrad(1 + k) ? dState[k] : null;
        }
        Tensor dFlat = dAll.reshape(-1, dAll.size(2));
        if (ctx.needsInputGrad(1 + states)) {
            Tensor hFlat = Tensor.stack(Arrays.asList(hPrev), 0).reshape(-1, initial[0].size(1));
            out[1 + states] = hFlat.transpose(0, 1).matmul(dFlat);
        }
        if (in.length > 2 + states && ctx.needsInputGrad(2 + states)) {
            out[2 + states] = dFlat.sum(0, false);
        }
        return out;
    }

    @Override
    protected String name() {
        return cell.nodeName();
    }
}
