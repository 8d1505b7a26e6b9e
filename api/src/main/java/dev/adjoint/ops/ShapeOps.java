package dev.adjoint.ops;

import dev.adjoint.DType;
import dev.adjoint.Shape;
import dev.adjoint.Tensor;
import dev.adjoint.TensorShapeException;
import dev.adjoint.autograd.ForwardAD;
import dev.adjoint.autograd.GradMode;
import dev.adjoint.autograd.Graph;
import dev.adjoint.internal.GradientSlices;
import dev.adjoint.spi.Layout;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Supplier;

import static dev.adjoint.ops.ElementwiseOps.of;

/**
 * Movement and indexing ops. Most are views: a new {@link Layout} over the same storage, no copy.
 * Their backward formulas are the inverse movement (transpose back, reshape back, pad back).
 */
public final class ShapeOps {
    private static final Tensor[] NOTHING = new Tensor[0];

    private ShapeOps() {
    }

    /**
     * torch.reshape: a view of {@code x} when its strides allow the new shape (see {@link #viewStrides}),
     * otherwise a view of a contiguous copy. Writes through a view reach {@code x}, as in PyTorch.
     */
    public static Tensor reshape(Tensor x, int... shape) {
        Shape target = inferShape("reshape", x.shape(), shape);
        if (target.equals(x.shape())) {
            return x;
        }
        int[] strides = viewStrides(x.layout(), target);
        if (strides != null) {
            return viewAs(x, x, new Layout(target, strides, x.layout().offset()));
        }
        Tensor copy = Dispatch.contiguousCopy(x);
        return viewAs(x, copy, new Layout(target, target.contiguousStrides(), copy.layout().offset()));
    }

    /** torch.Tensor.view: {@link #reshape} where that is a view, and an error where it would copy. */
    public static Tensor view(Tensor x, int... shape) {
        Shape target = inferShape("view", x.shape(), shape);
        if (target.equals(x.shape())) {
            return x;
        }
        int[] strides = viewStrides(x.layout(), target);
        if (strides == null) {
            throw new TensorShapeException("view: shape " + target + " is not compatible with the input's shape "
                    + x.shape() + " and strides " + Arrays.toString(x.layout().strides())
                    + " (at least one dimension spans across two contiguous subspaces); use reshape, which copies");
        }
        return viewAs(x, x, new Layout(target, strides, x.layout().offset()));
    }

    /**
     * {@code layout} over the storage of {@code source} (x itself, or a contiguous copy of it), recorded as a
     * view of {@code x}: both directions are reshapes, which need not find the same layout in the gradient
     * or tangent that x had.
     */
    private static Tensor viewAs(Tensor x, Tensor source, Layout layout) {
        Shape inShape = x.shape();
        int[] target = layout.shape().toArray();
        Tensor out = Dispatch.view(source, layout);
        return Graph.record("ViewBackward", out, of(x), NOTHING, (g, c) -> of(g.reshape(inShape.toArray())),
                (t, in, y) -> t[0].reshape(target));
    }

    /**
     * The strides that lay {@code target} over {@code layout}'s elements in row-major order, or null
     * when no strides do, as ATen's {@code computeStride}. The input's dims split into chunks, each
     * dim's stride its inner neighbour's times that neighbour's size (size-1 dims belong to any chunk);
     * a chunk is one strided run, so any run of target dims with the same element count can walk it.
     * A target dim that would straddle two chunks has no single stride. Without elements any strides
     * do; those of a contiguous tensor are chosen, as ATen does.
     */
    private static int[] viewStrides(Layout layout, Shape target) {
        int rank = layout.rank();
        int viewD = target.rank() - 1;
        int[] strides = new int[target.rank()];
        if (rank == 0) {
            Arrays.fill(strides, 1);
            return strides;
        }
        if (layout.numel() == 0) {
            return target.contiguousStrides();
        }
        long chunkBase = layout.stride(rank - 1);
        long chunkNumel = 1;
        long viewNumel = 1;
        for (int d = rank - 1; d >= 0; d--) {
            chunkNumel *= layout.shape().dim(d);
            boolean chunkEnds = d == 0 || layout.shape().dim(d - 1) != 1
                    && layout.stride(d - 1) != chunkNumel * chunkBase;
            if (!chunkEnds) {
                continue;
            }
            while (viewD >= 0 && (viewNumel < chunkNumel || target.dim(viewD) == 1)) {
                strides[viewD] = Math.toIntExact(viewNumel * chunkBase);
                viewNumel *= target.dim(viewD);
                viewD--;
            }
            if (viewNumel != chunkNumel) {
                return null;
            }
            if (d > 0) {
                chunkBase = layout.stride(d - 1);
                chunkNumel = 1;
                viewNumel = 1;
            }
        }
        return viewD == -1 ? strides : null;
    }

