package dev.adjoint.spark;

import dev.adjoint.DType;
import dev.adjoint.DTypeMismatchException;
import dev.adjoint.Tensor;
import dev.adjoint.spark.collective.ReduceBuffer;
import dev.adjoint.spi.Backend;
import dev.adjoint.spi.heap.HeapStorage;

import java.util.List;

/**
 * A list of tensors of one dtype and backend (a model's parameters, or their gradients) laid end to end
 * in one {@link ReduceBuffer}, so one collective call moves them all.
 *
 * <p>Copies are kept to one each way. Out: a contiguous tensor on a heap backend (scalar, simd) is
 * copied straight from its storage's array with {@code System.arraycopy} ({@link HeapStorage} is the
 * api's public SPI type for heap backends, and its arrays are only read here); any other tensor goes
 * through {@link Tensor#toFloatArray()}. In: gradients become views of one tensor made from the
 * buffer, so no per-parameter copy is made; parameters are overwritten with {@link Tensor#copyFrom},
 * the backend's own copy kernel.
 */
final class ParameterVector {
    private final List<Tensor> tensors;
    private final DType dtype;
    private final Backend backend;
    private final int[] offsets;
    private final int length;

    ParameterVector(String what, List<Tensor> tensors) {
        this.tensors = List.copyOf(tensors);
        this.dtype = tensors.isEmpty() ? DType.FLOAT32 : tensors.get(0).dtype();
        this.backend = tensors.isEmpty() ? null : tensors.get(0).backend();
        this.offsets = new int[tensors.size() + 1];
        long total = 0;
        for (int i = 0; i < tensors.size(); i++) {
            Tensor t = tensors.get(i);
            if (t.dtype() != dtype || !dtype.isFloatingPoint()) {
                throw new DTypeMismatchException("SparkTrainer: every " + what + " must have one floating dtype; "
                        + what + " 0 is " + dtype + ", " + what + " " + i + " (shape " + t.shape() + ") is " + t.dtype());
            }
            if (t.backend() != backend) {
                throw new IllegalArgumentException("SparkTrainer: every " + what + " must be on one backend; " + what
                        + " 0 is on '" + backend.name() + "', " + what + " " + i + " on '" + t.backend().name() + "'");
            }
            offsets[i] = (int) total;
            total += t.numel();
        }
        if (total > Integer.MAX_VALUE - 16) {
            throw new IllegalArgumentException("SparkTrainer: " + total + " elements in the " + what
                    + "s; one all-reduce vector holds at most 2^31 - 17");
        }
        offsets[tensors.size()] = (int) total;
        this.length = (int) total;
    }

    DType dtype() {
        return dtype;
    }

    int length() {
        return length;
    }

    int count() {
        return tensors.size();
    }

    /**
     * Copies {@code values} (one per tensor, same shapes) into {@code buffer}; {@code values.get(i)}
     * may be null (a parameter without a gradient), which leaves zeros.
     */
    private void copyOut(List<Tensor> values, ReduceBuffer buffer) {
        for (int i = 0; i < values.size(); i++) {
            Tensor t = values.get(i);
            int to = offsets[i];
            int n = offsets[i + 1] - offsets[i];
            if (t == null) {
                fillZero(buffer, to, n);
            } else if (t.isContiguous() && t.storage() instanceof HeapStorage heap) {
                int from = t.layout().offset();
                if (buffer instanceof ReduceBuffer.Float32 f) {
                    System.arraycopy(heap.f32, from, f.array(), to, n);
                } else {
                    System.arraycopy(heap.f64, from, ((ReduceBuffer.Float64) buffer).array(), to, n);
                }
            } else if (buffer instanceof ReduceBuffer.Float32 f) {
                System.arraycopy(t.toFloatArray(), 0, f.array(), to, n);
            } else {
                System.arraycopy(t.toDoubleArray(), 0, ((ReduceBuffer.Float64) buffer).array(), to, n);
            }
        }
    }

    private static void fillZero(ReduceBuffer buffer, int from, int n) {
        if (buffer instanceof ReduceBuffer.Float32 f) {
            java.util.Arrays.fill(f.array(), from, from + n, 0f);
        } else {
            java.util.Arrays.fill(((ReduceBuffer.Float64) buffer).array(), from, from + n, 0.0);
        }
    }

    /** The tensors' current values. */
    ReduceBuffer values() {
        ReduceBuffer buffer = ReduceBuffer.allocate(dtype, length);
        copyOut(tensors, buffer);
        return buffer;
    }

    /** Overwrites the tensors in place with {@code buffer}'s elements {@code [0, length)}. */
    void load(ReduceBuffer buffer) {
        if (tensors.isEmpty()) {
            return;
        }
        Tensor flat = flatTensor(buffer);
        try (var scope = Tensor.noGrad()) {
            for (int i = 0; i < tensors.size(); i++) {
                Tensor t = tensors.get(i);
                t.copyFrom(flat.narrow(0, offsets[i], t.numel()).reshape(t.shape().toArray()));
            }
        }
    }

    /**
     * The gradients of the tensors (which must be parameters) in {@code buffer}: elements
     * {@code [0, length)}, then one presence flag per parameter (1 if it has a gradient) so that after
     * summing, a parameter no replica had a gradient for stays without one (as a single process would
     * leave it), then {@code extra} free slots (the trainer's loss).
     */
    ReduceBuffer gradients(ReduceBuffer reuse, int extra) {
        ReduceBuffer buffer = reuse != null ? reuse : ReduceBuffer.allocate(dtype, length + tensors.size() + extra);
        List<Tensor> grads = new java.util.ArrayList<>(tensors.size());
        for (Tensor t : tensors) {
            grads.add(t.grad());
        }
        copyOut(grads, buffer);
        for (int i = 0; i < tensors.size(); i++) {
            set(buffer, length + i, tensors.get(i).grad() == null ? 0 : 1);
        }
        return buffer;
    }

    /** Slot {@code i} of the free slots after the presence flags. */
    int extraSlot(int i) {
        return length + tensors.size() + i;
    }

    /**
     * Sets each parameter's gradient to its slice of the (averaged) {@code buffer}, as views of one
     * tensor, or clears it where no replica had one.
     */
    void setGradients(ReduceBuffer buffer) {
        if (tensors.isEmpty()) {
            return;
        }
        Tensor flat = flatTensor(buffer);
        for (int i = 0; i < tensors.size(); i++) {
            Tensor p = tensors.get(i);
            if (get(buffer, length + i) == 0) {
                p.setGrad(null);
            } else {
                p.setGrad(flat.narrow(0, offsets[i], p.numel()).reshape(p.shape().toArray()));
            }
        }
    }

    /** All of {@code buffer} as one tensor (one copy, the backend's); the tensors are views of its start. */
    private Tensor flatTensor(ReduceBuffer buffer) {
        var on = Tensor.on(backend);
        if (buffer instanceof ReduceBuffer.Float32 f) {
            return on.fromArray(f.array(), f.length());
        }
        return on.fromArray(((ReduceBuffer.Float64) buffer).array(), buffer.length());
    }

    static double get(ReduceBuffer buffer, int i) {
        return buffer instanceof ReduceBuffer.Float32 f ? f.array()[i] : ((ReduceBuffer.Float64) buffer).array()[i];
    }

    static void set(ReduceBuffer buffer, int i, double v) {
        if (buffer instanceof ReduceBuffer.Float32 f) {
            f.array()[i] = (float) v;
        } else {
            ((ReduceBuffer.Float64) buffer).array()[i] = v;
        }
    }
}
