package dev.adjoint.spi;

import dev.adjoint.DType;
import dev.adjoint.Shape;

/**
 * The primitive kernels a compute backend provides. Everything else (autograd, broadcasting rules,
 * shape checks, composites such as softmax or cross-entropy) lives above this interface and is
 * written once.
 *
 * <p>Contract shared by every kernel:
 * <ul>
 *   <li>Inputs arrive as a {@link Storage} plus a {@link Layout}; layouts may be strided, offset, or
 *       have stride 0 (broadcast). Inputs of one call share a dtype unless stated otherwise.</li>
 *   <li>Outputs are freshly allocated by the api and contiguous, except for {@link #copy} and
 *       {@link #fill}, whose destination may be any non-overlapping strided view.</li>
 *   <li>All shape and dtype validation has already happened in the api: kernels may assume
 *       consistent arguments, and index tensors hold in-range values.</li>
 *   <li>Kernels are not called for empty views (nothing to read or write), whose offsets may lie
 *       anywhere; a backend still takes empty storages from {@link #allocate} and friends.</li>
 *   <li>FLOAT32 reductions and matmul should accumulate at least as accurately as the conformance
 *       tolerances demand.</li>
 * </ul>
 * Backends are discovered with {@link java.util.ServiceLoader}; an implementation needs a public
 * no-argument constructor and a {@code META-INF/services/dev.adjoint.spi.Backend} entry.
 */
public interface Backend {

    /** Short lower-case name users select the backend by, e.g. {@code "scalar"}. */
    String name();

    /** Higher wins when the backend is chosen automatically. */
    int priority();

    /** Whether this backend can run in the current JVM, and why not. Must not throw. */
    Availability availability();

    // ---- storage and transfer --------------------------------------------------------------

    /** A zero-filled storage of {@code size} elements. */
    Storage allocate(DType dtype, int size);

    /**
     * A storage of {@code size} elements whose contents are unspecified, for an output the caller's
     * kernel writes in full before anything reads it (as {@code torch.empty}): a backend that reuses
     * memory hands it over without clearing it. The default allocates zeros.
     */
    default Storage allocateForOverwrite(DType dtype, int size) {
        return allocate(dtype, size);
    }

    /**
     * A storage holding {@code values} converted to {@code dtype}: floating values truncate toward zero
     * into INT32 and INT64, and BOOL holds whether each is non-zero. (INT64 values beyond 2^53 come
     * through {@link #fromLongs}.)
     */
    Storage fromDoubles(double[] values, DType dtype);

    Storage fromFloats(float[] values);

    Storage fromLongs(long[] values);

    /**
     * {@code storage} holds state that must live across steps, such as an optimizer's moment
     * estimates, however it was allocated: a backend that frees or reuses memory
     * by scope ({@link dev.adjoint.MemoryScope}) leaves it to the garbage collector instead. Others
     * ignore it.
     */
    default void markLongLived(Storage storage) {
    }

    /** The elements of the view, row-major, converted to double. */
    double[] toDoubles(Storage storage, Layout layout);

    /** The elements of the view, row-major, converted to float. */
    float[] toFloats(Storage storage, Layout layout);

    /** The elements of the view, row-major, converted to long (exact for the integer dtypes and BOOL; floating values truncate toward zero). */
    long[] toLongs(Storage storage, Layout layout);

    /**
     * Whether this backend runs {@code kernel} (a kernel method of this interface or of
     * {@link FusedKernels}, by name: "unary", "sort", "softmax", ...) for {@code primitive} (the
     * {@link UnaryOp}, {@link BinaryOp}, {@link ReduceOp} or {@link ScanOp} it applies; null for the other
     * kernels) with code of its own, such as vector loops or a native library, rather than the reference
     * loops of {@code spi.heap} or a default of this interface. For reports (docs/coverage.md): no result
     * depends on it. The default says no.
     */
    default boolean runsNatively(String kernel, Enum<?> primitive) {
        return false;
    }