    public static Tensor transpose(Tensor x, int dim0, int dim1) {
        int d0 = x.shape().normalizeDimOrScalarDim(dim0, "transpose");
        int d1 = x.shape().normalizeDimOrScalarDim(dim1, "transpose");
        if (x.rank() == 0) {
            return alias(x);
        }
        int[] perm = identity(x.rank());
        perm[d0] = d1;
        perm[d1] = d0;
        Tensor out = Dispatch.view(x, permuted(x.layout(), perm));
        return Graph.record("TransposeBackward", out, of(x), NOTHING, (g, c) -> of(g.transpose(d0, d1)),
                (t, in, y) -> t[0].transpose(d0, d1));
    }

    public static Tensor permute(Tensor x, int... dims) {
        if (dims.length != x.rank()) {
            throw new TensorShapeException("permute: " + Arrays.toString(dims) + " has " + dims.length
                    + " dimensions but the tensor has shape " + x.shape());
        }
        int[] perm = new int[dims.length];
        boolean[] used = new boolean[dims.length];
        for (int i = 0; i < dims.length; i++) {
            perm[i] = x.shape().normalizeDim(dims[i], "permute");
            if (used[perm[i]]) {
                throw new TensorShapeException("permute: " + Arrays.toString(dims) + " repeats dimension " + dims[i]
                        + " (shape " + x.shape() + ")");
            }
            used[perm[i]] = true;
        }
        int[] inverse = new int[perm.length];
        for (int i = 0; i < perm.length; i++) {
            inverse[perm[i]] = i;
        }
        Tensor out = Dispatch.view(x, permuted(x.layout(), perm));
        return Graph.record("PermuteBackward", out, of(x), NOTHING, (g, c) -> of(g.permute(inverse)),
                (t, in, y) -> t[0].permute(perm));
    }

    public static Tensor squeeze(Tensor x) {
        List<Integer> keep = new ArrayList<>();
        for (int d = 0; d < x.rank(); d++) {
            if (x.size(d) != 1) {
                keep.add(d);
            }
        }
        return keepDims(x, keep, "SqueezeBackward");
    }

    /** Removes {@code dim} if it has size 1; otherwise returns the tensor unchanged, as PyTorch does. */
    public static Tensor squeeze(Tensor x, int dim) {
        int d = x.shape().normalizeDimOrScalarDim(dim, "squeeze");
        if (x.rank() == 0 || x.size(d) != 1) {
            return x;
        }
        List<Integer> keep = new ArrayList<>();
        for (int i = 0; i < x.rank(); i++) {
            if (i != d) {
                keep.add(i);
            }
        }
        return keepDims(x, keep, "SqueezeBackward");
    }

    private static Tensor keepDims(Tensor x, List<Integer> keep, String node) {
        if (keep.size() == x.rank()) {
            return x;
        }
        int[] dims = new int[keep.size()];
        int[] strides = new int[keep.size()];
        for (int i = 0; i < dims.length; i++) {
            dims[i] = x.size(keep.get(i));
            strides[i] = x.layout().stride(keep.get(i));
        }
        Shape inShape = x.shape();
        Tensor out = Dispatch.view(x, new Layout(Shape.of(dims), strides, x.layout().offset()));
        return Graph.record(node, out, of(x), NOTHING, (g, c) -> of(g.reshape(inShape.toArray())),
                (t, in, y) -> t[0].reshape(dims));
    }

