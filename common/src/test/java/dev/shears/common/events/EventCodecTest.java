package dev.shears.common.events;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/** Events survive the codec unchanged, and their JSON stays what the golden files under {@code events/} say. */
class EventCodecTest {

    private final EventCodec codec = new EventCodec();
    private final ObjectMapper json = new ObjectMapper();

    static Stream<Event> examples() {
        return EventExamples.all().stream();
    }

    @Test
    void thereIsAnExampleOfEveryEventType() {
        List<String> types = PayloadTypes.all().stream().map(PayloadTypes.Shape::name).toList();

        assertThat(EventExamples.all()).extracting(Event::type).containsExactlyElementsOf(types);
        assertThat(types).hasSize(11);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("examples")
    void everyEventTypeRoundTrips(Event event) {
        Decoded decoded = codec.decode(codec.encode(event));

        assertThat(decoded).isEqualTo(new Decoded.Accepted(event));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("examples")
    void encodingWritesTheGoldenJson(Event event) throws IOException {
        byte[] golden = golden(event.type());

        String expected = json.writeValueAsString(json.readTree(golden));
        assertThat(new String(codec.encode(event), StandardCharsets.UTF_8)).isEqualTo(expected);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("examples")
    void theGoldenJsonDecodesToTheExample(Event event) throws IOException {
        assertThat(codec.decode(golden(event.type()))).isEqualTo(new Decoded.Accepted(event));
    }

    @Test
    void theEnvelopeComesFirstInAFixedOrder() {
        String text = new String(codec.encode(EventExamples.of("PruneStep")), StandardCharsets.UTF_8);

        assertThat(text).startsWith("{\"type\":\"PruneStep\",\"version\":5,\"eventId\":\"00000000-0000-4000-8000-"
                + "000000000002\",\"jobId\":\"lenet5-fmnist-90\",\"seq\":3,\"time\":\"2026-11-23T12:00:02Z\","
                + "\"payload\":{\"step\":3,");
    }

    @Test
    void aVersion1StepCompletedReadsItsAccuracyAsBothValidationAndTest() throws IOException {
        Event old = ((Decoded.Accepted) codec.decode(golden("v1/StepCompleted"))).event();

        assertThat(old.version()).isEqualTo(Event.VERSION);
        assertThat(old.payload())
                .isEqualTo(accuracyAsBoth((StepCompleted) EventExamples.of("StepCompleted").payload()));
    }

    @ParameterizedTest(name = "version {0}")
    @ValueSource(ints = {2, 3})
    void aStepCompletedBeforeVersion4ReadsItsAccuracyAsBothValidationAndTest(int version) throws IOException {
        ObjectNode root = (ObjectNode) json.readTree(golden("StepCompleted"));
        root.put("version", version);
        ((ObjectNode) root.get("payload")).remove("testAccuracy");
        Event expected = EventExamples.of("StepCompleted");

        assertThat(codec.decode(json.writeValueAsBytes(root))).isEqualTo(new Decoded.Accepted(new Event(expected.type(),
                Event.VERSION, expected.eventId(), expected.jobId(), expected.seq(), expected.time(),
                accuracyAsBoth((StepCompleted) expected.payload()))));
    }

    @Test
    void aVersion3JobResumedReadsAsOneThatResumedNoStepMidWay() throws IOException {
        ObjectNode root = (ObjectNode) json.readTree(golden("JobResumed"));
        root.put("version", 3);
        ObjectNode payload = (ObjectNode) root.get("payload");
        payload.remove(List.of("resumedIteration", "iterationsLost"));
        JobResumed now = (JobResumed) EventExamples.of("JobResumed").payload();

        Event read = ((Decoded.Accepted) codec.decode(json.writeValueAsBytes(root))).event();

        assertThat(read.payload()).isEqualTo(new JobResumed(now.restoredSeq(), now.restoredAttempt(),
                now.stepsRedone(), now.lost(), now.worker()));
        assertThat(((JobResumed) read.payload()).resumedIteration()).isZero();
    }

    @Test
    void aVersion4StepCompletedWithoutTestAccuracyIsMissingAField() throws IOException {
        ObjectNode root = (ObjectNode) json.readTree(codec.encode(EventExamples.of("StepCompleted")));
        root.put("version", 4);
        ((ObjectNode) root.get("payload")).remove("testAccuracy");

        Rejection r = (Rejection) codec.decode(json.writeValueAsBytes(root));

        assertThat(r.reason()).isEqualTo(Rejection.Reason.MISSING_FIELD);
        assertThat(r.field()).isEqualTo("payload.testAccuracy");
    }

    @Test
    void aVersionTwoModelPublishedIsReadWithItsCostNotKnown() throws IOException {
        byte[] old = olderModelPublished(2, ModelPublished.COST_FIELDS, ModelPublished.FUSED_FIELDS);
        Event expected = EventExamples.of("ModelPublished");
        ModelPublished p = (ModelPublished) expected.payload();

        assertThat(codec.decode(old)).isEqualTo(new Decoded.Accepted(new Event(expected.type(),
                Event.VERSION, expected.eventId(), expected.jobId(), expected.seq(), expected.time(),
                ModelPublished.withoutCost(p.name(), p.version(), p.path(), p.sha256(), p.accuracy(), p.sparsity()))));
    }

    @Test
    void aVersion4ModelPublishedIsReadWithItsFusedLatenciesNotMeasured() throws IOException {
        byte[] old = olderModelPublished(4, ModelPublished.FUSED_FIELDS);

        ModelPublished read = (ModelPublished) ((Decoded.Accepted) codec.decode(old)).event().payload();

        assertThat(read).extracting(ModelPublished::denseFusedLatencyMs, ModelPublished::fusedLatencyMs,
                ModelPublished::denseFusedBatchLatencyMs, ModelPublished::fusedBatchLatencyMs)
                .containsExactly(0.0, 0.0, 0.0, 0.0);
        assertThat(read.batchLatencyMs()).isEqualTo(3.4);
    }

    @Test
    void aVersionOnePruneStepReadsAsItWas() throws IOException {
        ObjectNode root = (ObjectNode) json.readTree(golden("PruneStep"));
        root.put("version", 1);

        assertThat(codec.decode(json.writeValueAsBytes(root)))
                .isEqualTo(new Decoded.Accepted(EventExamples.of("PruneStep")));
    }

    @Test
    void unknownFieldsOfAKnownTypeAreIgnored() throws IOException {
        Event event = EventExamples.of("PruneStep");
        ObjectNode root = (ObjectNode) json.readTree(codec.encode(event));
        root.put("traceId", "4bf92f3577b34da6a3ce929d0e0e4736");
        ((ObjectNode) root.get("payload")).put("learningRateScale", 0.5);
        ((ObjectNode) root.get("payload")).putObject("nested").put("x", 1);

        assertThat(codec.decode(json.writeValueAsBytes(root))).isEqualTo(new Decoded.Accepted(event));
    }

    @Test
    void layerSparsityKeepsTheModelsOrder() {
        Event event = EventExamples.of("StepCompleted");

        Event back = ((Decoded.Accepted) codec.decode(codec.encode(event))).event();

        assertThat(((StepCompleted) back.payload()).layerSparsity().keySet())
                .containsExactly("0_W", "2_W", "4_W", "5_W", "6_W");
    }

    @Test
    void doublesSurviveExactly() {
        double awkward = 0.1 + 0.2;
        Event event = Event.of("j", 7, EventExamples.TIME, new PruneStep(7, awkward, 1, true, 3));

        Event back = ((Decoded.Accepted) codec.decode(codec.encode(event))).event();

        assertThat(((PruneStep) back.payload()).targetSparsity()).isEqualTo(awkward);
    }

    @Test
    void subSecondTimesSurvive() {
        Event event = Event.of("j", 0, EventExamples.TIME.plusNanos(123_456_789), new JobStarted("job: j", 1));

        assertThat(codec.decode(codec.encode(event))).isEqualTo(new Decoded.Accepted(event));
    }

    @Test
    void encodingRefusesAnEventNoConsumerWouldRead() {
        // 524,280 bytes of UTF-8, within JobStarted's limit, but JSON writes each quote as two bytes
        Event big = Event.of("j", 0, new JobStarted("\"".repeat(524_280), 1));

        assertThatThrownBy(() -> codec.encode(big))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageMatching(
                        "the JobStarted event of job j is 1048\\d{3} bytes as JSON, over the 1048576 bytes \\(1 MiB\\) that consumers read .*");
    }

    @Test
    void aJobStartedsRecipeIsBoundedInBytesNotCharacters() {
        // 200,000 characters, but 600,000 bytes of UTF-8
        String wide = "\u20ac".repeat(200_000);

        assertThatThrownBy(() -> new JobStarted(wide, 1)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("600000 bytes of UTF-8, at most 524288");
        assertThat(new JobStarted("\u20ac".repeat(174_762), 1).recipeYaml()).hasSize(174_762);
    }

    @Test
    void aVersion1JobFailedReadsAsOneThatDoesNotNameItsCommand() throws IOException {
        Event event = ((Decoded.Accepted) codec.decode(golden("v1/JobFailed"))).event();

        assertThat(event.version()).isEqualTo(Event.VERSION);
        assertThat(event.payload()).isEqualTo(new JobFailed(3, "", 0, "java.io.IOException: No space left on device\n"
                + "\tat Checkpoints.write", "trainer-0", true));
        assertThat(((JobFailed) event.payload()).answers(Event.of(EventExamples.JOB, 3, new PruneStep(3, 0.5, 1, false,
                7)))).as("matched by its seq alone, as version 1 was").isTrue();
    }

    @Test
    void aVersion1JobResumedReadsAsOneThatDoesNotNameItsKeys() throws IOException {
        Event event = ((Decoded.Accepted) codec.decode(golden("v1/JobResumed"))).event();

        assertThat(event.payload()).isEqualTo(new JobResumed(2, 0, 1, List.of(), "trainer-1"));
        assertThat(((JobResumed) event.payload()).restored()).isEmpty();
    }

    @Test
    void aVersion1FinalizeReadsAsOneThatDoesNotNameItsAttempt() throws IOException {
        Event event = ((Decoded.Accepted) codec.decode(golden("v1/Finalize"))).event();

        assertThat(event.payload()).isEqualTo(new Finalize(10, 0));
        assertThat(((Finalize) event.payload()).key()).isEmpty();
    }

    @Test
    void aVersion1EventOfAnUnchangedTypeReadsAsItWas() throws IOException {
        assertThat(codec.decode(golden("v1/PruneStep"))).isEqualTo(new Decoded.Accepted(EventExamples.of("PruneStep")));
    }

    @Test
    void version1FieldsOfTheNewNamesAreNotReadAndItsLongTextIsCutToTheBytesVersion2Allows() throws IOException {
        ObjectNode root = (ObjectNode) json.readTree(golden("v1/JobFailed"));
        ObjectNode payload = (ObjectNode) root.get("payload");
        payload.put("command", "RollBack").put("attempt", 9);
        payload.put("reason", "\u20ac".repeat(16_384)); // 16,384 characters, 49,152 bytes

        JobFailed failed = (JobFailed) ((Decoded.Accepted) codec.decode(json.writeValueAsBytes(root))).event()
                .payload();

        assertThat(failed.command()).isEmpty();
        assertThat(failed.attempt()).isZero();
        assertThat(failed.reason()).isEqualTo("\u20ac".repeat(5461));
    }

    @Test
    void lostKeysAreCheckedOneByOneWithTheirPath() throws IOException {
        ObjectNode root = (ObjectNode) json.readTree(golden("JobResumed"));
        ((ObjectNode) root.get("payload").get("lost").get(0)).put("attempt", 0);
        Rejection outOfRange = (Rejection) codec.decode(json.writeValueAsBytes(root));
        ((ObjectNode) root.get("payload").get("lost").get(0)).remove("attempt");
        Rejection missing = (Rejection) codec.decode(json.writeValueAsBytes(root));
        ((ObjectNode) root.get("payload")).putArray("lost").add(3);
        Rejection notAnObject = (Rejection) codec.decode(json.writeValueAsBytes(root));

        assertThat(outOfRange.reason()).isEqualTo(Rejection.Reason.INVALID_FIELD);
        assertThat(outOfRange.field()).isEqualTo("payload.lost[0].attempt");
        assertThat(outOfRange.message()).startsWith("JobResumed payload.lost[0].attempt 0 is out of range");
        assertThat(missing.reason()).isEqualTo(Rejection.Reason.MISSING_FIELD);
        assertThat(missing.field()).isEqualTo("payload.lost[0].attempt");
        assertThat(notAnObject.field()).isEqualTo("payload.lost[0]");
        assertThat(notAnObject.message()).contains("3 is a number, not an object");
    }

    /** The report as a version before 4 said it: one accuracy, the test split's, read as both. */
    private static StepCompleted accuracyAsBoth(StepCompleted now) {
        return new StepCompleted(now.seq(), now.attempt(), now.targetSparsity(), now.achievedSparsity(),
                now.layerSparsity(), now.accuracy(), now.accuracy(), now.loss(), now.checkpointId(), now.worker(),
                now.redelivered());
    }

    /** The golden {@code ModelPublished} as version {@code version} wrote it: without the fields added since. */
    @SafeVarargs
    private byte[] olderModelPublished(int version, List<String>... added) throws IOException {
        ObjectNode root = (ObjectNode) json.readTree(golden("ModelPublished"));
        root.put("version", version);
        ObjectNode payload = (ObjectNode) root.get("payload");
        for (List<String> fields : added) {
            fields.forEach(payload::remove);
        }
        return json.writeValueAsBytes(root);
    }

    private static byte[] golden(String type) throws IOException {
        try (InputStream in = EventCodecTest.class.getResourceAsStream("/events/" + type + ".json")) {
            assertThat(in).as("golden file events/%s.json", type).isNotNull();
            return in.readAllBytes();
        }
    }
}
