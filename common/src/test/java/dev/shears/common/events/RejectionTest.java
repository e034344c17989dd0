package dev.shears.common.events;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.shears.common.events.Rejection.Reason;
import dev.shears.common.text.Quoted;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** Every way decoding refuses bytes, each with its reason, field and a message that says what to fix. */
class RejectionTest {

    private final EventCodec codec = new EventCodec();
    private final ObjectMapper json = new ObjectMapper();

    // too_large

    @Test
    void inputOverOneMebibyteIsTooLargeBeforeAnyParsing() {
        byte[] bytes = new byte[EventCodec.MAX_BYTES + 1];
        Arrays.fill(bytes, (byte) '['); // would be "too deep" if it were parsed

        Rejection r = reject(bytes);

        assertThat(r.reason()).isEqualTo(Reason.TOO_LARGE);
        assertThat(r.field()).isEmpty();
        assertThat(r.message()).contains("1048577 bytes, over the 1048576 bytes (1 MiB)");
    }

    @Test
    void oneMebibyteExactlyIsRead() {
        String pad = " ".repeat(EventCodec.MAX_BYTES - codec.encode(EventExamples.of("Finalize")).length);
        byte[] bytes = (new String(codec.encode(EventExamples.of("Finalize")), StandardCharsets.UTF_8) + pad)
                .getBytes(StandardCharsets.UTF_8);

        assertThat(bytes).hasSize(EventCodec.MAX_BYTES);
        assertThat(codec.decode(bytes)).isInstanceOf(Decoded.Accepted.class);
    }

