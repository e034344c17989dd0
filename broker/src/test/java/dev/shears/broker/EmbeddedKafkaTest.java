package dev.shears.broker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.TopicPartition;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** {@link BrokerScenarios} on the embedded KRaft broker, and what only it can do: stop, kill, restart. */
@DisplayName("Embedded KRaft broker")
class EmbeddedKafkaTest extends BrokerScenarios {

    @RegisterExtension
    static final EmbeddedKafkaExtension broker = new EmbeddedKafkaExtension();

    /** The broker of this class: the extension's, replaced when a test starts a new one on its data directory. */
    static EmbeddedKafka kafka;

    @BeforeAll
    static void startBroker() {
        kafka = broker.broker();
        System.err.printf("Kafka %s broker ready in %d ms%n", EmbeddedKafka.kafkaVersion(),
                kafka.lastStartupTime().toMillis());
    }

    @Override
    String bootstrapServers() {
        return kafka.bootstrapServers();
    }

    @Test
    @DisplayName("listens on 127.0.0.1, formatted in its data directory, logs to a file")
    void layout() {
        assertThat(kafka.bootstrapServers()).isEqualTo("127.0.0.1:" + kafka.port());
        assertThat(kafka.controllerPort()).isNotEqualTo(kafka.port());
        assertThat(kafka.clusterId()).isNotBlank();
        assertThat(broker.dataDir().resolve("kafka-logs/meta.properties")).exists();
        assertThat(kafka.logFile()).exists();
        assertThat(kafka.isRunning()).isTrue();
        assertThat(EmbeddedKafka.kafkaVersion()).startsWith("4.");
    }

    @Test
    @DisplayName("a clean stop and a restart, then a new broker on the same data directory: records, offsets and cluster id kept")
    void stopAndRestart() throws Exception {
        String topic = unique("restart");
        kafka.createTopic(topic, 3);
        Records.produce(kafka.bootstrapServers(), topic, "r", 1000, 11);
        String group = unique("group");
        assertThat(Records.consume(Records.consumerProperties(kafka.bootstrapServers(), group), topic, 1000, TIMEOUT))
                .hasSize(1000);
        String clusterId = kafka.clusterId();

        kafka.stop();
        assertThat(kafka.isRunning()).isFalse();
        kafka.restart();

        assertThat(kafka.clusterId()).isEqualTo(clusterId);
        System.err.printf("restarted (clean stop) in %d ms%n", kafka.lastStartupTime().toMillis());
        List<ConsumerRecord<String, String>> again = Records.consume(
                Records.consumerProperties(kafka.bootstrapServers(), unique("again")), topic, 1000, TIMEOUT);
        assertThat(Records.values(again)).containsExactlyInAnyOrderElementsOf(Records.expectedValues("r", 1000));
        assertThat(committedOffsets(group)).isEqualTo(1000);

        // A new EmbeddedKafka on the used data directory (a launcher run again) keeps its cluster and data.
        kafka = broker.reopen();
        System.err.printf("started again on the used data directory in %d ms%n", kafka.lastStartupTime().toMillis());
        assertThat(kafka.clusterId()).isEqualTo(clusterId);
        assertThat(committedOffsets(group)).isEqualTo(1000);
    }

    private static long committedOffsets(String group) throws Exception {
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", kafka.bootstrapServers()))) {
            Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets(group)
                    .partitionsToOffsetAndMetadata().get();
            return committed.values().stream().mapToLong(OffsetAndMetadata::offset).sum();
        }
    }

    @Test
    @DisplayName("killed (SIGKILL) while an idempotent producer sends, restarted: every record once, none lost")
    void killWhileProducing() throws Exception {
        String topic = unique("kill");
        kafka.createTopic(topic, 3);
        int count = 3000;
        var props = Records.producerProperties(kafka.bootstrapServers());
        props.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 120_000);
        props.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 5_000);
        AtomicInteger acked = new AtomicInteger();
        List<Exception> failures = new CopyOnWriteArrayList<>();
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(props)) {
            Thread sender = new Thread(() -> {
                for (int i = 0; i < count; i++) {
                    producer.send(Records.record(topic, "x", i, 13), (m, e) -> {
                        if (e != null) {
                            failures.add(e);
                        } else {
                            acked.incrementAndGet();
                        }
                    });
                    if (i % 100 == 99) {
                        sleep(20);
                    }
                }
            });
            sender.start();
            Awaitility.await().atMost(TIMEOUT).until(() -> acked.get() >= 500);
            kafka.kill();
            assertThat(kafka.isRunning()).isFalse();
            int ackedWhileUp = acked.get();
            assertThat(ackedWhileUp).as("records acknowledged before the kill").isLessThan(count);
            kafka.restart();
            System.err.printf("restarted (after SIGKILL at %d acknowledged) in %d ms%n", ackedWhileUp,
                    kafka.lastStartupTime().toMillis());
            sender.join(TIMEOUT.toMillis());
            producer.flush();
        }
        assertThat(failures).isEmpty();
        assertThat(acked.get()).isEqualTo(count);

        List<ConsumerRecord<String, String>> got = Records.consume(
                Records.consumerProperties(kafka.bootstrapServers(), unique("group")), topic, count, TIMEOUT);
        assertThat(Records.values(got)).containsExactlyInAnyOrderElementsOf(Records.expectedValues("x", count));
        Records.assertOrderedPerKey(got);
    }

    @Test
    @DisplayName("a port in use is refused at once, before any broker is launched")
    void portInUse(@TempDir Path otherDir) throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            EmbeddedKafka.Options options = EmbeddedKafka.Options.defaults().withPort(taken.getLocalPort());
            assertThatThrownBy(() -> EmbeddedKafka.start(otherDir, options))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("port 127.0.0.1:" + taken.getLocalPort() + " is in use");
        }
        assertThat(otherDir.resolve("broker.log")).doesNotExist();
    }

    @Test
    @DisplayName("a broker that exits during start-up fails with its log: the error first")
    void startupFailureShowsTheLog(@TempDir Path otherDir) {
        EmbeddedKafka.Options options = EmbeddedKafka.Options.defaults()
                .withBrokerProperty("num.io.threads", "0");
        assertThatThrownBy(() -> EmbeddedKafka.start(otherDir, options))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("exited during start-up")
                .hasMessageContaining(otherDir.resolve("broker.log").toString())
                .hasMessageContaining("num.io.threads");
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
