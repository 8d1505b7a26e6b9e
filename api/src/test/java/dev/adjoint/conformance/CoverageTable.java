package dev.adjoint.conformance;

import dev.adjoint.DType;
import dev.adjoint.Functional;
import dev.adjoint.Generator;
import dev.adjoint.Tensor;
import dev.adjoint.spi.Backend;

import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * docs/coverage.md, generated from the catalogue: for every api op, its PyTorch name, its Adjoint name,
 * the kernels it runs, and per backend whether those run on the backend's own code ("native"), on the
 * reference loops ("loop"), or several kernels composed above the SPI ("composed"). The kernels are
 * traced, not declared: the catalogue entry covering the op with the fewest kernel calls runs its first
 * sample on a {@link TracingBackend} around each backend, and the backend says which kernels it runs
 * natively ({@link Backend#runsNatively}).
 */
public final class CoverageTable {
    /** The command that rewrites the file; the staleness test names it. */
    public static final String REGENERATE = "mvn -B -pl benchmarks -am verify -Dtest=CoverageTableTest "
            + "-Dsurefire.failIfNoSpecifiedTests=false -Dadjoint.coverage.write=true";

    /** PyTorch's names where camelCase to snake_case under torch. (or F. for Functional) is not it. */
    private static final Map<String, String> TORCH_NAMES = Map.ofEntries(
            Map.entry("logSumExp", "torch.logsumexp"),
            Map.entry("logSigmoid", "F.logsigmoid"),
            Map.entry("toType", "Tensor.to"),
            Map.entry("to", "Tensor.to"),
            Map.entry("toIntArray", "Tensor.tolist"),
            Map.entry("toBooleanArray", "Tensor.tolist"),
            Map.entry("contiguous", "Tensor.contiguous"),
            Map.entry("expand", "Tensor.expand"),
            Map.entry("repeat", "Tensor.repeat"),
            Map.entry("view", "Tensor.view"),
            Map.entry("einsum", "torch.einsum"));

    private CoverageTable() {
    }

    /** The whole Markdown file for these backends (column order as given). */
    public static String render(List<Backend> backends) {
        Map<String, List<OpInfo>> byName = entriesByApiName();
        StringBuilder md = new StringBuilder();
        md.append("# Op coverage\n\n");
        md.append("Every op of the api with its PyTorch name, generated from the conformance catalogue ")
                .append("(`api/src/test/java/dev/adjoint/conformance/OpCatalogue.java`) by tracing the kernels each ")
                .append("one runs on each backend. `mvn -B verify` fails when this file is out of date; rewrite it with\n\n")
                .append("```bash\n").append(REGENERATE).append("\n```\n\n");
        md.append("Every op listed runs on every backend, in FLOAT32 and FLOAT64, checked against the scalar ")
                .append("backend's FLOAT64 results, with gradients (gradcheck, gradgradcheck, forward mode) where ")
                .append("it is differentiable. The columns per backend say how:\n\n")
                .append("- **native**: one kernel, run by the backend's own code (vector loops in simd, libnd4j in nd4j);\n")
                .append("- **loop**: one kernel, run by plain Java loops over the elements (the reference loops; ")
                .append("all of scalar is this);\n")
                .append("- **composed (n, m native)**: built above the SPI from n kernel calls, m of them native;\n")
                .append("- **view**: no kernel, a new layout over the same storage;\n")
                .append("- **host**: made on the host (factories, random draws) and copied in.\n\n")
                .append("The kernels are the SPI calls the op makes on the scalar backend, traced on the ")
                .append("plainest catalogue entry for it; a backend with a fused kernel for a composition (simd's ")
                .append("softmax and layer norm) runs that one kernel instead.\n\n");
        md.append("| PyTorch | Adjoint | kernels |");
        for (Backend b : backends) {
            md.append(' ').append(b.name()).append(" |");
        }
        md.append("\n|---|---|---|");
        md.append("---|".repeat(backends.size()));
        md.append('\n');
        for (Map.Entry<String, List<OpInfo>> op : byName.entrySet()) {
            String name = op.getKey();
            OpInfo entry = simplest(name, op.getValue(), backends.get(0));
            md.append("| `").append(torchName(name)).append("` | `").append(adjointName(name)).append("` | ");
            List<Trace> traces = new ArrayList<>();
            for (Backend b : backends) {
                traces.add(trace(entry, b));
            }
            md.append(kernels(traces.get(0).calls())).append(" |");
            for (int i = 0; i < backends.size(); i++) {
                md.append(' ').append(how(traces.get(i), backends.get(i))).append(" |");
            }
            md.append('\n');
        }
        return md.toString();
    }

    /** Each api op name with the entries covering it, in catalogue order. */
    private static Map<String, List<OpInfo>> entriesByApiName() {
        Set<String> apiOps = CatalogueCoverage.apiOps();
        Map<String, List<OpInfo>> byName = new LinkedHashMap<>();
        for (OpInfo op : OpCatalogue.all()) {
            for (String name : op.covers) {
                if (apiOps.contains(name)) {
                    byName.computeIfAbsent(name, k -> new ArrayList<>()).add(op);
                }
            }
        }
        return byName;
    }

    /**
     * The entry named as the op itself, or else the one whose op runs the fewest kernels: the plainest
     * use of the op.
     */
    private static OpInfo simplest(String name, List<OpInfo> entries, Backend reference) {
        for (OpInfo op : entries) {
            if (op.name.equals(name)) {
                return op;
            }
        }
        OpInfo best = null;
        int fewest = Integer.MAX_VALUE;
        for (OpInfo op : entries) {
            int calls = trace(op, reference).calls().size();
            if (calls < fewest) {
                fewest = calls;
                best = op;
            }
        }
        return best;
    }

    /** What an op ran: its kernel calls, and whether its output shares an input's storage (a view). */
    private record Trace(List<TracingBackend.Call> calls, boolean view) {
    }

    /**
     * The kernel calls of the op itself (not its then-function) on its first sample, FLOAT32 (where
     * toType(FLOAT64) is a copy, not the tensor itself), no graph.
     */
    private static Trace trace(OpInfo op, Backend backend) {
        TracingBackend tracer = new TracingBackend(backend);
        OpInfo.Sample sample = op.samples.get(0);
        Generator gen = new Generator(op.name.hashCode());
        List<Tensor> inputs = new ArrayList<>();
        for (InputSpec spec : sample.inputs()) {
            inputs.add(spec.view(spec.leaf(spec.leafValues(gen), tracer, DType.FLOAT32)));
        }
        tracer.clear();
        Tensor out;
        try (var scope = Tensor.noGrad()) {
            out = op.op.apply(inputs);
        }
        boolean view = inputs.stream().anyMatch(in -> in.storage() == out.storage());
        return new Trace(tracer.calls(), view);
    }

    /** The distinct kernels in the order of their first call, with how often each ran: "copy x2, where". */
    private static String kernels(List<TracingBackend.Call> calls) {
        Map<String, Integer> counts = new LinkedHashMap<>();
        for (TracingBackend.Call c : calls) {
            counts.merge(c.toString(), 1, Integer::sum);
        }
        List<String> parts = new ArrayList<>();
        counts.forEach((kernel, n) -> parts.add(n == 1 ? kernel : kernel + " x" + n));
        return String.join(", ", parts);
    }

    private static String how(Trace trace, Backend backend) {
        List<TracingBackend.Call> calls = trace.calls();
        if (calls.isEmpty()) {
            return trace.view() ? "view" : "host";
        }
        int natively = 0;
        for (TracingBackend.Call c : calls) {
            natively += backend.runsNatively(c.kernel(), c.primitive()) ? 1 : 0;
        }
        if (calls.size() == 1) {
            return natively == 1 ? "native" : "loop";
        }
        return "composed (" + calls.size() + (natively > 0 ? ", " + natively + " native" : "") + ")";
    }

    static String torchName(String name) {
        String mapped = TORCH_NAMES.get(name);
        if (mapped != null) {
            return mapped;
        }
        boolean functionalOnly = isFunctional(name) && !isTensorMethod(name);
        return (functionalOnly ? "F." : "torch.") + snakeCase(name);
    }

    private static String adjointName(String name) {
        if (isTensorMethod(name)) {
            return "Tensor." + name;
        }
        return "Functional." + name;
    }

    private static boolean isTensorMethod(String name) {
        for (Method m : Tensor.class.getMethods()) {
            if (m.getDeclaringClass() == Tensor.class && m.getName().equals(name)) {
                return true;
            }
        }
        return false;
    }

    private static boolean isFunctional(String name) {
        for (Method m : Functional.class.getDeclaredMethods()) {
            if (Modifier.isPublic(m.getModifiers()) && m.getName().equals(name)) {
                return true;
            }
        }
        return false;
    }

    private static String snakeCase(String camel) {
        StringBuilder s = new StringBuilder();
        for (char c : camel.toCharArray()) {
            if (Character.isUpperCase(c)) {
                s.append('_').append(Character.toLowerCase(c));
            } else {
                s.append(c);
            }
        }
        return s.toString();
    }
}
