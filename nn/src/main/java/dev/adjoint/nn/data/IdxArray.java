package dev.adjoint.nn.data;

import dev.adjoint.Shape;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Objects;

/**
 * The contents of one IDX file: its element type, its dimensions and its elements in row-major
 * order, kept as the file's raw big-endian bytes (an MNIST image file holds 47 million bytes; widening
 * them to doubles up front would take eight times that).
 */
public final class IdxArray {
    private final Idx.ElementType type;
    private final Shape shape;
    private final byte[] data;
    // Absolute reads only, so sharing it between threads is safe.
    private final ByteBuffer view;

    /** {@code data} is big-endian and must hold exactly {@code shape.numel()} elements of {@code type}. */
    public IdxArray(Idx.ElementType type, Shape shape, byte[] data) {
        this.type = Objects.requireNonNull(type, "type");
        this.shape = Objects.requireNonNull(shape, "shape");
        if ((long) shape.numel() * type.byteSize() != data.length) {
            throw new IllegalArgumentException("IdxArray: " + data.length + " bytes do not hold shape " + shape
                    + " of " + type + " (" + (long) shape.numel() * type.byteSize() + " bytes)");
        }
        this.data = data;
        this.view = ByteBuffer.wrap(data).order(ByteOrder.BIG_ENDIAN);
    }

    public Idx.ElementType type() {
        return type;
    }

    public Shape shape() {
        return shape;
    }

    public int numel() {
        return shape.numel();
    }

    /** The raw big-endian element bytes (a copy). */
    public byte[] bytes() {
        return data.clone();
    }

    /** Element {@code i} (row-major) as a double; unsigned bytes read as 0..255. */
    public double get(int i) {
        ByteBuffer b = view;
        return switch (type) {
            case UNSIGNED_BYTE -> data[i] & 0xff;
            case SIGNED_BYTE -> data[i];
            case SHORT -> b.getShort(i * 2);
            case INT -> b.getInt(i * 4);
            case FLOAT -> b.getFloat(i * 4);
            case DOUBLE -> b.getDouble(i * 8);
        };
    }

    /** Every element times {@code scale}, as floats (e.g. {@code 1/255.0} maps pixel bytes to [0, 1]). */
    public float[] toFloatArray(double scale) {
        float[] out = new float[numel()];
        if (type == Idx.ElementType.UNSIGNED_BYTE) {
            // A table of the 256 possible values: the same float for the same byte, whatever the scale.
            float[] table = new float[256];
            for (int v = 0; v < 256; v++) {
                table[v] = (float) (v * scale);
            }
            for (int i = 0; i < out.length; i++) {
                out[i] = table[data[i] & 0xff];
            }
        } else {
            for (int i = 0; i < out.length; i++) {
                out[i] = (float) (get(i) * scale);
            }
        }
        return out;
    }

    /** Every element as a long; fails for floating element types, whose values are not labels. */
    public long[] toLongArray() {
        if (type == Idx.ElementType.FLOAT || type == Idx.ElementType.DOUBLE) {
            throw new IllegalStateException("toLongArray: elements are " + type + ", not integers");
        }
        long[] out = new long[numel()];
        for (int i = 0; i < out.length; i++) {
            out[i] = (long) get(i);
        }
        return out;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof IdxArray other && type == other.type && shape.equals(other.shape)
                && Arrays.equals(data, other.data);
    }

    @Override
    public int hashCode() {
        return Objects.hash(type, shape, Arrays.hashCode(data));
    }

    @Override
    public String toString() {
        return "IdxArray(" + type + ", " + shape + ")";
    }
}