    /**
     * One-pass kernels for composites (softmax, layer norm, batch norm, the optimizers' updates), of which
     * the backend offers some or all ({@link FusedKernels#offers}), or {@code null} (the default) to have
     * the api compose every one of them from the primitives below.
     */
    default FusedKernels fused() {
        return null;
    }

    // ---- kernels -----------------------------------------------------------------------------

    /** Sets every element of the view {@code out} to {@code value}. */
    void fill(Storage out, Layout outLayout, double value);

    /**
     * Copies view {@code src} into view {@code dst} of the same shape, converting dtype if they differ
     * as {@link #fromDoubles} does; integer and BOOL sources convert exactly (no trip through double).
     */
    void copy(Storage src, Layout srcLayout, Storage dst, Layout dstLayout);

    /** {@code x} and {@code out} share a dtype; integer inputs come only for ops with {@link UnaryOp#hasExact}. */
    void unary(UnaryOp op, Storage x, Layout xLayout, Storage out, Layout outLayout);

    /**
     * {@code a} and {@code b} are already broadcast to the output shape (stride 0 where repeated) and
     * share a dtype, which {@code out} has too, except for comparisons, whose {@code out} is BOOL.
     * Integer and BOOL operands follow {@link BinaryOp#applyExact}, exactly.
     */
    void binary(BinaryOp op, Storage a, Layout aLayout, Storage b, Layout bLayout, Storage out, Layout outLayout);

    /**
     * {@code out = scale * a + alpha * b} (floating dtypes; {@code b} already broadcast to the output
     * shape; {@code out} may be {@code a} itself). It is what {@code add_(other, alpha)} and the
     * optimizers' updates run: one pass instead of a scaled temporary and an add. The scalars are
     * rounded to the dtype first, and the products are rounded before they are added, as the two
     * separate ops would round them (no fused multiply-add), so results do not depend on whether a
     * backend fuses.
     *
     * <p>The default composes {@link #binary} and needs a temporary; backends override it with one loop.
     */
    default void scaledAdd(double scale, Storage a, Layout aLayout, double alpha, Storage b, Layout bLayout,
                           Storage out, Layout outLayout) {
        DType dtype = out.dtype();
        Layout scalar = Layout.contiguous(Shape.scalar()).broadcastTo(outLayout.shape());
        Storage scaled = allocate(dtype, outLayout.numel());
        Layout scaledLayout = Layout.contiguous(outLayout.shape());
        binary(BinaryOp.MUL, b, bLayout, fromDoubles(new double[] {alpha}, dtype), scalar, scaled, scaledLayout);
        if (scale != 1) {
            binary(BinaryOp.MUL, a, aLayout, fromDoubles(new double[] {scale}, dtype), scalar, out, outLayout);
            a = out;
            aLayout = outLayout;
        }
        binary(BinaryOp.ADD, a, aLayout, scaled, scaledLayout, out, outLayout);
    }

    /**
     * {@code out = cond ? a : b}, all views already broadcast to the output shape. {@code cond} is
     * BOOL; {@code a}, {@code b} and {@code out} share any dtype.
     */
    void where(Storage cond, Layout condLayout, Storage a, Layout aLayout, Storage b, Layout bLayout,
               Storage out, Layout outLayout);

    /**
     * Reduces {@code x} along every dimension where {@code outLayout} has size 1 and {@code xLayout}
     * does not. Both layouts have the same rank (the api reduces with keepDim and reshapes after).
     * {@code out} has x's dtype, except that the SUM of BOOL or INT32 is INT64 (as torch.sum); integer
     * reductions are exact, the sum wrapping on overflow as PyTorch's.
     */
    void reduce(ReduceOp op, Storage x, Layout xLayout, Storage out, Layout outLayout);

