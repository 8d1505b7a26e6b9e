package dev.adjoint.engine.simd;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/**
 * The register block and the cache blocks of the packed GEMM ({@link FloatGemm}, {@link DoubleGemm}),
 * derived from this machine's caches and vector registers rather than tuned on one CPU.
 *
 * <p>The GEMM's loop nest, outermost first: {@code NC} columns of B; a pass of {@code KC} over k, for
 * which that {@code KC x NC} block of B is packed into {@code KC x NR} micro-panels; then for each
 * {@code MR} rows of A, packed into one {@code MR x KC} micro-panel, every micro-panel of B in turn,
 * each pair multiplied by the register-blocked micro-kernel into an {@code MR x NR} block of the
 * output. So the A micro-panel is reused against the whole B block from L1 while the B micro-panels
 * stream past it from L2, and the B block is reused by every micro-panel of A. (This is the BLIS
 * scheme for the transposed product: A broadcast from L1, B loaded as vectors, as Goto's GEMM does
 * with the roles of A and B swapped.) Hence:
 * <ul>
 *   <li>{@code KC}: each line of the A micro-panel is used once per step of k, and between two uses of
 *       it a whole B micro-panel streams through L1; both must fit, {@code (MR + NR) x KC} elements,
 *       within L1 less one way (left to the output block and the stack). Measured on an Intel Xeon
 *       (48 KiB L1d, FLOAT32, 1024^3): the derived 256 ran at 73% of the FMA peak, 512 (twice L1)
 *       at 58%. But never less than {@link #MIN_KC}: each call of the micro-kernel ends by loading,
 *       adding to and storing its {@code MR x NR} block of the output, which a large product
 *       brings from beyond L2 (it visits each block once per pass), and a shallower pass pays that
 *       more often per multiply-add;</li>
 *   <li>{@code NC}: the B block ({@code KC x NC}) is reused from L2 by one micro-panel of A after another,
 *       while the A rows being packed, the output rows and the hardware prefetchers' lines also pass
 *       through L2; it gets half of this core's share of L2.</li>
 * </ul>
 * A needs no block of its own beyond its micro-panel (each is used in one sweep over the B block),
 * and no block is sized from L3. A product of several passes whose output would not stay in L2
 * from one pass to the next takes them all for {@link #passRows} rows of output at a time instead,
 * B packed all passes deep.
 *
 * <p>Where B's rows are contiguous, a pass of a micro-panel of B may be read where it lies rather
 * than packed, as long as its rows sit on L1's sets as well as a packed panel does
 * ({@link #stridedRunsFitL1}).
 *
 * <p>The register block: {@code NR} is two vectors; {@code MR} rows give {@code 2 MR} accumulators, three
 * quarters of the vector registers (the rest hold two vectors of B, a broadcast of A and spare room
 * for the register allocator): 12 rows with the 32 registers of AVX-512 or AArch64, 6 with the 16 of
 * AVX2, the shapes BLIS uses on those machines (transposed). Rounding {@code KC} to a multiple of 16
 * lets the in-register transposes of the packing cover whole passes.
 *
 * <p>The blocks change the order in which a product's terms are added (the passes over k) and so its
 * last bits, between machines with different caches; on one machine they are fixed at start-up, so a
 * product gives the same bits on every run, cold or compiled.
 */
final class GemmBlocking {
    /**
     * One core's data caches: the size and associativity of its L1 data cache, and its share of L2 (an
     * L2 shared by a cluster of cores, as on hybrid Intel parts, divided by the cores sharing it).
     */
    record Caches(int l1Bytes, int l1Ways, int l2Bytes) {
    }

    /** The register block {@code MR x NR} and the cache blocks of one element type, in elements. */
    record Blocks(int mr, int nr, int kc, int nc) {
    }

    /**
     * Where neither sysfs nor {@code getconf} describes the caches: an L1 and L2 no x86 or AArch64 core
     * of the last decade is smaller than, so the blocks still fit there.
     */
    static final Caches FALLBACK = new Caches(32 * 1024, 8, 512 * 1024);

    /** This machine's, found once at start-up ({@link #detect}). */
    static final Caches CACHES = detect(Path.of("/sys/devices/system/cpu/cpu0/cache"));

    private GemmBlocking() {
    }

    /**
     * Vector registers the JIT can allocate for a vector of {@code vectorBits}: x86 has 32 (zmm0-31)
     * with AVX-512 and 16 without (C2 only uses the upper 16 when AVX-512 is enabled, and then prefers
     * 512-bit vectors); AArch64 has 32, NEON or SVE.
     */
    static int vectorRegisters(String osArch, int vectorBits) {
        boolean x86 = osArch.equals("amd64") || osArch.equals("x86_64") || osArch.equals("x86") || osArch.equals("i386");
        return x86 && vectorBits < 512 ? 16 : 32;
    }

