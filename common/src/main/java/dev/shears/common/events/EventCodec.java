package dev.shears.common.events;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.shears.common.events.Rejection.Reason;
import dev.shears.common.text.Quoted;
import dev.shears.common.text.Utf8;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.Locale;
import java.util.function.UnaryOperator;

/**
 * Events to and from JSON (UTF-8). Thread-safe; one instance serves a whole process.
 *
 * <p>{@link #decode} never throws: it returns the event, or a {@link Rejection} with a
 * {@link Rejection.Reason} and a message for the dead-letter topic. It is strict where a value
 * could be misread (no coercion of {@code "3"} to a number, duplicate keys refused, UTF-8 only)
 * and lenient where a newer producer may say more: fields it does not know, in the envelope or in
 * a payload of a known type, are ignored. {@link #encode} writes the fields in a fixed order,
 * envelope first, so the same event always gives the same bytes.
 */
public final class EventCodec {

    /** The largest event read or written: 1 MiB, under Kafka's default {@code message.max.bytes}. */
    public static final int MAX_BYTES = 1 << 20;

    /**
     * Upgrades of older versions: entry {@code i} turns the JSON of version {@code OLDEST + i}
     * into that of the next version, so that an older event is read as the current one. 2 to 3:
     * a {@code ModelPublished} gains its cost fields, each 0 (not known).
     *
     * <p>3 to 4: {@code StepCompleted} gained {@code testAccuracy}, and its {@code accuracy} became the
     * validation split's. An earlier report measured {@code accuracy} on the test split, and its budget
     * was judged on it: it is read with that figure as both, so that a job in flight keeps being judged
     * on what its earlier steps were. {@code JobResumed} gained {@code resumedIteration} and
     * {@code iterationsLost}: an earlier worker resumed no step mid-way, read as 0 and 0.
     *
     * <p>4 to 5: a {@code ModelPublished} gains its fused latencies, each 0 (not measured).
     */
    private static final List<UnaryOperator<ObjectNode>> UPGRADES = List.of(EventCodec::version1To2,
            EventCodec::costNotKnown, EventCodec::version3To4, EventCodec::fusedNotMeasured);
    /** The oldest version {@link #decode} reads. */
    static final int OLDEST = Event.VERSION - UPGRADES.size();

    private static final List<String> ENVELOPE = List.of("type", "version", "eventId", "jobId", "seq", "time",
            "payload");

