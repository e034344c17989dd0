package dev.shears.common.events;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.shears.common.recipe.ModelSource;
import dev.shears.common.recipe.Recipe;
import java.time.Instant;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/** Payloads and envelopes are valid once constructed; a constructor says what is wrong, with the value and the fix. */
class PayloadTest {

    static Stream<Arguments> invalidPayloads() {
        Map<String, Double> layers = Map.of("0_W", 0.5);
        return Stream.of(
                bad("JobStarted.recipeYaml \"  \" is blank", () -> new JobStarted("  ", 10)),
                bad("JobStarted.steps 0 is out of range: must be a whole number in [1, 10000]",
                        () -> new JobStarted("job: j", 0)),
                bad("PruneStep.step 0 is out of range: must be a whole number in [1, 10000] (fix: steps are numbered"
                        + " from 1; seq 0 is JobStarted)", () -> new PruneStep(0, 0.5, 10, false, 1)),
                bad("PruneStep.targetSparsity 1 is out of range: must be in [0, 1)",
                        () -> new PruneStep(1, 1.0, 10, false, 1)),
                bad("PruneStep.targetSparsity NaN is out of range", () -> new PruneStep(1, Double.NaN, 10, false, 1)),
                bad("PruneStep.fineTuneIterations -1 is out of range", () -> new PruneStep(1, 0.5, -1, false, 1)),
                bad("PruneStep.attempt 0 is out of range: must be a whole number in [1, 1000000]",
                        () -> new PruneStep(1, 0.5, 10, false, 0)),
                bad("Finalize.lastStep -1 is out of range", () -> new Finalize(-1, 1)),
                bad("Finalize.attempt -1 is out of range: must be a whole number in [0, 1000000]",
                        () -> new Finalize(3, -1)),
                bad("CancelJob.reason is missing (null)", () -> new CancelJob(null)),
                bad("RollBack.attempt 1 is out of range: must be a whole number in [2, 1000000] (fix: a roll-back"
                        + " raises the job's attempt", () -> new RollBack(3, 1, "accuracy")),
                bad("StepCompleted.achievedSparsity 1.01 is out of range: must be in [0, 1]",
                        () -> new StepCompleted(1, 1, 0.5, 1.01, layers, 0.9, 0.88, 0.1, "c", "w", false)),
                bad("StepCompleted.layerSparsity[\"0_W\"] is missing (null)", () -> {
                    Map<String, Double> nulls = new HashMap<>();
                    nulls.put("0_W", null);
                    return new StepCompleted(1, 1, 0.5, 0.5, nulls, 0.9, 0.88, 0.1, "c", "w", false);
                }),
                bad("StepCompleted.loss inf is out of range: must be in [0, inf) (fix: a diverged step (NaN or"
                        + " infinite loss) is reported as JobFailed)",
                        () -> new StepCompleted(1, 1, 0.5, 0.5, layers, 0.9, 0.88, Double.POSITIVE_INFINITY, "c", "w",
                                false)),
                bad("StepCompleted.testAccuracy 89 is out of range: must be in [0, 1]",
                        () -> new StepCompleted(1, 1, 0.5, 0.5, layers, 0.9, 89, 0.1, "c", "w", false)),
                bad("StepCompleted.checkpointId \"../ckpt\" is not a valid id",
                        () -> new StepCompleted(1, 1, 0.5, 0.5, layers, 0.9, 0.88, 0.1, "../ckpt", "w", false)),
                bad("JobProgress.fraction 1.5 is out of range", () -> new JobProgress(1, 1.5, 10, "w")),
                bad("JobFailed.worker \"trainer 0\" is not a valid id",
                        () -> new JobFailed(1, "PruneStep", 1, "disk", "trainer 0", true)),
                bad("JobFailed.command \"prune step\" is not an event type",
                        () -> new JobFailed(1, "prune step", 1, "disk", "w", true)),
                bad("JobFailed.attempt 2 is out of range: must be a whole number in [0, 0] (fix: 0 when the command is"
                        + " not named)", () -> new JobFailed(1, "", 2, "disk", "w", true)),
                bad("JobFailed.reason \"" + "x".repeat(80) + "...\" is too long: 16385 bytes of UTF-8, at most 16384",
                        () -> new JobFailed(1, "PruneStep", 1, "x".repeat(16_385), "w", true)),
                bad("JobFailed.reason \"" + "\u00fc".repeat(80) + "...\" is too long: 16386 bytes of UTF-8, at most"
                        + " 16384", () -> new JobFailed(1, "PruneStep", 1, "\u00fc".repeat(8_193), "w", true)),
                bad("CancelJob.reason \"" + "\u20ac".repeat(80) + "...\" is too long: 16386 bytes of UTF-8",
                        () -> new CancelJob("\u20ac".repeat(5_462))),
                bad("JobResumed.stepsRedone -2 is out of range", () -> new JobResumed(3, 1, -2, List.of(), "w")),
                bad("JobResumed.iterationsLost -1 is out of range",
                        () -> new JobResumed(3, 1, 0, List.of(), 10, -1, "w")),
                bad("JobResumed.lost[0] \"(attempt 2, seq 3)\" is not above the key restored",
                        () -> new JobResumed(3, 2, 0, List.of(new CommandKey(2, 3)), "w")),
                bad("JobResumed.lost[1] \"(attempt 2, seq 4)\" is not above the key restored and the keys before it",
                        () -> new JobResumed(3, 1, 0, List.of(new CommandKey(2, 5), new CommandKey(2, 4)), "w")),
                bad("JobResumed.lost[0] \"(attempt 2, seq 4)\" is not above the key restored",
                        () -> new JobResumed(3, 0, 0, List.of(new CommandKey(2, 4)), "w")),
                bad("CommandKey.attempt 0 is out of range", () -> new JobResumed(3, 1, 0, List.of(new CommandKey(0, 4)),
                        "w")),
                bad("ModelPublished.name \"LeNet\" is not a valid name:",
                        () -> ModelPublished.withoutCost("LeNet", "1", "/m", "0".repeat(64), 0.9, 0.9)),
                bad("ModelPublished.sha256 \"ABC\" is not a SHA-256: must be 64 lower-case hex digits",
                        () -> ModelPublished.withoutCost("m", "1", "/m", "ABC", 0.9, 0.9)),
                bad("ModelPublished.path \"/m\\u000a\" contains a control character",
                        () -> ModelPublished.withoutCost("m", "1", "/m\n", "0".repeat(64), 0.9, 0.9)),
                bad("SchedulerDecision.decision \"Roll back\" is not a valid code",
                        () -> new SchedulerDecision(1, "Roll back", "")));
    }