    public static Tensor unsqueeze(Tensor x, int dim) {
        int r = x.rank();
        int d = dim < 0 ? dim + r + 1 : dim;
        if (d < 0 || d > r) {
            throw new TensorShapeException("unsqueeze: dimension " + dim + " is out of range for shape " + x.shape()
                    + " (valid: [" + (-r - 1) + ", " + r + "])");
        }
        int[] dims = new int[r + 1];
        int[] strides = new int[r + 1];
        for (int i = 0, j = 0; i <= r; i++) {
            if (i == d) {
                dims[i] = 1;
                strides[i] = d < r ? x.layout().stride(d) * x.size(d) : 1;
            } else {
                dims[i] = x.size(j);
                strides[i] = x.layout().stride(j);
                j++;
            }
        }
        Tensor out = Dispatch.view(x, new Layout(Shape.of(dims), strides, x.layout().offset()));
        return Graph.record("UnsqueezeBackward", out, of(x), NOTHING, (g, c) -> of(g.squeeze(d)),
                (t, in, y) -> t[0].unsqueeze(d));
    }

    public static Tensor expand(Tensor x, int... shape) {
        if (shape.length < x.rank()) {
            throw new TensorShapeException("expand: target " + Arrays.toString(shape) + " has fewer dimensions than shape "
                    + x.shape());
        }
        int lead = shape.length - x.rank();
        int[] target = shape.clone();
        for (int i = 0; i < target.length; i++) {
            int own = i >= lead ? x.size(i - lead) : 1;
            if (target[i] == -1) {
                if (i < lead) {
                    throw new TensorShapeException("expand: -1 is not allowed for the new leading dimension " + i
                            + " (expanding " + x.shape() + " to " + Arrays.toString(shape) + ")");
                }
                target[i] = own;
            } else if (own != target[i] && own != 1) {
                throw new TensorShapeException("expand: shape " + x.shape() + " cannot be expanded to "
                        + Arrays.toString(shape) + " (dimension " + i + ": " + own + " vs " + target[i] + ")");
            }
        }
        Shape targetShape = Shape.of(target);
        if (targetShape.equals(x.shape())) {
            return x;
        }
        Tensor out = Dispatch.view(x, x.layout().broadcastTo(targetShape));
        // The engine sums the gradient back over the expanded dimensions.
        return Graph.record("ExpandBackward", out, of(x), NOTHING, (g, c) -> of(g),
                (t, in, y) -> t[0].expand(target));
    }

    /**
     * torch.narrow: {@code length} elements of {@code dim} from {@code start}. A negative start counts
     * from the end, as in PyTorch 1.13: valid starts are {@code [-size, size]} (the end itself for an
     * empty slice), and -1 too for a dimension of size 0, which PyTorch wraps as it wraps a dim of a 0-d
     * tensor.
     */
    public static Tensor narrow(Tensor x, int dim, int requestedStart, int length) {
        int d = x.shape().normalizeDim(dim, "narrow");
        int size = x.size(d);
        int lowest = -Math.max(size, 1);
        if (requestedStart < lowest || requestedStart > size) {
            throw new TensorShapeException("narrow: start " + requestedStart + " is out of range for dimension " + d
                    + " of size " + size + " (shape " + x.shape() + "; valid: [" + lowest + ", " + size + "])");
        }
        int start = requestedStart < 0 ? Math.max(requestedStart + size, 0) : requestedStart;
        if (length < 0 || start + length > size) {
            throw new TensorShapeException("narrow: start " + requestedStart + " and length " + length
                    + " exceed dimension " + d + " of size " + size + " (shape " + x.shape() + ")");
        }
        Layout in = x.layout();
        Layout layout = new Layout(x.shape().withDim(d, length), in.strides(), in.offset() + start * in.stride(d));
        Tensor out = Dispatch.view(x, layout);
        Shape inShape = x.shape();
        // Backward pads the gradient with zeros back to the input's extent, using cat so that the
        // pad itself stays differentiable. When nothing is recorded, the gradient is copied into its
        // slice of one zero tensor instead, laid out as the input is when that is a permutation of a
        // dense tensor (the heads of a fused q/k/v projection): the gradient then reaches the
        // projection dense, where a contiguous pad would be copied again to undo the permutation.
        // In an unrecorded backward pass the pass itself pads: the slices of q, k and v go into one
        // buffer (GradientSlices).
        return Graph.record("NarrowBackward", out, of(x), NOTHING, (g, c) -> {
            if (!GradMode.isEnabled() && !ForwardAD.isDualLevelOpen()) {
                Supplier<Tensor> padded = () -> {
                    Tensor whole = Dispatch.zeros(g.backend(), g.dtype(), densePermutation(in));
                    Layout pad = whole.layout();
                    Dispatch.copyInto(g, whole, new Layout(g.shape(), pad.strides(), start * pad.stride(d)));
                    return whole;
                };
                Supplier<Tensor> blank = () -> Dispatch.empty(g.backend(), g.dtype(), densePermutation(in));
                Tensor slice = GradientSlices.offer(g, padded, blank, d, start);
                return of(slice != null ? slice : padded.get());
            }
            List<Tensor> parts = new ArrayList<>(3);
            if (start > 0) {
                parts.add(Tensor.on(g.backend()).zeros(g.dtype(), inShape.withDim(d, start).toArray()));
            }
            parts.add(g);
            int after = size - start - length;
            if (after > 0) {
                parts.add(Tensor.on(g.backend()).zeros(g.dtype(), inShape.withDim(d, after).toArray()));
            }
            return of(parts.size() == 1 ? g : cat(parts, d));
        }, (t, inputs, y) -> t[0].narrow(d, start, length));
    }

