package dev.shears.common.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.shears.common.events.DeadLetter;
import dev.shears.common.events.EventCodec;
import dev.shears.common.events.Rejection;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.record.internal.AbstractRecords;
import org.apache.kafka.common.record.internal.CompressionType;
import org.apache.kafka.common.record.internal.RecordBatch;
import org.junit.jupiter.api.Test;

class DeadLettersTest {
    static final int LIMIT = 1 << 20;
    final DeadLetters letters = new DeadLetters(LIMIT);

    static ConsumerRecord<String, byte[]> read(String key, byte[] value) {
        return new ConsumerRecord<>("shears.commands", 2, 41L, key, value);
    }

    static Rejection rejection(byte[] value) {
        return (Rejection) new EventCodec().decode(value);
    }

    static String header(ProducerRecord<?, ?> r, String name) {
        Header h = r.headers().lastHeader(name);
        return h == null ? null : new String(h.value(), StandardCharsets.UTF_8);
    }

    /** What Kafka's producer counts against max.request.size, and its broker against message.max.bytes. */
    static int kafkaSize(ProducerRecord<String, byte[]> r) {
        byte[] key = r.key() == null ? null : r.key().getBytes(StandardCharsets.UTF_8);
        return AbstractRecords.estimateSizeInBytesUpperBound(RecordBatch.CURRENT_MAGIC_VALUE, CompressionType.NONE, key,
                r.value(), r.headers().toArray());
    }

    static String sha256(byte[] bytes) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    }

    @Test
    void aLetterThatFitsCarriesTheKeyTheValueAndWhyAndWhereFrom() {
        byte[] garbage = "{\"type\":\"PruneStep\",".getBytes(StandardCharsets.UTF_8);

        ProducerRecord<String, byte[]> letter = letters.of(read("job-a", garbage), rejection(garbage));

        assertThat(letter.topic()).isEqualTo("shears.commands.DLT");
        assertThat(letter.key()).isEqualTo("job-a");
        assertThat(letter.value()).isEqualTo(garbage);
        assertThat(header(letter, DeadLetter.REASON)).isEqualTo("malformed");
        assertThat(header(letter, DeadLetter.SOURCE_TOPIC)).isEqualTo("shears.commands");
        assertThat(header(letter, DeadLetter.SOURCE_PARTITION)).isEqualTo("2");
        assertThat(header(letter, DeadLetter.SOURCE_OFFSET)).isEqualTo("41");
        assertThat(header(letter, DeadLetters.VALUE_SHA256)).isNull();
        assertThat(header(letter, DeadLetters.VALUE_BYTES)).isNull();
    }

    @Test
    void aValueJustUnderTheLimitIsCutToFitWithItsDigestAndSizeInHeaders() throws Exception {
        byte[] value = new byte[LIMIT - 200];
        Arrays.fill(value, (byte) 'x');

        ProducerRecord<String, byte[]> letter = letters.of(read("job-a", value), rejection(value));

        assertThat(kafkaSize(letter)).isLessThanOrEqualTo(LIMIT);
        assertThat(letter.value().length).isGreaterThan(LIMIT - 2000).isLessThan(value.length);
        assertThat(letter.value()).isEqualTo(Arrays.copyOf(value, letter.value().length));
        assertThat(letter.key()).isEqualTo("job-a");
        assertThat(header(letter, DeadLetters.VALUE_SHA256)).isEqualTo(sha256(value));
        assertThat(header(letter, DeadLetters.VALUE_BYTES)).isEqualTo(Integer.toString(value.length));
        assertThat(header(letter, DeadLetter.REASON)).isEqualTo("malformed");
    }

    @Test
    void aKeyTooLargeForAnyValueIsCutTooAtACharacterBoundary() throws Exception {
        String key = "é".repeat(LIMIT / 2);
        byte[] value = "{}".getBytes(StandardCharsets.UTF_8);

        ProducerRecord<String, byte[]> letter = letters.of(read(key, value), rejection(value));

        assertThat(kafkaSize(letter)).isLessThanOrEqualTo(LIMIT);
        assertThat(letter.value()).isEmpty();
        assertThat(key).startsWith(letter.key());
        assertThat(letter.key().length()).isGreaterThan(LIMIT / 2 - 5000);
        assertThat(header(letter, DeadLetters.KEY_SHA256)).isEqualTo(sha256(key.getBytes(StandardCharsets.UTF_8)));
        assertThat(header(letter, DeadLetters.KEY_BYTES)).isEqualTo(Integer.toString(LIMIT));
        assertThat(header(letter, DeadLetters.VALUE_BYTES)).isEqualTo("2");
    }

    @Test
    void aLongDetailIsCutToItsLimitWithoutSplittingACharacter() {
        String detail = "ü".repeat(DeadLetters.MAX_DETAIL_BYTES);
        ProducerRecord<String, byte[]> letter = letters.of(read("job-a", new byte[1]),
                new Rejection(Rejection.Reason.UNEXPECTED, "", detail));

        String carried = header(letter, DeadLetter.DETAIL);
        assertThat(carried.getBytes(StandardCharsets.UTF_8)).hasSize(DeadLetters.MAX_DETAIL_BYTES);
        assertThat(detail).startsWith(carried);
    }

    @Test
    void fitsTheProducersMaxRequestSizeAndNeverExceedsTheEventLimit() {
        assertThat(DeadLetters.forProducer(Map.of()).maxRecordBytes()).isEqualTo(EventCodec.MAX_BYTES);
        assertThat(DeadLetters.forProducer(Map.of("max.request.size", "200000")).maxRecordBytes()).isEqualTo(200_000);
        assertThat(DeadLetters.forProducer(Map.of("max.request.size", 50_000_000)).maxRecordBytes())
                .isEqualTo(EventCodec.MAX_BYTES);
        assertThatThrownBy(() -> DeadLetters.forProducer(Map.of("max.request.size", "1 MiB")))
                .hasMessageContaining("'1 MiB'").hasMessageContaining("fix:");
        assertThatThrownBy(() -> new DeadLetters(1000)).hasMessageContaining("1000").hasMessageContaining("fix:");
    }
}
