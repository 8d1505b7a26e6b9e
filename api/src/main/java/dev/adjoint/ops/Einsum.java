package dev.adjoint.ops;

import dev.adjoint.Tensor;
import dev.adjoint.TensorShapeException;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * torch.einsum, composed of differentiable ops: repeated subscripts within an operand take its
 * diagonal, subscripts used by one operand only are summed out early, then the operands are contracted
 * left to right, each pair as one batched matmul ({@code [batch, kept of a, summed]} times
 * {@code [batch, summed, kept of b]}), and the result is summed and permuted into the output order.
 * Subscripts are letters; {@code ...} stands for the dims not named, which broadcast across operands.
 * Without {@code ->} the output is the ellipsis dims, then the letters used once, in alphabetical
 * order, as in PyTorch. Dims of size 1 broadcast against the same subscript in another operand.
 */
public final class Einsum {
    /** Labels 0-51 are letters; the ellipsis dims get labels from here on, counted from the right. */
    private static final int ELLIPSIS = 52;

    private Einsum() {
    }

    /** One operand or intermediate result: a tensor and the label of each of its dims. */
    private record Term(Tensor tensor, int[] labels) {
    }

    public static Tensor einsum(String equation, List<Tensor> operands) {
        if (operands.isEmpty()) {
            throw new IllegalArgumentException("einsum: needs at least one operand (equation \"" + equation + "\")");
        }
        Tensor first = operands.get(0);
        for (Tensor t : operands) {
            Dispatch.checkFloating("einsum", t);
            Dispatch.checkSameBackend("einsum", first, t);
            Dispatch.checkSameDType("einsum", first, t);
        }
        String eq = equation.replace(" ", "");
        int arrow = eq.indexOf("->");
        String[] inputs = (arrow < 0 ? eq : eq.substring(0, arrow)).split(",", -1);
        if (inputs.length != operands.size()) {
            throw new IllegalArgumentException("einsum: equation \"" + equation + "\" has " + inputs.length
                    + " operand subscripts but " + operands.size() + " operands were given");
        }
        int ellipsisRank = 0;
        int[][] parsed = new int[inputs.length][];
        for (int i = 0; i < inputs.length; i++) {
            parsed[i] = parse(equation, inputs[i], operands.get(i), i);
            ellipsisRank = Math.max(ellipsisRank, ellipsisDims(parsed[i], operands.get(i).rank()));
        }
        List<Term> terms = new ArrayList<>();
        for (int i = 0; i < inputs.length; i++) {
            int rank = operands.get(i).rank();
            int[] labels = labels(parsed[i], rank, ellipsisRank);
            terms.add(new Term(operands.get(i), labels));
        }
        int[] output = arrow < 0 ? implicitOutput(terms, ellipsisRank)
                : outputLabels(equation, eq.substring(arrow + 2), ellipsisRank, terms);
        checkSizes(equation, terms);

        for (int i = 0; i < terms.size(); i++) {
            terms.set(i, sumUnshared(diagonals(equation, terms.get(i)), terms, i, output));
        }
        Term result = terms.get(0);
        for (int i = 1; i < terms.size(); i++) {
            result = contract(result, terms.get(i), needed(terms, i + 1, output));
        }
        result = sumExcept(result, asSet(output));
        int[] order = new int[output.length];
        for (int i = 0; i < output.length; i++) {
            order[i] = indexOf(result.labels(), output[i]);
        }
        return result.tensor().permute(order);
    }

    // ---- parsing ----------------------------------------------------------------------------------------

    /** The labels of one operand's subscripts, -1 marking where "..." stands. */
    private static int[] parse(String equation, String subscripts, Tensor x, int operand) {
        int rank = x.rank();
        List<Integer> labels = new ArrayList<>();
        boolean ellipsis = false;
        for (int c = 0; c < subscripts.length(); c++) {
            char ch = subscripts.charAt(c);
            if (subscripts.startsWith("...", c)) {
                if (ellipsis) {
                    throw new IllegalArgumentException("einsum: operand " + operand + " has more than one \"...\" in \""
                            + equation + "\"");
                }
                ellipsis = true;
                labels.add(-1);
                c += 2;
            } else {
                labels.add(letter(equation, ch));
            }
        }
        int named = labels.size() - (ellipsis ? 1 : 0);
        if (ellipsis ? named > rank : named != rank) {
            throw new TensorShapeException("einsum: subscripts \"" + subscripts + "\" of operand " + operand + " name "
                    + named + " dimensions but the operand has shape " + x.shape() + " in \"" + equation + "\"");
        }
        return labels.stream().mapToInt(Integer::intValue).toArray();
    }

