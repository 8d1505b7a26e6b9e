package dev.adjoint.engine.nd4j;

import dev.adjoint.DType;
import dev.adjoint.Shape;
import dev.adjoint.spi.Availability;
import dev.adjoint.spi.Backend;
import dev.adjoint.spi.BinaryOp;
import dev.adjoint.spi.FusedKernels;
import dev.adjoint.spi.Layout;
import dev.adjoint.spi.ReduceOp;
import dev.adjoint.spi.ScanOp;
import dev.adjoint.spi.StridedCursor;
import dev.adjoint.spi.Storage;
import dev.adjoint.spi.UnaryOp;
import dev.adjoint.spi.Window2d;
import org.nd4j.linalg.api.buffer.DataBuffer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.CustomOp;
import org.nd4j.linalg.api.ops.Op;
import org.nd4j.linalg.api.ops.impl.reduce.same.Sum;
import org.nd4j.linalg.api.ops.impl.scalar.RectifiedLinear;
import org.nd4j.linalg.api.ops.impl.transforms.custom.EqualTo;
import org.nd4j.linalg.api.ops.impl.transforms.custom.GreaterThan;
import org.nd4j.linalg.api.ops.impl.transforms.custom.GreaterThanOrEqual;
import org.nd4j.linalg.api.ops.impl.transforms.custom.LessThan;
import org.nd4j.linalg.api.ops.impl.transforms.custom.LessThanOrEqual;
import org.nd4j.linalg.api.ops.impl.transforms.custom.NotEqualTo;
import org.nd4j.linalg.api.ops.impl.transforms.floating.Sqrt;
import org.nd4j.linalg.api.ops.impl.transforms.pairwise.arithmetic.AddOp;
import org.nd4j.linalg.api.ops.impl.transforms.pairwise.arithmetic.DivOp;
import org.nd4j.linalg.api.ops.impl.transforms.pairwise.arithmetic.MulOp;
import org.nd4j.linalg.api.ops.impl.transforms.pairwise.arithmetic.PowPairwise;
import org.nd4j.linalg.api.ops.impl.transforms.pairwise.arithmetic.SubOp;
import org.nd4j.linalg.api.ops.impl.transforms.same.Abs;
import org.nd4j.linalg.api.ops.impl.transforms.same.Negative;
import org.nd4j.linalg.api.ops.impl.transforms.same.Sign;
import org.nd4j.linalg.api.ops.impl.transforms.same.Square;
import org.nd4j.linalg.api.ops.impl.transforms.strict.Cos;
import org.nd4j.linalg.api.ops.impl.transforms.strict.Erf;
import org.nd4j.linalg.api.ops.impl.transforms.strict.Exp;
import org.nd4j.linalg.api.ops.impl.transforms.strict.Log;
import org.nd4j.linalg.api.ops.impl.transforms.strict.Sigmoid;
import org.nd4j.linalg.api.ops.impl.transforms.strict.Sin;
import org.nd4j.linalg.api.ops.impl.transforms.custom.ATan2;
import org.nd4j.linalg.api.ops.impl.transforms.custom.CumProd;
import org.nd4j.linalg.api.ops.impl.transforms.custom.CumSum;
import org.nd4j.linalg.api.ops.impl.transforms.same.Ceil;
import org.nd4j.linalg.api.ops.impl.transforms.same.Floor;
import org.nd4j.linalg.api.ops.impl.transforms.strict.ACos;
import org.nd4j.linalg.api.ops.impl.transforms.strict.ACosh;
import org.nd4j.linalg.api.ops.impl.transforms.strict.ASin;
import org.nd4j.linalg.api.ops.impl.transforms.strict.ATan;
import org.nd4j.linalg.api.ops.impl.transforms.strict.ATanh;
import org.nd4j.linalg.api.ops.impl.transforms.strict.Cosh;
import org.nd4j.linalg.api.ops.impl.transforms.strict.Rint;
import org.nd4j.linalg.api.ops.impl.transforms.strict.Sinh;
import org.nd4j.linalg.api.ops.impl.transforms.strict.Swish;
import org.nd4j.linalg.api.ops.impl.transforms.strict.Tan;
import org.nd4j.linalg.api.ops.impl.transforms.custom.Max;
import org.nd4j.linalg.api.ops.impl.transforms.custom.Min;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Arrays;
import java.util.EnumSet;
import java.util.Set;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * A backend on ND4J's CPU kernels (libnd4j, with OpenBLAS for matmul). Tensor data stays in ND4J
 * buffers; each kernel wraps its operands' layouts as ND4J views (strides, offset and stride-0
 * broadcasting as they are) and runs ND4J ops on them. Index kernels (gather, scatterAdd) and max
 * pooling with torch's indices, which have no one-to-one ND4J op, loop over the native buffers directly,
 * as does batch norm, where libnd4j's ops measured slower than the loops.
 */
