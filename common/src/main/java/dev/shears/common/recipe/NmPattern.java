package dev.shears.common.recipe;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * N:M semi-structured sparsity: in every group of {@code m} consecutive weights along the input
 * dimension, {@code n} are kept (2:4 is what sparse tensor cores run), so the sparsity is
 * {@code 1 - n/m}.
 *
 * @param n weights kept per group, {@code 0 < n < m}
 * @param m group size, at most 1024
 */
public record NmPattern(int n, int m) {

    static final String FIELD = PruningSpec.SECTION + ".nm";
    private static final Pattern FORM = Pattern.compile("\\s*(\\d{1,9})\\s*:\\s*(\\d{1,9})\\s*");
    static final String RULE = "must be N:M with 0 < N < M <= 1024, such as 2:4";

    /** @throws RecipeException unless {@code 0 < n < m <= 1024} */
    public NmPattern {
        if (!(0 < n && n < m && m <= 1024)) {
            String shown = n + ":" + m;
            Problems.require(FIELD, p -> p.add(FIELD, shown, "is out of range: " + RULE));
        }
    }

    public static final NmPattern TWO_FOUR = new NmPattern(2, 4);

    /**
     * Parses {@code "N:M"}.
     *
     * @throws RecipeException when {@code text} is not of that form or out of range
     */
    public static NmPattern parse(String text) {
        Problems p = new Problems();
        NmPattern nm = parse(text, p);
        p.throwIfAny(FIELD);
        return nm;
    }

    static NmPattern parse(String text, Problems p) {
        Matcher m = FORM.matcher(text);
        if (!m.matches()) {
            p.add(FIELD, text, "is not of the form N:M: " + RULE);
            return null;
        }
        int n = Integer.parseInt(m.group(1));
        int size = Integer.parseInt(m.group(2));
        if (!(0 < n && n < size && size <= 1024)) {
            p.add(FIELD, text, "is out of range: " + RULE);
            return null;
        }
        return new NmPattern(n, size);
    }

    /** The fraction of weights pruned: {@code 1 - n/m}. */
    public double sparsity() {
        return 1.0 - (double) n / m;
    }

    /** {@code "N:M"}. */
    @Override
    public String toString() {
        return n + ":" + m;
    }
}
