package dev.shears.broker;

import dev.shears.common.kafka.KafkaTopics;
import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.UUID;

import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.IsolationLevel;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * What the pipeline needs from a broker, run against each kind of broker it meets: the embedded KRaft broker
 * ({@link EmbeddedKafkaTest}) and, where Docker exists, the {@code apache/kafka} image ({@link KafkaContainerTest}).
 */
abstract class BrokerScenarios {

    static final Duration TIMEOUT = Duration.ofSeconds(30);

    /** The broker under test, running. */
    abstract String bootstrapServers();

    static String unique(String name) {
        return name + "-" + UUID.randomUUID().toString().substring(0, 8);
    }

    @Test
    @DisplayName("1,000 keyed records from an idempotent producer reach a consumer group (read_committed), none lost, in order per key")
    void idempotentProducerToConsumerGroup() throws Exception {
        String topic = unique("scenario");
        KafkaTopics.create(bootstrapServers(), List.of(new NewTopic(topic, 3, (short) 1)), TIMEOUT);

        Records.produce(bootstrapServers(), topic, "v", 1000, 37);
        List<ConsumerRecord<String, String>> got = Records.consume(
                Records.consumerProperties(bootstrapServers(), unique("group")), topic, 1000, TIMEOUT);

        assertThat(Records.values(got)).containsExactlyInAnyOrderElementsOf(Records.expectedValues("v", 1000));
        assertThat(got).extracting(ConsumerRecord::partition).containsOnly(0, 1, 2);
        Records.assertOrderedPerKey(got);
    }

    @Test
    @DisplayName("transactions: committed records are read, aborted ones are invisible to read_committed")
    void transactionsCommitAndAbort() throws Exception {
        String topic = unique("tx");
        KafkaTopics.create(bootstrapServers(), List.of(new NewTopic(topic, 3, (short) 1)), TIMEOUT);

        Properties p = Records.producerProperties(bootstrapServers());
        p.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, unique("tx-producer"));
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(p)) {
            producer.initTransactions();
            producer.beginTransaction();
            for (int i = 0; i < 20; i++) {
                producer.send(Records.record(topic, "committed", i, 5));
            }
            producer.commitTransaction();

            producer.beginTransaction();
            for (int i = 0; i < 20; i++) {
                producer.send(Records.record(topic, "aborted", i, 5));
            }
            producer.flush();
            producer.abortTransaction();

            producer.beginTransaction();
            for (int i = 20; i < 30; i++) {
                producer.send(Records.record(topic, "committed", i, 5));
            }
            producer.commitTransaction();
        }

        List<ConsumerRecord<String, String>> committed = Records.consume(
                Records.consumerProperties(bootstrapServers(), unique("rc")), topic, 30, TIMEOUT);
        assertThat(Records.values(committed))
                .containsExactlyInAnyOrderElementsOf(Records.expectedValues("committed", 30));

        // The aborted records are in the log: read_uncommitted sees them.
        Properties uncommitted = Records.consumerProperties(bootstrapServers(), unique("ru"));
        uncommitted.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, IsolationLevel.READ_UNCOMMITTED.toString());
        List<ConsumerRecord<String, String>> all = Records.consume(uncommitted, topic, 50, TIMEOUT);
        List<String> expected = new ArrayList<>(Records.expectedValues("committed", 30));
        expected.addAll(Records.expectedValues("aborted", 20));
        assertThat(Records.values(all)).containsExactlyInAnyOrderElementsOf(expected);
    }
}