public final class Nd4jBackend implements Backend {
    public static final String NAME = "nd4j";

    /** Where this backend's storages are counted; one for the JVM, except in tests of its limits. */
    private final NativeMemory memory;

    private final FusedKernels fused = new BatchNormKernels();

    public Nd4jBackend() {
        this(NativeMemory.SHARED);
    }

    Nd4jBackend(NativeMemory memory) {
        this.memory = memory;
    }

    @Override
    public String name() {
        return NAME;
    }

    /** Above "scalar" (0), below a future vectorised Java backend (100). */
    @Override
    public int priority() {
        return 50;
    }

    @Override
    public Availability availability() {
        return Nd4jRuntime.availability();
    }

    /**
     * libnd4j kernels, or this backend's own loops over the native buffers (where, long FLOAT32 sums, batch
     * norm), everywhere except the elementwise ops of {@link ReferenceLoops}, the index kernels (the
     * reference loops over the native buffers) and the SPI's defaults: sort, scaledAdd, and the convolution's
     * gradients (which compose libnd4j's unfold, matmul and fold: its conv2d_bp computes both at once and
     * measured no faster).
     * Average pooling runs libnd4j's avgpool2d and avgpool2d_bp except in ceil mode with a window over the
     * far edge, which takes the SPI's default (libnd4j's unfold, sum and fold).
     */
    @Override
    public boolean runsNatively(String kernel, Enum<?> primitive) {
        return switch (kernel) {
            case "unary" -> !REFERENCE_UNARY.contains(primitive);
            case "binary" -> primitive != BinaryOp.REMAINDER && primitive != BinaryOp.FLOOR_DIVIDE
                    && primitive != BinaryOp.TRUNC_DIVIDE;
            case "gather", "scatterAdd", "sort", "scaledAdd", "conv2dInputGrad", "conv2dWeightGrad" -> false;
            default -> true;
        };
    }

    /**
     * Batch norm, forward and backward, as loops over the native buffers ({@link BatchNormLoops}): libnd4j's
     * batchnorm / batchnorm_bp took 3-13x their time. The api composes the other fused kernels (softmax,
     * layer norm, the optimizers' updates) from this backend's primitives.
     */
    @Override
    public FusedKernels fused() {
        return fused;
    }

    private final class BatchNormKernels implements FusedKernels {
        @Override
        public boolean offers(Kernel kernel, DType dtype) {
            return kernel == Kernel.BATCH_NORM || kernel == Kernel.BATCH_NORM_BACKWARD;
        }

        @Override
        public void batchNorm(Storage x, int offset, int batch, int channels, int inner, Storage weight, Storage bias,
                              boolean training, double eps, Storage out, Storage mean, Storage rstd,
                              Storage variance) {
            guard("batchNorm", () -> {
                BatchNormLoops.forward((Nd4jStorage) x, offset, batch, channels, inner, (Nd4jStorage) weight,
                        (Nd4jStorage) bias, training, eps, (Nd4jStorage) out, (Nd4jStorage) mean, (Nd4jStorage) rstd,
                        (Nd4jStorage) variance);
                return null;
            }, volume(batch, channels, inner, offset));
        }

        @Override
        public void batchNormBackward(Storage grad, int gradOffset, Storage x, int xOffset, Storage mean,
                                      Storage rstd, Storage weight, boolean training, int batch, int channels,
                                      int inner, Storage gradX, Storage gradWeight, Storage gradBias) {
            guard("batchNormBackward", () -> {
                BatchNormLoops.backward((Nd4jStorage) grad, gradOffset, (Nd4jStorage) x, xOffset, (Nd4jStorage) mean,
                        (Nd4jStorage) rstd, (Nd4jStorage) weight, training, batch, channels, inner,
                        (Nd4jStorage) gradX, (Nd4jStorage) gradWeight, (Nd4jStorage) gradBias);
                return null;
            }, volume(batch, channels, inner, gradOffset), volume(batch, channels, inner, xOffset));
        }