    private static int letter(String equation, char ch) {
        if (ch >= 'a' && ch <= 'z') {
            return ch - 'a';
        }
        if (ch >= 'A' && ch <= 'Z') {
            return 26 + ch - 'A';
        }
        throw new IllegalArgumentException("einsum: '" + ch + "' in \"" + equation + "\" is not a subscript "
                + "(letters a-z and A-Z, \"...\", ',' and \"->\" only)");
    }

    private static int ellipsisDims(int[] parsed, int rank) {
        for (int label : parsed) {
            if (label == -1) {
                return rank - (parsed.length - 1);
            }
        }
        return 0;
    }

    /** The label of every dim: "..." expands to the last {@code e} of {@code ellipsisRank} ellipsis labels. */
    private static int[] labels(int[] parsed, int rank, int ellipsisRank) {
        int[] labels = new int[rank];
        int e = ellipsisDims(parsed, rank);
        int d = 0;
        for (int label : parsed) {
            if (label == -1) {
                for (int k = 0; k < e; k++) {
                    labels[d++] = ELLIPSIS + ellipsisRank - e + k;
                }
            } else {
                labels[d++] = label;
            }
        }
        return labels;
    }

    private static int[] implicitOutput(List<Term> terms, int ellipsisRank) {
        int[] uses = new int[ELLIPSIS];
        for (Term t : terms) {
            for (int label : t.labels()) {
                if (label < ELLIPSIS) {
                    uses[label]++;
                }
            }
        }
        List<Integer> out = new ArrayList<>();
        for (int k = 0; k < ellipsisRank; k++) {
            out.add(ELLIPSIS + k);
        }
        // Alphabetical as PyTorch orders them: 'A'-'Z' before 'a'-'z'.
        for (int label = 26; label < ELLIPSIS; label++) {
            if (uses[label] == 1) {
                out.add(label);
            }
        }
        for (int label = 0; label < 26; label++) {
            if (uses[label] == 1) {
                out.add(label);
            }
        }
        return out.stream().mapToInt(Integer::intValue).toArray();
    }

    private static int[] outputLabels(String equation, String subscripts, int ellipsisRank, List<Term> terms) {
        Set<Integer> seen = new TreeSet<>();
        for (Term t : terms) {
            for (int label : t.labels()) {
                seen.add(label);
            }
        }
        List<Integer> out = new ArrayList<>();
        boolean ellipsis = false;
        for (int c = 0; c < subscripts.length(); c++) {
            if (subscripts.startsWith("...", c)) {
                if (ellipsis) {
                    throw new IllegalArgumentException("einsum: the output has more than one \"...\" in \"" + equation + "\"");
                }
                ellipsis = true;
                for (int k = 0; k < ellipsisRank; k++) {
                    out.add(ELLIPSIS + k);
                }
                c += 2;
                continue;
            }
            char ch = subscripts.charAt(c);
            int label = letter(equation, ch);
            if (!seen.contains(label)) {
                throw new IllegalArgumentException("einsum: output subscript '" + ch + "' in \"" + equation
                        + "\" does not appear in any operand");
            }
            if (out.contains(label)) {
                throw new IllegalArgumentException("einsum: output subscript '" + ch + "' appears twice in \"" + equation + "\"");
            }
            out.add(label);
        }
        // An output without "..." sums the ellipsis dims, as PyTorch does.
        return out.stream().mapToInt(Integer::intValue).toArray();
    }

