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

        assertThat(text).startsWith("{\"type\":\"PruneStep\",\"version\":2,\"eventId\":\"00000000-0000-4000-8000-"
                + "000000000002\",\"jobId\":\"lenet5-fmnist-90\",\"seq\":3,\"time\":\"2026-11-23T12:00:02Z\","
                + "\"payload\":{\"step\":3,");
    }

    @Test
    void aVersion1StepCompletedReadsItsAccuracyAsBothValidationAndTest() throws IOException {
        StepCompleted now = (StepCompleted) EventExamples.of("StepCompleted").payload();
        try (InputStream in = EventCodecTest.class.getResourceAsStream("/events/v1/StepCompleted.json")) {
            Event old = ((Decoded.Accepted) codec.decode(in.readAllBytes())).event();

            assertThat(old.version()).isEqualTo(Event.VERSION);
            assertThat(old.payload()).isEqualTo(new StepCompleted(now.seq(), now.attempt(), now.targetSparsity(),
                    now.achievedSparsity(), now.layerSparsity(), now.accuracy(), now.accuracy(), now.loss(),
                    now.checkpointId(), now.worker(), now.redelivered()));
        }
    }

    @Test
    void aVersion2StepCompletedWithoutTestAccuracyIsMissingAField() throws IOException {
        ObjectNode root = (ObjectNode) json.readTree(codec.encode(EventExamples.of("StepCompleted")));
        ((ObjectNode) root.get("payload")).remove("testAccuracy");

        Rejection r = (Rejection) codec.decode(json.writeValueAsBytes(root));

        assertThat(r.reason()).isEqualTo(Rejection.Reason.MISSING_FIELD);
        assertThat(r.field()).isEqualTo("payload.testAccuracy");
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
        // 500,000 characters, within JobStarted's limit, but 1,250,000 bytes of UTF-8
        Event big = Event.of("j", 0, new JobStarted("\u00e9\u20ac".repeat(250_000), 1));

        assertThatThrownBy(() -> codec.encode(big))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageMatching("the JobStarted event of job j is 125\\d{4} bytes as JSON, over the 1048576 bytes \\(1 MiB\\) that consumers read .*");
    }

    private static byte[] golden(String type) throws IOException {
        try (InputStream in = EventCodecTest.class.getResourceAsStream("/events/" + type + ".json")) {
            assertThat(in).as("golden file events/%s.json", type).isNotNull();
            return in.readAllBytes();
        }
    }
}