    /**
     * Running sums or products along the <em>last</em> dimension of {@code x} (floating dtypes), from the
     * first element of each row to the last, or from the last to the first when {@code reverse}; the api
     * moves another dimension there with a transposed view. {@code out} is contiguous with {@code x}'s
     * shape. Results must agree with {@link RowKernels#scan} within the conformance tolerances.
     *
     * <p>The default copies the elements out, scans them in double and copies the result in: correct
     * on any backend, and what a backend without a scan of its own runs.
     */
    default void scan(ScanOp op, boolean reverse, Storage x, Layout xLayout, Storage out, Layout outLayout) {
        double[] values = toDoubles(x, xLayout);
        RowKernels.scan(op, reverse, values, xLayout.shape().dim(xLayout.rank() - 1));
        copy(fromDoubles(values, out.dtype()), Layout.contiguous(outLayout.shape()), out, outLayout);
    }

    /**
     * Sorts along the <em>last</em> dimension of {@code x} (floating dtypes), stably, NaN above every
     * number, as {@link RowKernels#sort}: the sorted elements into {@code values} (x's dtype) and their
     * positions along that dimension into {@code indices} (INT64). Both outputs are contiguous with
     * {@code x}'s shape.
     *
     * <p>The default copies the elements out, sorts them and copies the results in.
     */
    default void sort(Storage x, Layout xLayout, boolean descending, Storage values, Layout valuesLayout,
                      Storage indices, Layout indicesLayout) {
        double[] data = toDoubles(x, xLayout);
        long[] positions = new long[data.length];
        RowKernels.sort(data, xLayout.shape().dim(xLayout.rank() - 1), descending, positions);
        Layout dense = Layout.contiguous(xLayout.shape());
        copy(fromDoubles(data, values.dtype()), dense, values, valuesLayout);
        copy(fromLongs(positions), dense, indices, indicesLayout);
    }

    /**
     * Batched matrix product: {@code a} is {@code [..., m, k]}, {@code b} is {@code [..., k, n]},
     * {@code out} is {@code [..., m, n]}; all three have the same rank (at least 2) and the same batch
     * dimensions (the api expands broadcast batch dims with stride 0). Transposed operands arrive as
     * strided layouts, not copies.
     */
    void matmul(Storage a, Layout aLayout, Storage b, Layout bLayout, Storage out, Layout outLayout);

    /**
     * The forward of torch.nn.functional.linear: {@code out = a @ b + bias}, {@code a} {@code [m, k]},
     * {@code b} {@code [k, n]} (the weight, usually a transposed view), {@code out} {@code [m, n]}
     * contiguous, and {@code bias} a vector of {@code n} elements (any stride) added to every row, or
     * {@code null}. All rank 2, one dtype; {@code m}, {@code n} and {@code k} are all at least 1.
     *
     * <p>The default is {@link #matmul} and then a {@link #binary} ADD of the bias rows into
     * {@code out} in place (as the api's {@code add_} runs it); a backend whose GEMM can add the bias
     * as it writes each block of the output (an epilogue) overrides it, so the bias costs no pass of
     * its own.
     */
    default void linear(Storage a, Layout aLayout, Storage b, Layout bLayout, Storage bias, Layout biasLayout,
                        Storage out, Layout outLayout) {
        matmul(a, aLayout, b, bLayout, out, outLayout);
        if (bias != null) {
            binary(BinaryOp.ADD, out, outLayout, bias, biasLayout.broadcastTo(outLayout.shape()), out, outLayout);
        }
    }

    /**
     * torch.gather: {@code out[i][j][k] = src[i][index[i][j][k]][k]} for {@code dim == 1}, and so on.
     * {@code index} is INT64 with the output's shape; its values are in range. {@code src} and
     * {@code out} share any dtype (integer sources are copied exactly).
     */
    void gather(Storage src, Layout srcLayout, int dim, Storage index, Layout indexLayout,
                Storage out, Layout outLayout);

