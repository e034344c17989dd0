package dev.shears.common.events;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.shears.common.text.Quoted;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class TopicsTest {

    @Test
    void theDefaultTopicsLiveUnderShears() {
        Topics topics = Topics.defaults();

        assertThat(topics.commands()).isEqualTo("shears.commands");
        assertThat(topics.reports()).isEqualTo("shears.reports");
        assertThat(topics.state()).isEqualTo("shears.state");
        assertThat(topics.all()).containsExactly("shears.commands", "shears.reports", "shears.state",
                "shears.commands.DLT", "shears.reports.DLT");
    }

    @Test
    void aPrefixNamesAnotherInstallation() {
        assertThat(new Topics("shears-staging_2").commands()).isEqualTo("shears-staging_2.commands");
    }

    @Test
    void commandsAndDecisionsGoToCommandsAndReportsToReports() {
        Topics topics = Topics.defaults();

        assertThat(EventExamples.all()).allSatisfy(e -> assertThat(topics.topicFor(e.payload()))
                .isEqualTo(e.payload() instanceof Report ? "shears.reports" : "shears.commands"));
        assertThat(topics.topicFor(new SchedulerDecision(1, "stop", ""))).isEqualTo("shears.commands");
        assertThat(topics.topicFor(new JobFailed(1, "PruneStep", 1, "x", "w", false))).isEqualTo("shears.reports");
    }

    @ParameterizedTest(name = "\"{0}\"")
    @ValueSource(strings = {"", "shears prod", "shears/prod", "sh\u00e9ars", ".shears", "shears.", "shears\n"})
    void aPrefixOutsideKafkasTopicCharactersIsRefused(String prefix) {
        assertThatThrownBy(() -> new Topics(prefix))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("topic prefix " + Quoted.of(prefix) + " is not valid: must be 1 to 200 of"
                        + " Kafka's topic characters [a-zA-Z0-9._-], not starting or ending with '.' (fix: e.g. shears");
    }

    @Test
    void aPrefixLeavesRoomForTheLongestTopicName() {
        String longest = "p".repeat(200);

        assertThat(Topics.dlt(new Topics(longest).commands())).hasSizeLessThanOrEqualTo(249);
        assertThatThrownBy(() -> new Topics(longest + "p")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void aDeadLetterTopicIsTheTopicWithDltAppended() {
        assertThat(Topics.dlt("shears.commands")).isEqualTo("shears.commands.DLT");
    }

    @Test
    void aDeadLetterTopicHasNoDeadLetterTopic() {
        assertThatThrownBy(() -> Topics.dlt("shears.commands.DLT"))
                .hasMessageStartingWith("topic \"shears.commands.DLT\" is a dead-letter topic and has none of its own");
    }

    @ParameterizedTest(name = "\"{0}\"")
    @ValueSource(strings = {"", ".", "..", "a b", "a/b"})
    void aDeadLetterTopicNeedsALegalTopicName(String topic) {
        assertThatThrownBy(() -> Topics.dlt(topic)).hasMessageContaining("is not a Kafka topic name");
    }

    @Test
    void aDeadLetterTopicMustFitKafkasLimit() {
        assertThatThrownBy(() -> Topics.dlt("t".repeat(246)))
                .hasMessageContaining("is 246 characters long: its dead-letter topic would exceed Kafka's 249");
        assertThat(Topics.dlt("t".repeat(245))).hasSize(249);
    }
}
