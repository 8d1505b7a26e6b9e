import dev.adjoint.Shape;
import dev.adjoint.spi.Layout;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.reflect.Method;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;

/**
 * Paired A/B of engine-simd GEMM builds in one JVM, for changes too small for separate JMH runs on a
 * shared machine to resolve (a few percent). Each build's {@code dev.adjoint.engine.simd} classes
 * (a directory, e.g. a copy of {@code engine-simd/target/classes}) get their own class loader; the
 * builds then take turns, one short round each, and every build's best and median round is printed.
 * Another process slowing the machine down slows all builds' rounds around the same time, so the
 * comparison between them survives noise that moves absolute numbers by 10-30%. Not a replacement for
 * JMH: the figures in docs/benchmarks.md come from JMH; this tells which of two builds is faster.
 *
 * <pre>
 * java --add-modules jdk.incubator.vector -cp benchmarks/target/benchmarks.jar benchmarks/ab/GemmAB.java \
 *     n threads rounds dirA dirB ...        (DT=f64 in the environment for DoubleGemm)
 * </pre>
 * Wrap it in {@code flock /tmp/adjoint-bench.lock} like every benchmark here.
 */
public class GemmAB {
    private static final boolean F64 = "f64".equals(System.getenv("DT"));

    /** Loads engine-simd's classes from its own directory, everything else from the parent. */
    private static final class ChildFirst extends URLClassLoader {
        ChildFirst(URL dir, ClassLoader parent) {
            super(new URL[] {dir}, parent);
        }

        @Override
        protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
            if (!name.startsWith("dev.adjoint.engine.simd.")) {
                return super.loadClass(name, resolve);
            }
            synchronized (getClassLoadingLock(name)) {
                Class<?> c = findLoadedClass(name);
                return c != null ? c : findClass(name);
            }
        }
    }

    public static void main(String[] args) throws Throwable {
        if (args.length < 4) {
            System.err.println("usage: GemmAB n threads rounds dir...");
            System.exit(2);
        }
        int n = Integer.parseInt(args[0]);
        int threads = Integer.parseInt(args[1]);
        int rounds = Integer.parseInt(args[2]);
        String[] dirs = Arrays.copyOfRange(args, 3, args.length);
        Class<?> array = F64 ? double[].class : float[].class;
        MethodHandle[] multiply = new MethodHandle[dirs.length];
        for (int v = 0; v < dirs.length; v++) {
            ClassLoader loader = new ChildFirst(Path.of(dirs[v]).toUri().toURL(), GemmAB.class.getClassLoader());
            Class<?> gemm = Class.forName(F64 ? "dev.adjoint.engine.simd.DoubleGemm" : "dev.adjoint.engine.simd.FloatGemm",
                    true, loader);
            Method m = gemm.getDeclaredMethod("multiply", array, Layout.class, int.class, int.class, array, Layout.class,
                    int.class, int.class, array, Layout.class, int.class, int.class, int.class, int.class, int.class,
                    int.class, int.class);
            m.setAccessible(true);
            multiply[v] = MethodHandles.lookup().unreflect(m);
        }
        Random random = new Random(1);
        Object a, b, o;
        if (F64) {
            a = random.doubles(n * n).toArray();
            b = random.doubles(n * n).toArray();
            o = new double[n * n];
        } else {
            float[] x = new float[n * n], y = new float[n * n];
            for (int i = 0; i < x.length; i++) {
                x[i] = random.nextFloat();
                y[i] = random.nextFloat();
            }
            a = x;
            b = y;
            o = new float[n * n];
        }
        Layout layout = Layout.contiguous(Shape.of(n, n));
        // About 40 ms of work per round at ~250 GFLOP/s.
        int reps = Math.max(3, (int) (1e10 / (2.0 * n * n * n)));
        double[][] rates = new double[dirs.length][rounds];
        for (int round = -3; round < rounds; round++) {
            for (int v = 0; v < dirs.length; v++) {
                long start = System.nanoTime();
                for (int i = 0; i < reps; i++) {
                    // One product: batch rank 0, a batch of 1.
                    multiply[v].invoke(a, layout, n, 1, b, layout, n, 1, o, layout, n, n, n, n, 0, 1, threads);
                }
                double gflops = 2.0 * n * n * n * reps / (System.nanoTime() - start);
                if (round >= 0) {
                    rates[v][round] = gflops;
                }
            }
        }
        for (int v = 0; v < dirs.length; v++) {
            double[] sorted = rates[v].clone();
            Arrays.sort(sorted);
            System.out.printf("%s n=%d threads=%d %-40s best %.1f  median %.1f GFLOP/s (%d rounds)%n",
                    F64 ? "f64" : "f32", n, threads, dirs[v], sorted[rounds - 1], sorted[rounds / 2], rounds);
        }
    }
}