    /** Every label has one size, or size 1 where it broadcasts against it. */
    private static void checkSizes(String equation, List<Term> terms) {
        // The first size other than 1 seen for each label, and the operand it was seen in.
        int[] size = new int[ELLIPSIS * 2];
        int[] from = new int[size.length];
        Arrays.fill(size, 1);
        for (int i = 0; i < terms.size(); i++) {
            Term t = terms.get(i);
            for (int d = 0; d < t.labels().length; d++) {
                int label = t.labels()[d];
                int n = t.tensor().size(d);
                if (n == 1 || n == size[label]) {
                    continue;
                }
                if (size[label] == 1) {
                    size[label] = n;
                    from[label] = i;
                } else {
                    throw new TensorShapeException("einsum: subscript " + name(label) + " has size " + size[label]
                            + " in operand " + from[label] + " but " + n + " in operand " + i + " of \"" + equation
                            + "\" (shapes " + shapes(terms) + ")");
                }
            }
        }
    }

    private static String name(int label) {
        if (label >= ELLIPSIS) {
            return "\"...\" (dimension " + (label - ELLIPSIS) + " of it)";
        }
        return "'" + (char) (label < 26 ? 'a' + label : 'A' + label - 26) + "'";
    }

    private static String shapes(List<Term> terms) {
        List<String> s = new ArrayList<>();
        for (Term t : terms) {
            s.add(t.tensor().shape().toString());
        }
        return String.join(", ", s);
    }

    // ---- steps -------------------------------------------------------------------------------------------

    /** A label repeated within one operand ("ii") keeps only its diagonal: multiply by the identity, sum one copy. */
    private static Term diagonals(String equation, Term t) {
        int[] labels = t.labels();
        for (int a = 0; a < labels.length; a++) {
            for (int b = a + 1; b < labels.length; b++) {
                if (labels[a] != labels[b]) {
                    continue;
                }
                Tensor x = t.tensor();
                int n = x.size(a);
                if (x.size(b) != n) {
                    throw new TensorShapeException("einsum: subscript " + name(labels[a]) + " is repeated in an operand "
                            + "over dimensions of sizes " + n + " and " + x.size(b) + " (shape " + x.shape() + ") in \""
                            + equation + "\"");
                }
                int[] eyeShape = new int[labels.length];
                Arrays.fill(eyeShape, 1);
                eyeShape[a] = n;
                eyeShape[b] = n;
                Tensor eye = Tensor.on(x.backend()).eye(n, n, x.dtype()).reshape(eyeShape);
                Tensor diagonal = x.mul(eye).sum(b, false);
                int[] rest = new int[labels.length - 1];
                for (int d = 0, k = 0; d < labels.length; d++) {
                    if (d != b) {
                        rest[k++] = labels[d];
                    }
                }
                return diagonals(equation, new Term(diagonal, rest));
            }
        }
        return t;
    }

    /** Sums out the labels of operand {@code at} that no other operand and not the output use. */
    private static Term sumUnshared(Term t, List<Term> terms, int at, int[] output) {
        Set<Integer> keep = asSet(output);
        for (int i = 0; i < terms.size(); i++) {
            if (i != at) {
                for (int label : terms.get(i).labels()) {
                    keep.add(label);
                }
            }
        }
        return sumExcept(t, keep);
    }

    private static Term sumExcept(Term t, Set<Integer> keep) {
        List<Integer> summed = new ArrayList<>();
        List<Integer> kept = new ArrayList<>();
        for (int d = 0; d < t.labels().length; d++) {
            (keep.contains(t.labels()[d]) ? kept : summed).add(d);
        }
        if (summed.isEmpty()) {
            return t;
        }
        int[] dims = summed.stream().mapToInt(Integer::intValue).toArray();
        int[] labels = kept.stream().mapToInt(d -> t.labels()[d]).toArray();
        return new Term(t.tensor().sum(dims, false), labels);
    }

    /** The labels the operands from {@code from} on and the output use. */
    private static Set<Integer> needed(List<Term> terms, int from, int[] output) {
        Set<Integer> needed = asSet(output);
        for (int i = from; i < terms.size(); i++) {
            for (int label : terms.get(i).labels()) {
                needed.add(label);
            }
        }
        return needed;
    }

