package dev.adjoint.conformance;

import dev.adjoint.DType;
import dev.adjoint.Functional;
import dev.adjoint.Generator;
import dev.adjoint.Tensor;
import dev.adjoint.TensorFactory;
import dev.adjoint.ops.OptimizerSteps;
import dev.adjoint.spi.FusedKernels.Kernel;
import dev.adjoint.spi.Backend;
import dev.adjoint.spi.UnaryOp;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.function.Supplier;

import jdk.jfr.consumer.RecordedMethod;
import jdk.jfr.consumer.RecordingStream;

import javax.management.JMException;
import javax.management.ObjectName;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * A kernel gives the same bits before and after the JIT compiles it: the same program with the same
 * inputs must not change its results a few hundred calls in, when C2 replaces the interpreted (or
 * C1-compiled) code. C2 compiles Vector API calls to SIMD instructions whose lane order or precision
 * may differ from the Java code the interpreter runs (a lane reduction's summation order, an
 * intrinsic {@code sin}), so a kernel must fix every such choice in its own code.
 *
 * <p>Each kernel case (matmul in every layout, reductions along every dim, softmax, logSoftmax,
 * layerNorm, every unary op, binary ops with broadcasting, in-place updates, forward and backward
 * passes of an MLP, attention, convolutions (Winograd, strided, depthwise), pooling and batch norm, the
 * fused optimizer updates) runs in two fresh JVMs with this JVM's flags and class path: once with
 * {@code -XX:TieredStopAtLevel=1}, where no method ever reaches C2 (the results of cold code), and
 * then {@value #ROUNDS} times in a JVM that compiles the kernels as usual but sooner and in the
 * foreground (see {@link #compileSoon}); every round is compared bit for bit with the cold result. A
 * third fresh JVM, with the JIT as a user has it, runs issue 13's program itself (see
 * {@link #issueSnippet}). Another runs the cases with C1 alone compiling every kernel it meets, and
 * fails on any kernel C1 gives up on ({@link FailedCompiles}). Fresh JVMs, because in the test JVM the other suites have compiled the
 * kernels long before. NaN compares equal to NaN whatever its payload, which Java leaves unspecified.
 */
public final class JitDeterminism {
    /** At most this many rounds of every case in the compiling JVM; see {@link #compileSoon}. */
    static final int ROUNDS = 100;
    /**
     * The compiling JVM stops once this many rounds have run since C2 last compiled a method of the
     * kernels' packages (read from {@code Compiler.codelist} after every round), and not before round
     * {@link #MIN_ROUNDS}: then every case has run on the C2 code of every kernel it reaches. On this
     * check's cases the last kernel compile came between rounds 19 and 32 on simd and in round 15 on
     * nd4j (AVX-512, JDK 25, 2 busy cores); nd4j, at about a millisecond per op, spends its time in
     * the rounds, simd in C2.
     */
    static final int SETTLED_ROUNDS = 5;
    static final int MIN_ROUNDS = 15;
    /** Calls of issue 13's product in the default JVM: the program in the issue. */
    static final int SNIPPET_CALLS = 5000;

    private JitDeterminism() {
    }

    /**
     * C2 normally compiles a method after about 5,000 profiled calls (fewer with loops); at a
     * hundredth of that threshold it is the same code, only sooner. (At a five-hundredth it compiled
     * on profiles too young to show which ops run, and the vector {@code sin} this check must catch
     * was never compiled to its SVML call.) Only for the kernels' packages (the backend's own and
     * {@code dev.adjoint.spi}, which holds the heap kernels and the reference functions): compiling
     * the whole library's plumbing with C2 as well took four times as long (23 s of C2 time against
     * 6 on 2 cores) and tests nothing, since Java's scalar arithmetic is the same in every tier. In
     * the foreground ({@code -Xbatch}) a call that triggers a compile waits for it, so the round
     * where each method turns into C2 code does not depend on how busy the machine is.
     */
    static List<String> compileSoon(Backend backend) {
        List<String> flags = new ArrayList<>(List.of("-Xbatch", "-XX:CompileCommand=quiet"));
        for (String kernels : kernelPackages(backend)) {
            flags.add("-XX:CompileCommand=CompileThresholdScaling," + kernels + ".*::*,0.01");
        }
        return flags;
    }

    /** Where a backend's kernels are: its own package, and the heap kernels and reference functions. */
    static List<String> kernelPackages(Backend backend) {
        return List.of(backend.getClass().getPackageName(), "dev.adjoint.spi");
    }

    /** Runs the three JVMs for {@code backend} and fails with every case whose bits changed. */
    public static void check(Backend backend) throws IOException, InterruptedException {
        Path reference = Files.createTempFile("adjoint-jit-determinism-", ".bin");
        try {
            Run cold = launch(List.of("-XX:TieredStopAtLevel=1"), "record", backend, reference);
            assertEquals(0, cold.exit, "the cold run on " + backend.name() + " failed:\n" + cold.output);
            Run hot = launch(compileSoon(backend), "compare", backend, reference);
            if (hot.exit != 0) {
                fail("on " + backend.name() + ", results changed once the JIT compiled the kernels:\n" + hot.output);
            }
            List<String> c1Only = new ArrayList<>(compileSoon(backend));
            c1Only.add("-XX:TieredStopAtLevel=3");
            Run c1 = launch(c1Only, "c1", backend, reference);
            if (c1.exit != 0) {
                fail("on " + backend.name() + ", C1 could not compile kernels (HotSpot may then leave them in a "
                        + "lower tier for good, every vector op a Java loop):\n" + c1.output);
            }
            Run snippet = launch(List.of(), "snippet", backend, reference);
            if (snippet.exit != 0) {
                fail("on " + backend.name() + ", issue 13's program changed its results:\n" + snippet.output);
            }
            // The summary lines, beside the conformance tally in the build log.
            System.out.println("JIT determinism: " + lastLine(hot.output) + "; " + lastLine(snippet.output));
        } finally {
            Files.deleteIfExists(reference);
        }
    }

    private static String lastLine(String output) {
        return output.strip().lines().reduce((first, last) -> last).orElse("");
    }

    private record Run(int exit, String output) {
    }

    /** This JVM's java, flags and class path, plus {@code flags}, running {@link #main}. */
    private static Run launch(List<String> flags, String mode, Backend backend, Path reference)
            throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        command.add(ProcessHandle.current().info().command().orElse(
                Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        for (String arg : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            // A debugger agent would try to listen on the port this JVM already holds; JIT settings
            // are this check's to choose.
            if (!arg.startsWith("-agentlib:jdwp") && !arg.startsWith("-XX:TieredStopAtLevel")
                    && !arg.startsWith("-XX:CompileThresholdScaling") && !arg.startsWith("-XX:CompileCommand")
                    && !arg.equals("-Xbatch")) {
                command.add(arg);
            }
        }
        command.addAll(flags);
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), JitDeterminism.class.getName(), mode,
                backend.getClass().getName(), reference.toString()));
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output;
        try (InputStream in = process.getInputStream()) {
            output = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        return new Run(process.waitFor(), output);
    }

    /**
     * Issue 13's program as it was reported, in both dtypes: {@code x @ w.T} with {@code randn} inputs,
     * {@value #SNIPPET_CALLS} times with the JIT's usual thresholds; on simd it changed its bits from
     * about call 360 (FLOAT32) or 480 (FLOAT64), by up to 1.9e-6. Returns an empty string, or what
     * changed.
     */
    static String issueSnippet(TensorFactory f) {
        StringBuilder changed = new StringBuilder();
        for (DType dtype : List.of(DType.FLOAT32, DType.FLOAT64)) {
            Tensor x = f.randn(new Generator(1), dtype, 8, 16);
            Tensor w = f.randn(new Generator(2), dtype, 32, 16);
            double[] cold = x.matmul(w.transpose(0, 1)).toDoubleArray();
            for (int i = 1; i <= SNIPPET_CALLS; i++) {
                String difference = difference(cold, x.matmul(w.transpose(0, 1)).toDoubleArray());
                if (difference != null) {
                    changed.append("  x @ w.T ").append(dtype).append(", call ").append(i).append(": ")
                            .append(difference).append('\n');
                    break;
                }
            }
        }
        return changed.toString();
    }

    /**
     * {@code record <backend class> <file>}: every case once, results to the file.
     * {@code compare <backend class> <file>}: every case {@value #ROUNDS} times against the file;
     * prints the first differing element of each case that changed and exits with 1.
     * {@code snippet <backend class> <file>}: {@link #issueSnippet}, exits with 1 if it changed (the
     * file is not used).
     */
    public static void main(String[] args) throws Exception {
        Backend backend = (Backend) Class.forName(args[1]).getConstructor().newInstance();
        // Before any case is built: building them runs kernels.
        if (args[0].equals("snippet")) {
            long start = System.nanoTime();
            String changed = issueSnippet(Tensor.on(backend));
            System.out.print(changed);
            System.out.println("issue 13's x @ w.T " + (changed.isEmpty() ? "kept" : "changed") + " its bits over "
                    + SNIPPET_CALLS + " calls per dtype" + String.format(" (%.1f s)", (System.nanoTime() - start) / 1e9));
            System.exit(changed.isEmpty() ? 0 : 1);
        }
        Map<String, Supplier<double[]>> cases = cases(Tensor.on(backend));
        if (args[0].equals("c1")) {
            // C1 alone, compiling every kernel it meets: any compile it gives up on is reported.
            FailedCompiles failedCompiles = FailedCompiles.start(kernelPackages(backend));
            for (int round = 0; round < 2; round++) {
                cases.values().forEach(Supplier::get);
            }
            List<String> failed = failedCompiles.neverCompiledAtTier3();
            failed.forEach(failure -> System.out.println("  " + failure));
            System.exit(failed.isEmpty() ? 0 : 1);
        }
        Path file = Path.of(args[2]);
        if (args[0].equals("record")) {
            try (DataOutputStream out = new DataOutputStream(new BufferedOutputStream(Files.newOutputStream(file)))) {
                for (Map.Entry<String, Supplier<double[]>> c : cases.entrySet()) {
                    write(out, c.getKey(), c.getValue().get());
                }
            }
            return;
        }
        Map<String, double[]> cold = new LinkedHashMap<>();
        try (DataInputStream in = new DataInputStream(new BufferedInputStream(Files.newInputStream(file)))) {
            for (int i = 0; i < cases.size(); i++) {
                String name = in.readUTF();
                double[] values = new double[in.readInt()];
                for (int j = 0; j < values.length; j++) {
                    values[j] = in.readDouble();
                }
                cold.put(name, values);
            }
        }
        long start = System.nanoTime();
        Map<String, String> changed = new LinkedHashMap<>();
        List<String> packages = kernelPackages(backend);
        FailedCompiles failedCompiles = FailedCompiles.start(packages);
        Set<String> compiled = Set.of();
        int lastCompile = 0;
        int round = 1;
        for (; round <= ROUNDS; round++) {
            for (Map.Entry<String, Supplier<double[]>> c : cases.entrySet()) {
                double[] hot = c.getValue().get();
                if (!changed.containsKey(c.getKey())) {
                    String difference = difference(cold.get(c.getKey()), hot);
                    if (difference != null) {
                        changed.put(c.getKey(), "round " + round + ": " + difference);
                    }
                }
            }
            Set<String> now = c2Compiled(packages);
            if (now == null) {
                continue;
            }
            if (!now.equals(compiled)) {
                compiled = now;
                lastCompile = round;
            }
            if (round >= MIN_ROUNDS && round - lastCompile >= SETTLED_ROUNDS) {
                break;
            }
        }
        changed.forEach((name, difference) -> System.out.println("  " + name + ", " + difference));
        List<String> stranded = failedCompiles.stranded(compiled);
        stranded.forEach(failure -> System.out.println("  never compiled by C2 after " + failure));
        System.out.println(changed.size() + " of " + cases.size() + " cases changed in " + Math.min(round, ROUNDS)
                + " rounds on " + backend.name() + " (" + compiled.size() + " kernel methods in C2 code, the last from round "
                + lastCompile + String.format(", %.1f s", (System.nanoTime() - start) / 1e9) + "; " + stranded.size()
                + " left below C2 by a failed compile)");
        System.exit(changed.isEmpty() && stranded.isEmpty() ? 0 : 1);
    }

    /**
     * The kernels' compiles that failed, from JFR's compilation events. A compiler may give up on a
     * method (C1's linear scan "out of virtual registers" on a large Vector API method), and HotSpot
     * may then leave it in a lower tier for the rest of the program, where every vector op runs as
     * its Java fallback: the same bits, many times slower. A method that failed a compile and has no
     * C2 code once the rounds have settled is such a kernel.
     */
    private static final class FailedCompiles {
        private final RecordingStream stream = new RecordingStream();
        private final Map<Long, String> messages = new ConcurrentHashMap<>();
        /** Compile id to "class.method (compiler tier N[ OSR])" of each failed compile of the kernels. */
        private final Map<Long, String> failures = new ConcurrentHashMap<>();
        /** The kernels compiled at tier 3 or above by some compile that succeeded. */
        private final Set<String> compiledAtTier3 = ConcurrentHashMap.newKeySet();

        static FailedCompiles start(List<String> packages) {
            FailedCompiles f = new FailedCompiles();
            f.stream.enable("jdk.CompilationFailure");
            f.stream.enable("jdk.Compilation").withThreshold(Duration.ZERO);
            f.stream.onEvent("jdk.CompilationFailure", e -> f.messages.put(e.getLong("compileId"),
                    e.getString("failureMessage")));
            f.stream.onEvent("jdk.Compilation", e -> {
                RecordedMethod m = e.getValue("method");
                String name = m.getType().getName() + "." + m.getName();
                if (packages.stream().noneMatch(p -> name.startsWith(p + "."))) {
                    return;
                }
                if (!e.getBoolean("succeded")) {
                    f.failures.put(e.getLong("compileId"), name + " (" + e.getString("compiler") + " tier "
                            + e.getShort("compileLevel") + (e.getBoolean("isOsr") ? " OSR" : "") + ")");
                } else if (e.getShort("compileLevel") >= 3) {
                    f.compiledAtTier3.add(name);
                }
            });
            f.stream.startAsync();
            return f;
        }

        /** The failed compiles of methods that have no C2 code in {@code compiled}, with the compiler's reason. */
        List<String> stranded(Set<String> compiled) {
            return failed(name -> compiled.stream().noneMatch(c -> c.startsWith(name + "(")));
        }

        /** The failed compiles of methods that no compile at tier 3 or above has served since (C1 alone). */
        List<String> neverCompiledAtTier3() {
            return failed(name -> !compiledAtTier3.contains(name));
        }

        private List<String> failed(Predicate<String> stranded) {
            stream.stop();
            List<String> failed = new ArrayList<>();
            failures.forEach((id, method) -> {
                if (stranded.test(method.substring(0, method.indexOf(' ')))) {
                    failed.add(method + ": " + messages.getOrDefault(id, "no reason given"));
                }
            });
            return failed;
        }
    }

    /**
     * The methods of {@code packages} that have C2 code now (tier 4 in {@code jcmd Compiler.codelist},
     * whose lines read "id tier state class.method(signature) [addresses]"), or null where HotSpot's
     * diagnostic command bean is missing.
     */
    private static Set<String> c2Compiled(List<String> packages) {
        String list;
        try {
            list = (String) ManagementFactory.getPlatformMBeanServer().invoke(
                    new ObjectName("com.sun.management:type=DiagnosticCommand"), "compilerCodelist",
                    new Object[] {new String[0]}, new String[] {String[].class.getName()});
        } catch (JMException | RuntimeException e) {
            return null;
        }
        Set<String> methods = new HashSet<>();
        for (String line : list.split("\n")) {
            String[] fields = line.trim().split(" +");
            if (fields.length >= 4 && fields[1].equals("4")) {
                String method = fields[3];
                for (String p : packages) {
                    if (method.startsWith(p + ".")) {
                        methods.add(method);
                    }
                }
            }
        }
        return methods;
    }

    private static void write(DataOutputStream out, String name, double[] values) throws IOException {
        out.writeUTF(name);
        out.writeInt(values.length);
        for (double v : values) {
            out.writeDouble(v);
        }
    }

    /** Null when both hold the same values bit for bit (any NaN equal to any NaN). */
    private static String difference(double[] cold, double[] hot) {
        if (cold.length != hot.length) {
            return hot.length + " elements, cold " + cold.length;
        }
        for (int i = 0; i < cold.length; i++) {
            if (Double.doubleToLongBits(cold[i]) != Double.doubleToLongBits(hot[i])) {
                return "element " + i + " is " + hot[i] + ", cold " + cold[i] + " (" + Math.abs(hot[i] - cold[i])
                        + " apart)";
            }
        }
        return null;
    }

    // ---- the cases ------------------------------------------------------------------------------------

    /**
     * Every case in both dtypes. Sizes are small so that rounds are cheap, but each has whole vectors
     * and a tail at any vector width (inner sizes 19, 37, 41, 67), and the packed GEMM gets products
     * above its threshold. Inputs come from integer arithmetic only, so both JVMs see the same values
     * whatever they compile.
     */
    static Map<String, Supplier<double[]>> cases(TensorFactory f) {
        Map<String, Supplier<double[]>> cases = new LinkedHashMap<>();
        for (DType dtype : List.of(DType.FLOAT32, DType.FLOAT64)) {
            Inputs in = new Inputs(f, dtype);
            String d = " " + dtype;
            matmul(cases, in, d);
            reductions(cases, in, d);
            unary(cases, in, d);
            binary(cases, in, d);
            Tensor x = in.uniform(-3, 3, 4, 37);
            Tensor y = in.uniform(-3, 3, 4, 37);
            put(cases, "add_(y, alpha)" + d, () -> x.clone().add_(y, 0.3));
            Tensor row = in.uniform(-3, 3, 37);
            put(cases, "mul_(row)" + d, () -> x.clone().mul_(row));
            cases.put("MLP forward and backward" + d, trainingStep(in));
            cases.put("layerNorm, softmax and logSoftmax backward" + d, normalizationBackward(in));
            cases.put("scaledDotProductAttention forward and backward" + d, attention(in));
            cases.put("conv2d 3x3 forward and backward" + d, convolution(in, 24, 40, 1, 1));
            cases.put("conv2d 3x3 stride 2 forward and backward" + d, convolution(in, 5, 16, 2, 1));
            cases.put("depthwise conv2d 3x3 forward and backward" + d, convolution(in, 12, 12, 1, 12));
            cases.put("maxPool2d, avgPool2d and adaptiveAvgPool2d backward" + d, pooling(in));
            cases.put("batchNorm in training, forward and backward" + d, batchNorm(in));
            optimizerSteps(cases, in, d);
        }
        return cases;
    }

    private static void matmul(Map<String, Supplier<double[]>> cases, Inputs in, String d) {
        // The unpacked kernels: rows of b, dot products along k (b transposed, narrow or matrix-vector), strided.
        Tensor a = in.uniform(-2, 2, 5, 19);
        Tensor b = in.uniform(-2, 2, 19, 23);
        Tensor aT = in.uniform(-2, 2, 19, 5).transpose(0, 1);
        Tensor bT = in.uniform(-2, 2, 23, 19).transpose(0, 1);
        Tensor x = in.uniform(-2, 2, 8, 16);
        Tensor w = in.uniform(-2, 2, 32, 16);
        Tensor wNarrow = in.uniform(-2, 2, 10, 16);
        Tensor v = in.uniform(-2, 2, 19);
        put(cases, "matmul a @ b" + d, () -> a.matmul(b));
        put(cases, "matmul a @ b.T" + d, () -> a.matmul(bT));
        put(cases, "matmul a.T @ b" + d, () -> aT.matmul(b));
        put(cases, "matmul a.T @ b.T" + d, () -> aT.matmul(bT));
        put(cases, "matmul x @ w.T" + d, () -> x.matmul(w.transpose(0, 1)));
        put(cases, "matmul x @ w.T, narrow" + d, () -> x.matmul(wNarrow.transpose(0, 1)));
        put(cases, "matmul matrix @ vector" + d, () -> a.matmul(v));
        put(cases, "matmul vector @ matrix" + d, () -> v.matmul(b));
        put(cases, "matmul vector @ vector" + d, () -> v.matmul(v));
        Tensor batchA = in.uniform(-2, 2, 3, 5, 19);
        Tensor batchB = in.uniform(-2, 2, 3, 19, 23);
        Tensor batchBT = in.uniform(-2, 2, 3, 23, 19).transpose(1, 2);
        Tensor broadcastA = in.uniform(-2, 2, 2, 1, 5, 19);
        put(cases, "matmul batched" + d, () -> batchA.matmul(batchB));
        put(cases, "matmul batched, b transposed" + d, () -> batchA.matmul(batchBT));
        put(cases, "matmul batch broadcast" + d, () -> broadcastA.matmul(batchB));
        put(cases, "matmul batch @ matrix" + d, () -> batchA.matmul(b));
        Tensor batchAT = in.uniform(-2, 2, 3, 19, 5).transpose(1, 2);
        put(cases, "matmul batched, a transposed" + d, () -> batchAT.matmul(batchB));
        put(cases, "matmul batched, both transposed" + d, () -> batchAT.matmul(batchBT));
        // The packed GEMM (above 32^3 multiply-adds per matrix).
        Tensor p = in.uniform(-2, 2, 40, 48);
        Tensor q = in.uniform(-2, 2, 48, 36);
        Tensor pT = in.uniform(-2, 2, 48, 40).transpose(0, 1);
        Tensor qT = in.uniform(-2, 2, 36, 48).transpose(0, 1);
        Tensor batchP = in.uniform(-2, 2, 2, 40, 48);
        put(cases, "matmul packed a @ b" + d, () -> p.matmul(q));
        put(cases, "matmul packed a @ b.T" + d, () -> p.matmul(qT));
        put(cases, "matmul packed a.T @ b" + d, () -> pT.matmul(q));
        put(cases, "matmul packed a.T @ b.T" + d, () -> pT.matmul(qT));
        put(cases, "matmul packed batch @ matrix" + d, () -> batchP.matmul(q));
        // Large enough for simd to share it between threads (2 * 128^3 operations and up).
        Tensor big = in.uniform(-2, 2, 130, 130);
        put(cases, "matmul packed, threaded" + d, () -> big.matmul(big.transpose(0, 1)));
    }

    private static void reductions(Map<String, Supplier<double[]>> cases, Inputs in, String d) {
        Tensor x = in.uniform(-3, 3, 5, 6, 41);
        // Coarse values: ties, and zeros of both signs, for max and min; at most 0 (at least 0) so
        // that some maxima (minima) are zeros of either sign.
        Tensor ties = in.coarse(5, 6, 41);
        Tensor atMostZero = in.coarseIn(-1, 0, 5, 6, 41);
        Tensor atLeastZero = in.coarseIn(0, 1, 5, 6, 41);
        Tensor transposed = in.uniform(-3, 3, 41, 6).transpose(0, 1);
        int[][] dimSets = {{0}, {1}, {2}, {0, 1}, {0, 2}, {1, 2}, {0, 1, 2}};
        for (int[] dims : dimSets) {
            String on = " over " + java.util.Arrays.toString(dims);
            put(cases, "sum" + on + d, () -> x.sum(dims, false));
            put(cases, "mean" + on + d, () -> x.mean(dims, true));
            put(cases, "amax" + on + d, () -> ties.amax(dims, false));
            put(cases, "amin" + on + d, () -> ties.amin(dims, false));
            put(cases, "amax of values <= 0" + on + d, () -> atMostZero.amax(dims, false));
            put(cases, "amin of values >= 0" + on + d, () -> atLeastZero.amin(dims, false));
        }
        put(cases, "sum" + d, () -> x.sum());
        put(cases, "mean" + d, () -> x.mean());
        put(cases, "norm" + d, () -> x.norm());
        put(cases, "var over [2]" + d, () -> x.var(2, false));
        put(cases, "norm over [1]" + d, () -> x.norm(2, 1, false));
        put(cases, "amax" + d, () -> ties.amax());
        put(cases, "amin" + d, () -> ties.amin());
        for (int dim = 0; dim < 2; dim++) {
            int on = dim;
            put(cases, "sum of a transposed view over " + dim + d, () -> transposed.sum(on, false));
        }
        for (int dim = 0; dim < 3; dim++) {
            int on = dim;
            put(cases, "softmax(" + dim + ")" + d, () -> x.softmax(on));
            put(cases, "logSoftmax(" + dim + ")" + d, () -> x.logSoftmax(on));
            put(cases, "logSumExp(" + dim + ")" + d, () -> x.logSumExp(on, false));
        }
        Tensor weight = in.uniform(0.5, 1.5, 41);
        Tensor bias = in.uniform(-0.5, 0.5, 41);
        Tensor weight2 = in.uniform(0.5, 1.5, 6, 41);
        put(cases, "layerNorm over the last dim" + d, () -> Functional.layerNorm(x, new int[] {41}, weight, bias, 1e-5));
        put(cases, "layerNorm over the last two dims" + d,
                () -> Functional.layerNorm(x, new int[] {6, 41}, weight2, null, 1e-5));
    }

    private static void unary(Map<String, Supplier<double[]>> cases, Inputs in, String d) {
        // Every primitive on its domain, 201 elements: whole vectors and a tail at any vector width.
        for (UnaryOp op : UnaryOp.values()) {
            double[] domain = UnaryOpCalls.domain(op);
            Tensor x = in.uniform(domain[0], domain[1], 3, 67);
            put(cases, op.opName() + d, () -> UnaryOpCalls.of(op).apply(x));
        }
        // Large and non-finite arguments take other paths in exp, log, tanh and erf.
        Tensor wide = in.uniform(-120, 120, 3, 67);
        for (UnaryOp op : List.of(UnaryOp.EXP, UnaryOp.LOG, UnaryOp.TANH, UnaryOp.SIGMOID, UnaryOp.ERF)) {
            put(cases, op.opName() + " of wide values" + d, () -> UnaryOpCalls.of(op).apply(wide));
        }
        // Views: a run per row, or (transposed) the strided loop.
        Tensor rows = in.uniform(-6, 6, 3, 80).narrow(1, 5, 67);
        Tensor transposed = in.uniform(-6, 6, 67, 3).transpose(0, 1);
        for (UnaryOp op : List.of(UnaryOp.EXP, UnaryOp.SIN, UnaryOp.TANH, UnaryOp.ERF)) {
            put(cases, op.opName() + " of rows of a wider tensor" + d, () -> UnaryOpCalls.of(op).apply(rows));
            put(cases, op.opName() + " of a transposed view" + d, () -> UnaryOpCalls.of(op).apply(transposed));
        }
        Tensor x = in.uniform(-6, 6, 3, 67);
        Tensor positive = in.uniform(0.01, 5, 3, 67);
        put(cases, "pow(2)" + d, () -> x.pow(2));
        put(cases, "pow(3)" + d, () -> x.pow(3));
        put(cases, "pow(3) of rows of a wider tensor" + d, () -> rows.pow(3));
        put(cases, "pow(2.5)" + d, () -> positive.pow(2.5));
        put(cases, "pow(-1.5)" + d, () -> positive.pow(-1.5));
        put(cases, "clamp" + d, () -> x.clamp(-0.5, 0.5));
    }

    private static void binary(Map<String, Supplier<double[]>> cases, Inputs in, String d) {
        // Arithmetic on uniform values; maximum, minimum and comparisons on coarse ones, which tie
        // (zeros of both signs among them).
        Map<String, java.util.function.BinaryOperator<Tensor>> ops = new LinkedHashMap<>();
        ops.put("add", Tensor::add);
        ops.put("sub", Tensor::sub);
        ops.put("mul", Tensor::mul);
        ops.put("div", Tensor::div);
        ops.put("maximum", Tensor::maximum);
        ops.put("minimum", Tensor::minimum);
        ops.put("gt", Tensor::gt);
        ops.put("lt", Tensor::lt);
        ops.put("ge", Tensor::ge);
        ops.put("le", Tensor::le);
        ops.put("eq", Tensor::eq);
        Map<String, int[]> shapes = new LinkedHashMap<>();
        shapes.put("same shape", new int[] {4, 37});
        shapes.put("0-d", new int[0]);
        shapes.put("row", new int[] {37});
        shapes.put("column", new int[] {4, 1});
        for (boolean coarse : List.of(false, true)) {
            Tensor a = coarse ? in.coarse(4, 37) : in.uniform(-3, 3, 4, 37);
            Map<String, Tensor> operands = new LinkedHashMap<>();
            shapes.forEach((shape, dims) -> operands.put(shape, coarse ? in.coarse(dims) : in.uniform(-3, 3, dims)));
            operands.put("transposed", (coarse ? in.coarse(37, 4) : in.uniform(-3, 3, 37, 4)).transpose(0, 1));
            // Every op on each kernel a broadcast selects: both dense, either one repeated, a run per
            // output row. Every broadcast shape, both ways round, on add and on maximum.
            Tensor zeroD = operands.get("0-d");
            Tensor row = operands.get("row");
            ops.forEach((name, op) -> {
                boolean arithmetic = List.of("add", "sub", "mul", "div").contains(name);
                if (arithmetic == coarse) {
                    return;
                }
                if (name.equals("add") || name.equals("maximum")) {
                    operands.forEach((shape, b) -> {
                        put(cases, name + " with " + shape + d, () -> op.apply(a, b));
                        put(cases, name + " with " + shape + ", swapped" + d, () -> op.apply(b, a));
                    });
                    return;
                }
                put(cases, name + " with same shape" + d, () -> op.apply(a, operands.get("same shape")));
                put(cases, name + " with 0-d" + d, () -> op.apply(a, zeroD));
                put(cases, name + " with 0-d, swapped" + d, () -> op.apply(zeroD, a));
                put(cases, name + " with row" + d, () -> op.apply(a, row));
            });
            if (!coarse) {
                Tensor other = operands.get("same shape");
                put(cases, "atan2" + d, () -> a.atan2(other));
                put(cases, "remainder" + d, () -> a.remainder(other));
                put(cases, "pow(tensor)" + d, () -> a.abs().pow(other));
                put(cases, "add(scalar)" + d, () -> a.add(1.5));
                put(cases, "div(scalar)" + d, () -> a.div(3.0));
                Tensor mask = a.gt(0);
                put(cases, "where" + d, () -> Tensor.where(mask, a, other));
                put(cases, "where, broadcast" + d, () -> Tensor.where(mask, a, row));
            }
        }
    }

    /** A two-layer MLP with cross-entropy: the loss and every gradient, concatenated. */
    private static Supplier<double[]> trainingStep(Inputs in) {
        Tensor x = in.uniform(-1, 1, 8, 19);
        Tensor w1 = in.uniform(-0.5, 0.5, 33, 19);
        Tensor b1 = in.uniform(-0.5, 0.5, 33);
        Tensor w2 = in.uniform(-0.5, 0.5, 10, 33);
        Tensor b2 = in.uniform(-0.5, 0.5, 10);
        long[] labels = {0, 3, 9, 1, 4, 4, 7, 2};
        Tensor target = in.f.fromArray(labels, labels.length);
        return lossAndGradients(List.of(x, w1, b1, w2, b2), params -> {
            Tensor hidden = params.get(0).matmul(params.get(1).transpose(0, 1)).add(params.get(2)).relu();
            Tensor logits = hidden.matmul(params.get(3).transpose(0, 1)).add(params.get(4));
            return Functional.crossEntropy(logits, target);
        });
    }

    /** The gradients of layerNorm's input, weight and bias through softmax and logSoftmax. */
    private static Supplier<double[]> normalizationBackward(Inputs in) {
        Tensor x = in.uniform(-2, 2, 6, 37);
        Tensor weight = in.uniform(0.5, 1.5, 37);
        Tensor bias = in.uniform(-0.5, 0.5, 37);
        Tensor scale = in.uniform(-1, 1, 6, 37);
        return lossAndGradients(List.of(x, weight, bias), params -> {
            Tensor normed = Functional.layerNorm(params.get(0), new int[] {37}, params.get(1), params.get(2), 1e-5);
            return normed.softmax(1).mul(scale).sum().add(normed.logSoftmax(0).mul(scale).sum());
        });
    }

    /**
     * A 3x3 convolution with padding 1 on two 9 x 11 images and the gradients of input, weight and
     * bias: at stride 1 with this many channels in one group it takes engine-simd's Winograd kernels,
     * at stride 2 its direct ones, with a group per channel its depthwise ones.
     */
    private static Supplier<double[]> convolution(Inputs in, int channels, int outChannels, int stride, int groups) {
        Tensor x = in.uniform(-1, 1, 2, channels, 9, 11);
        Tensor w = in.uniform(-0.5, 0.5, outChannels, channels / groups, 3, 3);
        Tensor b = in.uniform(-0.5, 0.5, outChannels);
        return lossAndGradients(List.of(x, w, b), params -> {
            Tensor out = Functional.conv2d(params.get(0), params.get(1), params.get(2), new int[] {stride},
                    new int[] {1}, new int[] {1}, groups);
            return out.mul(out).sum();
        });
    }

    /**
     * The input gradient through max pooling (padded, overlapping windows, ties among the coarse
     * values), average pooling and adaptive average pooling to a size that does not divide the input.
     */
    private static Supplier<double[]> pooling(Inputs in) {
        Tensor x = in.coarse(2, 5, 9, 11);
        Tensor maxScale = in.uniform(-1, 1, 2, 5, 5, 6);
        Tensor avgScale = in.uniform(-1, 1, 2, 5, 4, 5);
        Tensor adaptiveScale = in.uniform(-1, 1, 2, 5, 3, 4);
        return lossAndGradients(List.of(x), params -> {
            Tensor input = params.get(0);
            Tensor max = Functional.maxPool2d(input, new int[] {3}, new int[] {2}, new int[] {1});
            Tensor avg = Functional.avgPool2d(input, 2);
            Tensor adaptive = Functional.adaptiveAvgPool2d(input, new int[] {3, 4});
            return max.mul(maxScale).sum().add(avg.mul(avgScale).sum()).add(adaptive.mul(adaptiveScale).sum());
        });
    }

    /**
     * Batch norm in training mode: the loss of its output, the gradients of input, weight and bias,
     * and the running statistics it updates (fresh copies each call).
     */
    private static Supplier<double[]> batchNorm(Inputs in) {
        Tensor x = in.uniform(-2, 2, 4, 6, 5, 7);
        Tensor weight = in.uniform(0.5, 1.5, 6);
        Tensor bias = in.uniform(-0.5, 0.5, 6);
        Tensor scale = in.uniform(-1, 1, 4, 6, 5, 7);
        Tensor runningMean = in.uniform(-0.5, 0.5, 6);
        Tensor runningVar = in.uniform(0.5, 1.5, 6);
        Tensor[] stats = new Tensor[2];
        Supplier<double[]> gradients = lossAndGradients(List.of(x, weight, bias), params -> {
            stats[0] = runningMean.clone();
            stats[1] = runningVar.clone();
            return Functional.batchNorm(params.get(0), stats[0], stats[1], params.get(1), params.get(2), true, 0.1,
                    1e-5).mul(scale).sum();
        });
        return () -> concat(List.of(gradients.get(), stats[0].toDoubleArray(), stats[1].toDoubleArray()));
    }

    /**
     * Three steps of the fused SGD (momentum, Nesterov, weight decay) and Adam (AMSGrad, AdamW's
     * decoupled decay) updates, on backends that offer them: the parameters and the optimizer state.
     */
    private static void optimizerSteps(Map<String, Supplier<double[]>> cases, Inputs in, String d) {
        Tensor param = in.uniform(-1, 1, 3, 37);
        Tensor grad = in.uniform(-1, 1, 3, 37);
        Tensor zeros = in.f.zeros(in.dtype, 3, 37);
        if (OptimizerSteps.fusable(Kernel.SGD_STEP, param, grad, zeros)) {
            cases.put("SGD step, Nesterov momentum and weight decay" + d, () -> {
                Tensor p = param.clone();
                Tensor buffer = zeros.clone();
                for (int step = 0; step < 3; step++) {
                    OptimizerSteps.sgd(p, grad, buffer, 0.1, 0.9, 0, 5e-4, true, step == 0);
                }
                return concat(List.of(p.toDoubleArray(), buffer.toDoubleArray()));
            });
        }
        if (OptimizerSteps.fusable(Kernel.ADAM_STEP, param, grad, zeros, zeros.clone(), zeros.clone())) {
            cases.put("AdamW step with AMSGrad" + d, () -> {
                Tensor p = param.clone();
                Tensor expAvg = zeros.clone();
                Tensor expAvgSq = zeros.clone();
                Tensor maxExpAvgSq = zeros.clone();
                double beta1 = 0.9;
                double beta2 = 0.999;
                for (int step = 1; step <= 3; step++) {
                    double stepSize = 1e-3 / (1 - Math.pow(beta1, step));
                    double biasCorrection2Sqrt = Math.sqrt(1 - Math.pow(beta2, step));
                    OptimizerSteps.adam(p, grad, expAvg, expAvgSq, maxExpAvgSq, 1e-3, beta1, beta2, 1e-8, 0.01, true,
                            stepSize, biasCorrection2Sqrt);
                }
                return concat(List.of(p.toDoubleArray(), expAvg.toDoubleArray(), expAvgSq.toDoubleArray(),
                        maxExpAvgSq.toDoubleArray()));
            });
        }
    }

    private static double[] concat(List<double[]> parts) {
        return parts.stream().flatMapToDouble(java.util.Arrays::stream).toArray();
    }

    /** Causal attention over two heads with a tail of keys at any vector width, and its gradients. */
    private static Supplier<double[]> attention(Inputs in) {
        Tensor q = in.uniform(-1, 1, 2, 37, 16);
        Tensor k = in.uniform(-1, 1, 2, 37, 16);
        Tensor v = in.uniform(-1, 1, 2, 37, 19);
        Tensor scale = in.uniform(-1, 1, 2, 37, 19);
        return lossAndGradients(List.of(q, k, v), params -> {
            return Functional.scaledDotProductAttention(params.get(0), params.get(1), params.get(2), null, true,
                    0.25).mul(scale).sum();
        });
    }

    /**
     * A case that backpropagates: {@code loss} of fresh leaves copied from {@code inputs}, then the loss
     * and the gradient of each leaf, as one array.
     */
    private static Supplier<double[]> lossAndGradients(List<Tensor> inputs, Function<List<Tensor>, Tensor> loss) {
        return () -> {
            List<Tensor> params = new ArrayList<>();
            for (Tensor t : inputs) {
                params.add(t.detach().requiresGrad(true));
            }
            Tensor value = loss.apply(params);
            value.backward();
            List<double[]> parts = new ArrayList<>();
            parts.add(value.toDoubleArray());
            for (Tensor t : params) {
                parts.add(t.grad().toDoubleArray());
            }
            return concat(parts);
        };
    }

    private static void put(Map<String, Supplier<double[]>> cases, String name, Supplier<Tensor> op) {
        if (cases.put(name, () -> op.get().toDoubleArray()) != null) {
            throw new IllegalStateException("two cases named " + name);
        }
    }

    /** Inputs from a seeded integer generator, identical in every JVM. */
    private static final class Inputs {
        final TensorFactory f;
        final DType dtype;
        final SplittableRandom random;

        Inputs(TensorFactory f, DType dtype) {
            this.f = f;
            this.dtype = dtype;
            this.random = new SplittableRandom(dtype.ordinal() + 13);
        }

        Tensor uniform(double lo, double hi, int... shape) {
            double[] values = new double[numel(shape)];
            for (int i = 0; i < values.length; i++) {
                values[i] = lo + (hi - lo) * random.nextDouble();
            }
            return f.fromArray(values, dtype, shape);
        }

        /** Multiples of 1/2 in [-3, 3], a third of the zeros negative. */
        Tensor coarse(int... shape) {
            return coarseIn(-3, 3, shape);
        }

        /** Multiples of 1/2 in [lo, hi], a third of the zeros negative. */
        Tensor coarseIn(int lo, int hi, int... shape) {
            double[] values = new double[numel(shape)];
            for (int i = 0; i < values.length; i++) {
                values[i] = (2 * lo + random.nextInt(2 * (hi - lo) + 1)) / 2.0;
                if (values[i] == 0 && random.nextInt(3) == 0) {
                    values[i] = -0.0;
                }
            }
            return f.fromArray(values, dtype, shape);
        }

        private static int numel(int[] shape) {
            int n = 1;
            for (int s : shape) {
                n *= s;
            }
            return n;
        }
    }
}
