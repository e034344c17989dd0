package dev.shears.common.events;

import dev.shears.common.text.Quoted;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * The checks of the events' compact constructors, phrased the same way everywhere: field, value,
 * what is allowed, fix. Each throws a {@link FieldException} naming the owner (a payload type or
 * {@code Event}) and the field.
 */
final class Check {

    /** Job ids and published names, the rule of recipes' {@code job}: one safe path segment, label and key. */
    static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9._-]{0,63}");
    static final String NAME_RULE = "must match [a-z0-9][a-z0-9._-]{0,63}: lower-case letters, digits, '.', '_'"
            + " and '-', starting with a letter or digit, at most 64 characters";

    /** Worker ids, checkpoint ids, versions: one path segment, no spaces or control characters. */
    static final Pattern TOKEN = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._:@+-]{0,127}");
    static final String TOKEN_RULE = "must match [A-Za-z0-9][A-Za-z0-9._:@+-]{0,127}: letters, digits, '.', '_',"
            + " ':', '@', '+' and '-', starting with a letter or digit, at most 128 characters";

    static final Pattern UUID = Pattern.compile("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}");
    static final Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");
    static final Pattern CODE = Pattern.compile("[a-z][a-z0-9_]{0,63}");

    private final String owner;

    Check(String owner) {
        this.owner = owner;
    }

    FieldException fail(String field, Object value, String problem) {
        return new FieldException(owner, field, show(value) + " " + problem);
    }

    <T> T present(String field, T value) {
        if (value == null) {
            throw new FieldException(owner, field, "is missing (null)");
        }
        return value;
    }

    void range(String field, long value, long lo, long hi, String fix) {
        if (value < lo || value > hi) {
            throw fail(field, value, "is out of range: must be a whole number in [" + lo + ", "
                    + (hi == Long.MAX_VALUE ? "2^63-1" : Long.toString(hi)) + "]" + fix(fix));
        }
    }

    /** {@code lo <= value < hi} or {@code lo <= value <= hi}; NaN and infinities fail. */
    void range(String field, double value, double lo, double hi, boolean hiClosed, String fix) {
        boolean ok = Double.isFinite(value) && value >= lo && (hiClosed ? value <= hi : value < hi);
        if (!ok) {
            throw fail(field, value, "is out of range: must be in [" + num(lo) + ", "
                    + (Double.isInfinite(hi) ? "inf)" : num(hi) + (hiClosed ? "]" : ")")) + fix(fix));
        }
    }

    /** A finite number at least 0. */
    void nonNegative(String field, double value, String fix) {
        range(field, value, 0, Double.POSITIVE_INFINITY, false, fix);
    }

    /** A job id or publication name ({@link #NAME}), with the particular reason when it is an unsafe one. */
    void name(String field, String value, String example) {
        present(field, value);
        if (NAME.matcher(value).matches()) {
            return;
        }
        String why;
        if (value.contains("/") || value.contains("\\")) {
            why = "contains a path separator: a name is used as one directory, and must not lead out of it.";
        } else if (value.equals(".") || value.equals("..") || value.startsWith(".")) {
            why = "starts with '.': a name is used as a directory, and must not name the current or parent one.";
        } else if (value.chars().anyMatch(Check::isControl)) {
            why = "contains a control character:";
        } else if (value.isEmpty()) {
            why = "is empty:";
        } else if (value.length() > 64) {
            why = "is " + value.length() + " characters long:";
        } else {
            why = "is not a valid name:";
        }
        throw fail(field, value, why + (why.endsWith(".") ? " It " : " it ") + NAME_RULE + fix("e.g. " + example));
    }

    void token(String field, String value, String example) {
        present(field, value);
        if (!TOKEN.matcher(value).matches()) {
            throw fail(field, value, "is not a valid id: " + TOKEN_RULE + fix("e.g. " + example));
        }
    }

    void code(String field, String value, String example) {
        present(field, value);
        if (!CODE.matcher(value).matches()) {
            throw fail(field, value, "is not a valid code: must match [a-z][a-z0-9_]{0,63}, lower-case words joined"
                    + " by '_'" + fix("e.g. " + example));
        }
    }

    void uuid(String field, String value) {
        present(field, value);
        if (!UUID.matcher(value).matches()) {
            throw fail(field, value, "is not a UUID in canonical form: 36 characters, lower-case hex digits in groups"
                    + " of 8-4-4-4-12" + fix("e.g. UUID.randomUUID().toString(),"
                            + " 0b6f3c9e-7a51-4d0e-9c43-2f1d5b8a6e70"));
        }
    }

    void sha256(String field, String value) {
        present(field, value);
        if (!SHA256.matcher(value).matches()) {
            throw fail(field, value, "is not a SHA-256: must be 64 lower-case hex digits"
                    + fix("write the digest of the file's bytes in lower-case hex"));
        }
    }

    /**
     * Free text shown to people (a reason, a detail, a path): at most {@code maxBytes} bytes of UTF-8, no control
     * characters other than tab, line feed and carriage return.
     */
    void text(String field, String value, int maxBytes, boolean mayBeBlank, String fix) {
        boundedText(field, value, maxBytes, mayBeBlank, fix,
                "shorten it, cutting between characters; keep the first lines of a stack trace");
    }

    /** Like {@link #text}, with {@code fix} also the fix of a value too long. */
    void utf8Text(String field, String value, int maxBytes, boolean mayBeBlank, String fix) {
        boundedText(field, value, maxBytes, mayBeBlank, fix, fix);
    }

    private void boundedText(String field, String value, int maxBytes, boolean mayBeBlank, String blankFix,
            String longFix) {
        present(field, value);
        if (!mayBeBlank && value.isBlank()) {
            throw fail(field, value, "is blank" + fix(blankFix));
        }
        int bytes = value.getBytes(StandardCharsets.UTF_8).length;
        if (bytes > maxBytes) {
            throw fail(field, value, "is too long: " + bytes + " bytes of UTF-8, at most " + maxBytes + fix(longFix));
        }
        unicodeText(field, value);
    }

    /** No lone surrogate, no control character other than tab, line feed and carriage return. */
    private void unicodeText(String field, String value) {
        int lone = loneSurrogate(value);
        if (lone >= 0) {
            throw fail(field, value, String.format(Locale.ROOT, "contains the lone surrogate U+%04X at index %d:"
                    + " it is not Unicode text", (int) value.charAt(lone), lone)
                    + fix("cut text between code points, not inside a surrogate pair"));
        }
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (isControl(c) && c != '\t' && c != '\n' && c != '\r') {
                throw fail(field, value, String.format(Locale.ROOT, "contains the control character U+%04X at"
                        + " index %d: only tab, line feed and carriage return are allowed", (int) c, i)
                        + fix("remove it"));
            }
        }
    }

    /** The index of the first surrogate that is not half of a pair, or -1. */
    static int loneSurrogate(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                i++;
            } else if (Character.isSurrogate(c)) {
                return i;
            }
        }
        return -1;
    }

    static boolean isControl(int c) {
        return Character.isISOControl(c);
    }

    /** A value as it reads in JSON: numbers bare, text quoted with control characters escaped, cut after 80. */
    static String show(Object value) {
        if (value == null) {
            return "null";
        }
        if (value instanceof Double d) {
            return num(d);
        }
        if (value instanceof Number || value instanceof Boolean) {
            return value.toString();
        }
        return Quoted.of(value.toString());
    }

    /** {@code 0.9}, {@code 3} for a whole number, {@code NaN}, {@code inf}. */
    static String num(double v) {
        return Quoted.number(v, "NaN", "inf");
    }

    private static String fix(String fix) {
        return fix == null ? "" : " (fix: " + fix + ")";
    }
}
