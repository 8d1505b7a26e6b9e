package dev.adjoint.nn;

import dev.adjoint.Tensor;

import java.util.List;

/** Gradient clipping, as {@code torch.nn.utils.clip_grad_norm_} and {@code clip_grad_value_}. */
public final class ClipGrad {
    private ClipGrad() {
    }

    /**
     * Scales every gradient by {@code min(1, maxNorm / (total + 1e-6))}, where {@code total} is the
     * 2-norm of all gradients together, and returns {@code total} (measured before clipping).
     * Parameters without a gradient are skipped. As PyTorch, the scale is applied even when it is 1,
     * and the 1e-6 keeps the result strictly below maxNorm.
     */
    public static double clipGradNorm(List<Tensor> parameters, double maxNorm) {
        if (!(maxNorm >= 0)) {
            throw new IllegalArgumentException("clipGradNorm: maxNorm must be non-negative, got " + maxNorm);
        }
        double sumOfSquares = 0.0;
        int withGrad = 0;
        try (var scope = Tensor.noGrad()) {
            for (Tensor p : parameters) {
                Tensor g = p.grad();
                if (g == null) {
                    continue;
                }
                withGrad++;
                // Per-tensor norms first, then the norm of the norms, as PyTorch; accumulated in double.
                double norm = g.detach().square().sum().sqrt().item();
                sumOfSquares += norm * norm;
            }
            if (withGrad == 0) {
                return 0.0;
            }
            double total = Math.sqrt(sumOfSquares);
            double coefficient = Math.min(1.0, maxNorm / (total + 1e-6));
            for (Tensor p : parameters) {
                Tensor g = p.grad();
                if (g != null) {
                    p.setGrad(g.detach().mul(coefficient));
                }
            }
            return total;
        }
    }

    /**
     * Clamps every gradient elementwise to {@code [-clipValue, clipValue]}, as
     * {@code clip_grad_value_}. Parameters without a gradient are skipped.
     */
    public static void clipGradValue(List<Tensor> parameters, double clipValue) {
        if (!(clipValue >= 0)) {
            throw new IllegalArgumentException("clipGradValue: clipValue must be non-negative, got " + clipValue);
        }
        try (var scope = Tensor.noGrad()) {
            for (Tensor p : parameters) {
                Tensor g = p.grad();
                if (g != null) {
                    p.setGrad(g.detach().clamp(-clipValue, clipValue));
                }
            }
        }
    }
}