    /**
     * torch.scatter_add_ in place: {@code dst[i][index[i][j][k]][k] += src[i][j][k]} for {@code dim == 1}.
     * {@code index} and {@code src} have the same shape; {@code dst} is contiguous; {@code dst} and
     * {@code src} share any dtype (integer sums are exact).
     */
    void scatterAdd(Storage dst, Layout dstLayout, int dim, Storage index, Layout indexLayout,
                    Storage src, Layout srcLayout);

    // ---- sliding windows (convolution and pooling) ----------------------------------------------

    /**
     * im2col, torch.nn.functional.unfold: for {@code x} of shape {@code [N, C, height, width]} (any
     * strides), {@code out[n][(c * kernelH + kh) * kernelW + kw][oh * outW + ow]} is the pixel that
     * tap {@code (kh, kw)} of window position {@code (oh, ow)} reads (see {@link Window2d}), or 0
     * where it reads the padding. {@code out} has shape {@code [N, C * kernelH * kernelW, outH * outW]}
     * and may be any non-overlapping strided view: the api lays it out as {@code [C * taps, N, positions]}
     * in memory, so that a convolution of the whole batch is one matrix product.
     * {@link #fold} is its adjoint.
     */
    void unfold(Storage x, Layout xLayout, Window2d window, Storage out, Layout outLayout);

    /**
     * col2im, torch.nn.functional.fold, the adjoint of {@link #unfold}: every element of {@code cols}
     * ({@code [N, C * kernelH * kernelW, outH * outW]}, any strides) is added to the pixel of
     * {@code out} ({@code [N, C, height, width]}, contiguous) that {@link #unfold} would have read it
     * from; elements that fall on the padding are dropped. {@code out} arrives zero-filled, as
     * {@link #allocate} returns it.
     */
    void fold(Storage cols, Layout colsLayout, Window2d window, Storage out, Layout outLayout);

    /**
     * A convolution without bias, the forward of conv2d: {@code x} ({@code [N, C, height, width]})
     * correlated with {@code weight} ({@code [O, C / groups, kernelH, kernelW]}) along {@code window}
     * into {@code out} ({@code [N, O, outH, outW]}):
     * {@code out[n][o][oh][ow] = sum over c, kh, kw of weight[o][c][kh][kw] * x[n][g * C / groups + c][row][column]}
     * with {@code g = o / (O / groups)} and the row and column that tap {@code (kh, kw)} of position
     * {@code (oh, ow)} reads (see {@link Window2d}; padding reads 0). All three operands are contiguous
     * ({@code out} zero-filled). Linear in each operand; {@link #conv2dInputGrad} and
     * {@link #conv2dWeightGrad} are its adjoints.
     *
     * <p>The default unfolds the whole batch and multiplies each group's columns as one matrix
     * (unfold, matmul, a copy into place): any backend with those primitives runs it unchanged.
     */
    default void conv2d(Storage x, Layout xLayout, Storage weight, Layout weightLayout, Window2d window, int groups,
                        Storage out, Layout outLayout) {
        int n = xLayout.shape().dim(0);
        int channels = xLayout.shape().dim(1);
        int outChannels = weightLayout.shape().dim(0);
        int perGroup = outChannels / groups;
        int depth = channels / groups * window.taps();
        int positions = window.positions();
        int columns = n * positions;
        Storage cols = unfoldedBatch(x, xLayout, window);
        // [O, N, positions]: each group's rows of output are one product over the whole batch.
        Storage product = allocate(out.dtype(), outChannels * columns);
        matmul(weight, new Layout(Shape.of(groups, perGroup, depth), new int[] {perGroup * depth, depth, 1},
                        weightLayout.offset()),
                cols, Layout.contiguous(Shape.of(groups, depth, columns)),
                product, Layout.contiguous(Shape.of(groups, perGroup, columns)));
        Shape image = Shape.of(n, outChannels, positions);
        copy(product, new Layout(image, new int[] {positions, columns, 1}, 0),
                out, new Layout(image, image.contiguousStrides(), outLayout.offset()));
    }

