package dev.adjoint.nn.loss;

import dev.adjoint.DType;
import dev.adjoint.DTypeMismatchException;
import dev.adjoint.Tensor;
import dev.adjoint.TensorShapeException;

import java.util.Arrays;

/**
 * Negative log-likelihood of log-probabilities at INT64 class indices, as {@code nn.NLLLoss}: input
 * {@code [N, C]} with target {@code [N]}, {@code [N, C, d1, ...]} with target {@code [N, d1, ...]}
 * (per position, e.g. per pixel or per token), or {@code [C]} with a 0-d target. Each element's loss
 * is {@code -weight[t] * input[n, t, ...]} (weight 1 without class weights). Targets equal to
 * {@code ignoreIndex} contribute 0; MEAN divides by the sum of the weights of the targets that are not
 * ignored (their count without weights), NaN when all are ignored, as PyTorch.
 */
public final class NLLLoss implements Loss {
    /** PyTorch's default {@code ignore_index}. */
    public static final long DEFAULT_IGNORE_INDEX = -100;

    private final Tensor weight;
    private final long ignoreIndex;
    private final Reduction reduction;

    /** As {@code nn.NLLLoss(weight, ignore_index, reduction)}; {@code weight} ({@code [C]}) may be {@code null}. */
    public NLLLoss(Tensor weight, long ignoreIndex, Reduction reduction) {
        this.weight = weight == null ? null : weight.detach();
        this.ignoreIndex = ignoreIndex;
        this.reduction = reduction;
    }

    public NLLLoss(Reduction reduction, long ignoreIndex) {
        this(null, ignoreIndex, reduction);
    }

    public NLLLoss(Reduction reduction) {
        this(reduction, DEFAULT_IGNORE_INDEX);
    }

    public NLLLoss() {
        this(Reduction.MEAN);
    }

    @Override
    public Tensor forward(Tensor logProbabilities, Tensor target) {
        ClassTargets t = ClassTargets.read("NLLLoss", logProbabilities, target, weight, ignoreIndex);
        return t.reduce(t.nll(logProbabilities), reduction);
    }

    static Tensor nll(String op, Tensor logp, Tensor target, Reduction reduction, long ignoreIndex) {
        ClassTargets t = ClassTargets.read(op, logp, target, null, ignoreIndex);
        return t.reduce(t.nll(logp), reduction);
    }

    /**
     * Class-index targets read once on the host, checked, and turned into what the loss needs: the index
     * tensor for gather, which positions count, and each position's class weight. Targets are data, not
     * part of the graph.
     */
    static final class ClassTargets {
        final String op;
        /** The class dimension of the input: 1, or 0 for an unbatched {@code [C]} input. */
        final int classDim;
        final int classes;
        final int[] targetShape;
        /** Per position: the target, or 0 where ignored (so gather stays in range). */
        final long[] safe;
        /** Per position: 1 where the target counts, else 0. */
        final double[] keep;
        /** Per position: the target's class weight, 0 where ignored; null without class weights. */
        final double[] positionWeight;
        final Tensor classWeight;
        final int kept;
        final double weightSum;

        private ClassTargets(String op, int classDim, int classes, int[] targetShape, long[] safe, double[] keep,
                             double[] positionWeight, Tensor classWeight, int kept, double weightSum) {
            this.op = op;
            this.classDim = classDim;
            this.classes = classes;
            this.targetShape = targetShape;
            this.safe = safe;
            this.keep = keep;
            this.positionWeight = positionWeight;
            this.classWeight = classWeight;
            this.kept = kept;
            this.weightSum = weightSum;
        }

