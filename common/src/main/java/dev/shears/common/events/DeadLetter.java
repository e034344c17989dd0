package dev.shears.common.events;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * The headers of a record sent to a dead-letter topic ({@link Topics#dlt}). The dead-lettered
 * record keeps the original key and value; the headers say why and where it came from, so that it
 * can be found, fixed and replayed. Header values are text, UTF-8 encoded into Kafka's bytes.
 */
public final class DeadLetter {

    /** The {@link Rejection.Reason#code()}, such as {@code bad_job_id}. */
    public static final String REASON = "shears.dlt.reason";
    /** The rejection's message: field, value, what is allowed, fix. */
    public static final String DETAIL = "shears.dlt.detail";
    /** The offending field's path, such as {@code payload.targetSparsity}; empty when none. */
    public static final String FIELD = "shears.dlt.field";
    /** The topic the record was read from. */
    public static final String SOURCE_TOPIC = "shears.dlt.source.topic";
    /** Its partition, in decimal. */
    public static final String SOURCE_PARTITION = "shears.dlt.source.partition";
    /** Its offset, in decimal. */
    public static final String SOURCE_OFFSET = "shears.dlt.source.offset";

    private DeadLetter() {}

    /**
     * The headers for a record of {@code topic} at {@code partition} and {@code offset} that
     * {@code rejection} refused, in the order of the constants above.
     *
     * @throws IllegalArgumentException when {@code partition} or {@code offset} is negative
     */
    public static Map<String, String> headers(Rejection rejection, String topic, int partition, long offset) {
        Objects.requireNonNull(rejection, "rejection");
        Objects.requireNonNull(topic, "topic");
        if (partition < 0 || offset < 0) {
            throw new IllegalArgumentException("partition " + partition + " and offset " + offset + " must be at"
                    + " least 0: they are the coordinates of the record read");
        }
        Map<String, String> headers = new LinkedHashMap<>();
        headers.put(REASON, rejection.reason().code());
        headers.put(DETAIL, rejection.message());
        headers.put(FIELD, rejection.field());
        headers.put(SOURCE_TOPIC, topic);
        headers.put(SOURCE_PARTITION, Integer.toString(partition));
        headers.put(SOURCE_OFFSET, Long.toString(offset));
        return Collections.unmodifiableMap(headers);
    }
}