        private static Layout volume(int batch, int channels, int inner, int offset) {
            return new Layout(Shape.of(batch, channels, inner), new int[] {channels * inner, inner, 1}, offset);
        }
    }

    /**
     * libnd4j's tanh, log1p, asinh and expm1 cancel near 0 (log1p as {@code log(1 + x)}, tanh from
     * {@code e^2x}: relative error about eps/|x|, 1e11 ulps at 1e-12), its softplus and log-sigmoid
     * overflow beyond |x| = 88 (float) or 709, and it has no trunc: these run the reference function
     * instead. Compositions of libnd4j kernels that stay accurate cost 3-88x the loop (docs/nd4j.md).
     * libnd4j's GELU is the sigmoid approximation {@code x sigmoid(1.702 x)}, not PyTorch's exact GELU, and
     * its PreciseGELU (the tanh form) builds on its tanh: the GELU family runs the loop too, and so do
     * the derivatives of tanh, sigmoid and SiLU, which libnd4j has no op for.
     */
    private static final Set<UnaryOp> REFERENCE_UNARY = EnumSet.of(UnaryOp.TANH, UnaryOp.LOG1P, UnaryOp.ASINH,
            UnaryOp.EXPM1, UnaryOp.TRUNC, UnaryOp.LOG_SIGMOID, UnaryOp.SOFTPLUS, UnaryOp.GELU, UnaryOp.GELU_DERIVATIVE,
            UnaryOp.GELU_TANH, UnaryOp.GELU_TANH_DERIVATIVE, UnaryOp.TANH_DERIVATIVE, UnaryOp.SIGMOID_DERIVATIVE,
            UnaryOp.SILU_DERIVATIVE);

    // ---- storage --------------------------------------------------------------------------------

    @Override
    public Storage allocate(DType dtype, int size) {
        if (size == 0) {
            return Nd4jStorage.empty(dtype);
        }
        return Nd4jStorage.allocate(memory, dtype, size, () -> Nd4j.createBuffer(Nd4jStorage.nd4jType(dtype), size, true));
    }

    @Override
    public Storage fromDoubles(double[] values, DType dtype) {
        if (values.length == 0) {
            return Nd4jStorage.empty(dtype);
        }
        return Nd4jStorage.allocate(memory, dtype, values.length, () -> switch (dtype) {
            case FLOAT64 -> Nd4j.createBuffer(values);
            case FLOAT32 -> {
                float[] f = new float[values.length];
                for (int i = 0; i < f.length; i++) {
                    f[i] = (float) values[i];
                }
                yield Nd4j.createBuffer(f);
            }
            case INT64 -> {
                long[] l = new long[values.length];
                for (int i = 0; i < l.length; i++) {
                    l[i] = (long) values[i];
                }
                yield Nd4j.createBuffer(l);
            }
            case INT32 -> {
                int[] l = new int[values.length];
                for (int i = 0; i < l.length; i++) {
                    l[i] = (int) values[i];
                }
                yield Nd4j.createBuffer(l);
            }
            case BOOL -> {
                // Any non-zero value (NaN too) is true, as PyTorch converts to bool.
                org.nd4j.linalg.api.buffer.DataBuffer b = Nd4j.createBuffer(DataType.BOOL, values.length, true);
                for (int i = 0; i < values.length; i++) {
                    b.put(i, values[i] != 0.0);
                }
                yield b;
            }
        });
    }

    @Override
    public Storage fromFloats(float[] values) {
        if (values.length == 0) {
            return Nd4jStorage.empty(DType.FLOAT32);
        }
        return Nd4jStorage.allocate(memory, DType.FLOAT32, values.length, () -> Nd4j.createBuffer(values));
    }

    @Override
    public Storage fromLongs(long[] values) {
        if (values.length == 0) {
            return Nd4jStorage.empty(DType.INT64);
        }
        return Nd4jStorage.allocate(memory, DType.INT64, values.length, () -> Nd4j.createBuffer(values));
    }

    /** No {@link dev.adjoint.MemoryScope} frees it: the garbage collector does, once it is unreachable. */
    @Override
    public void markLongLived(Storage storage) {
        ((Nd4jStorage) storage).markLongLived();
    }

