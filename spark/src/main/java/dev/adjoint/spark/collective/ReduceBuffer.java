package dev.adjoint.spark.collective;

import dev.adjoint.DType;

import java.nio.ByteBuffer;

/**
 * A flat vector that an {@link AllReduce} sums in place: the gradients of every parameter laid end to
 * end, in the model's dtype. The two element types are the two subclasses; each knows how to move a
 * range of its elements to and from the wire format (little-endian) and how to add a received range
 * into itself, so the collectives are written once over ranges.
 */
public abstract sealed class ReduceBuffer permits ReduceBuffer.Float32, ReduceBuffer.Float64 {

    /** A buffer of {@code length} zeros of a floating dtype. */
    public static ReduceBuffer allocate(DType dtype, int length) {
        return switch (dtype) {
            case FLOAT32 -> new Float32(new float[length]);
            case FLOAT64 -> new Float64(new double[length]);
            case INT64 -> throw new IllegalArgumentException("ReduceBuffer: gradients are FLOAT32 or FLOAT64, got INT64");
        };
    }

    public abstract DType dtype();

    public abstract int length();

    /** Bytes per element on the wire. */
    public final int elementBytes() {
        return dtype() == DType.FLOAT32 ? Float.BYTES : Double.BYTES;
    }

    /** Writes elements {@code [from, from + count)} to {@code out} (little-endian), advancing its position. */
    abstract void encode(int from, int count, ByteBuffer out);

    /**
     * {@code this[i] = received[i] + this[i]} for {@code i} in {@code [from, from + count)}, reading
     * {@code received} from {@code in}. The received partial sum comes first, so a chain of ranks
     * 0, 1, ..., n-1 evaluates {@code ((g0 + g1) + g2) + ...}, left to right.
     */
    abstract void addReceived(ByteBuffer in, int from, int count);

    /** {@code this[i] = received[i]}. */
    abstract void copyReceived(ByteBuffer in, int from, int count);

    /** {@code this[i] = this[i] / divisor}, in this dtype's arithmetic. */
    abstract void divide(int from, int count, int divisor);

    /** A 64-bit hash of the exact bits of every element (distinct NaN payloads differ). */
    public abstract long bitHash();

    /** FLOAT32 elements in a {@code float[]}. */
    public static final class Float32 extends ReduceBuffer {
        private final float[] data;
        private float[] scratch = new float[0];

        public Float32(float[] data) {
            this.data = data;
        }

        public float[] array() {
            return data;
        }

        @Override
        public DType dtype() {
            return DType.FLOAT32;
        }

        @Override
        public int length() {
            return data.length;
        }

        @Override
        void encode(int from, int count, ByteBuffer out) {
            out.asFloatBuffer().put(data, from, count);
            out.position(out.position() + count * Float.BYTES);
        }

        @Override
        void addReceived(ByteBuffer in, int from, int count) {
            float[] r = received(in, count);
            for (int i = 0; i < count; i++) {
                data[from + i] = r[i] + data[from + i];
            }
        }

        @Override
        void copyReceived(ByteBuffer in, int from, int count) {
            in.asFloatBuffer().get(data, from, count);
            in.position(in.position() + count * Float.BYTES);
        }

        private float[] received(ByteBuffer in, int count) {
            if (scratch.length < count) {
                scratch = new float[count];
            }
            in.asFloatBuffer().get(scratch, 0, count);
            in.position(in.position() + count * Float.BYTES);
            return scratch;
        }

        @Override
        void divide(int from, int count, int divisor) {
            float d = divisor;
            for (int i = from; i < from + count; i++) {
                data[i] = data[i] / d;
            }
        }

        @Override
        public long bitHash() {
            long h = Hashing.start(DType.FLOAT32, data.length);
            for (float v : data) {
                h = Hashing.add(h, Float.floatToRawIntBits(v));
            }
            return Hashing.finish(h);
        }
    }

    /** FLOAT64 elements in a {@code double[]}. */
    public static final class Float64 extends ReduceBuffer {
        private final double[] data;
        private double[] scratch = new double[0];

        public Float64(double[] data) {
            this.data = data;
        }

        public double[] array() {
            return data;
        }

        @Override
        public DType dtype() {
            return DType.FLOAT64;
        }

        @Override
        public int length() {
            return data.length;
        }

        @Override
        void encode(int from, int count, ByteBuffer out) {
            out.asDoubleBuffer().put(data, from, count);
            out.position(out.position() + count * Double.BYTES);
        }

        @Override
        void addReceived(ByteBuffer in, int from, int count) {
            double[] r = received(in, count);
            for (int i = 0; i < count; i++) {
                data[from + i] = r[i] + data[from + i];
            }
        }

        @Override
        void copyReceived(ByteBuffer in, int from, int count) {
            in.asDoubleBuffer().get(data, from, count);
            in.position(in.position() + count * Double.BYTES);
        }

        private double[] received(ByteBuffer in, int count) {
            if (scratch.length < count) {
                scratch = new double[count];
            }
            in.asDoubleBuffer().get(scratch, 0, count);
            in.position(in.position() + count * Double.BYTES);
            return scratch;
        }

        @Override
        void divide(int from, int count, int divisor) {
            double d = divisor;
            for (int i = from; i < from + count; i++) {
                data[i] = data[i] / d;
            }
        }

        @Override
        public long bitHash() {
            long h = Hashing.start(DType.FLOAT64, data.length);
            for (double v : data) {
                h = Hashing.add(h, Double.doubleToRawLongBits(v));
            }
            return Hashing.finish(h);
        }
    }

    /** A 64-bit multiply-rotate hash with SplitMix64's finaliser; for comparing replicas, not for security. */
    private static final class Hashing {
        private static final long MULTIPLIER = 0x9e3779b97f4a7c15L;

        static long start(DType dtype, int length) {
            return dtype.ordinal() * 31L + length;
        }

        static long add(long h, long bits) {
            return Long.rotateLeft((h ^ bits) * MULTIPLIER, 29);
        }

        static long finish(long h) {
            h = (h ^ (h >>> 30)) * 0xbf58476d1ce4e5b9L;
            h = (h ^ (h >>> 27)) * 0x94d049bb133111ebL;
            return h ^ (h >>> 31);
        }
    }
}
