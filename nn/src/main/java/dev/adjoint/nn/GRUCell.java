package dev.adjoint.nn;

import dev.adjoint.Functional;
import dev.adjoint.Tensor;

import java.util.List;

/**
 * One step of a gated recurrent unit, as {@code nn.GRUCell}: from input {@code x} ({@code [N, in]} or
 * {@code [in]}) and hidden state {@code h},
 * <pre>
 *   r, z, n_x = split(x W_ih^T + b_ih, 3);   r_h, z_h, n_h = split(h W_hh^T + b_hh, 3)
 *   r = sigmoid(r + r_h);   z = sigmoid(z + z_h);   n = tanh(n_x + r n_h)
 *   h' = (1 - z) n + z h                       (computed as n + z (h - n), as PyTorch)
 * </pre>
 * Parameters {@code weight_ih} {@code [3H, in]}, {@code weight_hh} {@code [3H, H]}, {@code bias_ih},
 * {@code bias_hh} {@code [3H]} (gates reset, update, new), all U(-1/sqrt(H), 1/sqrt(H)) as PyTorch.
 */
public final class GRUCell extends Module {
    private final int inputSize;
    private final int hiddenSize;
    private final boolean hasBias;

    public GRUCell(int inputSize, int hiddenSize, boolean bias, NnContext ctx) {
        RNNBase.checkSizes("GRUCell", inputSize, hiddenSize);
        this.inputSize = inputSize;
        this.hiddenSize = hiddenSize;
        this.hasBias = bias;
        RNNBase.registerWeights(this, "", 3, inputSize, hiddenSize, bias, ctx);
    }

    public GRUCell(int inputSize, int hiddenSize, NnContext ctx) {
        this(inputSize, hiddenSize, true, ctx);
    }

    /** One step from the zero state. */
    @Override
    public Tensor forward(Tensor input) {
        return forward(input, null);
    }

    /** One step; {@code h} {@code null} means zeros. Returns h'. */
    public Tensor forward(Tensor input, Tensor h) {
        boolean batched = RNNBase.checkCellInput("GRUCell", input, inputSize);
        Tensor x = batched ? input : input.unsqueeze(0);
        Tensor state = h == null ? RNNBase.zeroState(x, hiddenSize)
                : RNNBase.checkCellState("GRUCell", "h", h, batched, x.size(0), hiddenSize);
        Tensor xGates = Functional.linear(x, parameter("weight_ih"), hasBias ? parameter("bias_ih") : null);
        Tensor next = step(xGates, state, parameter("weight_hh").transpose(0, 1), hasBias ? parameter("bias_hh") : null);
        return batched ? next : next.squeeze(0);
    }

    /** The cell's arithmetic, shared with {@link GRU}: {@code xGates} is {@code x W_ih^T + b_ih}. */
    static Tensor step(Tensor xGates, Tensor h, Tensor wHhT, Tensor bHh) {
        return RecurrentLayer.step(ARITHMETIC, xGates, new Tensor[] {h}, wHhT, bHh)[0];
    }

    /**
     * One step forward and backward. Activations {r, z, n, n_h, h'}; backward, from the gradient dh of h':
     * <pre>
     *   dn = dh (1 - z) (1 - n^2);   dz = dh (h - n) z (1 - z);   dr = dn n_h r (1 - r)
     *   through the input [dr, dz, dn];   through the hidden product [dr, dz, dn r];   dh_prev = dh z + ...
     * </pre>
     */
    static final RecurrentLayer.Cell ARITHMETIC = new RecurrentLayer.Cell() {
        @Override
        public int stateCount() {
            return 1;
        }

        @Override
        public Tensor[] activations(Tensor xGates, Tensor hGates, Tensor[] state) {
            Tensor[] xi = Unbind.of(xGates.reshape(xGates.size(0), 3, -1), 1);
            Tensor[] hh = Unbind.of(hGates.reshape(hGates.size(0), 3, -1), 1);
            Tensor r = xi[0].add(hh[0]).sigmoid();
            Tensor z = xi[1].add(hh[1]).sigmoid();
            Tensor n = xi[2].add(r.mul(hh[2])).tanh();
            return new Tensor[] {r, z, n, hh[2], n.add(z.mul(state[0].sub(n)))};
        }

        @Override
        public Tensor[] nextState(Tensor[] a) {
            return new Tensor[] {a[4]};
        }

        @Override
        public Tensor[] stepBackward(Tensor[] a, Tensor[] previous, Tensor[] dNext) {
            Tensor r = a[0];
            Tensor z = a[1];
            Tensor n = a[2];
            Tensor nh = a[3];
            Tensor dh = dNext[0];
            Tensor dn = dh.mul(z.neg().add(1.0)).mul(n.square().neg().add(1.0));
            Tensor dz = dh.mul(previous[0].sub(n)).mul(z.sub(z.square()));
            Tensor dr = dn.mul(nh).mul(r.sub(r.square()));
            Tensor throughInput = Tensor.cat(List.of(dr, dz, dn), 1);
            Tensor throughHidden = Tensor.cat(List.of(dr, dz, dn.mul(r)), 1);
            return new Tensor[] {throughInput, throughHidden, dh.mul(z)};
        }

        @Override
        public String nodeName() {
            return "GRUBackward";
        }
    };

    @Override
    protected String describe() {
        return inputSize + ", " + hiddenSize + (hasBias ? "" : ", bias=False");
    }
}