    /**
     * The shallowest pass over k, in steps of k, whatever L1 allows: 2 MR vectors of output loaded,
     * added to and stored per {@code 2 MR x 256} fused multiply-adds. A small L1 (32 KiB: AMD Zen 4,
     * Intel client cores before Alder Lake) would otherwise derive 160 for FLOAT32 and 128 for
     * FLOAT64. Measured on an AMD EPYC Zen 4 (32 KiB L1d, 1 MiB L2; one thread, CPU time, paired
     * rounds of benchmarks/ab/GemmAB.java, best GFLOP/s), KC 160 -> 256: FLOAT32 1024^3 100.4 -> 103.0,
     * 1000 x 333 x 777 103.4 -> 104.2; FLOAT64 1024^3 48.6 -> 48.9, 1000 x 333 x 777 46.4 -> 47.5;
     * 320 and 384 ran as 256 did. The micro-panel of A (12 x 256 elements) then takes 12 or 24 KiB
     * of L1 and the B micro-panels stream through the rest from L2 instead of staying in L1 beside it.
     */
    static final int MIN_KC = 256;

    /** Rows of the register block for {@code registers} vector registers: {@code 2 MR} accumulators, 3/4 of them. */
    static int microRows(int registers) {
        return registers * 3 / 8;
    }

    /** The cache blocks for {@code caches}, elements of {@code elementBytes} and an {@code mr x nr} register block. */
    static Blocks derive(Caches caches, int elementBytes, int mr, int nr) {
        int l1 = caches.l1Bytes() / caches.l1Ways() * (caches.l1Ways() - 1);
        int kc = Math.max(MIN_KC, roundDown(l1 / ((mr + nr) * elementBytes), 16));
        return new Blocks(mr, nr, kc, columns(caches, elementBytes, nr, kc));
    }

    /**
     * The widest block of B ({@code NC}, a multiple of {@code nr}) whose pass of depth {@code kc} fits
     * in half of L2: {@link #derive}'s for a full pass, and wider for a product whose passes are
     * shallower (k under KC), so that its B is not cut into more blocks than it needs, each of which
     * packs all of A again.
     */
    static int columns(Caches caches, int elementBytes, int nr, int kc) {
        return Math.max(nr, roundDown(caches.l2Bytes() / 2 / (Math.max(1, kc) * elementBytes), nr));
    }

    /**
     * Rows of a transposed A that the GEMM packs at once (a multiple of {@code mr}): an eighth of L2.
     * The B block has half of it, and while a block of A is packed and used, as much again passes
     * through L2 as streams: the columns of A it is read from and the output rows its micro-panels
     * add to. With a quarter, block, B and streams together overran L2 and B was read again from
     * beyond it (measured on an AMD EPYC Zen 5, 1 MiB L2, FLOAT32, one thread, the transformer
     * block's weight gradients {@code dy.T @ x} in benchmarks/ab/StepProductsAB.java: 1024 x 1024 x 256
     * 141 -> 166 GFLOP/s, 768 x 1024 x 256 143 -> 168; a sixth ran as an eighth did). Still long
     * enough that each column of A is read as a run of cache lines, not one or two per page.
     */
    static int transposedRows(Caches caches, int elementBytes, int mr, int kc) {
        return Math.max(mr, roundDown(caches.l2Bytes() / 8 / (kc * elementBytes), mr));
    }

    /**
     * Rows of the output (a multiple of {@code mr}) that a product of several passes over k takes
     * through all its passes before the next rows, for column blocks {@code nc} wide: a quarter of
     * L2, beside the pass's B block (half) and the lines of A and of packed B streaming through.
     */
    static int passRows(Caches caches, int elementBytes, int mr, int nc) {
        return Math.max(mr, roundDown(caches.l2Bytes() / 4 / (Math.max(1, nc) * elementBytes), mr));
    }

    /**
     * Whether {@code rows} runs of {@code runBytes} each, {@code strideBytes} apart (the rows of a
     * micro-panel of B read where B lies), sit on L1's sets no worse than the same bytes copied
     * together (a packed panel): either their starts, taken modulo the size of one way, fall at
     * enough different places for the runs to cover every set, as a contiguous copy does; or no set
     * is asked for more lines than L1 has ways less one (left to the micro-panel of A). Rows whose
     * stride is a multiple of a large power of two start at few places within a way: rows 1 KiB
     * apart in a 4 KiB way at four, so runs of 128 bytes use an eighth of the sets.
     */
    static boolean stridedRunsFitL1(Caches caches, long strideBytes, int runBytes, int rows) {
        long way = caches.l1Bytes() / caches.l1Ways();
        long places = way / gcd(strideBytes, way);
        if (places * runBytes >= way) {
            return true;
        }
        return (rows + places - 1) / places <= caches.l1Ways() - 1;
    }

    private static long gcd(long a, long b) {
        while (b != 0) {
            long t = a % b;
            a = b;
            b = t;
        }
        return a;
    }

    /**
     * The caches sysfs describes under {@code sysfs}; where that directory is absent (some VMs, such as
     * Firecracker guests, and containers hide it), what the C library reports ({@code getconf}, which
     * asks the CPU itself through CPUID on x86); {@link #FALLBACK} where neither answers.
     */
    static Caches detect(Path sysfs) {
        if (Files.isDirectory(sysfs)) {
            return read(sysfs);
        }
        Caches reported = fromGetconf();
        return reported != null ? reported : FALLBACK;
    }