    /**
     * {@code layout}'s strides at offset 0 when they are a permutation of a dense tensor's (every
     * element of {@code numel} positions exactly once), else the contiguous layout of its shape.
     */
    static Layout densePermutation(Layout layout) {
        int[] strides = layout.strides();
        Integer[] dims = new Integer[strides.length];
        for (int i = 0; i < dims.length; i++) {
            dims[i] = i;
        }
        Arrays.sort(dims, (p, q) -> Integer.compare(strides[p], strides[q]));
        long expected = 1;
        for (int dim : dims) {
            int size = layout.shape().dim(dim);
            if (size == 1) {
                continue;
            }
            if (size == 0 || strides[dim] != expected) {
                return Layout.contiguous(layout.shape());
            }
            expected *= size;
        }
        return new Layout(layout.shape(), strides, 0);
    }

    /**
     * A new tensor object over the same storage whose gradient flows to {@code x} and whose tangent is
     * {@code x}'s: an identity op, for the function transforms, which need a tensor of their own to
     * differentiate with respect to without touching the caller's.
     */
    public static Tensor alias(Tensor x) {
        Tensor out = Dispatch.view(x, x.layout());
        return Graph.record("AliasBackward", out, of(x), NOTHING, (g, c) -> of(g), (t, in, y) -> t[0]);
    }

    public static Tensor contiguous(Tensor x) {
        if (x.isContiguous()) {
            return x;
        }
        Tensor out = Dispatch.contiguousCopy(x);
        return Graph.record("CloneBackward", out, of(x), NOTHING, (g, c) -> of(g), (t, in, y) -> t[0]);
    }

    /** A copy with its own contiguous storage, always (contiguous() returns the tensor itself when it can). */
    public static Tensor copy(Tensor x) {
        Tensor out = Dispatch.contiguousCopy(x);
        return Graph.record("CloneBackward", out, of(x), NOTHING, (g, c) -> of(g), (t, in, y) -> t[0]);
    }

    public static Tensor toType(Tensor x, DType dtype) {
        if (x.dtype() == dtype) {
            return x;
        }
        Tensor out = Dispatch.convert(x, dtype);
        if (!dtype.isFloatingPoint() || !x.dtype().isFloatingPoint()) {
            return out;
        }
        DType original = x.dtype();
        return Graph.record("ToCopyBackward", out, of(x), NOTHING, (g, c) -> of(g.toType(original)),
                (t, in, y) -> t[0].toType(dtype));
    }

    /** In-place {@code target[...] = source[...]}, refused where it would corrupt a recorded graph. */
    public static void copyInto(Tensor target, Tensor source) {
        Dispatch.checkSameBackend("copyFrom", target, source);
        if (!target.shape().equals(source.shape())) {
            throw new TensorShapeException("copyFrom: source shape " + source.shape() + " does not match target shape "
                    + target.shape());
        }
        InPlaceOps.checkUpdatable("copyFrom", target, source);
        Dispatch.copyInto(source, target, target.layout());
        Dispatch.markModifiedInPlace(target);
    }

