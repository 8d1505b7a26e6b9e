package dev.adjoint.spark;

import dev.adjoint.DType;
import dev.adjoint.Tensor;
import dev.adjoint.spi.Backend;

import java.io.Serializable;
import java.util.LinkedHashMap;
import java.util.Map;

/** A state dict's values copied out of the backend, so a task can send them to the driver. */
record TensorSnapshot(String name, DType dtype, int[] shape, Object data) implements Serializable {

    static TensorSnapshot of(String name, Tensor t) {
        Object data = switch (t.dtype()) {
            case FLOAT32 -> t.toFloatArray();
            case FLOAT64 -> t.toDoubleArray();
            case INT64 -> t.toLongArray();
        };
        return new TensorSnapshot(name, t.dtype(), t.shape().toArray(), data);
    }

    Tensor toTensor(Backend backend) {
        var on = Tensor.on(backend);
        return switch (dtype) {
            case FLOAT32 -> on.fromArray((float[]) data, shape);
            case FLOAT64 -> on.fromArray((double[]) data, shape);
            case INT64 -> on.fromArray((long[]) data, shape);
        };
    }

    static TensorSnapshot[] of(Map<String, Tensor> state) {
        return state.entrySet().stream().map(e -> of(e.getKey(), e.getValue())).toArray(TensorSnapshot[]::new);
    }

    static Map<String, Tensor> toStateDict(TensorSnapshot[] snapshots, Backend backend) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (TensorSnapshot s : snapshots) {
            out.put(s.name(), s.toTensor(backend));
        }
        return out;
    }
}