    /**
     * {@code a} and {@code b} contracted over their shared labels that are not {@code needed} later, as one
     * batched matmul; shared labels still needed are its batch dims, the others stay as rows (a) and
     * columns (b). The result's labels are batch, then a's own, then b's own.
     */
    private static Term contract(Term a, Term b, Set<Integer> needed) {
        Set<Integer> inA = asSet(a.labels());
        Set<Integer> inB = asSet(b.labels());
        Set<Integer> keepA = new LinkedHashSet<>(needed);
        keepA.addAll(inB);
        Set<Integer> keepB = new LinkedHashSet<>(needed);
        keepB.addAll(inA);
        a = sumExcept(a, keepA);
        b = sumExcept(b, keepB);
        List<Integer> batch = new ArrayList<>();
        List<Integer> summed = new ArrayList<>();
        List<Integer> rows = new ArrayList<>();
        List<Integer> cols = new ArrayList<>();
        for (int label : a.labels()) {
            if (asSet(b.labels()).contains(label)) {
                (needed.contains(label) ? batch : summed).add(label);
            } else {
                rows.add(label);
            }
        }
        for (int label : b.labels()) {
            if (!asSet(a.labels()).contains(label)) {
                cols.add(label);
            }
        }
        Tensor left = arrange(a, batch, rows, summed);
        Tensor right = arrange(b, batch, summed, cols);
        int[] batchSizes = new int[batch.size()];
        for (int i = 0; i < batch.size(); i++) {
            batchSizes[i] = Math.max(sizeOf(a, batch.get(i)), sizeOf(b, batch.get(i)));
        }
        // Summed labels may broadcast (size 1 against n): expand both sides to the full size first.
        int k = 1;
        for (int label : summed) {
            k *= Math.max(sizeOf(a, label), sizeOf(b, label));
        }
        left = left.expand(with(batchSizes(a, batch), dimsOf(a, rows), fullSizes(a, b, summed)))
                .reshape(with(batchSizes(a, batch), new int[] {product(dimsOf(a, rows)), k}));
        right = right.expand(with(batchSizes(b, batch), fullSizes(a, b, summed), dimsOf(b, cols)))
                .reshape(with(batchSizes(b, batch), new int[] {k, product(dimsOf(b, cols))}));
        Tensor product = left.matmul(right);
        Tensor result = product.reshape(with(batchSizes, dimsOf(a, rows), dimsOf(b, cols)));
        List<Integer> labels = new ArrayList<>(batch);
        labels.addAll(rows);
        labels.addAll(cols);
        return new Term(result, labels.stream().mapToInt(Integer::intValue).toArray());
    }

    /** {@code t} permuted so its dims follow the three groups of labels in order. */
    private static Tensor arrange(Term t, List<Integer> first, List<Integer> second, List<Integer> third) {
        int[] perm = new int[t.labels().length];
        int p = 0;
        for (List<Integer> group : List.of(first, second, third)) {
            for (int label : group) {
                perm[p++] = indexOf(t.labels(), label);
            }
        }
        return t.tensor().permute(perm);
    }

    private static int sizeOf(Term t, int label) {
        return t.tensor().size(indexOf(t.labels(), label));
    }

    private static int[] batchSizes(Term t, List<Integer> labels) {
        return dimsOf(t, labels);
    }

    private static int[] dimsOf(Term t, List<Integer> labels) {
        int[] dims = new int[labels.size()];
        for (int i = 0; i < dims.length; i++) {
            dims[i] = sizeOf(t, labels.get(i));
        }
        return dims;
    }

    private static int[] fullSizes(Term a, Term b, List<Integer> labels) {
        int[] dims = new int[labels.size()];
        for (int i = 0; i < dims.length; i++) {
            dims[i] = Math.max(sizeOf(a, labels.get(i)), sizeOf(b, labels.get(i)));
        }
        return dims;
    }

    private static int product(int[] dims) {
        int p = 1;
        for (int d : dims) {
            p *= d;
        }
        return p;
    }

    private static int[] with(int[]... parts) {
        int n = 0;
        for (int[] part : parts) {
            n += part.length;
        }
        int[] all = new int[n];
        int at = 0;
        for (int[] part : parts) {
            System.arraycopy(part, 0, all, at, part.length);
            at += part.length;
        }
        return all;
    }

    private static int indexOf(int[] labels, int label) {
        for (int i = 0; i < labels.length; i++) {
            if (labels[i] == label) {
                return i;
            }
        }
        throw new IllegalStateException("einsum: label " + label + " not in " + Arrays.toString(labels));
    }

    private static Set<Integer> asSet(int[] labels) {
        Set<Integer> set = new LinkedHashSet<>();
        for (int label : labels) {
            set.add(label);
        }
        return set;
    }
}
