package dev.shears.common.kafka;

import dev.shears.common.events.Topics;
import java.util.Objects;
import java.util.Properties;
import org.apache.kafka.clients.CommonClientConfigs;

/**
 * Where a service finds Kafka: the brokers, the names of the topics, and the client settings the cluster needs. The
 * scheduler and the workers take it alike ({@code --bootstrap}, {@code --topic-prefix}, {@code --kafka-config}).
 *
 * @param bootstrapServers the bootstrap servers, e.g. {@code 127.0.0.1:9092}
 * @param topics the topic names
 * @param client settings added to every client (SASL, TLS, timeouts); {@link KafkaClientConfig#none()} for none
 */
public record KafkaCluster(String bootstrapServers, Topics topics, KafkaClientConfig client) {

    /** @throws IllegalArgumentException when the bootstrap servers are blank, naming the fix */
    public KafkaCluster {
        Objects.requireNonNull(topics, "topics");
        Objects.requireNonNull(client, "client");
        if (bootstrapServers == null || bootstrapServers.isBlank()) {
            throw new IllegalArgumentException("bootstrap servers '" + bootstrapServers + "' are empty (fix: give"
                    + " host:port of a broker, e.g. --bootstrap 127.0.0.1:9092)");
        }
    }

    /** The brokers at {@code bootstrapServers}, topics under {@code shears}, no client settings beyond a service's own. */
    public static KafkaCluster of(String bootstrapServers) {
        return new KafkaCluster(bootstrapServers, Topics.defaults(), KafkaClientConfig.none());
    }

    /** The same brokers and client settings, other topics. */
    public KafkaCluster withTopics(Topics other) {
        return new KafkaCluster(bootstrapServers, other, client);
    }

    /**
     * Completes a client's own settings: adds {@code bootstrap.servers}, then {@link #client()}'s settings over the rest
     * (they cannot touch the reserved ones); returns {@code own}.
     */
    public Properties applyTo(Properties own) {
        own.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        return client.applyTo(own);
    }
}
