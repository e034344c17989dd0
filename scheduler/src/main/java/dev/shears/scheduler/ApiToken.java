package dev.shears.scheduler;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.regex.Pattern;

/**
 * The bearer token of the scheduler's HTTP API: when the scheduler has one, every request but {@code GET /health}
 * must carry {@code Authorization: Bearer <token>}, or is answered 401. 16 to 512 characters of
 * {@code [A-Za-z0-9._~+/=-]}, e.g. {@code openssl rand -hex 32}. Compared in constant time; never printed.
 */
public final class ApiToken {
    /** The environment variable the scheduler and its clients read when no token file is given. */
    public static final String ENV = "SHEARS_TOKEN";
    private static final Pattern VALID = Pattern.compile("[A-Za-z0-9._~+/=-]{16,512}");

    private final byte[] value;

    private ApiToken(String value) {
        this.value = value.getBytes(StandardCharsets.US_ASCII);
    }

    /** @throws IllegalArgumentException when {@code value} is not a valid token; the message does not repeat it */
    public static ApiToken of(String value) {
        if (value == null || !VALID.matcher(value).matches()) {
            throw new IllegalArgumentException("the API token is not valid: it must be 16 to 512 characters of"
                    + " [A-Za-z0-9._~+/=-], got " + (value == null ? "none" : value.length() + " characters")
                    + " (fix: generate one with openssl rand -hex 32)");
        }
        return new ApiToken(value);
    }

    /**
     * The token in {@code file}: its content without surrounding white space.
     *
     * @throws IllegalArgumentException when the file cannot be read or holds no valid token, naming the file
     */
    public static ApiToken read(Path file) {
        String text;
        try {
            if (Files.size(file) > 4096) {
                throw new IllegalArgumentException("token file " + file + " is over 4096 bytes (fix: the file holds"
                        + " the token alone, e.g. openssl rand -hex 32 > " + file + ")");
            }
            text = Files.readString(file, StandardCharsets.UTF_8).strip();
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read token file " + file + ": " + e + " (fix: give a readable"
                    + " file holding the token, e.g. openssl rand -hex 32 > " + file + ")", e);
        }
        try {
            return of(text);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("token file " + file + ": " + e.getMessage(), e);
        }
    }

    /** Whether an {@code Authorization} header's value carries this token. */
    public boolean admits(String authorization) {
        if (authorization == null || !authorization.regionMatches(true, 0, "Bearer ", 0, 7)) {
            return false;
        }
        byte[] given = authorization.substring(7).strip().getBytes(StandardCharsets.US_ASCII);
        return MessageDigest.isEqual(given, value);
    }

    /** The value of an {@code Authorization} header that carries this token. */
    public String header() {
        return "Bearer " + new String(value, StandardCharsets.US_ASCII);
    }

    @Override
    public String toString() {
        return "ApiToken[hidden]";
    }
}
