package dev.shears.common.recipe;

import dev.shears.common.text.Quoted;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.function.Consumer;
import java.util.function.Predicate;
import java.util.regex.Pattern;

/** Collects problems and phrases them the same way everywhere: field, value, what is allowed, fix. */
final class Problems {

    /** Names of jobs and published models: safe as a file name, a metric label and a topic key. */
    static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9._-]{0,63}");
    static final String NAME_RULE = "must match [a-z0-9][a-z0-9._-]{0,63}: lower-case letters, digits, '.', '_'"
            + " and '-', starting with a letter or digit, at most 64 characters";

    private final List<Problem> problems = new ArrayList<>();

    /** Adds {@code "<field> <value> <rest>"}. */
    void add(String field, Object value, String rest) {
        String shown = show(value);
        problems.add(new Problem(field, shown, field + " " + shown + " " + rest));
    }

    /** Adds an unknown key: {@code "<field> <rest>"}, with the value shown as given. */
    void unknown(String field, String shownValue, String rest) {
        problems.add(new Problem(field, shownValue, field + " " + rest));
    }

    /** Adds a problem about a missing field: {@code "<field> is missing: <rest>"}. */
    void missing(String field, String rest) {
        problems.add(new Problem(field, "", field + " is missing: " + rest));
    }

    /** Adds a problem about the document as a whole. */
    void document(String value, String message) {
        problems.add(new Problem("(document)", value, message));
    }

    boolean isEmpty() {
        return problems.isEmpty();
    }

    int size() {
        return problems.size();
    }

    List<Problem> list() {
        return List.copyOf(problems);
    }

    void throwIfAny(String source) {
        if (!problems.isEmpty()) {
            throw new RecipeException(source, problems);
        }
    }

    /** Runs the checks of one record's compact constructor and throws what they found. */
    static void require(String source, Consumer<Problems> checks) {
        Problems problems = new Problems();
        checks.accept(problems);
        problems.throwIfAny(source);
    }

    /** Checks {@code lo <= value <= hi} (or strict where asked); null means already reported. */
    void range(String field, Double value, double lo, boolean loClosed, double hi, boolean hiClosed, String fix) {
        if (value == null) {
            return;
        }
        double v = value;
        boolean ok = (loClosed ? v >= lo : v > lo) && (hiClosed ? v <= hi : v < hi);
        if (!ok) {
            add(field, value, "is out of range: must be in " + (loClosed ? "[" : "(") + num(lo) + ", " + num(hi)
                    + (hiClosed ? "]" : ")") + suffix(fix));
        }
    }

    /** Checks {@code lo <= value <= hi} for a whole number; null means already reported. */
    void range(String field, Long value, long lo, long hi, String fix) {
        if (value != null && (value < lo || value > hi)) {
            add(field, value, "is out of range: must be a whole number in [" + lo + ", " + hi + "]" + suffix(fix));
        }
    }

    void range(String field, Integer value, long lo, long hi, String fix) {
        range(field, value == null ? null : value.longValue(), lo, hi, fix);
    }

    /**
     * Checks a field that only some choices of another field take, such as {@code pruning.norm}, which method
     * ln_structured alone takes: given where the choice does not take it, or missing where it does, is a problem.
     *
     * @param value the field: an {@code Optional}, {@code OptionalInt}, {@code OptionalDouble} or {@code OptionalLong};
     *     null when it was unreadable (already reported)
     * @param selector the deciding field as messages name it, e.g. {@code method}
     * @param choice its value; null when it was unreadable (already reported)
     * @param takes which choices take the field: the messages list them from it
     * @param needs what a choice that takes the field misses without it, with the fix, e.g. {@code a norm (fix: e.g.
     *     norm: "2")}
     * @return whether the field is given and taken, so that its own checks apply
     */
    <E extends Enum<E>> boolean takenOnlyBy(String field, Object value, String selector, E choice, Predicate<E> takes,
            String needs) {
        return takenOnlyBy(field, value, selector, choice, takes, needs, "");
    }

    /**
     * {@link #takenOnlyBy(String, Object, String, Enum, Predicate, String)}, with {@code note} after the takers where the
     * field is given to a choice that does not take it, e.g. {@code "; one_shot is always one step"}.
     */
    <E extends Enum<E>> boolean takenOnlyBy(String field, Object value, String selector, E choice, Predicate<E> takes,
            String needs, String note) {
        if (value == null || choice == null) {
            return false;
        }
        boolean given = given(value);
        boolean taken = takes.test(choice);
        if (given && !taken) {
            add(field, value, notUsed(selector, choice, takes, note));
        } else if (!given && taken) {
            missing(field, selector + " " + show(choice) + " needs " + needs);
        }
        return given && taken;
    }

    /**
     * {@code "is not used by <selector> <choice>: it is for <takers> only<note> (fix: remove it, or set <selector> to
     * <a taker>)"}, the takers listed from {@code takes}.
     */
    static <E extends Enum<E>> String notUsed(String selector, E choice, Predicate<E> takes, String note) {
        List<String> takers = Arrays.stream(choice.getDeclaringClass().getEnumConstants()).filter(takes)
                .map(Problems::show).toList();
        return "is not used by " + selector + " " + show(choice) + ": it is for " + allOf(takers) + " only" + note
                + " (fix: remove it, or set " + selector + " to " + oneOf(takers) + ")";
    }

    private static boolean given(Object value) {
        if (value instanceof Optional<?> o) {
            return o.isPresent();
        }
        if (value instanceof OptionalInt o) {
            return o.isPresent();
        }
        if (value instanceof OptionalDouble o) {
            return o.isPresent();
        }
        if (value instanceof OptionalLong o) {
            return o.isPresent();
        }
        throw new IllegalArgumentException("not an optional field: " + value.getClass().getName());
    }

    /** Checks a job or model name against {@link #NAME}. */
    void name(String field, String value, String example) {
        if (value != null && !NAME.matcher(value).matches()) {
            add(field, value, "is not a valid name: " + NAME_RULE + " (fix: e.g. " + example + ")");
        }
    }

    /** {@code value} as it would read in YAML: numbers bare, text quoted and escaped, long text cut. */
    static String show(Object value) {
        if (value == null) {
            return "null";
        }
        if (value instanceof Optional<?> o) {
            return o.map(Problems::show).orElse("null");
        }
        if (value instanceof OptionalDouble o) {
            return o.isPresent() ? num(o.getAsDouble()) : "null";
        }
        if (value instanceof OptionalInt o) {
            return o.isPresent() ? Integer.toString(o.getAsInt()) : "null";
        }
        if (value instanceof OptionalLong o) {
            return o.isPresent() ? Long.toString(o.getAsLong()) : "null";
        }
        if (value instanceof Double d) {
            return num(d);
        }
        if (value instanceof Number || value instanceof Boolean) {
            return value.toString();
        }
        if (value instanceof Collection<?> c) {
            StringBuilder sb = new StringBuilder("[");
            int i = 0;
            for (Object o : c) {
                if (i > 0) {
                    sb.append(", ");
                }
                if (i++ == 8) {
                    sb.append("... ").append(c.size() - 8).append(" more");
                    break;
                }
                sb.append(show(o));
            }
            return sb.append(']').toString();
        }
        if (value instanceof Enum<?> e) {
            return e.name().toLowerCase(Locale.ROOT);
        }
        if (value instanceof Raw raw) {
            return raw.text();
        }
        return Quoted.of(value.toString());
    }

    /** A number as the recipe would spell it: {@code 0.9}, {@code 3} for a whole double, {@code inf}. */
    static String num(double v) {
        return Quoted.number(v, ".nan", ".inf");
    }

    /**
     * The closest of {@code candidates} to {@code word} ignoring case, if close enough to be a
     * likely typo (an edit distance of 1 to 3 by length, a swap of neighbours counting as one), or
     * the first candidate {@code word} begins.
     */
    static Optional<String> closest(String word, Collection<String> candidates) {
        String best = null;
        int bestDistance = Integer.MAX_VALUE;
        String w = word.toLowerCase(Locale.ROOT);
        for (String c : candidates) {
            int d = distance(w, c.toLowerCase(Locale.ROOT));
            if (d < bestDistance) {
                best = c;
                bestDistance = d;
            }
        }
        if (best == null) {
            return Optional.empty();
        }
        int allowed = w.length() <= 3 ? 1 : w.length() <= 6 ? 2 : 3;
        if (bestDistance <= allowed) {
            return Optional.of(best);
        }
        if (w.length() >= 3) {
            for (String c : candidates) {
                if (c.toLowerCase(Locale.ROOT).startsWith(w)) {
                    return Optional.of(c);
                }
            }
        }
        return Optional.empty();
    }

    /** {@code "a, b or c"}. */
    static String oneOf(Collection<String> options) {
        return listed(options, " or ");
    }

    /** {@code "a, b and c"}. */
    static String allOf(Collection<String> items) {
        return listed(items, " and ");
    }

    private static String listed(Collection<String> items, String beforeLast) {
        List<String> list = List.copyOf(items);
        if (list.size() == 1) {
            return list.get(0);
        }
        return String.join(", ", list.subList(0, list.size() - 1)) + beforeLast + list.get(list.size() - 1);
    }

    /** Edit distance counting insertions, deletions, substitutions and swaps of neighbours (optimal string alignment). */
    static int distance(String a, String b) {
        int[][] d = new int[a.length() + 1][b.length() + 1];
        for (int i = 0; i <= a.length(); i++) {
            d[i][0] = i;
        }
        for (int j = 0; j <= b.length(); j++) {
            d[0][j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                d[i][j] = Math.min(Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1), d[i - 1][j - 1] + cost);
                if (i > 1 && j > 1 && a.charAt(i - 1) == b.charAt(j - 2) && a.charAt(i - 2) == b.charAt(j - 1)) {
                    d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
                }
            }
        }
        return d[a.length()][b.length()];
    }

    private static String suffix(String fix) {
        return fix == null ? "" : " (fix: " + fix + ")";
    }

    /** A value to show exactly as written in the YAML, such as a scalar of the wrong type. */
    record Raw(String text) {
    }
}
