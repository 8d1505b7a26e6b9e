import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Expands the kernel templates once per floating element type, as the JDK generates FloatVector,
 * DoubleVector, ... from {@code X-Vector.java.template} with its build tool Spp; the syntax is a
 * subset of Spp's. Java has no generics over primitives, so a kernel that must run on float[] and
 * on double[] is written once, as a template, and never kept in two hand-edited copies.
 *
 * <pre>
 * java TemplateExpander.java &lt;source root&gt; &lt;output root&gt;
 * </pre>
 * Every {@code X-Name.java.template} under the source root becomes {@code FloatName.java} and
 * {@code DoubleName.java} at the same relative path under the output root. Run by Maven in
 * generate-sources (engine-simd/pom.xml); the output root is a compile source root there.
 *
 * <p>In a template:
 * <ul>
 *   <li>{@code $type$}, {@code $Type$}, {@code $dtype$}: {@code float}, {@code Float}, {@code FLOAT32}
 *       (or {@code double}, {@code Double}, {@code FLOAT64}); {@code $bits$}, {@code $Bits$}: the integer
 *       type of the same width, {@code int}, {@code Int} (or {@code long}, {@code Long}), for kernels
 *       that work on the bits ({@code IntVector}, {@code reinterpretAsInts()});</li>
 *   <li>a line {@code #if[float]} (or {@code #if[double]}), an optional {@code #else[float]}, and
 *       {@code #end[float]}, each alone on its line: the lines between are kept for that type only
 *       (blocks may nest);</li>
 *   <li>{@code {#if[float]?yes:no}} inline (the {@code :no} part optional): {@code yes} for that
 *       type, else {@code no}; neither may contain {@code :} or a closing brace.</li>
 * </ul>
 * Dropped lines and directive lines become empty lines, so line numbers in compiler errors and stack
 * traces are the template's. Any other {@code $word$}, an unknown key or an unbalanced block stops
 * the build with the template's name and line. Files are only rewritten when their text changes, so
 * an unchanged template does not make the compiler recompile the module, and generated files whose
 * template is gone are deleted.
 */
public final class TemplateExpander {
    private record ElementType(String key, Map<String, String> variables) {
    }

    private static final List<ElementType> TYPES = List.of(
            new ElementType("float", Map.of("type", "float", "Type", "Float", "dtype", "FLOAT32",
                    "bits", "int", "Bits", "Int")),
            new ElementType("double", Map.of("type", "double", "Type", "Double", "dtype", "FLOAT64",
                    "bits", "long", "Bits", "Long")));

    private static final String SUFFIX = ".java.template";
    private static final Pattern DIRECTIVE = Pattern.compile("\\s*#(if|else|end)\\[(\\w+)]\\s*");
    private static final Pattern INLINE = Pattern.compile("\\{#if\\[(\\w+)]\\?([^:}]*)(?::([^}]*))?}");
    private static final Pattern VARIABLE = Pattern.compile("\\$(\\w+)\\$");

    private TemplateExpander() {
    }

    public static void main(String[] args) throws IOException {
        if (args.length != 2) {
            System.err.println("usage: java TemplateExpander.java <source root> <output root>");
            System.exit(2);
        }
        try {
            run(Path.of(args[0]), Path.of(args[1]));
        } catch (IllegalStateException e) {
            System.err.println("TemplateExpander: " + e.getMessage());
            System.exit(1);
        }
    }

    private static void run(Path sources, Path output) throws IOException {
        List<Path> templates;
        try (Stream<Path> files = Files.walk(sources)) {
            templates = files.filter(p -> p.getFileName().toString().startsWith("X-")
                    && p.getFileName().toString().endsWith(SUFFIX)).sorted().toList();
        }
        Set<Path> written = new HashSet<>();
        int changed = 0;
        for (Path template : templates) {
            List<String> lines = Files.readAllLines(template, StandardCharsets.UTF_8);
            String name = template.getFileName().toString();
            String stem = name.substring(2, name.length() - SUFFIX.length());
            Path dir = output.resolve(sources.relativize(template.getParent()));
            for (ElementType type : TYPES) {
                Path target = dir.resolve(type.variables().get("Type") + stem + ".java");
                String text = expand(lines, type, name);
                written.add(target.toAbsolutePath().normalize());
                if (!Files.exists(target) || !Files.readString(target, StandardCharsets.UTF_8).equals(text)) {
                    Files.createDirectories(dir);
                    Files.writeString(target, text, StandardCharsets.UTF_8);
                    changed++;
                }
            }
        }
        if (Files.isDirectory(output)) {
            try (Stream<Path> files = Files.walk(output)) {
                for (Path stale : files.filter(p -> p.toString().endsWith(".java"))
                        .filter(p -> !written.contains(p.toAbsolutePath().normalize())).toList()) {
                    Files.delete(stale);
                }
            }
        }
        System.out.println("TemplateExpander: " + templates.size() + " templates, " + written.size()
                + " classes in " + output + " (" + changed + " rewritten)");
    }

    /** One template for one element type; a comment on line 1 names the template. */
    static String expand(List<String> lines, ElementType type, String name) {
        StringBuilder out = new StringBuilder();
        // Each open block: its key, and whether its current branch is the one for this type.
        Deque<String> keys = new ArrayDeque<>();
        Deque<Boolean> taking = new ArrayDeque<>();
        Deque<Boolean> sawElse = new ArrayDeque<>();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            String where = name + ":" + (i + 1);
            Matcher directive = DIRECTIVE.matcher(line);
            if (directive.matches()) {
                String key = checkedKey(directive.group(2), where);
                switch (directive.group(1)) {
                    case "if" -> {
                        keys.push(key);
                        taking.push(key.equals(type.key()));
                        sawElse.push(false);
                    }
                    case "else" -> {
                        if (keys.isEmpty() || !keys.peek().equals(key) || sawElse.peek()) {
                            throw new IllegalStateException(where + ": #else[" + key + "] without its #if[" + key + "]");
                        }
                        taking.push(!taking.pop());
                        sawElse.pop();
                        sawElse.push(true);
                    }
                    default -> {
                        if (keys.isEmpty() || !keys.peek().equals(key)) {
                            throw new IllegalStateException(where + ": #end[" + key + "] without its #if[" + key + "]");
                        }
                        keys.pop();
                        taking.pop();
                        sawElse.pop();
                    }
                }
                line = "";
            } else if (line.contains("#if[") || line.contains("#else[") || line.contains("#end[")) {
                if (!INLINE.matcher(line).find()) {
                    throw new IllegalStateException(where + ": a block directive must stand alone on its line");
                }
            }
            if (!taking.contains(false) && !line.isEmpty()) {
                line = substitute(line, type, where);
            } else {
                line = "";
            }
            if (i == 0) {
                line = "/* Generated from " + name + " for " + type.key() + "; edit the template. */ " + line;
            }
            out.append(line).append('\n');
        }
        if (!keys.isEmpty()) {
            throw new IllegalStateException(name + ": #if[" + keys.peek() + "] is never closed by #end[" + keys.peek() + "]");
        }
        return out.toString();
    }

    private static String substitute(String line, ElementType type, String where) {
        Matcher inline = INLINE.matcher(line);
        StringBuilder chosen = new StringBuilder();
        while (inline.find()) {
            boolean yes = checkedKey(inline.group(1), where).equals(type.key());
            String text = yes ? inline.group(2) : inline.group(3) == null ? "" : inline.group(3);
            inline.appendReplacement(chosen, Matcher.quoteReplacement(text));
        }
        inline.appendTail(chosen);
        Matcher variable = VARIABLE.matcher(chosen);
        StringBuilder result = new StringBuilder();
        while (variable.find()) {
            String value = type.variables().get(variable.group(1));
            if (value == null) {
                throw new IllegalStateException(where + ": unknown variable $" + variable.group(1) + "$ (known: "
                        + type.variables().keySet().stream().sorted().toList() + ")");
            }
            variable.appendReplacement(result, Matcher.quoteReplacement(value));
        }
        variable.appendTail(result);
        return result.toString();
    }

    private static String checkedKey(String key, String where) {
        if (TYPES.stream().noneMatch(t -> t.key().equals(key))) {
            throw new IllegalStateException(where + ": unknown key [" + key + "] (known: "
                    + TYPES.stream().map(ElementType::key).toList() + ")");
        }
        return key;
    }
}
