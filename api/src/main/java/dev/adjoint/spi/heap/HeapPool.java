package dev.adjoint.spi.heap;

import dev.adjoint.DType;

import java.lang.ref.SoftReference;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.HashMap;

/**
 * Arrays given back by closed {@link dev.adjoint.MemoryScope}s, per thread, by dtype and length, for the
 * next allocations of that size on the same thread: a training step asks for the same sizes every
 * step, so after the first one its tensors reuse the previous step's arrays instead of fresh ones,
 * which the JVM zero-fills (a full write pass over the step's memory on the calling thread). Held
 * softly: the garbage collector may still take them when memory runs short.
 */
final class HeapPool {
    /** Smaller arrays come from the thread's allocation buffer about as cheaply as from here. */
    static final int MIN_POOLED = 1024;

    /**
     * Test switch: storages whose contents the caller promised to overwrite start as NaN (floating),
     * a large garbage value (integer) or true, fresh or reused, so a kernel that relies on zeros shows.
     */
    static final boolean POISON = Boolean.getBoolean("adjoint.heap.poisonOutputs");

    private static final ThreadLocal<HeapPool> POOLS = ThreadLocal.withInitial(HeapPool::new);

    private final HashMap<Long, ArrayDeque<SoftReference<Object>>> free = new HashMap<>();

    private HeapPool() {
    }

    private static long key(DType dtype, int size) {
        return ((long) dtype.ordinal() << 32) | size;
    }

    /** A pooled array of exactly {@code size} elements of {@code dtype}, contents unspecified; null if none. */
    static Object take(DType dtype, int size) {
        if (size < MIN_POOLED) {
            return null;
        }
        ArrayDeque<SoftReference<Object>> arrays = POOLS.get().free.get(key(dtype, size));
        if (arrays == null) {
            return null;
        }
        SoftReference<Object> ref;
        while ((ref = arrays.poll()) != null) {
            Object array = ref.get();
            if (array != null) {
                return array;
            }
        }
        return null;
    }

    static void give(DType dtype, Object array, int size) {
        if (size >= MIN_POOLED) {
            POOLS.get().free.computeIfAbsent(key(dtype, size), k -> new ArrayDeque<>()).push(new SoftReference<>(array));
        }
    }

    static void zero(Object array) {
        switch (array) {
            case double[] a -> Arrays.fill(a, 0.0);
            case float[] a -> Arrays.fill(a, 0f);
            case long[] a -> Arrays.fill(a, 0L);
            case int[] a -> Arrays.fill(a, 0);
            case boolean[] a -> Arrays.fill(a, false);
            default -> throw new IllegalArgumentException("HeapPool: not a storage array: " + array.getClass());
        }
    }

    static void poison(Object array) {
        switch (array) {
            case double[] a -> Arrays.fill(a, Double.NaN);
            case float[] a -> Arrays.fill(a, Float.NaN);
            case long[] a -> Arrays.fill(a, 0x5A5A_5A5A_5A5A_5A5AL);
            case int[] a -> Arrays.fill(a, 0x5A5A_5A5A);
            case boolean[] a -> Arrays.fill(a, true);
            default -> throw new IllegalArgumentException("HeapPool: not a storage array: " + array.getClass());
        }
    }
}
