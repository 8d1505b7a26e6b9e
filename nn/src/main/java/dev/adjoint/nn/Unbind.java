package dev.adjoint.nn;

import dev.adjoint.Tensor;
import dev.adjoint.autograd.Function;
import dev.adjoint.autograd.FunctionContext;

import java.util.Arrays;

/**
 * The slices of a tensor along a dimension, as {@code torch.unbind}, with one backward node for all of
 * them: the gradient is the stack of the slices' gradients. Recurrent layers step through a sequence
 * slice by slice; with a narrow per step, each backward would pad its slice's gradient back to the whole
 * sequence, T^2 work for T steps. (To be replaced by the Tensor op when the api has it.)
 */
final class Unbind extends Function {
    private final int dim;

    private Unbind(int dim) {
        this.dim = dim;
    }

    /** The {@code x.size(dim)} slices of {@code x} along {@code dim}, each without that dimension. */
    static Tensor[] of(Tensor x, int dim) {
        int d = x.shape().normalizeDim(dim, "unbind");
        if (x.size(d) == 0) {
            return new Tensor[0];
        }
        return new Unbind(d).apply(x);
    }

    @Override
    protected Tensor[] forward(FunctionContext ctx, Tensor... in) {
        Tensor x = in[0];
        Tensor[] slices = new Tensor[x.size(dim)];
        for (int i = 0; i < slices.length; i++) {
            slices[i] = x.narrow(dim, i, 1).squeeze(dim);
        }
        return slices;
    }

    @Override
    protected Tensor[] backward(FunctionContext ctx, Tensor... grad) {
        return new Tensor[] {Tensor.stack(Arrays.asList(grad), dim)};
    }

    @Override
    protected Tensor[] jvp(FunctionContext ctx, Tensor... tangent) {
        return of(tangent[0], dim);
    }

    @Override
    protected String name() {
        return "UnbindBackward";
    }
}
