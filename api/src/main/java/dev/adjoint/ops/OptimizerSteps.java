package dev.adjoint.ops;

import dev.adjoint.DType;
import dev.adjoint.Tensor;
import dev.adjoint.spi.FusedKernels;
import dev.adjoint.spi.FusedKernels.Kernel;

import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Set;

/**
 * The optimizers' parameter updates as one pass of a backend's fused kernel
 * ({@link FusedKernels#sgdStep}, {@link FusedKernels#adamStep}) instead of a chain of in-place ops: what
 * {@code dev.adjoint.nn.optim} runs when {@link #fusable} says the kernel applies, and composes from
 * {@code mul_}, {@code add_}, ... otherwise. The result is the composition's bit for bit (the kernels'
 * contract), so whether a backend fuses never changes a trained model. Every tensor written is marked
 * modified in place, as the in-place ops mark it, and the same rules hold: no graph may be recorded for
 * them (optimizers run inside {@code Tensor.noGrad()}).
 */
public final class OptimizerSteps {
    private OptimizerSteps() {
    }

    /**
     * Whether the fused {@code update} ({@link Kernel#SGD_STEP} or {@link Kernel#ADAM_STEP}) applies: the
     * parameter's backend offers it for the parameter's dtype, and the parameter, its gradient and its state
     * tensors (nulls are skipped) are contiguous, of the parameter's floating dtype, shape and backend, each
     * in a storage of its own (a gradient that shares the parameter's memory would be read after it is
     * written).
     */
    public static boolean fusable(Kernel update, Tensor param, Tensor grad, Tensor... state) {
        DType dtype = param.dtype();
        if (!dtype.isFloatingPoint() || FusedKernels.offered(param.backend(), update, dtype) == null
                || !fits(param, param) || !fits(param, grad)) {
            return false;
        }
        Set<Object> storages = Collections.newSetFromMap(new IdentityHashMap<>());
        storages.add(param.storage());
        if (!storages.add(grad.storage())) {
            return false;
        }
        for (Tensor s : state) {
            if (s != null && (!fits(param, s) || !storages.add(s.storage()))) {
                return false;
            }
        }
        return true;
    }

    private static boolean fits(Tensor param, Tensor t) {
        return t.backend() == param.backend() && t.dtype() == param.dtype() && t.shape().equals(param.shape())
                && t.isContiguous();
    }

    /**
     * One SGD step in place, as {@link FusedKernels#sgdStep}: {@code momentumBuffer} is null when
     * {@code momentum} is 0, and written only (to {@code d}) on the {@code firstStep}. Call only when
     * {@link #fusable}{@code (SGD_STEP, param, grad, momentumBuffer)}.
     */
    public static void sgd(Tensor param, Tensor grad, Tensor momentumBuffer, double lr, double momentum,
                           double dampening, double weightDecay, boolean nesterov, boolean firstStep) {
        check("SGD.step", Kernel.SGD_STEP, param, grad, momentumBuffer);
        if (param.numel() > 0) {
            param.backend().fused().sgdStep(param.storage(), param.layout().offset(), grad.storage(),
                    grad.layout().offset(), momentumBuffer == null ? null : momentumBuffer.storage(),
                    momentumBuffer == null ? 0 : momentumBuffer.layout().offset(), param.numel(), lr, momentum,
                    dampening, weightDecay, nesterov, firstStep);
        }
        Dispatch.markModifiedInPlace(param);
        if (momentumBuffer != null) {
            Dispatch.markModifiedInPlace(momentumBuffer);
        }
    }

    /**
     * One Adam or AdamW step in place, as {@link FusedKernels#adamStep}; {@code maxExpAvgSq} is null
     * without amsgrad. Call only when
     * {@link #fusable}{@code (ADAM_STEP, param, grad, expAvg, expAvgSq, maxExpAvgSq)}.
     */
    public static void adam(Tensor param, Tensor grad, Tensor expAvg, Tensor expAvgSq, Tensor maxExpAvgSq, double lr,
                            double beta1, double beta2, double eps, double weightDecay, boolean decoupled,
                            double stepSize, double biasCorrection2Sqrt) {
        String op = decoupled ? "AdamW.step" : "Adam.step";
        check(op, Kernel.ADAM_STEP, param, grad, expAvg, expAvgSq, maxExpAvgSq);
        if (param.numel() > 0) {
            param.backend().fused().adamStep(param.storage(), param.layout().offset(), grad.storage(),
                    grad.layout().offset(), expAvg.storage(), expAvg.layout().offset(), expAvgSq.storage(),
                    expAvgSq.layout().offset(), maxExpAvgSq == null ? null : maxExpAvgSq.storage(),
                    maxExpAvgSq == null ? 0 : maxExpAvgSq.layout().offset(), param.numel(), lr, beta1, beta2, eps,
                    weightDecay, decoupled, stepSize, biasCorrection2Sqrt);
        }
        Dispatch.markModifiedInPlace(param);
        Dispatch.markModifiedInPlace(expAvg);
        Dispatch.markModifiedInPlace(expAvgSq);
        if (maxExpAvgSq != null) {
            Dispatch.markModifiedInPlace(maxExpAvgSq);
        }
    }

    /** The in-place ops' rules, and the kernel's preconditions, with the optimizer's name in the message. */
    private static void check(String op, Kernel update, Tensor param, Tensor grad, Tensor... state) {
        if (!fusable(update, param, grad, state)) {
            throw new IllegalArgumentException(op + ": no fused update for the " + param.dtype() + " parameter of shape "
                    + param.shape() + " on '" + param.backend().name() + "' with its " + grad.dtype() + " gradient of shape "
                    + grad.shape() + " (it needs the backend's fused kernels and contiguous tensors of one floating dtype "
                    + "and shape in storages of their own); check fusable() first");
        }
        InPlaceOps.checkUpdatable(op, param, grad);
        for (Tensor s : state) {
            if (s != null) {
                InPlaceOps.checkUpdatable(op, s, grad);
            }
        }
    }
}
