package dev.shears.common.text;

/** Text measured as Kafka and the event limits measure it: in bytes of UTF-8. */
public final class Utf8 {

    private Utf8() {}

    /**
     * The longest prefix of {@code text} of at most {@code maxBytes} bytes of UTF-8, never splitting a character (a
     * surrogate pair stays whole); {@code text} itself when it fits.
     *
     * @throws IllegalArgumentException when {@code maxBytes} is negative
     */
    public static String cut(String text, int maxBytes) {
        if (maxBytes < 0) {
            throw new IllegalArgumentException("maxBytes " + maxBytes
                    + " is negative (fix: a size in bytes, 0 or more)");
        }
        if (text.length() * 3L <= maxBytes) {
            return text; // a char is at most 3 bytes of UTF-8 (a pair of them 4)
        }
        int bytes = 0;
        for (int i = 0; i < text.length();) {
            int cp = text.codePointAt(i);
            int n = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
            if (bytes + n > maxBytes) {
                return text.substring(0, i);
            }
            bytes += n;
            i += Character.charCount(cp);
        }
        return text;
    }
}