    @Override
    public double[] toDoubles(Storage storage, Layout layout) {
        Nd4jStorage s = (Nd4jStorage) storage;
        int n = layout.numel();
        if (n == 0) {
            return new double[0];
        }
        if (s.dtype() == DType.BOOL || s.dtype() == DType.INT32) {
            // Exact in double; read element by element rather than trust a bool buffer's bulk reads.
            long[] longs = toLongs(storage, layout);
            double[] out = new double[n];
            for (int i = 0; i < n; i++) {
                out[i] = longs[i];
            }
            return out;
        }
        return guard("toDoubles", () -> {
            if (layout.isContiguous()) {
                return s.buffer().getDoublesAt(layout.offset(), n);
            }
            return contiguousCopy(s, layout, copy -> copy.data().asDouble());
        }, layout);
    }

    @Override
    public float[] toFloats(Storage storage, Layout layout) {
        Nd4jStorage s = (Nd4jStorage) storage;
        int n = layout.numel();
        if (n == 0) {
            return new float[0];
        }
        if (!s.dtype().isFloatingPoint()) {
            double[] d = toDoubles(storage, layout);
            float[] out = new float[n];
            for (int i = 0; i < n; i++) {
                out[i] = (float) d[i];
            }
            return out;
        }
        return guard("toFloats", () -> {
            if (layout.isContiguous()) {
                return s.buffer().getFloatsAt(layout.offset(), n);
            }
            return contiguousCopy(s, layout, copy -> copy.data().asFloat());
        }, layout);
    }

    @Override
    public long[] toLongs(Storage storage, Layout layout) {
        Nd4jStorage s = (Nd4jStorage) storage;
        int n = layout.numel();
        if (n == 0) {
            return new long[0];
        }
        return guard("toLongs", () -> {
            if (s.dtype() == DType.INT64) {
                if (layout.isContiguous()) {
                    return s.buffer().getLongsAt(layout.offset(), n);
                }
                return contiguousCopy(s, layout, copy -> copy.data().asLong());
            }
            if (!s.dtype().isFloatingPoint()) {
                long[] out = new long[n];
                StridedCursor c = StridedCursor.over(layout.shape(), layout);
                for (int i = 0; i < n; i++, c.advance()) {
                    out[i] = ReferenceLoops.getLong(s.buffer(), s.dtype(), c.position[0]);
                }
                return out;
            }
            // Floating values truncate toward zero, as a Java (long) cast does.
            double[] d = toDoubles(storage, layout);
            long[] out = new long[n];
            for (int i = 0; i < n; i++) {
                out[i] = (long) d[i];
            }
            return out;
        }, layout);
    }

    /** Reads a strided view through a row-major copy, freed at once rather than left to the GC. */
    private static <T> T contiguousCopy(Nd4jStorage s, Layout layout, Function<INDArray, T> read) {
        INDArray copy = s.view(layout).dup('c');
        try {
            return read.apply(copy);
        } finally {
            copy.close();
        }
    }

    // ---- kernels ----------------------------------------------------------------------------------

    @Override
    public void fill(Storage out, Layout outLayout, double value) {
        if (outLayout.numel() == 0) {
            return;
        }
        guard("fill", () -> ((Nd4jStorage) out).view(outLayout).assign(value), outLayout);
    }

    @Override
    public void copy(Storage src, Layout srcLayout, Storage dst, Layout dstLayout) {
        if (srcLayout.numel() == 0) {
            return;
        }
        guard("copy", () -> ((Nd4jStorage) dst).view(dstLayout).assign(((Nd4jStorage) src).view(srcLayout)),
                srcLayout, dstLayout);
    }

    @Override
    public void unary(UnaryOp op, Storage x, Layout xLayout, Storage out, Layout outLayout) {
        if (outLayout.numel() == 0) {
            return;
        }
        guard("unary " + op, () -> {
            if (!x.dtype().isFloatingPoint()) {
                ReferenceLoops.unaryExact(op, (Nd4jStorage) x, xLayout, (Nd4jStorage) out, outLayout);
                return null;
            }
            if (REFERENCE_UNARY.contains(op)) {
                ReferenceLoops.unary(op, (Nd4jStorage) x, xLayout, (Nd4jStorage) out, outLayout);
                return null;
            }
            INDArray in = ((Nd4jStorage) x).view(xLayout);
            INDArray o = ((Nd4jStorage) out).view(outLayout);
            Nd4j.getExecutioner().exec(unaryKernel(op, in, o));
            return o;
        }, xLayout, outLayout);
    }