    public static Tensor cat(List<Tensor> tensors, int dim) {
        if (tensors.isEmpty()) {
            throw new TensorShapeException("cat: expected a non-empty list of tensors");
        }
        for (int i = 0; i < tensors.size(); i++) {
            if (tensors.get(i).rank() == 0) {
                // As PyTorch: a 0-d tensor has no dimension to join along.
                throw new TensorShapeException("cat: tensor " + i + " is 0-d (shape []) and cannot be concatenated; "
                        + "stack 0-d tensors instead, or unsqueeze them to shape [1]");
            }
        }
        Tensor first = tensors.get(0);
        int d = first.shape().normalizeDim(dim, "cat");
        int total = 0;
        for (int i = 0; i < tensors.size(); i++) {
            Tensor t = tensors.get(i);
            Dispatch.checkSameBackend("cat", first, t);
            Dispatch.checkSameDType("cat", first, t);
            if (t.rank() != first.rank()) {
                throw new TensorShapeException("cat: tensor 0 has shape " + first.shape() + " but tensor " + i
                        + " has shape " + t.shape() + " (ranks differ)");
            }
            for (int k = 0; k < t.rank(); k++) {
                if (k != d && t.size(k) != first.size(k)) {
                    throw new TensorShapeException("cat: tensor 0 has shape " + first.shape() + " but tensor " + i
                            + " has shape " + t.shape() + "; sizes must match except in dimension " + d);
                }
            }
            total += t.size(d);
        }
        Tensor out = Dispatch.empty(first.backend(), first.dtype(), first.shape().withDim(d, total));
        int[] offsets = new int[tensors.size()];
        int[] sizes = new int[tensors.size()];
        int offset = 0;
        int[] outStrides = out.layout().strides();
        for (int i = 0; i < tensors.size(); i++) {
            Tensor t = tensors.get(i);
            offsets[i] = offset;
            sizes[i] = t.size(d);
            Dispatch.copyInto(t, out, new Layout(t.shape(), outStrides, offset * outStrides[d]));
            offset += t.size(d);
        }
        Tensor[] inputs = tensors.toArray(new Tensor[0]);
        return Graph.record("CatBackward", out, inputs, NOTHING, (g, c) -> {
            Tensor[] grads = new Tensor[offsets.length];
            for (int i = 0; i < grads.length; i++) {
                if (c.needsInputGrad(i)) {
                    grads[i] = g.narrow(d, offsets[i], sizes[i]);
                }
            }
            return grads;
        }, (t, in, y) -> {
            List<Tensor> parts = new ArrayList<>(in.length);
            for (int i = 0; i < in.length; i++) {
                parts.add(t[i] != null ? t[i] : in[i].zerosLike());
            }
            return cat(parts, d);
        });
    }

    public static Tensor stack(List<Tensor> tensors, int dim) {
        if (tensors.isEmpty()) {
            throw new TensorShapeException("stack: expected a non-empty list of tensors");
        }
        Shape first = tensors.get(0).shape();
        int outRank = first.rank() + 1;
        if (dim < -outRank || dim >= outRank) {
            throw new TensorShapeException("stack: dimension " + dim + " is out of range for stacking tensors of shape "
                    + first + " (valid: [" + (-outRank) + ", " + (outRank - 1) + "])");
        }
        List<Tensor> unsqueezed = new ArrayList<>(tensors.size());
        for (int i = 0; i < tensors.size(); i++) {
            if (!tensors.get(i).shape().equals(first)) {
                throw new TensorShapeException("stack: tensor 0 has shape " + first + " but tensor " + i
                        + " has shape " + tensors.get(i).shape() + "; all shapes must be equal");
            }
            unsqueezed.add(tensors.get(i).unsqueeze(dim));
        }
        return cat(unsqueezed, dim < 0 ? dim + first.rank() + 1 : dim);
    }

