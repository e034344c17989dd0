package dev.shears.common.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.shears.common.events.Topics;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.Test;

class KafkaClusterTest {

    @Test
    void aClientGetsTheBrokersAndTheClusterSettingsOverItsOwn() {
        KafkaCluster cluster = new KafkaCluster("broker-1:9093", new Topics("team-a"),
                KafkaClientConfig.of(Map.of("security.protocol", "SSL", "client.id", "from-file")));
        Properties own = new Properties();
        own.put("client.id", "shears-worker-1");
        own.put("acks", "all");

        Properties p = cluster.applyTo(own);

        assertThat(p).isSameAs(own).containsEntry("bootstrap.servers", "broker-1:9093")
                .containsEntry("security.protocol", "SSL").containsEntry("client.id", "from-file")
                .containsEntry("acks", "all");
    }

    @Test
    void otherTopicsKeepTheBrokersAndTheSettings() {
        KafkaCluster cluster = KafkaCluster.of("127.0.0.1:9092");

        KafkaCluster moved = cluster.withTopics(new Topics("bench"));

        assertThat(moved.topics().commands()).isEqualTo("bench.commands");
        assertThat(moved.bootstrapServers()).isEqualTo("127.0.0.1:9092");
        assertThat(moved.client()).isSameAs(KafkaClientConfig.none());
        assertThat(cluster.topics()).isEqualTo(Topics.defaults());
    }

    @Test
    void blankBootstrapServersAreRefusedWithTheFix() {
        assertThatThrownBy(() -> KafkaCluster.of(" ")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("bootstrap servers ' ' are empty").hasMessageContaining("--bootstrap");
    }
}