    private static Op unaryKernel(UnaryOp op, INDArray in, INDArray o) {
        return switch (op) {
            case NEG -> new Negative(in, o);
            case EXP -> new Exp(in, o);
            case LOG -> new Log(in, o);
            case SQRT -> new Sqrt(in, o);
            case SQUARE -> new Square(in, o);
            case ABS -> new Abs(in, o);
            case SIGN -> new Sign(in, o);
            case SIN -> new Sin(in, o);
            case COS -> new Cos(in, o);
            case SIGMOID -> new Sigmoid(in, o);
            case RELU -> new RectifiedLinear(in, o, 0.0);
            case ERF -> new Erf(in, o);
            case TAN -> new Tan(in, o);
            case ASIN -> new ASin(in, o);
            case ACOS -> new ACos(in, o);
            case ATAN -> new ATan(in, o);
            case SINH -> new Sinh(in, o);
            case COSH -> new Cosh(in, o);
            case ACOSH -> new ACosh(in, o);
            case ATANH -> new ATanh(in, o);
            case FLOOR -> new Floor(in, o);
            case CEIL -> new Ceil(in, o);
            // Rint rounds halves to even as torch.round; libnd4j's Round takes them away from zero.
            case ROUND -> new Rint(in, o);
            case SILU -> new Swish(in, o);
            case TANH, LOG1P, ASINH, EXPM1, TRUNC, LOG_SIGMOID, SOFTPLUS, GELU, GELU_DERIVATIVE, GELU_TANH,
                 GELU_TANH_DERIVATIVE, TANH_DERIVATIVE, SIGMOID_DERIVATIVE, SILU_DERIVATIVE ->
                    throw new AssertionError(op + " runs the reference loop (REFERENCE_UNARY)");
        };
    }

    @Override
    public void binary(BinaryOp op, Storage a, Layout aLayout, Storage b, Layout bLayout, Storage out,
                       Layout outLayout) {
        if (outLayout.numel() == 0) {
            return;
        }
        guard("binary " + op, () -> {
            // Before any view is made: the loop reads the buffers, and a broadcast view would only
            // displace the storage's cached dense one.
            if (BufferLoops.isBroadcastArithmetic(op, a.dtype(), aLayout, bLayout)) {
                BufferLoops.broadcastArithmetic(op, (Nd4jStorage) a, aLayout, (Nd4jStorage) b, bLayout,
                        (Nd4jStorage) out, outLayout);
                return null;
            }
            INDArray x = ((Nd4jStorage) a).view(aLayout);
            INDArray y = ((Nd4jStorage) b).view(bLayout);
            INDArray z = ((Nd4jStorage) out).view(outLayout);
            if (!a.dtype().isFloatingPoint() || op == BinaryOp.FLOOR_DIVIDE || op == BinaryOp.TRUNC_DIVIDE) {
                // Integer and bool operands in exact long loops; floor and trunc division have no libnd4j
                // kernel with torch's rounding of floats.
                if (a.dtype().isFloatingPoint()) {
                    ReferenceLoops.binary(op, (Nd4jStorage) a, aLayout, (Nd4jStorage) b, bLayout, (Nd4jStorage) out,
                            outLayout);
                } else {
                    ReferenceLoops.binaryExact(op, (Nd4jStorage) a, aLayout, (Nd4jStorage) b, bLayout,
                            (Nd4jStorage) out, outLayout);
                }
                return z;
            }
            if (op.isComparison()) {
                // Straight into the BOOL output.
                CustomOp compare = switch (op) {
                    case GT -> new GreaterThan(x, y, z);
                    case LT -> new LessThan(x, y, z);
                    case GE -> new GreaterThanOrEqual(x, y, z);
                    case LE -> new LessThanOrEqual(x, y, z);
                    case EQ -> new EqualTo(x, y, z);
                    case NE -> new NotEqualTo(x, y, z);
                    default -> throw new AssertionError(op);
                };
                Nd4j.getExecutioner().exec(compare);
                return z;
            }
            CustomOp kernel = switch (op) {
                case ADD -> new AddOp(x, y, z);
                case SUB -> new SubOp(x, y, z);
                case MUL -> new MulOp(x, y, z);
                case DIV -> new DivOp(x, y, z);
                case MAX -> new Max(x, y, z);
                case MIN -> new Min(x, y, z);
                case POW -> null;
                case ATAN2 -> new ATan2(x, y, z);
                // libnd4j's FloorMod differs from torch.remainder at infinities and signed zeros.
                case REMAINDER -> null;
                default -> throw new AssertionError(op);
            };
            if (op == BinaryOp.REMAINDER) {
                ReferenceLoops.binary(op, (Nd4jStorage) a, aLayout, (Nd4jStorage) b, bLayout, (Nd4jStorage) out,
                        outLayout);
            } else if (kernel == null) {
                Nd4j.getExecutioner().exec(new PowPairwise(x, y, z));
            } else {
                Nd4j.getExecutioner().exec(kernel);
            }
            if (op == BinaryOp.MAX || op == BinaryOp.MIN) {
                NanPropagation.copyNaNs(x, z);
                NanPropagation.copyNaNs(y, z);
            }
            return z;
        }, aLayout, bLayout, outLayout);
    }

