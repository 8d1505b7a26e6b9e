package dev.adjoint.engine.nd4j;

import dev.adjoint.DType;

import java.lang.management.ManagementFactory;
import java.lang.ref.PhantomReference;
import java.lang.ref.Reference;
import java.lang.ref.ReferenceQueue;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Keeps the native memory of this backend's storages bounded, whatever the size of the Java heap.
 *
 * <p>ND4J frees a buffer when the garbage collector finds it unreachable, and the collector runs when
 * the Java heap fills. A storage costs the heap about a hundred bytes and native memory its whole
 * size, so with a large heap the collector may not run for thousands of training steps while native
 * memory grows by gigabytes (a 64-128-10 MLP trained without scopes under the default heap passed
 * 10 GB resident). JavaCPP has a similar guard for its own pointers, but ND4J's buffers are allocated
 * outside its count, and its limit scales with the heap.
 *
 * <p>So this class counts the bytes of every storage from allocation until it is freed (by an
 * {@link dev.adjoint.MemoryScope}, or after a collection found it unreachable). When an allocation would take the
 * count past a threshold, it first runs {@link System#gc()} and waits briefly for the collected
 * buffers to be reported. The threshold is the larger of a base and twice the lowest count seen
 * since the last collection (what really survived it), so a model whose live tensors exceed the base
 * does not collect at every allocation: each collection frees at least as much as is live, and the
 * storages hold at most {@code max(base, 2 x live)} plus the allocation that crossed it. Using the
 * lowest count, not the count when the wait ended, keeps buffers reported late from raising it.
 *
 * <p>System properties (sizes in bytes, or with a k, m, g or t suffix):
 * <ul>
 *   <li>{@code adjoint.nd4j.gcThreshold}: the base; default 1/64 of physical memory, at most 64 MiB.</li>
 *   <li>{@code adjoint.nd4j.maxBytes}: a hard limit; an allocation that would pass it even after a
 *       collection fails with {@link Nd4jOutOfMemoryError}. Default: none.</li>
 * </ul>
 * A JVM started with {@code -XX:+DisableExplicitGC} ignores the request to collect; memory then grows
 * as it would without this class.
 */
final class NativeMemory {
    /** The one every storage of this backend is counted in. */
    static final NativeMemory SHARED = new NativeMemory(
            sizeProperty("adjoint.nd4j.gcThreshold", defaultThreshold()),
            sizeProperty("adjoint.nd4j.maxBytes", Long.MAX_VALUE));

    /**
     * After {@link System#gc()} the JVM's reference handler thread queues what the collection found
     * unreachable, just after the pause: wait up to this long for the first report (less if nothing
     * of ours was garbage, the case that makes the threshold rise) ...
     */
    private static final long FIRST_REPORT_MILLIS = 100;
    /** ... then for as long as reports keep coming this often. */
    private static final long SETTLE_MILLIS = 10;
    /** Threshold = the live bytes after a collection times this (the usual heap growth policy). */
    private static final long GROWTH = 2;

    private final long base;
    private final long maxBytes;
    private final AtomicLong live = new AtomicLong();
    /** The lowest count since the last collection: what survived it, once late reports are in. */
    private final AtomicLong floor = new AtomicLong();
    private final AtomicLong collections = new AtomicLong();
    private final AtomicLong collectingNanos = new AtomicLong();
    private final ReferenceQueue<Object> collected = new ReferenceQueue<>();
    /** Holds the references until counted: a reference that is itself collected never reports. */
    private final Set<Allocation> counted = ConcurrentHashMap.newKeySet();

    NativeMemory(long base, long maxBytes) {
        this.base = base;
        this.maxBytes = maxBytes;
    }

    /** The bytes of one buffer, counted until {@link #free} or until its owner is collected. */
    final class Allocation extends PhantomReference<Object> {
        final long bytes;

        private Allocation(Object owner, long bytes) {
            super(owner, collected);
            this.bytes = bytes;
        }

        /** The buffer is freed (a scope closed it, or the collector found it unreachable): stop counting it. */
        void free() {
            if (counted.remove(this)) {
                long now = live.addAndGet(-bytes);
                floor.accumulateAndGet(now, Math::min);
            }
            clear();
        }
    }

    /**
     * Called before allocating {@code bytes}: collects first if they would take the count past the
     * threshold. Throws {@link Nd4jOutOfMemoryError} if even after a collection they would pass
     * {@code adjoint.nd4j.maxBytes}.
     */
    void reserve(DType dtype, long elements, long bytes) {
        drain();
        if (live.get() + bytes > threshold() || live.get() + bytes > maxBytes) {
            collect(bytes);
            if (live.get() + bytes > maxBytes) {
                throw new Nd4jOutOfMemoryError(Nd4jOutOfMemoryError.allocating(dtype, elements, bytes),
                        "this backend's storages would pass adjoint.nd4j.maxBytes ("
                                + Nd4jOutOfMemoryError.size(maxBytes) + ")", liveBytes(), null);
            }
        }
    }

    /** Starts counting {@code bytes} held until {@code owner} (the buffer) is unreachable or freed. */
    Allocation allocated(Object owner, long bytes) {
        Allocation a = new Allocation(owner, bytes);
        counted.add(a);
        live.addAndGet(bytes);
        return a;
    }

    /** Bytes of the storages allocated and not yet known to be freed. */
    long liveBytes() {
        drain();
        return live.get();
    }

    /** Collections this class has requested so far. */
    long collections() {
        return collections.get();
    }

    /** Time spent collecting and waiting for the reports, in nanoseconds. */
    long collectingNanos() {
        return collectingNanos.get();
    }

    /** The count past which the next allocation collects first. */
    long threshold() {
        long f = floor.get();
        return Math.max(base, f > Long.MAX_VALUE / GROWTH ? Long.MAX_VALUE : GROWTH * f);
    }

    private void drain() {
        Reference<?> r;
        while ((r = collected.poll()) != null) {
            ((Allocation) r).free();
        }
    }

    private synchronized void collect(long bytes) {
        drain();
        if (live.get() + bytes <= threshold() && live.get() + bytes <= maxBytes) {
            return; // another thread collected while this one waited
        }
        long start = System.nanoTime();
        System.gc();
        collections.incrementAndGet();
        floor.set(live.get());
        try {
            long wait = FIRST_REPORT_MILLIS;
            Reference<?> r;
            while ((r = collected.remove(wait)) != null) {
                ((Allocation) r).free();
                drain();
                wait = SETTLE_MILLIS;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        collectingNanos.addAndGet(System.nanoTime() - start);
    }

    /**
     * 1/64 of the memory this JVM's machine or container has (the JVM's own default initial heap),
     * at most 64 MiB: garbage of that size costs one full collection, a few tens of milliseconds with
     * a small heap, which at a training loop's allocation rate (a few hundred KiB per step) is one
     * collection every few hundred steps, and keeps the swing of resident memory small next to what
     * the JVM and libnd4j take anyway (about 250 MiB).
     */
    private static long defaultThreshold() {
        long physical = 0;
        if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
            physical = os.getTotalMemorySize();
        }
        long cap = 64L << 20;
        return physical > 0 ? Math.min(cap, physical / 64) : cap;
    }

    static long sizeProperty(String name, long fallback) {
        String value = System.getProperty(name);
        if (value == null || value.isBlank()) {
            return fallback;
        }
        try {
            return parseSize(value);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("nd4j backend: system property " + name + "=\"" + value
                    + "\" is not a size; give bytes, or a number with k, m, g or t (e.g. 512m)", e);
        }
    }

    /** "1048576", "1024k", "512m", "2g" (binary multiples); a trailing b is allowed ("512mb"). */
    static long parseSize(String value) {
        String s = value.trim().toLowerCase(Locale.ROOT);
        if (s.endsWith("b")) {
            s = s.substring(0, s.length() - 1);
        }
        int shift = switch (s.isEmpty() ? ' ' : s.charAt(s.length() - 1)) {
            case 'k' -> 10;
            case 'm' -> 20;
            case 'g' -> 30;
            case 't' -> 40;
            default -> 0;
        };
        if (shift > 0) {
            s = s.substring(0, s.length() - 1).trim();
        }
        long n = Long.parseLong(s);
        if (n < 0 || Long.numberOfLeadingZeros(n) <= shift) {
            throw new IllegalArgumentException("size out of range: " + value);
        }
        return n << shift;
    }

    @Override
    public String toString() {
        return String.format(Locale.ROOT, "%,d bytes live, threshold %,d, %d collections taking %.2f s", live.get(),
                threshold(), collections(), collectingNanos() / 1e9);
    }
}