    /**
     * {@link #conv2d} plus a bias per output channel: {@code out[n][o][oh][ow] = conv + bias[o]}, with
     * {@code biasLayout} the {@code [O]} bias viewed as {@code [1, O, 1, 1]} and broadcast to
     * {@code out}'s shape (stride 0 but along the channels). The default adds the bias into the
     * convolution's output in a second pass; a kernel that starts each output's sum at its bias saves
     * that pass over the whole output.
     */
    default void conv2dBiased(Storage x, Layout xLayout, Storage weight, Layout weightLayout, Storage bias,
                              Layout biasLayout, Window2d window, int groups, Storage out, Layout outLayout) {
        conv2d(x, xLayout, weight, weightLayout, window, groups, out, outLayout);
        binary(BinaryOp.ADD, out, outLayout, bias, biasLayout, out, outLayout);
    }

    /**
     * The input gradient of {@link #conv2d}, a transposed convolution: every element of {@code grad}
     * ({@code [N, O, outH, outW]}) times each weight it met in the forward, added into the pixel of
     * {@code out} ({@code [N, C, height, width]}, C = {@code weight.size(1) * groups}) that weight
     * read. Padding taps are dropped. All contiguous, {@code out} zero-filled.
     *
     * <p>The default multiplies each group's transposed weight with the batch's gradient in
     * {@code [O, N, positions]} order and folds the columns.
     */
    default void conv2dInputGrad(Storage grad, Layout gradLayout, Storage weight, Layout weightLayout, Window2d window,
                                 int groups, Storage out, Layout outLayout) {
        int n = gradLayout.shape().dim(0);
        int outChannels = gradLayout.shape().dim(1);
        int channels = outLayout.shape().dim(1);
        int perGroup = outChannels / groups;
        int depth = channels / groups * window.taps();
        int positions = window.positions();
        int columns = n * positions;
        Storage byChannel = outputChannelsFirst(grad, gradLayout);
        Storage cols = allocate(out.dtype(), channels * window.taps() * columns);
        matmul(weight, new Layout(Shape.of(groups, depth, perGroup), new int[] {perGroup * depth, 1, depth},
                        weightLayout.offset()),
                byChannel, Layout.contiguous(Shape.of(groups, perGroup, columns)),
                cols, Layout.contiguous(Shape.of(groups, depth, columns)));
        fold(cols, new Layout(Shape.of(n, channels * window.taps(), positions), new int[] {positions, columns, 1}, 0),
                window, out, outLayout);
    }

    /**
     * The weight gradient of {@link #conv2d}: {@code out[o][c][kh][kw]} ({@code [O, C / groups, kernelH,
     * kernelW]}) is the sum over the batch and the window positions of {@code grad[n][o][oh][ow]}
     * ({@code [N, O, outH, outW]}) times the pixel of {@code x} ({@code [N, C, height, width]}) that
     * tap read. All contiguous, {@code out} zero-filled.
     *
     * <p>The default unfolds the batch as {@link #conv2d} does and multiplies each group's gradient
     * rows by its transposed columns: the sum over the batch is the product's inner dimension.
     */
    default void conv2dWeightGrad(Storage x, Layout xLayout, Storage grad, Layout gradLayout, Window2d window,
                                  int groups, Storage out, Layout outLayout) {
        int n = xLayout.shape().dim(0);
        int outChannels = gradLayout.shape().dim(1);
        int perGroup = outChannels / groups;
        int depth = xLayout.shape().dim(1) / groups * window.taps();
        int columns = n * window.positions();
        Storage cols = unfoldedBatch(x, xLayout, window);
        Storage byChannel = outputChannelsFirst(grad, gradLayout);
        matmul(byChannel, Layout.contiguous(Shape.of(groups, perGroup, columns)),
                cols, new Layout(Shape.of(groups, columns, depth), new int[] {depth * columns, 1, columns}, 0),
                out, new Layout(Shape.of(groups, perGroup, depth), new int[] {perGroup * depth, depth, 1},
                        outLayout.offset()));
    }

