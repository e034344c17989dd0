package dev.shears.common.events;

import dev.shears.common.text.Quoted;
import java.util.List;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * The Kafka topics of one Shears installation, under a common prefix ({@code shears} by default):
 *
 * <table>
 *   <caption>Topics</caption>
 *   <tr><th>topic</th><th>carries</th><th>key</th></tr>
 *   <tr><td>{@code <prefix>.commands}</td><td>{@link Command}s and {@link SchedulerDecision}s, scheduler to
 *       workers</td><td>job id</td></tr>
 *   <tr><td>{@code <prefix>.reports}</td><td>{@link Report}s, workers to scheduler</td><td>job id</td></tr>
 *   <tr><td>{@code <prefix>.state}</td><td>the scheduler's state per job; compacted</td><td>job id</td></tr>
 *   <tr><td>{@code <topic>.DLT}</td><td>records of {@code <topic>} that could not be decoded, with
 *       {@link DeadLetter} headers</td><td>the original key</td></tr>
 * </table>
 *
 * <p>Keying by job id keeps one job's events in order on one partition, and so on one worker.
 *
 * @param prefix {@code [a-zA-Z0-9._-]}, 1 to 200 characters, not starting or ending with '.'
 */
public record Topics(String prefix) {

    public static final String DEFAULT_PREFIX = "shears";
    /** Appended to a topic's name to name its dead-letter topic. */
    public static final String DLT_SUFFIX = ".DLT";

    /** Kafka's longest topic name. */
    static final int MAX_TOPIC = 249;
    static final int MAX_PREFIX = 200;
    private static final Pattern LEGAL = Pattern.compile("[a-zA-Z0-9._-]+");

    /** @throws IllegalArgumentException when {@code prefix} is not a legal start of a Kafka topic name */
    public Topics {
        Objects.requireNonNull(prefix, "prefix");
        if (prefix.isEmpty() || prefix.length() > MAX_PREFIX || !LEGAL.matcher(prefix).matches()
                || prefix.startsWith(".") || prefix.endsWith(".")) {
            throw new IllegalArgumentException("topic prefix " + Quoted.of(prefix) + " is not valid: must be 1 to "
                    + MAX_PREFIX + " of Kafka's topic characters [a-zA-Z0-9._-], not starting or ending with '.'"
                    + " (fix: e.g. " + DEFAULT_PREFIX + " or shears-staging)");
        }
    }

    /** The topics under {@link #DEFAULT_PREFIX}. */
    public static Topics defaults() {
        return new Topics(DEFAULT_PREFIX);
    }

    /** {@code <prefix>.commands}: scheduler to workers, key = job id. */
    public String commands() {
        return prefix + ".commands";
    }

    /** {@code <prefix>.reports}: workers to scheduler, key = job id. */
    public String reports() {
        return prefix + ".reports";
    }

    /** {@code <prefix>.state}: the scheduler's state per job, compacted, key = job id. */
    public String state() {
        return prefix + ".state";
    }

    /** The topic an event with this payload goes to: {@link #reports()} for a {@link Report}, else {@link #commands()}. */
    public String topicFor(Payload payload) {
        return payload instanceof Report ? reports() : commands();
    }

    /** Every topic to create: commands, reports, state, and the dead-letter topics of commands and reports. */
    public List<String> all() {
        return List.of(commands(), reports(), state(), dlt(commands()), dlt(reports()));
    }

    /**
     * The dead-letter topic of {@code topic}: {@code topic + ".DLT"}.
     *
     * @throws IllegalArgumentException when {@code topic} is not a legal Kafka topic name, is
     *     itself a dead-letter topic, or the result would exceed 249 characters
     */
    public static String dlt(String topic) {
        Objects.requireNonNull(topic, "topic");
        if (topic.isEmpty() || !LEGAL.matcher(topic).matches() || topic.equals(".") || topic.equals("..")) {
            throw new IllegalArgumentException("topic " + Quoted.of(topic) + " is not a Kafka topic name: must be"
                    + " [a-zA-Z0-9._-]+, not . or ..");
        }
        if (topic.endsWith(DLT_SUFFIX)) {
            throw new IllegalArgumentException("topic " + Quoted.of(topic) + " is a dead-letter topic and has none"
                    + " of its own (fix: log and skip a record that cannot be read from a dead-letter topic)");
        }
        if (topic.length() + DLT_SUFFIX.length() > MAX_TOPIC) {
            throw new IllegalArgumentException("topic " + Quoted.of(topic) + " is " + topic.length()
                    + " characters long: its dead-letter topic would exceed Kafka's " + MAX_TOPIC
                    + " (fix: a shorter prefix)");
        }
        return topic + DLT_SUFFIX;
    }
}