    /**
     * {@code getconf -a}'s L1 data cache size and associativity and L2 size, or null if it does not run
     * or leaves one of them out. It does not say how many cores share L2, so L2 counts as private, as
     * it is on the server parts such VMs run on.
     */
    static Caches fromGetconf() {
        try {
            Process process = new ProcessBuilder("getconf", "-a").redirectErrorStream(true).start();
            String output;
            try (var in = process.getInputStream()) {
                output = new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
            }
            if (!process.waitFor(5, java.util.concurrent.TimeUnit.SECONDS) || process.exitValue() != 0) {
                process.destroyForcibly();
                return null;
            }
            return parseGetconf(output);
        } catch (IOException | RuntimeException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }

    /** The caches in {@code getconf -a}'s output (lines {@code NAME value}), or null if one is missing. */
    static Caches parseGetconf(String output) {
        int l1 = 0, l1Ways = 0, l2 = 0;
        for (String line : output.split("\\R")) {
            String[] fields = line.trim().split("\\s+");
            if (fields.length != 2) {
                continue;
            }
            switch (fields[0]) {
                case "LEVEL1_DCACHE_SIZE" -> l1 = number(fields[1]);
                case "LEVEL1_DCACHE_ASSOC" -> l1Ways = number(fields[1]);
                case "LEVEL2_CACHE_SIZE" -> l2 = number(fields[1]);
                default -> { }
            }
        }
        return l1 > 0 && l1Ways > 1 && l2 > 0 ? new Caches(l1, l1Ways, l2) : null;
    }

    /**
     * The caches described under {@code dir} (Linux sysfs: {@code index*} directories with
     * {@code level}, {@code type}, {@code size}, {@code ways_of_associativity}, {@code shared_cpu_list}),
     * or {@link #FALLBACK} for what is missing or unreadable.
     */
    static Caches read(Path dir) {
        int l1 = 0, l1Ways = 0, l1Cpus = 1, l2 = 0, l2Cpus = 1;
        try (Stream<Path> entries = Files.list(dir)) {
            for (Path index : entries.filter(p -> p.getFileName().toString().startsWith("index")).toList()) {
                String level = text(index.resolve("level"));
                String type = text(index.resolve("type"));
                if ("1".equals(level) && "Data".equals(type)) {
                    l1 = bytes(text(index.resolve("size")));
                    l1Ways = number(text(index.resolve("ways_of_associativity")));
                    l1Cpus = Math.max(1, cpus(text(index.resolve("shared_cpu_list"))));
                } else if ("2".equals(level) && ("Unified".equals(type) || "Data".equals(type))) {
                    l2 = bytes(text(index.resolve("size")));
                    l2Cpus = Math.max(1, cpus(text(index.resolve("shared_cpu_list"))));
                }
            }
        } catch (IOException | RuntimeException e) {
            return FALLBACK;
        }
        // CPUs sharing L1 are one core's hardware threads; L2 shared by more CPUs than that is shared by cores.
        int l2Cores = Math.max(1, l2Cpus / l1Cpus);
        return new Caches(l1 > 0 && l1Ways > 1 ? l1 : FALLBACK.l1Bytes(), l1 > 0 && l1Ways > 1 ? l1Ways : FALLBACK.l1Ways(),
                l2 > 0 ? l2 / l2Cores : FALLBACK.l2Bytes());
    }

    /** A sysfs cache size: {@code 48K}, {@code 2048K}, {@code 1M}, or plain bytes; 0 if not one. */
    static int bytes(String size) {
        if (size == null || size.isEmpty()) {
            return 0;
        }
        char unit = Character.toUpperCase(size.charAt(size.length() - 1));
        long scale = unit == 'K' ? 1024 : unit == 'M' ? 1024 * 1024 : unit == 'G' ? 1024 * 1024 * 1024 : 1;
        long value = number(scale == 1 ? size : size.substring(0, size.length() - 1));
        return (int) Math.min(Integer.MAX_VALUE, value * scale);
    }

    /** How many CPUs a sysfs CPU list names ({@code 0}, {@code 0-1}, {@code 0,2,4-7}); 0 if none. */
    static int cpus(String list) {
        if (list == null || list.isEmpty()) {
            return 0;
        }
        int count = 0;
        for (String range : list.split(",")) {
            String[] ends = range.split("-");
            count += ends.length == 2 ? number(ends[1]) - number(ends[0]) + 1 : 1;
        }
        return count;
    }

    private static int number(String s) {
        try {
            return s == null ? 0 : Integer.parseInt(s.trim());
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    private static String text(Path file) {
        try {
            return Files.readString(file).trim();
        } catch (IOException e) {
            return null;
        }
    }

    static int roundDown(int x, int multiple) {
        return x / multiple * multiple;
    }

    static int roundUp(int x, int multiple) {
        return (x + multiple - 1) / multiple * multiple;
    }
}
