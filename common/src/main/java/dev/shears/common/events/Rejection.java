package dev.shears.common.events;

import java.util.Arrays;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;

/**
 * Why some bytes are not an event this code accepts: what a consumer writes into the dead-letter
 * topic's headers ({@link DeadLetter#headers}) before going on with the next record.
 *
 * @param reason the machine-readable reason
 * @param field the offending field's path, such as {@code payload.targetSparsity} or
 *     {@code jobId}; empty when the problem is not one field's (malformed JSON, too large)
 * @param message the whole sentence for people: field, value, what is allowed and the fix
 */
public record Rejection(Reason reason, String field, String message) implements Decoded {

    public Rejection {
        Objects.requireNonNull(reason, "reason");
        Objects.requireNonNull(field, "field");
        Objects.requireNonNull(message, "message");
    }

    @Override
    public String toString() {
        return reason.code() + ": " + message;
    }

    /** The reasons, each with a stable lower-case {@link #code()} for headers, logs and metric tags. */
    public enum Reason {
        /** Over {@link EventCodec#MAX_BYTES}; found before parsing. */
        TOO_LARGE,
        /** Not UTF-8 JSON holding one object (bad syntax, duplicate keys, trailing data, too deep, empty, null). */
        MALFORMED,
        /** A required envelope or payload field is absent or null. */
        MISSING_FIELD,
        /** {@code type} names no event type this code knows. */
        UNKNOWN_TYPE,
        /** {@code version} is newer than {@link Event#VERSION}, or older than any migration reaches. */
        UNSUPPORTED_VERSION,
        /** {@code payload} is not an object, or holds the fields of another type (or none of its own). */
        WRONG_PAYLOAD,
        /** A field has the wrong JSON type or a value out of range, or {@code seq} disagrees with the payload. */
        INVALID_FIELD,
        /** {@code jobId} is not {@code [a-z0-9][a-z0-9._-]{0,63}} (path separators, control characters, ...). */
        BAD_JOB_ID,
        /** {@code seq} is below 0. */
        NEGATIVE_SEQ,
        /** The codec failed on input it should have judged: a defect of this code, worth replaying once fixed. */
        UNEXPECTED;

        /** {@code too_large}, {@code malformed}, {@code missing_field}, ... */
        public String code() {
            return name().toLowerCase(Locale.ROOT);
        }

        /** The reason with this {@link #code()}, as read back from a dead-letter header. */
        public static Optional<Reason> fromCode(String code) {
            return Arrays.stream(values()).filter(r -> r.code().equals(code)).findFirst();
        }
    }
}
