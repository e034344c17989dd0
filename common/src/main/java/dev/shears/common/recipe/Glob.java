package dev.shears.common.recipe;

import java.util.regex.Pattern;

/** Shell-like globs over parameter names: {@code *} matches any run of characters, {@code ?} one. */
final class Glob {

    static final Pattern ALLOWED = Pattern.compile("[A-Za-z0-9_.*?-]{1,256}");
    static final String RULE = "a glob over parameter names such as conv1.weight: letters, digits, '_', '.', '-',"
            + " '*' for any characters and '?' for one, at most 256 characters";

    private Glob() {}

    /** Whether {@code glob} matches the whole of {@code name}. */
    static boolean matches(String glob, String name) {
        int g = 0;
        int n = 0;
        int star = -1;
        int resume = 0;
        while (n < name.length()) {
            if (g < glob.length() && (glob.charAt(g) == '?' || glob.charAt(g) == name.charAt(n))) {
                g++;
                n++;
            } else if (g < glob.length() && glob.charAt(g) == '*') {
                star = g++;
                resume = n;
            } else if (star >= 0) {
                g = star + 1;
                n = ++resume;
            } else {
                return false;
            }
        }
        while (g < glob.length() && glob.charAt(g) == '*') {
            g++;
        }
        return g == glob.length();
    }
}
