package dev.shears.common.text;

import java.util.Locale;

/** How Shears' error messages show a value the user gave: one way for recipes, events and their fields. */
public final class Quoted {
    /** Values are cut after this many characters; the rest is {@code ...}. */
    public static final int MAX_CHARS = 80;

    private Quoted() {}

    /**
     * {@code s} in double quotes, {@code "} and {@code \} escaped, control characters as {@code \}{@code uXXXX}, cut
     * after {@value #MAX_CHARS} characters (never inside a surrogate pair) with {@code ...} after the quote's end.
     */
    public static String of(String s) {
        StringBuilder sb = new StringBuilder("\"");
        int n = Math.min(s.length(), MAX_CHARS);
        if (n < s.length() && Character.isHighSurrogate(s.charAt(n - 1))) {
            n--;
        }
        for (int i = 0; i < n; i++) {
            char c = s.charAt(i);
            if (c == '"' || c == '\\') {
                sb.append('\\').append(c);
            } else if (Character.isISOControl(c)) {
                sb.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
            } else {
                sb.append(c);
            }
        }
        if (s.length() > n) {
            sb.append("...");
        }
        return sb.append('"').toString();
    }

    /**
     * A number as a person would write it: {@code 0.9}, {@code 3} for a whole one; {@code nan} for NaN and {@code
     * infinity} (with a {@code -} before it when negative) in the spelling of the text it goes into.
     */
    public static String number(double v, String nan, String infinity) {
        if (Double.isNaN(v)) {
            return nan;
        }
        if (Double.isInfinite(v)) {
            return v > 0 ? infinity : "-" + infinity;
        }
        return v == Math.rint(v) && Math.abs(v) < 1e15 ? Long.toString((long) v) : Double.toString(v);
    }
}
