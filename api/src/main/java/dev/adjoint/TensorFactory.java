package dev.adjoint;

import dev.adjoint.spi.Backend;
import dev.adjoint.spi.Layout;
import dev.adjoint.spi.Storage;

/** Creates tensors on one backend: {@code Tensor.on("scalar").zeros(DType.FLOAT64, 2, 3)}. */
public final class TensorFactory {
    private final Backend backend;

    TensorFactory(Backend backend) {
        this.backend = backend;
    }

    public Backend backend() {
        return backend;
    }

    public Tensor zeros(DType dtype, int... shape) {
        Shape s = Shape.of(shape);
        return wrap(backend.allocate(dtype, s.numel()), s);
    }

    public Tensor ones(DType dtype, int... shape) {
        return full(1.0, dtype, shape);
    }

    public Tensor full(double value, DType dtype, int... shape) {
        Shape s = Shape.of(shape);
        Storage storage = backend.allocate(dtype, s.numel());
        Layout layout = Layout.contiguous(s);
        if (value != 0.0 && s.numel() > 0) {
            backend.fill(storage, layout, value);
        }
        return Tensor.fromStorage(storage, layout, backend);
    }

    public Tensor scalar(double value, DType dtype) {
        return full(value, dtype);
    }

    public Tensor fromArray(double[] data, int... shape) {
        Shape s = checkedShape("fromArray", data.length, shape);
        return wrap(backend.fromDoubles(data.clone(), DType.FLOAT64), s);
    }

    public Tensor fromArray(float[] data, int... shape) {
        Shape s = checkedShape("fromArray", data.length, shape);
        return wrap(backend.fromFloats(data.clone()), s);
    }

    public Tensor fromArray(long[] data, int... shape) {
        Shape s = checkedShape("fromArray", data.length, shape);
        return wrap(backend.fromLongs(data.clone()), s);
    }

    /** {@code data} converted to {@code dtype}. */
    public Tensor fromArray(double[] data, DType dtype, int... shape) {
        Shape s = checkedShape("fromArray", data.length, shape);
        return wrap(backend.fromDoubles(data.clone(), dtype), s);
    }

    public Tensor arange(long end) {
        if (end < 0 || end > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("arange: end must be in [0, " + Integer.MAX_VALUE + "], got " + end);
        }
        long[] values = new long[(int) end];
        for (int i = 0; i < values.length; i++) {
            values[i] = i;
        }
        return wrap(backend.fromLongs(values), Shape.of(values.length));
    }

    public Tensor arange(double start, double end, double step, DType dtype) {
        if (step == 0 || Double.isNaN(start) || Double.isNaN(end) || Double.isNaN(step)) {
            throw new IllegalArgumentException("arange: invalid range start=" + start + " end=" + end + " step=" + step);
        }
        int n = (int) Math.max(0, Math.ceil((end - start) / step));
        double[] values = new double[n];
        for (int i = 0; i < n; i++) {
            values[i] = start + i * step;
        }
        return wrap(backend.fromDoubles(values, dtype), Shape.of(n));
    }

    public Tensor rand(Generator generator, DType dtype, int... shape) {
        Shape s = Shape.of(shape);
        double[] values = new double[s.numel()];
        generator.aboutToDraw();
        for (int i = 0; i < values.length; i++) {
            values[i] = generator.nextUniform();
        }
        return wrap(backend.fromDoubles(values, floating("rand", dtype)), s);
    }

    public Tensor randn(Generator generator, DType dtype, int... shape) {
        Shape s = Shape.of(shape);
        double[] values = new double[s.numel()];
        generator.aboutToDraw();
        for (int i = 0; i < values.length; i++) {
            values[i] = generator.nextGaussian();
        }
        return wrap(backend.fromDoubles(values, floating("randn", dtype)), s);
    }

    /** INT64 integers uniform in {@code [low, high)}, one draw per element in row-major order. */
    public Tensor randint(long low, long high, Generator generator, int... shape) {
        return Sampling.randint(this, low, high, generator, Shape.of(shape));
    }

    /** {@code n x m} with ones on the main diagonal and zeros elsewhere. */
    public Tensor eye(int n, int m, DType dtype) {
        if (n < 0 || m < 0) {
            throw new TensorShapeException("eye: sizes must not be negative, got " + n + " x " + m);
        }
        double[] values = new double[n * m];
        for (int i = 0; i < Math.min(n, m); i++) {
            values[i * m + i] = 1;
        }
        return wrap(backend.fromDoubles(values, dtype), Shape.of(n, m));
    }

    /**
     * torch.linspace: {@code steps} values from {@code start} to {@code end}, both included. As PyTorch
     * computes them: the first half as {@code start + i * step}, the second as {@code end - (steps - 1 - i) * step}
     * (so the last value is {@code end} exactly), in FLOAT32 arithmetic for a FLOAT32 result.
     */
    public Tensor linspace(double start, double end, int steps, DType dtype) {
        if (steps < 0 || Double.isNaN(start) || Double.isNaN(end)) {
            throw new IllegalArgumentException("linspace: need steps >= 0 and numeric ends, got start=" + start
                    + " end=" + end + " steps=" + steps);
        }
        floating("linspace", dtype);
        double[] values = new double[steps];
        int halfway = steps / 2;
        if (dtype == DType.FLOAT32) {
            float s = (float) start;
            float e = (float) end;
            float step = steps > 1 ? (e - s) / (steps - 1) : 0f;
            for (int i = 0; i < steps; i++) {
                values[i] = i < halfway ? s + step * i : e - step * (steps - 1 - i);
            }
        } else {
            double step = steps > 1 ? (end - start) / (steps - 1) : 0;
            for (int i = 0; i < steps; i++) {
                values[i] = i < halfway ? start + step * i : end - step * (steps - 1 - i);
            }
        }
        if (steps == 1) {
            values[0] = dtype == DType.FLOAT32 ? (float) start : start;
        }
        return wrap(backend.fromDoubles(values, dtype), Shape.of(steps));
    }

    private static DType floating(String op, DType dtype) {
        if (!dtype.isFloatingPoint()) {
            throw new DTypeMismatchException(op + ": dtype must be FLOAT32 or FLOAT64, got " + dtype);
        }
        return dtype;
    }

    private Tensor wrap(Storage storage, Shape shape) {
        return Tensor.fromStorage(storage, Layout.contiguous(shape), backend);
    }

    private static Shape checkedShape(String op, int length, int[] shape) {
        Shape s = shape.length == 0 && length != 1 ? Shape.of(length) : Shape.of(shape);
        if (s.numel() != length) {
            throw new TensorShapeException(op + ": " + length + " values do not fill shape " + s
                    + " (" + s.numel() + " elements)");
        }
        return s;
    }
}