    @Override
    public void where(Storage cond, Layout condLayout, Storage a, Layout aLayout, Storage b, Layout bLayout,
                      Storage out, Layout outLayout) {
        if (outLayout.numel() == 0) {
            return;
        }
        guard("where", () -> {
            if (!out.dtype().isFloatingPoint()) {
                ReferenceLoops.whereExact((Nd4jStorage) cond, condLayout, (Nd4jStorage) a, aLayout, (Nd4jStorage) b,
                        bLayout, (Nd4jStorage) out, outLayout);
                return null;
            }
            BufferLoops.where((Nd4jStorage) cond, condLayout, (Nd4jStorage) a, aLayout, (Nd4jStorage) b, bLayout,
                    (Nd4jStorage) out, outLayout);
            return null;
        }, condLayout, aLayout, bLayout, outLayout);
    }

    @Override
    public void reduce(ReduceOp op, Storage x, Layout xLayout, Storage out, Layout outLayout) {
        if (outLayout.numel() == 0) {
            return;
        }
        if (xLayout.numel() == 0) {
            // Only SUM reaches here over an empty dim (the api rejects MAX/MIN): the empty sum is 0.
            fill(out, outLayout, 0.0);
            return;
        }
        guard("reduce " + op, () -> {
            if (!x.dtype().isFloatingPoint()) {
                ReferenceLoops.reduceExact(op, (Nd4jStorage) x, xLayout, (Nd4jStorage) out, outLayout);
                return null;
            }
            int[] dims = reducedDims(xLayout, outLayout);
            if (op == ReduceOp.SUM && x.dtype() == DType.FLOAT32 && reducedCount(xLayout, dims) > WIDE_SUM_ABOVE) {
                // The SPI sums FLOAT32 in double; libnd4j sums float in float, one element after another,
                // so its error grows with the count (see WIDE_SUM_ABOVE): all but the shortest sums
                // accumulate in double.
                BufferLoops.sumFloat32((Nd4jStorage) x, xLayout, (Nd4jStorage) out, outLayout);
                return null;
            }
            INDArray in = ((Nd4jStorage) x).view(xLayout);
            INDArray o = ((Nd4jStorage) out).view(outLayout);
            if (dims.length == 0) {
                return o.assign(in);
            }
            Op kernel = switch (op) {
                case SUM -> new Sum(in, o, true, dims);
                case MAX -> new org.nd4j.linalg.api.ops.impl.reduce.same.Max(in, o, true, dims);
                case MIN -> new org.nd4j.linalg.api.ops.impl.reduce.same.Min(in, o, true, dims);
            };
            Nd4j.getExecutioner().exec(kernel);
            if (op != ReduceOp.SUM) {
                NanPropagation.reducedNaNs(in, dims, o);
            }
            return o;
        }, xLayout, outLayout);
    }