    public static Tensor gather(Tensor src, int dim, Tensor index) {
        Dispatch.checkSameBackend("gather", src, index);
        Dispatch.checkIndex("gather", index);
        int d = src.shape().normalizeDimOrScalarDim(dim, "gather");
        if (countingScalarAsVector(index) != countingScalarAsVector(src)) {
            throw new TensorShapeException("gather: index shape " + index.shape() + " and input shape " + src.shape()
                    + " must have the same number of dimensions");
        }
        if (src.rank() == 0 || index.rank() == 0) {
            // PyTorch takes a 0-d input or index as a vector of one element; the output has the index's shape.
            Dispatch.checkIndexValues("gather", "index", index, src.rank() == 0 ? 1 : src.size(d),
                    "dimension " + d + " of size " + (src.rank() == 0 ? "1 (a 0-d input)" : src.size(d)),
                    "index shape " + index.shape() + ", input shape " + src.shape());
            return gather(src.reshape(-1), 0, index.reshape(-1)).reshape(index.shape().toArray());
        }
        for (int k = 0; k < src.rank(); k++) {
            if (k != d && index.size(k) > src.size(k)) {
                throw new TensorShapeException("gather: index shape " + index.shape() + " exceeds input shape "
                        + src.shape() + " in dimension " + k);
            }
        }
        Dispatch.checkIndexValues("gather", index, src.size(d), d);
        Tensor out = Dispatch.gather(src, d, index);
        Shape inShape = src.shape();
        Tensor idx = index.detach();
        return Graph.record("GatherBackward", out, of(src), of(idx), (g, c) -> of(
                scatterAddIntoZeros(inShape, d, c.saved(0), g)),
                (t, in, y) -> t[0].gather(d, idx));
    }

    /**
     * {@code zeros(shape).scatterAdd(dim, index, src)} for gather's gradient, scattered straight into
     * the fresh zeros: scatterAdd proper copies its base first, which for a cross-entropy over many
     * classes (a [1024, 4096] gather gradient) was a 16 MB copy of zeros on every step. The index was
     * checked when gather ran.
     */
    private static Tensor scatterAddIntoZeros(Shape shape, int dim, Tensor index, Tensor src) {
        Tensor out = Dispatch.scatterAddIntoZeros(shape, dim, index, src);
        return Graph.record("ScatterAddBackward", out, of(src), of(index), (g, c) -> of(g.gather(dim, c.saved(0))),
                (t, in, y) -> scatterAddIntoZeros(shape, dim, index, t[0]));
    }

    public static Tensor scatterAdd(Tensor base, int dim, Tensor index, Tensor src) {
        Dispatch.checkSameBackend("scatterAdd", base, src);
        Dispatch.checkSameBackend("scatterAdd", base, index);
        Dispatch.checkSameDType("scatterAdd", base, src);
        Dispatch.checkIndex("scatterAdd", index);
        int d = base.shape().normalizeDimOrScalarDim(dim, "scatterAdd");
        boolean anyScalar = base.rank() == 0 || index.rank() == 0 || src.rank() == 0;
        if (anyScalar && countingScalarAsVector(base) == 1 && countingScalarAsVector(index) == 1
                && countingScalarAsVector(src) == 1) {
            // PyTorch takes a 0-d input, index or source as a vector of one element; the output has the
            // input's shape.
            Tensor vectorIndex = index.reshape(-1);
            Tensor vectorSrc = src.reshape(-1);
            if (vectorIndex.numel() != vectorSrc.numel()) {
                throw new TensorShapeException("scatterAdd: index shape " + index.shape() + " must equal src shape "
                        + src.shape());
            }
            int size = base.rank() == 0 ? 1 : base.size(0);
            Dispatch.checkIndexValues("scatterAdd", "index", index, size, "dimension 0 of size "
                    + (base.rank() == 0 ? "1 (a 0-d input)" : size), "index shape " + index.shape() + ", input shape "
                    + base.shape());
            return scatterAdd(base.reshape(-1), 0, vectorIndex, vectorSrc).reshape(base.shape().toArray());
        }
        if (!index.shape().equals(src.shape())) {
            throw new TensorShapeException("scatterAdd: index shape " + index.shape() + " must equal src shape "
                    + src.shape());
        }
        if (index.rank() != base.rank()) {
            throw new TensorShapeException("scatterAdd: index shape " + index.shape() + " and input shape "
                    + base.shape() + " must have the same number of dimensions");
        }
        for (int k = 0; k < base.rank(); k++) {
            if (k != d && index.size(k) > base.size(k)) {
                throw new TensorShapeException("scatterAdd: index shape " + index.shape() + " exceeds input shape "
                        + base.shape() + " in dimension " + k);
            }
        }
        Dispatch.checkIndexValues("scatterAdd", index, base.size(d), d);
        Tensor out = Dispatch.scatterAdd(base, d, index, src);
        Tensor idx = index.detach();
        return Graph.record("ScatterAddBackward", out, of(base, src), of(idx), (g, c) -> of(
                g, c.needsInputGrad(1) ? g.gather(d, c.saved(0)) : null),
                (t, in, y) -> (t[0] != null ? t[0] : in[0].zerosLike())
                        .scatterAdd(d, idx, t[1] != null ? t[1] : in[1].zerosLike()));
    }