    private final ObjectMapper mapper = new ObjectMapper(JsonFactory.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(16).maxNumberLength(100).build())
            .build())
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    /**
     * The event as compact JSON in UTF-8: {@code type}, {@code version}, {@code eventId},
     * {@code jobId}, {@code seq}, {@code time} (ISO-8601, UTC), {@code payload}.
     *
     * @throws IllegalArgumentException when the JSON would exceed {@link #MAX_BYTES}, which no
     *     consumer would read (a {@link JobStarted} with a huge recipe)
     */
    public byte[] encode(Event event) {
        ObjectNode root = mapper.createObjectNode();
        root.put("type", event.type());
        root.put("version", event.version());
        root.put("eventId", event.eventId());
        root.put("jobId", event.jobId());
        root.put("seq", event.seq());
        root.put("time", event.time().toString());
        root.set("payload", PayloadTypes.write(event.payload(), mapper.getNodeFactory()));
        byte[] bytes;
        try {
            bytes = mapper.writeValueAsBytes(root);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write a " + event.type() + " event as JSON", e);
        }
        if (bytes.length > MAX_BYTES) {
            throw new IllegalArgumentException(String.format(Locale.ROOT, "the %s event of job %s is %d bytes as"
                    + " JSON, over the %d bytes (1 MiB) that consumers read (fix: shorten its text fields;"
                    + " a recipe is a few dozen lines)", event.type(), event.jobId(), bytes.length, MAX_BYTES));
        }
        return bytes;
    }

    /**
     * The event in {@code bytes}, or why they are not one. Never throws, whatever the bytes
     * (null included): a defect of this code shows as {@link Rejection.Reason#UNEXPECTED}.
     */
    public Decoded decode(byte[] bytes) {
        try {
            return new Decoded.Accepted(read(bytes));
        } catch (Refusal r) {
            return r.rejection;
        } catch (RuntimeException e) {
            return new Rejection(Reason.UNEXPECTED, "", "the event could not be judged: " + e
                    + " (fix: this is a defect of the event codec; report it with the dead-lettered record)");
        }
    }

    /**
     * Version 1 to 2. {@code JobFailed} names the command it answers ({@code command}, {@code attempt}),
     * {@code JobResumed} the key it restored and the keys it lost ({@code restoredAttempt}, {@code lost}), and
     * {@code Finalize} the attempt of the checkpoint it publishes ({@code attempt}): a version-1 event did not say,
     * which version 2 writes as {@code ""}, {@code 0} and no lost keys (any fields of those names it had were not part
     * of its version, and go). Free text ({@code reason}, {@code detail}) was limited to 16,384 characters, now to as
     * many bytes of UTF-8: a longer one is cut, between characters.
     */
    static ObjectNode version1To2(ObjectNode root) {
        JsonNode type = root.get("type");
        if (root.get("payload") instanceof ObjectNode payload && type != null && type.isTextual()) {
            switch (type.textValue()) {
                case "JobFailed" -> payload.put("command", "").put("attempt", 0);
                case "JobResumed" -> payload.put("restoredAttempt", 0).putArray("lost");
                case "Finalize" -> payload.put("attempt", 0);
                default -> {
                }
            }
            for (String text : List.of("reason", "detail")) {
                JsonNode node = payload.get(text);
                if (node != null && node.isTextual()) {
                    payload.put(text, Utf8.cut(node.textValue(), Limits.TEXT));
                }
            }
        }
        root.put("version", 2);
        return root;
    }

    private Event read(byte[] bytes) throws Refusal {
        ObjectNode root = parse(bytes);
        // the version first: a newer version may lack or rename any other field
        missing(root, "version");
        int version = (int) whole(root, "version", Integer.MIN_VALUE, Integer.MAX_VALUE, Reason.UNSUPPORTED_VERSION);
        if (version > Event.VERSION || version < OLDEST) {
            throw new Refusal(Reason.UNSUPPORTED_VERSION, "version", "version " + version + " is "
                    + (version > Event.VERSION ? "newer than" : "older than") + " the versions this code reads, "
                    + OLDEST + " to " + Event.VERSION + " (fix: upgrade this consumer, then replay the event from"
                    + " the dead-letter topic; consumers are upgraded before producers)");
        }
        for (int v = version; v < Event.VERSION; v++) {
            root = UPGRADES.get(v - OLDEST).apply(root);
        }
        for (String field : ENVELOPE) {
            missing(root, field);
        }
        String type = text(root, "type", Reason.INVALID_FIELD);
        PayloadTypes.Shape shape = PayloadTypes.byName(type).orElseThrow(() -> unknownType(type));
        String jobId = text(root, "jobId", Reason.BAD_JOB_ID);
        envelope(Reason.BAD_JOB_ID, c -> Event.checkJobId(c, jobId));
        long seq = whole(root, "seq", Long.MIN_VALUE, Long.MAX_VALUE, Reason.INVALID_FIELD);
        envelope(Reason.NEGATIVE_SEQ, c -> Event.checkSeq(c, seq));
        String eventId = text(root, "eventId", Reason.INVALID_FIELD);
        envelope(Reason.INVALID_FIELD, c -> c.uuid("eventId", eventId));
        Instant time = instant(root);
        Payload payload = PayloadTypes.read(shape, root.get("payload"));
        try {
            return new Event(type, Event.VERSION, eventId, jobId, seq, time, payload);
        } catch (FieldException e) {
            throw new Refusal(Reason.INVALID_FIELD, e.field(), e.field() + " " + e.problem());
        }
    }

    /** Version 2 to 3: a {@code ModelPublished} payload without cost fields gets them as 0. */
    private static ObjectNode costNotKnown(ObjectNode root) {
        return withZeros(root, ModelPublished.COST_FIELDS, 3);
    }

    private static ObjectNode fusedNotMeasured(ObjectNode root) {
        return withZeros(root, ModelPublished.FUSED_FIELDS, 5);
    }

    /** A {@code ModelPublished}'s payload gets each of {@code fields} it lacks as 0; the event becomes {@code to}. */
    private static ObjectNode withZeros(ObjectNode root, List<String> fields, int to) {
        if (root.path("type").asText().equals("ModelPublished") && root.get("payload") instanceof ObjectNode payload) {
            for (String field : fields) {
                if (!payload.has(field)) {
                    payload.put(field, 0);
                }
            }
        }
        root.put("version", to);
        return root;
    }

    private ObjectNode parse(byte[] bytes) throws Refusal {
        if (bytes == null) {
            throw new Refusal(Reason.MALFORMED, "", "the record has no value (null, a tombstone), not an event"
                    + " (fix: send an event; compaction tombstones belong on the state topic only)");
        }
        if (bytes.length > MAX_BYTES) {
            throw new Refusal(Reason.TOO_LARGE, "", String.format(Locale.ROOT, "the event is %d bytes, over the"
                    + " %d bytes (1 MiB) this code reads (fix: a valid producer never writes one; find the one"
                    + " that did)", bytes.length, MAX_BYTES));
        }
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes))
                    .toString();
        } catch (CharacterCodingException e) {
            throw new Refusal(Reason.MALFORMED, "", "the event is not UTF-8 text (fix: events are JSON in UTF-8)");
        }
        JsonNode root;
        try {
            root = mapper.readTree(text);
        } catch (JsonProcessingException e) {
            throw new Refusal(Reason.MALFORMED, "", "the event is not valid JSON: " + clip(e.getOriginalMessage())
                    + (e.getLocation() == null ? "" : " at line " + e.getLocation().getLineNr() + ", column "
                            + e.getLocation().getColumnNr())
                    + " (fix: send what EventCodec.encode writes)");
        }
        if (root == null || root.isMissingNode()) {
            throw new Refusal(Reason.MALFORMED, "", "the event is empty (fix: send what EventCodec.encode writes)");
        }
        if (!root.isObject()) {
            throw new Refusal(Reason.MALFORMED, "", "the event is " + PayloadTypes.kind(root) + " "
                    + PayloadTypes.show(root) + ", not a JSON object (fix: send what EventCodec.encode writes)");
        }
        return (ObjectNode) root;
    }

    private static void missing(ObjectNode root, String field) throws Refusal {
        if (PayloadTypes.absent(root.get(field))) {
            throw new Refusal(Reason.MISSING_FIELD, field, field + " is missing (fix: every event has "
                    + String.join(", ", ENVELOPE) + ")");
        }
    }

    private static String text(ObjectNode root, String field, Reason reason) throws Refusal {
        JsonNode node = root.get(field);
        if (!node.isTextual()) {
            throw new Refusal(reason, field, field + " " + PayloadTypes.show(node) + " is " + PayloadTypes.kind(node)
                    + ", not a string (fix: write it in double quotes)");
        }
        return node.textValue();
    }

    /** A whole number in [lo, hi]; below {@code lo} or above {@code hi} is {@code outOfRange}. */
    private static long whole(ObjectNode root, String field, long lo, long hi, Reason outOfRange) throws Refusal {
        JsonNode node = root.get(field);
        if (!node.isIntegralNumber()) {
            throw new Refusal(Reason.INVALID_FIELD, field, field + " " + PayloadTypes.show(node) + " is "
                    + (node.isNumber() ? "not a whole number" : PayloadTypes.kind(node) + ", not a number")
                    + " (fix: write a JSON integer)");
        }
        if (!node.canConvertToLong()) {
            throw new Refusal(Reason.INVALID_FIELD, field, field + " " + PayloadTypes.show(node)
                    + " is too large for a 64-bit whole number (fix: write the right number)");
        }
        long value = node.longValue();
        if (value < lo || value > hi) {
            throw new Refusal(outOfRange, field, field + " " + value + " is out of range: must be in [" + lo + ", "
                    + hi + "]");
        }
        return value;
    }

    private static Instant instant(ObjectNode root) throws Refusal {
        String text = text(root, "time", Reason.INVALID_FIELD);
        try {
            return Instant.parse(text);
        } catch (DateTimeParseException e) {
            throw new Refusal(Reason.INVALID_FIELD, "time", "time " + Quoted.of(text) + " is not an ISO-8601"
                    + " instant (fix: UTC with a Z, e.g. 2026-11-23T12:00:00Z)");
        }
    }

    private static Refusal unknownType(String type) {
        List<String> known = PayloadTypes.all().stream().map(PayloadTypes.Shape::name).toList();
        String like = known.stream().filter(k -> k.equalsIgnoreCase(type)).findFirst()
                .map(k -> "; did you mean " + k + "?").orElse("");
        return new Refusal(Reason.UNKNOWN_TYPE, "type", "type " + Quoted.of(type) + " is not an event type this"
                + " code knows: " + String.join(", ", known) + like + " (fix: a newer producer's type needs this"
                + " consumer upgraded; then replay the event from the dead-letter topic)");
    }

    /**
     * Version 3 to 4: a {@code StepCompleted}'s test accuracy is its {@code accuracy}; a {@code JobResumed} resumed no
     * step mid-way ({@code resumedIteration} and {@code iterationsLost} 0).
     */
    private static ObjectNode version3To4(ObjectNode root) {
        String type = root.path("type").asText("");
        if (type.equals("StepCompleted") && root.get("payload") instanceof ObjectNode p
                && p.has("accuracy") && !p.has("testAccuracy")) {
            p.set("testAccuracy", p.get("accuracy"));
        }
        if (type.equals("JobResumed") && root.get("payload") instanceof ObjectNode p) {
            p.put("resumedIteration", 0).put("iterationsLost", 0);
        }
        root.put("version", 4);
        return root;
    }

    private interface EnvelopeCheck {
        void run(Check check);
    }

    /** Runs a check of {@link Event}'s and turns its failure into a refusal for {@code reason}. */
    private static void envelope(Reason reason, EnvelopeCheck check) throws Refusal {
        try {
            check.run(new Check("Event"));
        } catch (FieldException e) {
            throw new Refusal(reason, e.field(), e.field() + " " + e.problem());
        }
    }

    private static String clip(String s) {
        if (s == null) {
            return "(no detail)";
        }
        String line = s.replaceAll("\\[Source: [^;\\]]*; ", "[").replaceAll("[\\p{Cc}\\s]+", " ");
        return line.length() <= 200 ? line : line.substring(0, 200) + "...";
    }
}