    /**
     * libnd4j's CumSum / CumProd along the last dim. Like {@link #reduce}, long FLOAT32 rows run in double
     * (libnd4j accumulates float in float; the reference in double). Sort has no libnd4j counterpart that
     * is stable and puts NaN where torch does: it takes the SPI's default, a loop over copied data.
     */
    @Override
    public void scan(ScanOp op, boolean reverse, Storage x, Layout xLayout, Storage out, Layout outLayout) {
        if (outLayout.numel() == 0) {
            return;
        }
        guard("scan " + op, () -> {
            INDArray in = ((Nd4jStorage) x).view(xLayout);
            INDArray o = ((Nd4jStorage) out).view(outLayout);
            int last = xLayout.rank() - 1;
            boolean wide = in.dataType() == DataType.FLOAT && xLayout.shape().dim(last) > WIDE_SUM_ABOVE;
            INDArray src = wide ? in.castTo(DataType.DOUBLE) : in;
            INDArray dst = wide ? Nd4j.createUninitialized(DataType.DOUBLE, o.shape()) : o;
            CustomOp kernel = op == ScanOp.SUM ? new CumSum(src, dst, false, reverse, last)
                    : new CumProd(src, dst, false, reverse, last);
            Nd4j.getExecutioner().exec(kernel);
            if (wide) {
                o.assign(dst);
                src.close();
                dst.close();
            }
            return o;
        }, xLayout, outLayout);
    }

    @Override
    public void matmul(Storage a, Layout aLayout, Storage b, Layout bLayout, Storage out, Layout outLayout) {
        if (outLayout.numel() == 0) {
            return;
        }
        guard("matmul", () -> {
            if (aLayout.shape().dim(aLayout.rank() - 1) == 0) {
                // An empty inner dimension: every element is an empty sum.
                return fill0(out, outLayout);
            }
            Gemm.batched((Nd4jStorage) a, aLayout, (Nd4jStorage) b, bLayout, (Nd4jStorage) out, outLayout);
            return null;
        }, aLayout, bLayout, outLayout);
    }

    private Void fill0(Storage out, Layout outLayout) {
        fill(out, outLayout, 0.0);
        return null;
    }

    @Override
    public void gather(Storage src, Layout srcLayout, int dim, Storage index, Layout indexLayout, Storage out,
                       Layout outLayout) {
        if (outLayout.numel() == 0) {
            return;
        }
        guard("gather", () -> {
            IndexLoops.gather((Nd4jStorage) src, srcLayout, dim, (Nd4jStorage) index, indexLayout,
                    (Nd4jStorage) out, outLayout);
            return null;
        }, srcLayout, indexLayout, outLayout);
    }

    @Override
    public void scatterAdd(Storage dst, Layout dstLayout, int dim, Storage index, Layout indexLayout, Storage src,
                           Layout srcLayout) {
        if (indexLayout.numel() == 0) {
            return;
        }
        guard("scatterAdd", () -> {
            IndexLoops.scatterAdd((Nd4jStorage) dst, dstLayout, dim, (Nd4jStorage) index, indexLayout,
                    (Nd4jStorage) src, srcLayout);
            return null;
        }, dstLayout, indexLayout, srcLayout);
    }

    @Override
    public void unfold(Storage x, Layout xLayout, Window2d window, Storage out, Layout outLayout) {
        if (outLayout.numel() == 0) {
            return;
        }
        guard("unfold", () -> {
            SlidingWindows.unfold((Nd4jStorage) x, xLayout, window, (Nd4jStorage) out, outLayout);
            return null;
        }, xLayout, outLayout);
    }

    @Override
    public void fold(Storage cols, Layout colsLayout, Window2d window, Storage out, Layout outLayout) {
        if (outLayout.numel() == 0 || colsLayout.numel() == 0) {
            return;
        }
        guard("fold", () -> {
            SlidingWindows.fold((Nd4jStorage) cols, colsLayout, window, (Nd4jStorage) out, outLayout);
            return null;
        }, colsLayout, outLayout);
    }

    @Override
    public void conv2d(Storage x, Layout xLayout, Storage weight, Layout weightLayout, Window2d window, int groups,
                       Storage out, Layout outLayout) {
        if (outLayout.numel() == 0 || !SlidingWindows.nativeConvolution(window, groups)) {
            Backend.super.conv2d(x, xLayout, weight, weightLayout, window, groups, out, outLayout);
            return;
        }
        guard("conv2d", () -> {
            SlidingWindows.conv2d((Nd4jStorage) x, xLayout, (Nd4jStorage) weight, weightLayout, window,
                    (Nd4jStorage) out, outLayout);
            return null;
        }, xLayout, weightLayout, outLayout);
    }

