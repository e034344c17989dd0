package dev.shears.scheduler;

import static org.assertj.core.api.Assertions.assertThat;

import dev.shears.common.events.Topics;
import dev.shears.common.kafka.KafkaClientConfig;
import dev.shears.common.kafka.KafkaCluster;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.Test;

/** The settings of {@code --kafka-config} reach every client the scheduler creates, and change none of its own. */
class KafkaSettingsTest {
    @Test
    void everyClientGetsTheKafkaConfigAndKeepsItsGuarantees() {
        SchedulerConfig config = SchedulerConfig.of(new KafkaCluster("127.0.0.1:9092", Topics.defaults(),
                KafkaClientConfig.of(Map.of("security.protocol", "SASL_SSL", "sasl.mechanism", "PLAIN",
                        "ssl.truststore.location", "/etc/t.p12"))));
        List<Properties> clients = List.of(Engine.adminProperties(config), Engine.producerProperties(config),
                Engine.consumerProperties(config, SchedulerConfig.GROUP), Engine.consumerProperties(config, null));
        for (Properties p : clients) {
            assertThat(p).containsEntry("security.protocol", "SASL_SSL").containsEntry("sasl.mechanism", "PLAIN")
                    .containsEntry("ssl.truststore.location", "/etc/t.p12")
                    .containsEntry("bootstrap.servers", "127.0.0.1:9092");
        }
        assertThat(clients.get(1)).containsEntry("enable.idempotence", true).containsEntry("acks", "all")
                .containsEntry("transactional.id", SchedulerConfig.DEFAULT_TRANSACTIONAL_ID);
        assertThat(clients.get(2)).containsEntry("isolation.level", "read_committed")
                .containsEntry("enable.auto.commit", false);
    }

    @Test
    void withoutAKafkaConfigTheClientsArePlaintextAsBefore() {
        SchedulerConfig config = SchedulerConfig.of("127.0.0.1:9092");
        assertThat(Engine.producerProperties(config)).doesNotContainKey("security.protocol");
        assertThat(Engine.adminProperties(config)).doesNotContainKey("security.protocol");
    }
}
