import dev.adjoint.DType;
import dev.adjoint.Shape;
import dev.adjoint.benchmarks.SimdBuilds;
import dev.adjoint.spi.Backend;
import dev.adjoint.spi.FusedKernels;
import dev.adjoint.spi.Layout;
import dev.adjoint.spi.Storage;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Paired A/B of engine-simd builds' fused attention, forward and backward ({@code FusedKernels.attention}
 * and {@code attentionBackward}, as a training step calls them: the weights saved, every gradient
 * wanted), on one thread, rated by this thread's CPU time. Each build's classes get their own class
 * loader ({@link SimdBuilds}); the builds take turns, one short round each, and each build's best and
 * median round is printed, so that a shared machine's load falls on all of them alike. Before timing,
 * every build's output and gradients are compared with the first build's: "same values" (equal as
 * numbers, so a zero's sign aside, NaN equal to NaN) or the largest difference.
 *
 * <pre>
 * java --add-modules jdk.incubator.vector -cp benchmarks/target/benchmarks.jar benchmarks/ab/AttentionAB.java \
 *     BxHxLxE rounds dirA dirB ...
 * </pre>
 * q, k and v are {@code [B, H, L, E]} permuted views of one {@code [B, L, 3, H, E]} projection, as
 * nn.MultiheadAttention's self-attention passes them. {@code MASK} in the environment: {@code causal}
 * (the default: the kernel's causal flag), {@code explicit} (the same mask as an additive
 * {@code [L, L]} operand of -inf above the diagonal, as the language-model benchmark passes it),
 * {@code none}. {@code DROP=0.1} for dropout multipliers on the weights, {@code DT=f64} for FLOAT64,
 * {@code ROUND_MS} for the length of a round (default 40). Wrap it in {@code flock /tmp/adjoint-bench.lock}.
 */
public class AttentionAB {
    private static final DType DTYPE = "f64".equals(System.getenv("DT")) ? DType.FLOAT64 : DType.FLOAT32;
    private static final String MASK = System.getenv().getOrDefault("MASK", "causal");
    private static final double DROP = Double.parseDouble(System.getenv().getOrDefault("DROP", "0"));
    private static final ThreadMXBean BEAN = ManagementFactory.getThreadMXBean();

    /** One build's kernels and operands. */
    private record Build(String label, Backend backend, FusedKernels fused, Storage qkv, Storage mask, Storage dropout,
                         Storage grad, Storage out, Storage probs, Storage gq, Storage gk, Storage gv) {
    }

    private static Layout qLayout;
    private static Layout kLayout;
    private static Layout vLayout;
    private static Layout maskLayout;
    private static Layout dropLayout;
    private static Layout outLayout;
    private static double scale;

    public static void main(String[] args) throws Throwable {
        if (args.length < 3) {
            System.err.println("usage: AttentionAB BxHxLxE rounds dir[@prop=value,...]...");
            System.exit(2);
        }
        int[] d = Arrays.stream(args[0].toLowerCase().split("x")).mapToInt(Integer::parseInt).toArray();
        int b = d[0];
        int h = d[1];
        int l = d[2];
        int e = d[3];
        int rounds = Integer.parseInt(args[1]);
        System.setProperty("adjoint.simd.threads", "1");
        Shape heads = Shape.of(b, h, l, e);
        // [B, L, 3, H, E] viewed as three [B, H, L, E]: strides (L 3 H E, E, 3 H E, 1).
        int[] strides = {l * 3 * h * e, e, 3 * h * e, 1};
        qLayout = new Layout(heads, strides, 0);
        kLayout = new Layout(heads, strides, h * e);
        vLayout = new Layout(heads, strides, 2 * h * e);
        maskLayout = new Layout(Shape.of(b, h, l, l), new int[] {0, 0, l, 1}, 0);
        dropLayout = Layout.contiguous(Shape.of(b, h, l, l));
        outLayout = Layout.contiguous(heads);
        scale = 1 / Math.sqrt(e);
        double[] qkv = SimdBuilds.uniform(b * l * 3 * h * e, 1);
        double[] grad = SimdBuilds.uniform(b * h * l * e, 2);
        double[] mask = new double[l * l];
        for (int i = 0; i < l; i++) {
            for (int j = i + 1; j < l; j++) {
                mask[i * l + j] = Double.NEGATIVE_INFINITY;
            }
        }
        double[] uniforms = SimdBuilds.uniform(b * h * l * l, 3);
        double[] dropout = new double[uniforms.length];
        for (int i = 0; i < dropout.length; i++) {
            dropout[i] = (uniforms[i] + 1) / 2 >= DROP ? 1 / (1 - DROP) : 0;
        }

        List<Build> builds = new ArrayList<>();
        for (int v = 2; v < args.length; v++) {
            String label = args[v];
            builds.add(SimdBuilds.load(label, (backend, loader) -> {
                FusedKernels fused = FusedKernels.offered(backend, FusedKernels.Kernel.ATTENTION, DTYPE);
                Build build = new Build(label, backend, fused, backend.fromDoubles(qkv, DTYPE),
                        MASK.equals("explicit") ? backend.fromDoubles(mask, DTYPE) : null,
                        DROP > 0 ? backend.fromDoubles(dropout, DTYPE) : null, backend.fromDoubles(grad, DTYPE),
                        backend.allocate(DTYPE, b * h * l * e), backend.allocate(DTYPE, b * h * l * l),
                        backend.allocate(DTYPE, b * h * l * e), backend.allocate(DTYPE, b * h * l * e),
                        backend.allocate(DTYPE, b * h * l * e));
                step(build);
                return build;
            }));
        }
        compare(builds, outLayout);

        // Forward 2 L^2 E, backward 4 L^2 E multiply-adds (dV, dP, dQ, dK) for every matrix, counted in
        // full: a causal step that does half of them shows twice the rate.
        double flop = 2.0 * b * h * l * l * e * 6;
        double roundMs = Double.parseDouble(System.getenv().getOrDefault("ROUND_MS", "40"));
        int reps = Math.max(1, (int) (roundMs * 5e7 / flop));
        double[][] us = new double[builds.size()][rounds];
        for (int round = -3; round < rounds; round++) {
            for (int v = 0; v < builds.size(); v++) {
                Build build = builds.get(v);
                long start = BEAN.getCurrentThreadCpuTime();
                for (int i = 0; i < reps; i++) {
                    step(build);
                }
                long end = BEAN.getCurrentThreadCpuTime();
                if (round >= 0) {
                    us[v][round] = (end - start) / 1e3 / reps;
                }
            }
        }
        System.out.printf("%s %s mask=%s dropout=%s, one thread, CPU time per forward + backward (%d rounds of %d):%n",
                DTYPE, args[0], MASK, DROP, rounds, reps);
        double[] firstSorted = null;
        for (int v = 0; v < builds.size(); v++) {
            double[] sorted = us[v].clone();
            Arrays.sort(sorted);
            if (v == 0) {
                firstSorted = sorted;
            }
            System.out.printf("  %-40s best %9.1f us  median %9.1f us  (median %.3fx the first's, %.1f GFLOP/s counted in full)%n",
                    builds.get(v).label, sorted[0], sorted[rounds / 2], sorted[rounds / 2] / firstSorted[rounds / 2],
                    flop / sorted[rounds / 2] / 1e3);
        }
    }

    private static void step(Build x) {
        x.fused.attention(x.qkv, qLayout, x.qkv, kLayout, x.qkv, vLayout, x.mask, x.mask == null ? null : maskLayout,
                MASK.equals("causal"), scale, x.dropout, x.dropout == null ? null : dropLayout, x.out, x.probs);
        x.fused.attentionBackward(x.grad, outLayout, x.qkv, qLayout, x.qkv, kLayout, x.qkv, vLayout, x.dropout,
                x.dropout == null ? null : dropLayout, x.probs, scale, x.gq, x.gk, x.gv);
    }

    private static void compare(List<Build> builds, Layout layout) {
        Build first = builds.get(0);
        for (Build other : builds.subList(1, builds.size())) {
            StringBuilder line = new StringBuilder(other.label + " against " + first.label + ":");
            String[] names = {"out", "dq", "dk", "dv", "probs"};
            Storage[] a = {first.out, first.gq, first.gk, first.gv, first.probs};
            Storage[] c = {other.out, other.gq, other.gk, other.gv, other.probs};
            for (int i = 0; i < names.length; i++) {
                Layout of = i < 4 ? layout : dropLayout;
                double[] x = first.backend.toDoubles(a[i], of);
                double[] y = other.backend.toDoubles(c[i], of);
                double worst = 0;
                int differ = 0;
                for (int j = 0; j < x.length; j++) {
                    boolean same = x[j] == y[j] || (Double.isNaN(x[j]) && Double.isNaN(y[j]));
                    if (!same) {
                        differ++;
                        worst = Math.max(worst, Math.abs(x[j] - y[j]));
                    }
                }
                line.append(' ').append(names[i]).append(differ == 0 ? " same values"
                        : " " + differ + " differ (largest " + worst + ")").append(',');
            }
            System.out.println(line);
        }
    }
}
