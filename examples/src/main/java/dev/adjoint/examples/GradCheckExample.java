package dev.adjoint.examples;

import dev.adjoint.DType;
import dev.adjoint.Generator;
import dev.adjoint.Tensor;
import dev.adjoint.check.GradCheck;
import dev.adjoint.check.GradCheckException;

import java.util.List;
import java.util.function.Function;

/**
 * Checking gradients against finite differences, as {@code torch.autograd.gradcheck}: the
 * analytical Jacobian (reverse mode) of a function of several tensors against central differences,
 * in FLOAT64; then the gradient of the gradient ({@code gradgradcheck}). A wrong backward formula
 * makes the check throw a {@link GradCheckException} naming the input and entry that disagree.
 */
public final class GradCheckExample {
    private GradCheckExample() {
    }

    public static void main(String[] args) {
        Generator generator = new Generator(3);
        Tensor w = Tensor.randn(generator, DType.FLOAT64, 4, 3).requiresGrad(true);
        Tensor x = Tensor.randn(generator, DType.FLOAT64, 5, 4).requiresGrad(true);
        // A small layer: softmax(tanh(x @ w) * x-dependent scale), reduced over rows.
        Function<List<Tensor>, Tensor> layer = in -> {
            Tensor h = in.get(1).matmul(in.get(0)).tanh();
            return h.mul(in.get(1).square().sum(1, true)).softmax(1).sum(0, false);
        };
        GradCheck.gradcheck("layer", layer, List.of(w, x), GradCheck.Options.defaults());
        System.out.println("gradcheck passed: reverse-mode Jacobian of layer(w, x) matches central differences");
        GradCheck.gradgradcheck("layer", layer, List.of(w, x), GradCheck.Options.defaults());
        System.out.println("gradgradcheck passed: so do the gradients of its gradients");

        // A function with a wrong derivative, made with detach(): x * detach(x) pretends d/dx = x, not 2x.
        Function<List<Tensor>, Tensor> wrong = in -> in.get(0).mul(in.get(0).detach()).sum();
        try {
            GradCheck.gradcheck("x * detach(x)", wrong, List.of(x), GradCheck.Options.defaults());
            throw new IllegalStateException("gradcheck should have caught x * detach(x)");
        } catch (GradCheckException e) {
            System.out.println("and it catches a wrong one: " + e.getMessage().lines().findFirst().orElse(""));
        }
    }
}
