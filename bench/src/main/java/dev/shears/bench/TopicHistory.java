package dev.shears.bench;

import dev.shears.common.events.Decoded;
import dev.shears.common.events.Event;
import dev.shears.common.events.EventCodec;
import dev.shears.common.events.StepCompleted;
import dev.shears.common.events.Topics;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.function.Predicate;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * Every committed event of an installation's commands and reports topics, per job in offset order (a job's events
 * share one partition), read from the beginning to the end offsets of the moment of the call.
 */
record TopicHistory(Map<String, List<Event>> commands, Map<String, List<Event>> reports, int undecodable) {

    static TopicHistory read(String bootstrap, Topics topics) {
        int[] bad = new int[1];
        Map<String, List<Event>> commands = readTopic(bootstrap, topics.commands(), bad);
        Map<String, List<Event>> reports = readTopic(bootstrap, topics.reports(), bad);
        return new TopicHistory(commands, reports, bad[0]);
    }

    private static Map<String, List<Event>> readTopic(String bootstrap, String topic, int[] bad) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 5000);
        EventCodec codec = new EventCodec();
        Map<String, List<Event>> byJob = new LinkedHashMap<>();
        try (KafkaConsumer<String, byte[]> c = new KafkaConsumer<>(p, new StringDeserializer(),
                new ByteArrayDeserializer())) {
            List<TopicPartition> parts = new ArrayList<>();
            for (PartitionInfo info : c.partitionsFor(topic, Duration.ofSeconds(30))) {
                parts.add(new TopicPartition(topic, info.partition()));
            }
            c.assign(parts);
            c.seekToBeginning(parts);
            Map<TopicPartition, Long> end = c.endOffsets(parts, Duration.ofSeconds(30));
            long deadline = System.nanoTime() + Duration.ofMinutes(5).toNanos();
            while (parts.stream().anyMatch(tp -> c.position(tp) < end.get(tp))) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException(topic + " not read to its end " + end + " within 5 minutes");
                }
                for (ConsumerRecord<String, byte[]> r : c.poll(Duration.ofMillis(200))) {
                    if (codec.decode(r.value() == null ? new byte[0] : r.value()) instanceof Decoded.Accepted a) {
                        byJob.computeIfAbsent(a.event().jobId(), k -> new ArrayList<>()).add(a.event());
                    } else {
                        bad[0]++;
                    }
                }
            }
        }
        return byJob;
    }

    int events() {
        return commands.values().stream().mapToInt(List::size).sum()
                + reports.values().stream().mapToInt(List::size).sum();
    }

    /** Milliseconds from {@code a}'s creation to {@code b}'s. */
    static double between(Event a, Event b) {
        return Duration.between(a.time(), b.time()).toNanos() / 1e6;
    }

    /**
     * The scheduler's reaction times: for each {@code StepCompleted} of step k (not a redelivery), from its creation to
     * the creation of the job's next command, of seq k + 1 ({@code PruneStep} k + 1 or {@code Finalize}).
     */
    Samples reactions() {
        return reactions(report -> true);
    }

    /** {@link #reactions()} to the reports that {@code which} accepts. */
    Samples reactions(Predicate<Event> which) {
        Samples out = new Samples();
        reports.forEach((job, events) -> {
            List<Event> sent = commands.getOrDefault(job, List.of());
            for (Event report : events) {
                if (report.payload() instanceof StepCompleted s && !s.redelivered() && which.test(report)) {
                    sent.stream().filter(c -> c.seq() == s.seq() + 1 && !c.time().isBefore(report.time())).findFirst()
                            .ifPresent(next -> out.add(between(report, next)));
                }
            }
        });
        return out;
    }
}
