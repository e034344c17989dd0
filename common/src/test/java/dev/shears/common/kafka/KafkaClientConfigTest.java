package dev.shears.common.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class KafkaClientConfigTest {
    @TempDir
    Path dir;

    @Test
    void readsAPropertiesFileAndAddsItsEntriesOverAClientsOwn() throws Exception {
        Path file = dir.resolve("kafka.properties");
        Files.writeString(file, """
                # TLS and SASL
                security.protocol = SASL_SSL
                sasl.mechanism=SCRAM-SHA-512
                ssl.truststore.location=/etc/shears/truststore.p12
                request.timeout.ms=45000
                """);
        KafkaClientConfig config = KafkaClientConfig.load(file);
        Properties client = new Properties();
        client.put("request.timeout.ms", "30000");
        client.put("bootstrap.servers", "127.0.0.1:9092");
        config.applyTo(client);
        assertThat(client).containsEntry("security.protocol", "SASL_SSL")
                .containsEntry("sasl.mechanism", "SCRAM-SHA-512")
                .containsEntry("ssl.truststore.location", "/etc/shears/truststore.p12")
                .containsEntry("request.timeout.ms", "45000").containsEntry("bootstrap.servers", "127.0.0.1:9092");
    }

    @ParameterizedTest
    @ValueSource(strings = {"enable.idempotence", "acks", "isolation.level", "enable.auto.commit", "transactional.id",
            "group.id", "bootstrap.servers", "value.deserializer"})
    void refusesTheSettingsTheExactlyOnceContractRestsOn(String key) throws Exception {
        Path file = dir.resolve("kafka.properties");
        Files.writeString(file, key + "=x\n");
        assertThatThrownBy(() -> KafkaClientConfig.load(file)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(file.toString()).hasMessageContaining(key).hasMessageContaining("fix:");
    }

    @Test
    void aMissingFileIsNamedWithTheFix() {
        Path file = dir.resolve("absent.properties");
        assertThatThrownBy(() -> KafkaClientConfig.load(file)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(file.toString()).hasMessageContaining("fix:");
    }

    @Test
    void showsNamesButNeverValues() {
        KafkaClientConfig config = KafkaClientConfig.of(Map.of("sasl.jaas.config", "password=\"s3cret\""));
        assertThat(config.toString()).contains("sasl.jaas.config").doesNotContain("s3cret");
    }
}
