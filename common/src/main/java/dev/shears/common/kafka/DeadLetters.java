package dev.shears.common.kafka;

import dev.shears.common.events.DeadLetter;
import dev.shears.common.events.EventCodec;
import dev.shears.common.events.Rejection;
import dev.shears.common.events.Topics;
import dev.shears.common.text.Utf8;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * The dead letters of both services: the record sent to {@code <topic>.DLT} for one that could not be decoded, with
 * the original key and value and the {@link DeadLetter} headers (see {@code common/EVENTS.md}).
 *
 * <p>A dead letter always fits the producer: a record read from a topic may be just under the size limit, and its copy
 * with the headers over it, which the producer would refuse forever ({@code RecordTooLargeException}) while the
 * consumer, which commits only once the letter is written, stalls its partition. When the whole copy would exceed
 * {@link #maxRecordBytes()}, the value is cut to its first bytes that fit and the headers {@link #VALUE_SHA256} and
 * {@link #VALUE_BYTES} describe the original; a key too large to fit with an empty value is cut the same way
 * ({@link #KEY_SHA256}, {@link #KEY_BYTES}). {@link DeadLetter#DETAIL} is cut to {@link #MAX_DETAIL_BYTES}.
 *
 * <p>Immutable and thread-safe.
 */
public final class DeadLetters {
    /** The SHA-256 of the original value, lower-case hex; present only when the value was cut. */
    public static final String VALUE_SHA256 = "shears.dlt.value.sha256";
    /** The original value's size in bytes, decimal; present only when the value was cut. */
    public static final String VALUE_BYTES = "shears.dlt.value.bytes";
    /** The SHA-256 of the original key's UTF-8 bytes; present only when the key was cut. */
    public static final String KEY_SHA256 = "shears.dlt.key.sha256";
    /** The original key's size in UTF-8 bytes; present only when the key was cut. */
    public static final String KEY_BYTES = "shears.dlt.key.bytes";
    /** The most UTF-8 bytes of {@link DeadLetter#DETAIL} a letter carries. */
    public static final int MAX_DETAIL_BYTES = 8192;

    /** A record batch's header (61 bytes) and a record's fixed fields (at most 21 bytes), over-estimated. */
    private static final int OVERHEAD = 61 + 21;
    /** The most bytes a varint length takes. */
    private static final int VARINT = 5;
    /** The smallest limit that leaves room for the headers at their largest. */
    static final int MIN_RECORD_BYTES = 16_384;

    private final int maxRecordBytes;

    /**
     * Dead letters of at most {@code maxRecordBytes} each, as Kafka counts a record alone in its batch.
     *
     * @throws IllegalArgumentException when {@code maxRecordBytes} is below 16,384: the headers alone may not fit
     */
    public DeadLetters(int maxRecordBytes) {
        if (maxRecordBytes < MIN_RECORD_BYTES) {
            throw new IllegalArgumentException("max record bytes " + maxRecordBytes + " is below " + MIN_RECORD_BYTES
                    + ": the headers of a dead letter alone may take that much (fix: the producer's max.request.size,"
                    + " e.g. 1048576)");
        }
        this.maxRecordBytes = maxRecordBytes;
    }

    /**
     * Dead letters that fit a producer with these settings and a broker with Kafka's default limits: at most the
     * producer's {@code max.request.size} (Kafka's default 1 MiB when unset), and at most {@link EventCodec#MAX_BYTES},
     * since no larger value is an event anyway and the broker's default {@code message.max.bytes} is barely more.
     *
     * @throws IllegalArgumentException when {@code max.request.size} is not a whole number
     */
    public static DeadLetters forProducer(Map<?, ?> producerSettings) {
        Object configured = producerSettings.get(ProducerConfig.MAX_REQUEST_SIZE_CONFIG);
        int maxRequest;
        try {
            maxRequest = configured == null ? EventCodec.MAX_BYTES : Integer.parseInt(configured.toString().trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("max.request.size '" + configured + "' is not a whole number (fix: a"
                    + " size in bytes, e.g. 1048576)", e);
        }
        return new DeadLetters(Math.min(maxRequest, EventCodec.MAX_BYTES));
    }

    /** The most bytes a letter takes, batch overhead included. */
    public int maxRecordBytes() {
        return maxRecordBytes;
    }

    /**
     * The dead letter of {@code record}, refused for {@code rejection}: to {@link Topics#dlt(String)} of its topic,
     * with its key and value (cut as the class comment says when the whole would not fit) and the headers.
     */
    public ProducerRecord<String, byte[]> of(ConsumerRecord<String, byte[]> record, Rejection rejection) {
        Objects.requireNonNull(record, "record");
        List<Header> headers = new ArrayList<>();
        DeadLetter.headers(rejection, record.topic(), record.partition(), record.offset())
                .forEach((name, text) -> headers
                        .add(new Header(name, name.equals(DeadLetter.DETAIL) ? Utf8.cut(text, MAX_DETAIL_BYTES)
                                : text)));
        String key = record.key();
        byte[] keyBytes = key == null ? null : key.getBytes(StandardCharsets.UTF_8);
        byte[] value = record.value();
        if (upperBound(keyBytes, value, headers) > maxRecordBytes) {
            byte[] original = value == null ? new byte[0] : value;
            headers.add(new Header(VALUE_SHA256, sha256(original)));
            headers.add(new Header(VALUE_BYTES, Integer.toString(original.length)));
            int room = maxRecordBytes - upperBound(keyBytes, new byte[0], headers);
            if (room < 0 && keyBytes != null) {
                headers.add(new Header(KEY_SHA256, sha256(keyBytes)));
                headers.add(new Header(KEY_BYTES, Integer.toString(keyBytes.length)));
                key = Utf8.cut(key, Math.max(0, maxRecordBytes - upperBound(new byte[0], new byte[0], headers)));
                room = 0;
            }
            value = Arrays.copyOf(original, Math.max(0, Math.min(room, original.length)));
        }
        ProducerRecord<String, byte[]> letter = new ProducerRecord<>(Topics.dlt(record.topic()), key, value);
        headers.forEach(h -> letter.headers().add(h.name(), h.value()));
        return letter;
    }

    /** A header's name and its text, UTF-8 encoded. */
    record Header(String name, byte[] value) {
        Header(String name, String text) {
            this(name, text.getBytes(StandardCharsets.UTF_8));
        }
    }

    /**
     * An upper bound of the bytes Kafka counts for a record alone in its batch (what the producer checks against
     * {@code max.request.size} and the broker against {@code message.max.bytes}).
     */
    static int upperBound(byte[] key, byte[] value, List<Header> headers) {
        long size = OVERHEAD + VARINT + (key == null ? 0 : key.length) + VARINT + (value == null ? 0 : value.length)
                + VARINT;
        for (Header h : headers) {
            size += VARINT + h.name().getBytes(StandardCharsets.UTF_8).length + VARINT + h.value().length;
        }
        return (int) Math.min(Integer.MAX_VALUE, size);
    }

    private static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("this JVM has no SHA-256", e);
        }
    }
}
