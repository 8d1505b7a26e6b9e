package dev.adjoint.spi.heap;

import dev.adjoint.DType;

import java.lang.ref.SoftReference;
import java.util.ArrayDeque;
import java.util.Arrays;

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

    /**
     * The free lists by key ({@link #key}), in an open-addressed table: a lookup compares primitive keys
     * in one array instead of boxing the key and chasing a map node and a Long, which cost a few percent
     * of a small training step (tens of lookups per step, each on tables that the step's kernels have
     * pushed out of cache). A key is never 0 (pooled sizes are at least {@link #MIN_POOLED}): 0 marks a
     * free slot. Linear probing; the table doubles when half full and never shrinks (a program asks for
     * a few dozen distinct sizes).
     */
    private long[] keys = new long[64];
    @SuppressWarnings("unchecked")
    private ArrayDeque<SoftReference<Object>>[] lists = new ArrayDeque[64];
    private int used;

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
        ArrayDeque<SoftReference<Object>> arrays = POOLS.get().list(key(dtype, size), false);
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
            POOLS.get().list(key(dtype, size), true).push(new SoftReference<>(array));
        }
    }

    /** The free list of {@code key}; when absent, a new empty one if {@code create}, else null. */
    private ArrayDeque<SoftReference<Object>> list(long key, boolean create) {
        int mask = keys.length - 1;
        for (int i = slot(key, mask); ; i = (i + 1) & mask) {
            long k = keys[i];
            if (k == key) {
                return lists[i];
            }
            if (k == 0) {
                if (!create) {
                    return null;
                }
                ArrayDeque<SoftReference<Object>> list = new ArrayDeque<>();
                keys[i] = key;
                lists[i] = list;
                if (++used * 2 > keys.length) {
                    grow();
                }
                return list;
            }
        }
    }

    private static int slot(long key, int mask) {
        // Fibonacci hashing, high bits folded in: sizes that differ in low bits only still land apart.
        long h = key * 0x9E3779B97F4A7C15L;
        return (int) (h ^ (h >>> 32)) & mask;
    }

    @SuppressWarnings("unchecked")
    private void grow() {
        long[] oldKeys = keys;
        ArrayDeque<SoftReference<Object>>[] oldLists = lists;
        keys = new long[oldKeys.length * 2];
        lists = new ArrayDeque[oldKeys.length * 2];
        int mask = keys.length - 1;
        for (int j = 0; j < oldKeys.length; j++) {
            if (oldKeys[j] != 0) {
                int i = slot(oldKeys[j], mask);
                while (keys[i] != 0) {
                    i = (i + 1) & mask;
                }
                keys[i] = oldKeys[j];
                lists[i] = oldLists[j];
            }
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
