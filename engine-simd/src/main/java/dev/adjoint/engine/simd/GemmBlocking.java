package dev.adjoint.engine.simd;

/**
 * Cache block sizes of the packed GEMM ({@link FloatGemm}, {@link DoubleGemm}), the three loops of
 * the BLIS scheme around the register-blocked micro-kernel:
 * <ul>
 *   <li>{@code KC}, the depth of one packed pass: one {@code KC x NR} micro-panel of B is walked
 *       against every {@code MR x KC} micro-panel of A. Up to 1024 deep, a 128 KiB B panel with
 *       512-bit vectors: it streams from L2 (128 bytes per 16 FMAs, far below what L2 delivers),
 *       and every pass over k costs a load and a store of all of C, so fewer, deeper passes win.
 *       Measured at f32 on one thread, n = 256 ... 2048 in paired interleaved runs: 1024 deep beat
 *       512 by 0.4-2% at every size (and 512 had beaten 256 by 2-3%);</li>
 *   <li>{@code MC}, the rows of A packed at once: an {@code MC x KC} block stays in this core's L2,
 *       using about half of it so the B micro-panels and C lines passing through do not evict it;</li>
 *   <li>{@code NC}, the columns of B packed at once: a {@code KC x NC} block lives in L3, shared.</li>
 * </ul>
 * The numbers are AMD Zen 5's (48 KiB L1d and 1 MiB L2 per core, 32 MiB L3 per CCD); other x86
 * cores of the last decade have at least 32 KiB L1d and 512 KiB L2, where these blocks spill one
 * level down and cost some speed but never correctness. Sizes are derived from the micro-kernel's
 * shape in bytes, so a narrower vector species (wider {@code KC}) keeps the same cache footprint.
 */
final class GemmBlocking {
    static final int L2_BYTES = 1024 * 1024;
    /** What one thread's packed B block may take of the shared L3. */
    static final int L3_SHARE_BYTES = 4 * 1024 * 1024;

    private GemmBlocking() {
    }

    /** Depth of a pass for a B micro-panel of {@code panelRowBytes} per step of k: 128 KiB of panel, at most 1024 deep. */
    static int kc(int panelRowBytes) {
        return Math.max(16, Math.min(1024, roundDown(128 * 1024 / panelRowBytes, 16)));
    }

    /** Rows of A per packed block, a multiple of {@code mr}. */
    static int mc(int kc, int elementBytes, int mr) {
        return Math.max(mr, roundDown(L2_BYTES / 2 / (kc * elementBytes), mr));
    }

    /** Columns of B per packed block, a multiple of {@code nr}. */
    static int nc(int kc, int elementBytes, int nr) {
        return Math.max(nr, roundDown(L3_SHARE_BYTES / (kc * elementBytes), nr));
    }

    static int roundDown(int x, int multiple) {
        return x / multiple * multiple;
    }

    static int roundUp(int x, int multiple) {
        return (x + multiple - 1) / multiple * multiple;
    }
}