    // malformed

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
            "not JSON                  | PruneStep please",
            "cut short                 | '{\"type\":\"PruneStep\",\"version\":1'",
            "an array                  | '[1,2,3]'",
            "a string                  | '\"PruneStep\"'",
            "JSON null                 | null",
            "empty                     | ''",
            "blank                     | '   '",
            "trailing data             | '{\"type\":\"Finalize\"} {}'",
            "a duplicate key           | '{\"type\":\"Finalize\",\"type\":\"CancelJob\"}'",
            "NaN, which JSON lacks     | '{\"seq\":NaN}'",
            "a comment                 | '{/* hi */}'",
            "single quotes             | \"{'type':'Finalize'}\"",
    })
    void textThatIsNotOneJsonObjectIsMalformed(String what, String text) {
        Rejection r = reject(text.getBytes(StandardCharsets.UTF_8));

        assertThat(r.reason()).as(what).isEqualTo(Reason.MALFORMED);
        assertThat(r.message()).contains("(fix: send what EventCodec.encode writes)");
    }

    @Test
    void deepNestingIsMalformedNotAStackOverflow() {
        Rejection r = reject(("{\"a\":" + "[".repeat(100_000)).getBytes(StandardCharsets.UTF_8));

        assertThat(r.reason()).isEqualTo(Reason.MALFORMED);
        assertThat(r.message()).contains("nesting depth");
    }

    @Test
    void bytesThatAreNotUtf8AreMalformed() {
        byte[] latin1 = "{\"type\":\"CancelJob\",\"reason\":\"d\u00e9j\u00e0\"}".getBytes(StandardCharsets.ISO_8859_1);

        assertThat(reject(latin1).message()).isEqualTo("the event is not UTF-8 text (fix: events are JSON in UTF-8)");
        assertThat(reject(latin1).reason()).isEqualTo(Reason.MALFORMED);
    }

    @Test
    void utf16IsNotAcceptedEvenThoughJacksonCouldDetectIt() {
        byte[] utf16 = new String(codec.encode(EventExamples.of("Finalize")), StandardCharsets.UTF_8)
                .getBytes(StandardCharsets.UTF_16);

        assertThat(reject(utf16).reason()).isEqualTo(Reason.MALFORMED);
    }

    @Test
    void aTombstoneIsMalformed() {
        Rejection r = reject(null);

        assertThat(r.reason()).isEqualTo(Reason.MALFORMED);
        assertThat(r.message()).contains("no value (null, a tombstone)");
    }

    // missing_field

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"type", "version", "eventId", "jobId", "seq", "time", "payload"})
    void everyEnvelopeFieldIsRequired(String field) {
        Rejection r = reject(mutate("PruneStep", root -> root.remove(field)));

        assertThat(r.reason()).isEqualTo(Reason.MISSING_FIELD);
        assertThat(r.field()).isEqualTo(field);
        assertThat(r.message()).isEqualTo(field + " is missing (fix: every event has type, version, eventId, jobId,"
                + " seq, time, payload)");
    }

    @Test
    void aNullFieldIsMissing() {
        Rejection r = reject(mutate("PruneStep", root -> root.putNull("jobId")));

        assertThat(r.reason()).isEqualTo(Reason.MISSING_FIELD);
        assertThat(r.field()).isEqualTo("jobId");
    }

    @Test
    void aMissingPayloadFieldIsNamedWithTheOthersMissing() {
        Rejection r = reject(mutate("PruneStep", root -> payload(root).remove(java.util.List.of("attempt", "rewind"))));

        assertThat(r.reason()).isEqualTo(Reason.MISSING_FIELD);
        assertThat(r.field()).isEqualTo("payload.rewind");
        assertThat(r.message()).isEqualTo("PruneStep payload.rewind is missing (and attempt) (fix: a PruneStep payload"
                + " has step, targetSparsity, fineTuneIterations, rewind, attempt)");
    }

    @Test
    void aMissingNumberIsNotReadAsZero() {
        Rejection r = reject(mutate("StepCompleted", root -> payload(root).remove("loss")));

        assertThat(r.reason()).isEqualTo(Reason.MISSING_FIELD);
        assertThat(r.field()).isEqualTo("payload.loss");
    }

    // unknown_type

    @Test
    void aTypeThisCodeDoesNotKnowIsUnknown() {
        Rejection r = reject(mutate("PruneStep", root -> root.put("type", "QuantizeStep")));

        assertThat(r.reason()).isEqualTo(Reason.UNKNOWN_TYPE);
        assertThat(r.field()).isEqualTo("type");
        assertThat(r.message()).startsWith("type \"QuantizeStep\" is not an event type this code knows: JobStarted,"
                + " PruneStep, Finalize, CancelJob, RollBack, StepCompleted, JobProgress, JobFailed, JobResumed,"
                + " ModelPublished, SchedulerDecision (fix: ");
    }

    @Test
    void typesAreCaseSensitiveButTheMessageSuggestsTheSpelling() {
        Rejection r = reject(mutate("PruneStep", root -> root.put("type", "prunestep")));

        assertThat(r.reason()).isEqualTo(Reason.UNKNOWN_TYPE);
        assertThat(r.message()).contains("; did you mean PruneStep?");
    }

    // unsupported_version

    @Test
    void aNewerVersionIsUnsupportedWhateverElseItHolds() {
        Rejection r = reject(mutate("PruneStep", root -> {
            root.put("version", Event.VERSION + 1);
            root.put("type", "PruneStepV" + (Event.VERSION + 1));
            root.remove("payload");
        }));

        assertThat(r.reason()).isEqualTo(Reason.UNSUPPORTED_VERSION);
        assertThat(r.field()).isEqualTo("version");
        assertThat(r.message()).isEqualTo("version " + (Event.VERSION + 1) + " is newer than the versions this code"
                + " reads, 1 to " + Event.VERSION + " (fix: upgrade"
                + " this consumer, then replay the event from the dead-letter topic; consumers are upgraded before"
                + " producers)");
    }

    @ParameterizedTest(name = "version {0}")
    @ValueSource(ints = {0, -1, Integer.MIN_VALUE})
    void versionsBeforeTheFirstAreUnsupported(int version) {
        Rejection r = reject(mutate("PruneStep", root -> root.put("version", version)));

        assertThat(r.reason()).isEqualTo(Reason.UNSUPPORTED_VERSION);
        assertThat(r.message())
                .startsWith(
                        "version " + version + " is older than the versions this code reads, 1 to " + Event.VERSION);
    }

    // wrong_payload

    @Test
    void aPayloadOfAnotherTypeIsTheWrongPayload() {
        Rejection r = reject(mutate("PruneStep", root -> root.set("payload",
                json.valueToTree(payload(tree(EventExamples.of("StepCompleted")))))));

        assertThat(r.reason()).isEqualTo(Reason.WRONG_PAYLOAD);
        assertThat(r.field()).isEqualTo("payload");
        assertThat(r.message()).isEqualTo("the payload of this PruneStep event has the fields of a StepCompleted"
                + " (fix: set type to StepCompleted, or send a PruneStep's fields: step, targetSparsity,"
                + " fineTuneIterations, rewind, attempt)");
    }

    @Test
    void aPayloadWithNoneOfItsFieldsIsTheWrongPayload() {
        Rejection r = reject(mutate("Finalize", root -> root.putObject("payload").put("last_step", 10)));

        assertThat(r.reason()).isEqualTo(Reason.WRONG_PAYLOAD);
        assertThat(r.message()).isEqualTo("the payload of this Finalize event has none of its fields, only"
                + " \"last_step\" (fix: a Finalize payload has lastStep, attempt)");
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"[]", "\"lastStep=10\"", "10", "true"})
    void aPayloadThatIsNotAnObjectIsTheWrongPayload(String payload) {
        Rejection r = reject(mutate("Finalize", root -> root.set("payload", parse(payload))));

        assertThat(r.reason()).isEqualTo(Reason.WRONG_PAYLOAD);
        assertThat(r.message()).startsWith("Finalize payload " + payload + " is a");
        assertThat(r.message()).endsWith(", not an object (fix: send {lastStep, attempt})");
    }

    // invalid_field

    @Test
    void aValueOutOfRangeIsAnInvalidFieldNamingValueRangeAndFix() {
        Rejection r = reject(mutate("PruneStep", root -> payload(root).put("targetSparsity", 1.3)));

        assertThat(r.reason()).isEqualTo(Reason.INVALID_FIELD);
        assertThat(r.field()).isEqualTo("payload.targetSparsity");
        assertThat(r.message()).isEqualTo("PruneStep payload.targetSparsity 1.3 is out of range: must be in [0, 1)"
                + " (fix: an absolute sparsity: the fraction of the selected weights pruned, e.g. 0.9)");
    }

    @ParameterizedTest(name = "{0} = {1}")
    @CsvSource(delimiter = '|', value = {
            "step               | '\"3\"'      | '\"3\"'      | is a string, not a number",
            "step               | 3.5          | 3.5          | is not a whole number",
            "step               | 3.0          | 3.0          | is not a whole number",
            "step               | 4294967296   | 4294967296   | is too large for a 32-bit whole number",
            "fineTuneIterations | 1e3          | 1000.0       | is not a whole number",
            "targetSparsity     | '\"0.5\"'    | '\"0.5\"'    | is a string, not a number",
            "rewind             | 0            | 0            | is a number, not a boolean",
            "rewind             | '\"false\"'  | '\"false\"'  | is a string, not a boolean",
    })
    void valuesAreNotCoercedFromOtherJsonTypes(String field, String value, String shown, String problem) {
        Rejection r = reject(mutate("PruneStep", root -> payload(root).set(field, parse(value))));

        assertThat(r.reason()).isEqualTo(Reason.INVALID_FIELD);
        assertThat(r.field()).isEqualTo("payload." + field);
        assertThat(r.message()).startsWith("PruneStep payload." + field + " " + shown + " " + problem);
    }

    @Test
    void aNumberBeyondDoubleIsOutOfRangeNotInfinity() {
        Rejection r = reject(mutate("JobProgress",
                root -> payload(root).put("samplesPerSecond", new java.math.BigDecimal("1e400"))));

        assertThat(r.reason()).isEqualTo(Reason.INVALID_FIELD);
        assertThat(r.message())
                .startsWith("JobProgress payload.samplesPerSecond inf is out of range: must be in [0, inf)");
    }

    @Test
    void aLayerSparsityValueIsCheckedByName() {
        Rejection r = reject(mutate("StepCompleted", root -> ((ObjectNode) payload(root).get("layerSparsity"))
                .put("4_W", -0.25)));

        assertThat(r.reason()).isEqualTo(Reason.INVALID_FIELD);
        assertThat(r.field()).isEqualTo("payload.layerSparsity[\"4_W\"]");
        assertThat(r.message())
                .startsWith("StepCompleted payload.layerSparsity[\"4_W\"] -0.25 is out of range: must be in [0, 1]");
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"not-a-uuid", "00000000-0000-4000-8000-00000000000G", "1-1-1-1-1",
            "6BA7B810-9DAD-11D1-80B4-00C04FD430C8", "{6ba7b810-9dad-11d1-80b4-00c04fd430c8}"})
    void anEventIdThatIsNotACanonicalUuidIsInvalid(String eventId) {
        Rejection r = reject(mutate("PruneStep", root -> root.put("eventId", eventId)));

        assertThat(r.reason()).isEqualTo(Reason.INVALID_FIELD);
        assertThat(r.field()).isEqualTo("eventId");
        assertThat(r.message()).contains("is not a UUID in canonical form");
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"yesterday", "2026-11-23", "2026-11-23 12:00:00", "2026-13-01T00:00:00Z"})
    void aTimeThatIsNotAnIsoInstantIsInvalid(String time) {
        Rejection r = reject(mutate("PruneStep", root -> root.put("time", time)));

        assertThat(r.reason()).isEqualTo(Reason.INVALID_FIELD);
        assertThat(r.field()).isEqualTo("time");
        assertThat(r.message()).endsWith("is not an ISO-8601 instant (fix: UTC with a Z, e.g. 2026-11-23T12:00:00Z)");
    }

    @Test
    void aSeqThatDisagreesWithThePayloadIsInvalid() {
        Rejection r = reject(mutate("PruneStep", root -> root.put("seq", 4)));

        assertThat(r.reason()).isEqualTo(Reason.INVALID_FIELD);
        assertThat(r.field()).isEqualTo("seq");
        assertThat(r.message()).isEqualTo("seq 4 does not agree with the payload: must equal the PruneStep's step, 3");
    }

    @Test
    void aRecipeWithAnEscapeSequenceIsInvalid() {
        Rejection r = reject(mutate("JobStarted", root -> payload(root).put("recipeYaml", "job: j\u001b[2J")));

        assertThat(r.reason()).isEqualTo(Reason.INVALID_FIELD);
        assertThat(r.message()).isEqualTo("JobStarted payload.recipeYaml \"job: j\\u001b[2J\" contains the control"
                + " character U+001B at index 6: only tab, line feed and carriage return are allowed (fix: remove it)");
    }

    @Test
    void textWithALoneSurrogateIsInvalid() {
        Rejection r = reject(mutate("CancelJob", root -> payload(root).put("reason", "cut \ud83d")));

        assertThat(r.reason()).isEqualTo(Reason.INVALID_FIELD);
        assertThat(r.message()).startsWith("CancelJob payload.reason \"cut \ud83d\" contains the lone surrogate U+D83D"
                + " at index 4: it is not Unicode text");
    }

    // bad_job_id

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
            "../../etc/passwd      | contains a path separator:",
            "jobs/a                | contains a path separator:",
            "a\\\\b                | contains a path separator:",
            "..                    | starts with '.':",
            ".hidden               | starts with '.':",
            "Lenet5                | is not a valid name:",
            "-lenet5               | is not a valid name:",
            "lenet 5               | is not a valid name:",
            "l\u00e9net5           | is not a valid name:",
            "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa | is 65 characters long:",
    })
    void aJobIdThatIsNotASafeNameIsABadJobId(String jobId, String why) {
        Rejection r = reject(mutate("PruneStep", root -> root.put("jobId", jobId)));

        assertThat(r.reason()).isEqualTo(Reason.BAD_JOB_ID);
        assertThat(r.field()).isEqualTo("jobId");
        assertThat(r.message()).startsWith("jobId " + Quoted.of(jobId) + " " + why)
                .contains("must match [a-z0-9][a-z0-9._-]{0,63}")
                .endsWith("(fix: e.g. lenet5-fmnist-90)");
    }

    @ParameterizedTest(name = "U+{0}")
    @ValueSource(ints = {0x00, 0x0a, 0x1b, 0x7f, 0x85})
    void aJobIdWithAControlCharacterIsABadJobIdAndTheMessageEscapesIt(int control) {
        String jobId = "job" + (char) control + "x";

        Rejection r = reject(mutate("PruneStep", root -> root.put("jobId", jobId)));

        assertThat(r.reason()).isEqualTo(Reason.BAD_JOB_ID);
        assertThat(r.message())
                .startsWith(String.format("jobId \"job\\u%04xx\" contains a control character:", control));
        assertThat(r.message().chars()).noneMatch(Character::isISOControl);
    }

    @Test
    void anEmptyJobIdIsABadJobId() {
        Rejection r = reject(mutate("PruneStep", root -> root.put("jobId", "")));

        assertThat(r.reason()).isEqualTo(Reason.BAD_JOB_ID);
        assertThat(r.message()).startsWith("jobId \"\" is empty: it must match");
    }

    @Test
    void aJobIdThatIsNotAStringIsABadJobId() {
        Rejection r = reject(mutate("PruneStep", root -> root.put("jobId", 42)));

        assertThat(r.reason()).isEqualTo(Reason.BAD_JOB_ID);
        assertThat(r.message()).isEqualTo("jobId 42 is a number, not a string (fix: write it in double quotes)");
    }

    // negative_seq

    @ParameterizedTest(name = "seq {0}")
    @ValueSource(longs = {-1, Long.MIN_VALUE})
    void aNegativeSeqIsRejectedAsSuch(long seq) {
        Rejection r = reject(mutate("CancelJob", root -> root.put("seq", seq)));

        assertThat(r.reason()).isEqualTo(Reason.NEGATIVE_SEQ);
        assertThat(r.field()).isEqualTo("seq");
        assertThat(r.message()).isEqualTo("seq " + seq + " is negative: a seq is at least 0 (0 is JobStarted, then the"
                + " step number)");
    }

    // helpers

    @Test
    void everyReasonHasATestAbove() {
        // UNEXPECTED is the codec's own defect: GarbageTest asserts it never happens
        assertThat(Reason.values()).hasSize(10);
        assertThat(Arrays.stream(Reason.values()).map(Reason::code)).containsExactly("too_large", "malformed",
                "missing_field", "unknown_type", "unsupported_version", "wrong_payload", "invalid_field", "bad_job_id",
                "negative_seq", "unexpected");
    }

    private Rejection reject(byte[] bytes) {
        Decoded decoded = codec.decode(bytes);
        assertThat(decoded).isInstanceOf(Rejection.class);
        return (Rejection) decoded;
    }

    private byte[] mutate(String type, Consumer<ObjectNode> change) {
        ObjectNode root = tree(EventExamples.of(type));
        change.accept(root);
        try {
            return json.writeValueAsBytes(root);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private ObjectNode tree(Event event) {
        try {
            return (ObjectNode) json.readTree(codec.encode(event));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private com.fasterxml.jackson.databind.JsonNode parse(String value) {
        try {
            return json.readTree(value);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static ObjectNode payload(ObjectNode root) {
        return (ObjectNode) root.get("payload");
    }
}