        static ClassTargets read(String op, Tensor input, Tensor target, Tensor weight, long ignoreIndex) {
            if (input.rank() < 1) {
                throw new TensorShapeException(op + ": input must have shape [C], [N, C] or [N, C, d1, ...], got "
                        + input.shape());
            }
            int classDim = input.rank() == 1 ? 0 : 1;
            int classes = input.size(classDim);
            int[] expected = withoutDim(input.shape().toArray(), classDim);
            if (target.dtype() != DType.INT64) {
                throw new DTypeMismatchException(op + ": target must hold INT64 class indices, got " + target.dtype()
                        + " with shape " + target.shape());
            }
            if (!Arrays.equals(expected, target.shape().toArray())) {
                throw new TensorShapeException(op + ": target shape " + target.shape() + " does not match input shape "
                        + input.shape() + " (expected " + Arrays.toString(expected) + ")");
            }
            double[] w = null;
            Tensor classWeight = null;
            if (weight != null) {
                if (weight.rank() != 1 || weight.size(0) != classes) {
                    throw new TensorShapeException(op + ": weight must have shape [" + classes + "] (one per class of input "
                            + "shape " + input.shape() + "), got " + weight.shape());
                }
                if (!weight.dtype().isFloatingPoint()) {
                    throw new DTypeMismatchException(op + ": weight must be FLOAT32 or FLOAT64, got " + weight.dtype());
                }
                w = weight.toDoubleArray();
                classWeight = weight.to(input.backend()).toType(input.dtype());
            }
            long[] classOf = target.toLongArray();
            long[] safe = new long[classOf.length];
            double[] keep = new double[classOf.length];
            double[] positionWeight = w == null ? null : new double[classOf.length];
            int kept = 0;
            double weightSum = 0;
            for (int i = 0; i < classOf.length; i++) {
                long c = classOf[i];
                if (c == ignoreIndex) {
                    continue;
                }
                if (c < 0 || c >= classes) {
                    throw new IndexOutOfBoundsException(op + ": target " + c + " at position " + i + " is out of range for "
                            + classes + " classes (input shape " + input.shape() + ")");
                }
                safe[i] = c;
                keep[i] = 1.0;
                kept++;
                if (w != null) {
                    positionWeight[i] = w[(int) c];
                    weightSum += w[(int) c];
                }
            }
            return new ClassTargets(op, classDim, classes, expected, safe, keep, positionWeight, classWeight, kept,
                    w == null ? kept : weightSum);
        }

        /** Per position {@code -weight[t] input[n, t, ...]}, 0 where ignored. */
        Tensor nll(Tensor logp) {
            var create = Tensor.on(logp.backend());
            int[] indexShape = logp.shape().toArray();
            indexShape[classDim] = 1;
            Tensor picked = logp.gather(classDim, create.fromArray(safe, indexShape)).reshape(targetShape);
            Tensor perPosition = picked.neg();
            if (positionWeight != null) {
                perPosition = perPosition.mul(create.fromArray(positionWeight, logp.dtype(), targetShape));
            }
            return maskIgnored(perPosition);
        }

        /**
         * 0 where the target is ignored: where(), not a product with the mask, so an ignored position's
         * -inf log-probability cannot give NaN.
         */
        Tensor maskIgnored(Tensor perPosition) {
            if (kept == keep.length) {
                return perPosition;
            }
            var create = Tensor.on(perPosition.backend());
            Tensor mask = create.fromArray(keep, perPosition.dtype(), targetShape);
            return Tensor.where(mask, perPosition, create.scalar(0.0, perPosition.dtype()));
        }

        /** MEAN is over the weights of the counted targets, as PyTorch's total_weight. */
        Tensor reduce(Tensor perPosition, Reduction reduction) {
            return switch (reduction) {
                case NONE -> perPosition;
                case SUM -> perPosition.sum();
                case MEAN -> perPosition.sum().div(weightSum);
                case BATCHMEAN -> throw Reductions.batchMeanNotSupported(op);
            };
        }

        static int[] withoutDim(int[] shape, int dim) {
            int[] out = new int[shape.length - 1];
            for (int d = 0, k = 0; d < shape.length; d++) {
                if (d != dim) {
                    out[k++] = shape[d];
                }
            }
            return out;
        }
    }
}
