package dev.shears.common.events;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.shears.common.events.Rejection.Reason;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/**
 * Seeded garbage, from random bytes to valid events with one field changed: decoding never throws,
 * and gives either a valid event (that re-encodes to itself) or a rejection for a known reason,
 * never {@link Reason#UNEXPECTED}.
 */
class GarbageTest {

    private static final int CASES = 2_000;

    private final EventCodec codec = new EventCodec();
    private final ObjectMapper json = new ObjectMapper();
    private final List<byte[]> valid = EventExamples.all().stream().map(codec::encode).toList();

    @Test
    void randomBytesAreRejected() {
        Random random = new Random(20261123);

        Map<Reason, Integer> reasons = judge(() -> {
            byte[] bytes = new byte[random.nextInt(300)];
            random.nextBytes(bytes);
            return bytes;
        });

        assertThat(reasons).containsOnlyKeys(Reason.MALFORMED);
    }

    @Test
    void randomJsonTokensAreJudged() {
        Random random = new Random(7);
        String[] tokens = {"{", "}", "[", "]", ":", ",", "\"type\"", "\"payload\"", "\"seq\"", "\"PruneStep\"", "0",
                "-1", "1e999", "0.5", "true", "null", "\"\"", "\"\\u0000\"", " ", "\"version\"", "1"};

        Map<Reason, Integer> reasons = judge(() -> {
            StringBuilder sb = new StringBuilder();
            for (int i = random.nextInt(40); i > 0; i--) {
                sb.append(tokens[random.nextInt(tokens.length)]);
            }
            return sb.toString().getBytes(StandardCharsets.UTF_8);
        });

        assertThat(reasons).containsKey(Reason.MALFORMED).doesNotContainKey(Reason.UNEXPECTED);
    }

    @Test
    void validEventsWithBytesFlippedCutOrInsertedAreJudged() {
        Random random = new Random(42);

        Map<Reason, Integer> reasons = judge(() -> {
            byte[] original = valid.get(random.nextInt(valid.size()));
            byte[] bytes = original.clone();
            switch (random.nextInt(4)) {
                case 0 -> {
                    for (int i = 1 + random.nextInt(3); i > 0; i--) {
                        bytes[random.nextInt(bytes.length)] = (byte) random.nextInt(256);
                    }
                }
                case 1 -> bytes = java.util.Arrays.copyOf(bytes, random.nextInt(bytes.length));
                case 2 -> {
                    int at = random.nextInt(bytes.length);
                    byte[] longer = new byte[bytes.length + 1];
                    System.arraycopy(bytes, 0, longer, 0, at);
                    longer[at] = (byte) "{}[]\",:0-.e\\ax".charAt(random.nextInt(14));
                    System.arraycopy(bytes, at, longer, at + 1, bytes.length - at);
                    bytes = longer;
                }
                default -> {
                    int i = random.nextInt(bytes.length);
                    if (bytes[i] >= '0' && bytes[i] <= '9') {
                        bytes[i] = (byte) ('0' + random.nextInt(10));
                    } else {
                        bytes[i] = '9';
                    }
                }
            }
            return bytes;
        });

        assertThat(reasons).containsKeys(Reason.MALFORMED).doesNotContainKey(Reason.UNEXPECTED);
        assertThat(reasons.get(null)).as("some mutations leave a valid event").isPositive();
    }

    @Test
    void validEventsWithOneFieldReplacedRemovedOrAddedAreJudged() {
        Random random = new Random(1123);
        JsonNodeFactory nodes = JsonNodeFactory.instance;
        List<Supplier<JsonNode>> values = List.of(
                nodes::nullNode, () -> nodes.numberNode(-1), () -> nodes.numberNode(0), () -> nodes.numberNode(1),
                () -> nodes.numberNode(0.999), () -> nodes.numberNode(1.5), () -> nodes.numberNode(Double.MAX_VALUE),
                () -> nodes.numberNode(Long.MIN_VALUE), () -> nodes.numberNode(new BigInteger("99999999999999999999")),
                () -> nodes.textNode(""), () -> nodes.textNode("x"), () -> nodes.textNode("../../etc"),
                () -> nodes.textNode("a\u0000b"), () -> nodes.textNode("\ud83d\ude00"),
                () -> nodes.textNode("9".repeat(70)),
                () -> nodes.booleanNode(true), nodes::arrayNode, nodes::objectNode,
                () -> nodes.textNode("2026-11-23T12:00:00Z"), () -> nodes.textNode("StepCompleted"));

        Map<Reason, Integer> reasons = judge(() -> {
            ObjectNode root = tree(valid.get(random.nextInt(valid.size())));
            ObjectNode target = random.nextBoolean() ? root : (ObjectNode) root.get("payload");
            List<String> fields = new ArrayList<>();
            target.fieldNames().forEachRemaining(fields::add);
            String field = fields.get(random.nextInt(fields.size()));
            switch (random.nextInt(4)) {
                case 0 -> target.remove(field);
                case 1 -> target.put("extra" + random.nextInt(3), random.nextInt());
                default -> target.set(field, values.get(random.nextInt(values.size())).get());
            }
            return bytes(root);
        });

        assertThat(reasons).doesNotContainKey(Reason.UNEXPECTED).doesNotContainKey(Reason.TOO_LARGE)
                .containsKeys(Reason.MISSING_FIELD, Reason.INVALID_FIELD, Reason.BAD_JOB_ID, Reason.NEGATIVE_SEQ,
                        Reason.UNKNOWN_TYPE, Reason.UNSUPPORTED_VERSION, Reason.WRONG_PAYLOAD);
        assertThat(reasons.get(null)).as("added fields and some replacements leave a valid event").isPositive();
    }

    /**
     * Decodes {@link #CASES} inputs and counts the outcomes by reason ({@code null} for a valid
     * event), failing on any exception and on an accepted event that does not survive the codec.
     */
    private Map<Reason, Integer> judge(Supplier<byte[]> inputs) {
        Map<Reason, Integer> counts = new java.util.HashMap<>();
        for (int i = 0; i < CASES; i++) {
            byte[] bytes = inputs.get();
            Decoded decoded = codec.decode(bytes);
            assertThat(decoded).as("case %d", i).isNotNull();
            if (decoded instanceof Decoded.Accepted a) {
                assertThat(codec.decode(codec.encode(a.event()))).as("case %d re-encoded", i).isEqualTo(a);
                counts.merge(null, 1, Integer::sum);
            } else {
                Rejection r = (Rejection) decoded;
                assertThat(r.reason()).as("case %d: %s", i, r).isNotEqualTo(Reason.UNEXPECTED);
                assertThat(r.message()).as("case %d", i).isNotBlank();
                assertThat(r.message().chars()).as("case %d: %s", i, r).noneMatch(Character::isISOControl);
                counts.merge(r.reason(), 1, Integer::sum);
            }
        }
        return counts;
    }

    private ObjectNode tree(byte[] bytes) {
        try {
            return (ObjectNode) json.readTree(bytes);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private byte[] bytes(JsonNode node) {
        try {
            return json.writeValueAsBytes(node);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