    /** torch.index_select, as a gather whose index is the 1-D index broadcast along the other dims. */
    public static Tensor indexSelect(Tensor src, int dim, Tensor index) {
        Dispatch.checkIndex("indexSelect", index);
        int d = src.shape().normalizeDimOrScalarDim(dim, "indexSelect");
        if (index.rank() > 1) {
            throw new TensorShapeException("indexSelect: index must be 1-D (or 0-d, one index), got shape "
                    + index.shape());
        }
        if (src.rank() == 0) {
            // PyTorch's index_select of a 0-d input returns it for a single index 0; for other counts its
            // result is not defined (an uninitialised element for an empty index, a failing backward
            // for several), so only one index is taken.
            if (index.numel() != 1) {
                throw new TensorShapeException("indexSelect: a 0-d input takes exactly one index, got index shape "
                        + index.shape());
            }
            Dispatch.checkIndexValues("indexSelect", "index", index, 1, "dimension 0 of size 1 (a 0-d input)",
                    "index shape " + index.shape() + ", input shape " + src.shape());
            return gather(src.reshape(1), 0, index.reshape(1)).reshape();
        }
        Dispatch.checkIndexValues("indexSelect", "index", index, src.size(d), "dimension " + d + " of size "
                + src.size(d), "index shape " + index.shape() + ", input shape " + src.shape());
        int[] viewShape = new int[src.rank()];
        Arrays.fill(viewShape, 1);
        viewShape[d] = index.numel();
        // A 0-d index selects one slice, keeping the dim, as a 1-D index of one element does.
        int[] outShape = src.shape().withDim(d, index.numel()).toArray();
        return gather(src, d, index.reshape(viewShape).expand(outShape));
    }

    // ---- helpers ----------------------------------------------------------------------------------------

    private static Layout permuted(Layout in, int[] perm) {
        int[] dims = new int[perm.length];
        int[] strides = new int[perm.length];
        for (int i = 0; i < perm.length; i++) {
            dims[i] = in.shape().dim(perm[i]);
            strides[i] = in.stride(perm[i]);
        }
        return new Layout(Shape.of(dims), strides, in.offset());
    }

    /** The rank gather and scatterAdd compare, as PyTorch's: a 0-d tensor counts as a vector. */
    private static int countingScalarAsVector(Tensor t) {
        return Math.max(t.rank(), 1);
    }

    private static int[] identity(int n) {
        int[] p = new int[n];
        for (int i = 0; i < n; i++) {
            p[i] = i;
        }
        return p;
    }

    /** Resolves a single -1 and checks the element count, naming {@code op} and both shapes on failure. */
    private static Shape inferShape(String op, Shape from, int[] requested) {
        int inferred = -1;
        long known = 1;
        for (int i = 0; i < requested.length; i++) {
            if (requested[i] == -1) {
                if (inferred >= 0) {
                    throw new TensorShapeException(op + ": only one dimension can be -1, got "
                            + Arrays.toString(requested));
                }
                inferred = i;
            } else if (requested[i] < 0) {
                throw new TensorShapeException(op + ": invalid size " + requested[i] + " in "
                        + Arrays.toString(requested));
            } else {
                known *= requested[i];
            }
        }
        int[] dims = requested.clone();
        if (inferred >= 0) {
            if (known == 0 || from.numel() % known != 0) {
                throw new TensorShapeException(op + ": shape " + Arrays.toString(requested)
                        + " is invalid for input of shape " + from + " (" + from.numel() + " elements)");
            }
            dims[inferred] = (int) (from.numel() / known);
        } else if (known != from.numel()) {
            throw new TensorShapeException(op + ": shape " + Arrays.toString(requested)
                    + " is invalid for input of shape " + from + " (" + from.numel() + " elements)");
        }
        return Shape.of(dims);
    }
}