    /**
     * The unfolded batch in {@code [C * taps, N, positions]} order, a new storage: per group of
     * channels, one {@code [depth, N * positions]} matrix. For the defaults of the convolutions.
     */
    private Storage unfoldedBatch(Storage x, Layout xLayout, Window2d window) {
        int n = xLayout.shape().dim(0);
        int rows = xLayout.shape().dim(1) * window.taps();
        int positions = window.positions();
        Storage cols = allocate(x.dtype(), rows * n * positions);
        unfold(x, xLayout, window, cols, new Layout(Shape.of(n, rows, positions), new int[] {positions, n * positions, 1}, 0));
        return cols;
    }

    /** {@code grad} ({@code [N, O, positions...]}) copied into {@code [O, N, positions]} order, a new storage. */
    private Storage outputChannelsFirst(Storage grad, Layout gradLayout) {
        int n = gradLayout.shape().dim(0);
        int outChannels = gradLayout.shape().dim(1);
        int positions = gradLayout.numel() / Math.max(1, n * outChannels);
        Storage out = allocate(grad.dtype(), gradLayout.numel());
        Shape image = Shape.of(n, outChannels, positions);
        copy(grad, new Layout(image, image.contiguousStrides(), gradLayout.offset()),
                out, new Layout(image, new int[] {positions, n * positions, 1}, 0));
        return out;
    }
    /**
     * Max pooling: for {@code x} of shape {@code [N, C, height, width]} (any strides), {@code out}
     * ({@code [N, C, outH, outW]}, contiguous) holds the largest tap of each window that lies inside
     * the image (padding never wins), and {@code indices} (INT64, same shape, contiguous) its position
     * {@code h * width + w} in its image. The first largest tap in row-major window order wins, and a
     * NaN tap wins over any number (the last NaN, as PyTorch's CPU kernel). Every window has at least one tap in
     * the image (the api guarantees it).
     */
    void maxPool2d(Storage x, Layout xLayout, Window2d window, Storage out, Layout outLayout, Storage indices,
                   Layout indicesLayout);

    /**
     * Average pooling, torch's avg_pool2d without a divisor override: for {@code x} of shape
     * {@code [N, C, height, width]} (floating, any strides), {@code out} ({@code [N, C, outH, outW]},
     * contiguous) holds the sum of each window's taps inside the image divided by the window's count.
     * With {@code countIncludePad} the count is the taps up to the padded image's edge (the padding
     * counts, the part of a ceil-mode window beyond it does not), otherwise the taps inside the image.
     * The window has no dilation. Linear in {@code x}; {@link #avgPool2dInputGrad} is its adjoint.
     *
     * <p>The default unfolds each plane, sums the taps and multiplies by the reciprocal counts
     * (unfold, reduce, binary).
     */
    default void avgPool2d(Storage x, Layout xLayout, Window2d window, boolean countIncludePad, Storage out,
                           Layout outLayout) {
        int planes = xLayout.shape().dim(0) * xLayout.shape().dim(1);
        int taps = window.taps();
        int positions = window.positions();
        // Each plane as an image of one channel: the columns, stored taps first, are one contiguous
        // [taps, planes, positions] block whose sum over taps reads whole rows.
        Layout asPlanes = planesOf(xLayout);
        Storage source = x;
        if (asPlanes == null) {
            source = allocate(x.dtype(), xLayout.numel());
            copy(x, xLayout, source, Layout.contiguous(xLayout.shape()));
            asPlanes = Layout.contiguous(Shape.of(planes, 1, window.height(), window.width()));
        }
        Storage cols = allocate(x.dtype(), taps * planes * positions);
        unfold(source, asPlanes, window, cols,
                new Layout(Shape.of(planes, taps, positions), new int[] {positions, planes * positions, 1}, 0));
        Storage sums = allocate(x.dtype(), planes * positions);
        reduce(ReduceOp.SUM, cols, Layout.contiguous(Shape.of(taps, planes, positions)), sums,
                Layout.contiguous(Shape.of(1, planes, positions)));
        Storage reciprocals = reciprocalCounts(window, countIncludePad, x.dtype());
        binary(BinaryOp.MUL, sums, Layout.contiguous(outLayout.shape()), reciprocals,
                Layout.contiguous(Shape.of(window.outH(), window.outW())).broadcastTo(outLayout.shape()), out, outLayout);
    }

