package dev.shears.broker;

import org.junit.jupiter.api.DisplayName;
import org.testcontainers.junit.jupiter.Container;
import org.testcontainers.junit.jupiter.Testcontainers;
import org.testcontainers.kafka.KafkaContainer;
import org.testcontainers.utility.DockerImageName;

/**
 * {@link BrokerScenarios} on the {@code apache/kafka} image of the same Kafka version, where Docker exists. Without
 * Docker every test here is reported as skipped, not failed.
 */
@Testcontainers(disabledWithoutDocker = true)
@DisplayName("Broker scenarios on Testcontainers (apache/kafka)")
class KafkaContainerTest extends BrokerScenarios {

    @Container
    static final KafkaContainer KAFKA = new KafkaContainer(
            DockerImageName.parse("apache/kafka:" + EmbeddedKafka.kafkaVersion()));

    @Override
    String bootstrapServers() {
        return KAFKA.getBootstrapServers();
    }
}
