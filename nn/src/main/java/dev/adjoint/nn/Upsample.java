package dev.adjoint.nn;

import dev.adjoint.Functional;
import dev.adjoint.InterpolationMode;
import dev.adjoint.Tensor;

import java.util.Arrays;

/**
 * Resamples the spatial dimensions of {@code [N, C, L]}, {@code [N, C, H, W]} or
 * {@code [N, C, D, H, W]} inputs to a fixed size or by a scale factor, as {@code nn.Upsample}
 * (see {@link Functional#interpolate}); no parameters.
 */
public final class Upsample extends Module {
    private final int[] size;
    private final double[] scaleFactor;
    private final InterpolationMode mode;
    private final boolean alignCorners;

    /** Exactly one of {@code size} and {@code scaleFactor}; {@code alignCorners} with the linear and bicubic modes only. */
    public Upsample(int[] size, double[] scaleFactor, InterpolationMode mode, boolean alignCorners) {
        if ((size == null) == (scaleFactor == null)) {
            throw new IllegalArgumentException("Upsample: give either size or scaleFactor, not "
                    + (size == null ? "neither" : "both"));
        }
        this.size = size == null ? null : size.clone();
        this.scaleFactor = scaleFactor == null ? null : scaleFactor.clone();
        this.mode = mode;
        this.alignCorners = alignCorners;
    }

    /** Every spatial dimension scaled by {@code scaleFactor}. */
    public Upsample(double scaleFactor, InterpolationMode mode) {
        this(null, new double[] {scaleFactor}, mode, false);
    }

    @Override
    public Tensor forward(Tensor x) {
        return Functional.interpolate(x, size, scaleFactor, mode, alignCorners);
    }

    @Override
    protected String describe() {
        String what = size != null
                ? "size=" + (size.length == 1 ? String.valueOf(size[0]) : tuple(Arrays.toString(size)))
                : "scale_factor=" + (scaleFactor.length == 1 ? String.valueOf(scaleFactor[0])
                        : tuple(Arrays.toString(scaleFactor)));
        String torchMode = mode.name().toLowerCase(java.util.Locale.ROOT).replace('_', '-');
        return what + ", mode='" + torchMode + "'" + (alignCorners ? ", align_corners=True" : "");
    }

    private static String tuple(String list) {
        return "(" + list.substring(1, list.length() - 1) + ")";
    }
}