    /**
     * The input gradient of {@link #avgPool2d}, its adjoint: each element of {@code grad}
     * ({@code [N, C, outH, outW]}, any strides) divided by its window's count and added into every
     * pixel of {@code out} ({@code [N, C, height, width]}, contiguous, zero-filled) the window covers
     * inside the image. Linear in {@code grad}; {@link #avgPool2d} is its adjoint.
     *
     * <p>The default multiplies by the reciprocal counts and folds the result, repeated for every tap
     * (binary, fold).
     */
    default void avgPool2dInputGrad(Storage grad, Layout gradLayout, Window2d window, boolean countIncludePad,
                                    Storage out, Layout outLayout) {
        Shape gradShape = gradLayout.shape();
        int planes = gradShape.dim(0) * gradShape.dim(1);
        int positions = window.positions();
        Storage scaled = allocate(grad.dtype(), planes * positions);
        binary(BinaryOp.MUL, grad, gradLayout, reciprocalCounts(window, countIncludePad, grad.dtype()),
                Layout.contiguous(Shape.of(window.outH(), window.outW())).broadcastTo(gradShape), scaled,
                Layout.contiguous(gradShape));
        // Every tap of a position reads the same scaled gradient: a stride-0 tap dimension.
        Shape image = Shape.of(planes, 1, window.height(), window.width());
        fold(scaled, new Layout(Shape.of(planes, window.taps(), positions), new int[] {positions, 0, 1}, 0), window,
                out, new Layout(image, image.contiguousStrides(), outLayout.offset()));
    }

    /** {@code x} ({@code [N, C, height, width]}) viewed as {@code [N * C, 1, height, width]}, or null when its strides do not allow it. */
    private static Layout planesOf(Layout x) {
        Shape shape = x.shape();
        int n = shape.dim(0);
        int channels = shape.dim(1);
        int planeStride;
        if (channels == 1) {
            planeStride = x.stride(0);
        } else if (n == 1 || x.stride(0) == channels * x.stride(1)) {
            planeStride = x.stride(1);
        } else {
            return null;
        }
        return new Layout(Shape.of(n * channels, 1, shape.dim(2), shape.dim(3)),
                new int[] {planeStride, planeStride, x.stride(2), x.stride(3)}, x.offset());
    }

    /** {@code 1 / count} per window position, {@code [outH, outW]}: counts are separable, rows times columns. */
    private Storage reciprocalCounts(Window2d w, boolean countIncludePad, DType dtype) {
        int[] rows = poolCounts(w.outH(), w.height(), w.kernelH(), w.strideH(), w.padH(), countIncludePad);
        int[] cols = poolCounts(w.outW(), w.width(), w.kernelW(), w.strideW(), w.padW(), countIncludePad);
        double[] values = new double[w.positions()];
        for (int i = 0; i < rows.length; i++) {
            for (int j = 0; j < cols.length; j++) {
                values[i * cols.length + j] = 1.0 / ((double) rows[i] * cols[j]);
            }
        }
        return fromDoubles(values, dtype);
    }

    /** PyTorch's avg_pool2d divisor along one dimension, for each output position. */
    private static int[] poolCounts(int out, int size, int kernel, int stride, int pad, boolean countIncludePad) {
        int[] counts = new int[out];
        for (int o = 0; o < out; o++) {
            int start = o * stride - pad;
            int end = Math.min(start + kernel, size + pad);
            counts[o] = countIncludePad ? end - start : Math.min(end, size) - Math.max(start, 0);
        }
        return counts;
    }
}