    private static Arguments bad(String message, Supplier<Payload> construct) {
        return Arguments.of(message, construct);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("invalidPayloads")
    void aPayloadOutOfRangeIsRefusedWithFieldValueRangeAndFix(String message, Supplier<Payload> construct) {
        assertThatThrownBy(construct::get).isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith(message);
    }

    @Test
    void layerSparsityIsCopiedReadOnlyInItsOrder() {
        Map<String, Double> layers = new LinkedHashMap<>();
        layers.put("6_W", 0.9);
        layers.put("0_W", 0.5);

        StepCompleted s = new StepCompleted(1, 1, 0.5, 0.5, layers, 0.9, 0.88, 0.1, "c", "w", false);
        layers.put("2_W", 0.1);

        assertThat(s.layerSparsity()).containsExactly(Map.entry("6_W", 0.9), Map.entry("0_W", 0.5));
        assertThatThrownBy(() -> s.layerSparsity().put("x", 0.0)).isInstanceOf(UnsupportedOperationException.class);
    }

    @Test
    void theTypeOfAPayloadIsItsRecordsSimpleName() {
        assertThat(new Finalize(3, 1).type()).isEqualTo("Finalize");
        assertThat(new SchedulerDecision(1, SchedulerDecision.STOP, "").type()).isEqualTo("SchedulerDecision");
    }

    @Test
    void eventOfFillsTypeVersionAndAFreshId() {
        Event a = Event.of("j", 2, new PruneStep(2, 0.3, 10, false, 1));
        Event b = Event.of("j", 2, new PruneStep(2, 0.3, 10, false, 1));

        assertThat(a.type()).isEqualTo("PruneStep");
        assertThat(a.version()).isEqualTo(Event.VERSION);
        assertThat(a.eventId()).matches("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}")
                .isNotEqualTo(b.eventId());
    }

    static Stream<Arguments> seqRules() {
        return Stream.of(
                Arguments.of(new JobStarted("job: j", 10), 1L, "must be 0 for JobStarted"),
                Arguments.of(new PruneStep(3, 0.5, 10, false, 1), 2L, "must equal the PruneStep's step, 3"),
                Arguments.of(new Finalize(10, 1), 10L, "must be past the Finalize's lastStep 10"),
                Arguments.of(new RollBack(4, 2, "r"), 3L, "must be at least the RollBack's toSeq 4"),
                Arguments.of(new JobResumed(2, 1, 1, List.of(), "w"), 3L, "must equal the JobResumed's restoredSeq, 2"),
                Arguments.of(new JobProgress(3, 0.5, 1, "w"), 4L, "must equal the JobProgress's seq, 3"),
                Arguments.of(new JobFailed(3, "PruneStep", 1, "r", "w", true), 4L, "must equal the JobFailed's seq, 3"),
                Arguments.of(new SchedulerDecision(3, "stop", ""), 4L, "must equal the SchedulerDecision's seq, 3"),
                Arguments.of(EventExamples.of("StepCompleted").payload(), 4L, "must equal the StepCompleted's seq, 3"));
    }

    @ParameterizedTest(name = "{0} with seq {1}")
    @MethodSource("seqRules")
    void theEnvelopesSeqMustAgreeWithThePayload(Payload payload, long seq, String rule) {
        assertThatThrownBy(() -> Event.of("j", seq, payload))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("Event.seq " + seq + " does not agree with the payload: " + rule);
    }

    @Test
    void cancelAndPublishedMayCarryAnySeq() {
        assertThat(Event.of("j", 7, new CancelJob("by alice")).seq()).isEqualTo(7);
        assertThat(Event.of("j", 11, EventExamples.of("ModelPublished").payload()).seq()).isEqualTo(11);
    }

    @Test
    void theTypeMustBeThePayloads() {
        assertThatThrownBy(() -> new Event("Finalize", 1, "00000000-0000-4000-8000-000000000001", "j", 4,
                Instant.EPOCH, new CancelJob("x")))
                .hasMessageStartingWith("Event.type \"Finalize\" does not match the payload, a CancelJob");
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(ints = {0, Event.VERSION + 1})
    void theVersionMustBeOneThisCodeWrites(int version) {
        assertThatThrownBy(() -> new Event("Finalize", version, "00000000-0000-4000-8000-000000000001", "j", 4,
                Instant.EPOCH, new Finalize(3, 1)))
                .hasMessageStartingWith("Event.version " + version + " is not a version this code writes or reads");
    }

    @ParameterizedTest(name = "\"{0}\"")
    @ValueSource(strings = {"lenet5-fmnist-90", "a", "0", "a.b_c-d", "..", ".a", "a/b", "A", "-a", "a b", "",
            "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijkl",
            "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklm", "a\u0000", "caf\u00e9"})
    void aJobIdIsValidExactlyWhenARecipesJobIs(String name) {
        boolean recipe = valid(() -> Recipe.withDefaults(name, ModelSource.LENET5));
        boolean event = valid(() -> Event.of(name, 0, new JobStarted("job: x", 1)));

        assertThat(event).isEqualTo(recipe);
    }

    private static boolean valid(Runnable construct) {
        try {
            construct.run();
            return true;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }
}