    @Override
    public void maxPool2d(Storage x, Layout xLayout, Window2d window, Storage out, Layout outLayout, Storage indices,
                          Layout indicesLayout) {
        if (outLayout.numel() == 0) {
            return;
        }
        guard("maxPool2d", () -> {
            SlidingWindows.maxPool2d((Nd4jStorage) x, xLayout, window, (Nd4jStorage) out, outLayout,
                    (Nd4jStorage) indices, indicesLayout);
            return null;
        }, xLayout, outLayout);
    }

    @Override
    public void avgPool2d(Storage x, Layout xLayout, Window2d window, boolean countIncludePad, Storage out,
                          Layout outLayout) {
        if (outLayout.numel() == 0) {
            return;
        }
        if (!SlidingWindows.nativeAveragePooling(window)) {
            Backend.super.avgPool2d(x, xLayout, window, countIncludePad, out, outLayout);
            return;
        }
        guard("avgPool2d", () -> {
            SlidingWindows.avgPool2d((Nd4jStorage) x, xLayout, window, countIncludePad, (Nd4jStorage) out, outLayout);
            return null;
        }, xLayout, outLayout);
    }

    @Override
    public void avgPool2dInputGrad(Storage grad, Layout gradLayout, Window2d window, boolean countIncludePad,
                                   Storage out, Layout outLayout) {
        if (gradLayout.numel() == 0) {
            return;
        }
        if (!SlidingWindows.nativeAveragePooling(window)) {
            Backend.super.avgPool2dInputGrad(grad, gradLayout, window, countIncludePad, out, outLayout);
            return;
        }
        guard("avgPool2dInputGrad", () -> {
            SlidingWindows.avgPool2dInputGrad((Nd4jStorage) grad, gradLayout, window, countIncludePad,
                    (Nd4jStorage) out, outLayout);
            return null;
        }, gradLayout, outLayout);
    }

    // ---- helpers ------------------------------------------------------------------------------------

    /**
     * Elements summed into one FLOAT32 output (a reduction's, or a running sum's) above which the sum
     * runs in double, as the reference and the simd backend run every FLOAT32 sum. libnd4j adds float
     * to float in order, n elements in up to n - 1 roundings: a sum of 138 elements near 42 came out
     * 15 ulps off (42.366158 for 42.366214), and through the cosine of a sin() near its zero that was
     * 0.12% of the gradient, 80 times the error of the reference's own FLOAT32 run (seed 7720261205 of
     * the random programs, shrunk to {@code expand([1, 3] -> [2, 23, 3]).sum().sin()}). Sums of at
     * most 16 elements stay in libnd4j, whose loop over many short rows is the faster: measured on an
     * AMD EPYC Zen 5 (one thread), the rows of a [1000000, 2] FLOAT32 tensor summed in 1.3 ms there
     * and 6.3 ms through the double loop, [100000, 16] in 0.56 and 2.1 ms.
     */
    private static final int WIDE_SUM_ABOVE = 16;

    private static long reducedCount(Layout x, int[] dims) {
        long n = 1;
        for (int d : dims) {
            n *= x.shape().dim(d);
        }
        return n;
    }

    /** Dims where the output has size 1 and the input does not. */
    private static int[] reducedDims(Layout x, Layout out) {
        int[] dims = new int[x.rank()];
        int n = 0;
        for (int d = 0; d < x.rank(); d++) {
            if (out.shape().dim(d) == 1 && x.shape().dim(d) != 1) {
                dims[n++] = d;
            }
        }
        return Arrays.copyOf(dims, n);
    }

    /** Runs {@code body}; anything ND4J throws comes back naming the kernel and the operands' layouts. */
    private <T> T guard(String kernel, Supplier<T> body, Layout... layouts) {
        try {
            return body.get();
        } catch (ReleasedStorageException | Nd4jOutOfMemoryError e) {
            throw e;
        } catch (OutOfMemoryError e) {
            throw new Nd4jOutOfMemoryError("in kernel " + kernel + " on " + describe(layouts),
                    "a temporary's native allocation failed", memory.liveBytes(), e);
        } catch (RuntimeException | LinkageError e) {
            throw new Nd4jKernelException("nd4j backend: " + kernel + " failed on " + describe(layouts) + ": " + e, e);
        }
    }

    private static String describe(Layout... layouts) {
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < layouts.length; i++) {
            s.append(i == 0 ? "" : ", ").append(layouts[i]);
        }
        return s.toString();
    }
}
