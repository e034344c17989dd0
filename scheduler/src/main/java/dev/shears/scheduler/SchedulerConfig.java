package dev.shears.scheduler;

import dev.shears.common.events.Topics;
import dev.shears.common.kafka.KafkaClientConfig;
import java.util.Objects;

/**
 * How a {@link SchedulerService} runs.
 *
 * @param bootstrapServers Kafka's bootstrap servers, e.g. {@code 127.0.0.1:9092}
 * @param httpHost the address the HTTP API binds, e.g. {@code 127.0.0.1}
 * @param httpPort the HTTP port, 0 for a free one, at most 65535
 * @param topics the topic names
 * @param partitions partitions of the commands and reports topics when the scheduler creates them, in [1, 10000]
 * @param transactionalId the producer's {@code transactional.id}: keep it stable, so a restarted scheduler
 *     fences the one it replaces
 * @param kafka settings added to every Kafka client (SASL, TLS); {@link KafkaClientConfig#none()} for none
 * @param token the HTTP API's bearer token, or null for an API without one (then bind it to loopback only)
 */
public record SchedulerConfig(String bootstrapServers, String httpHost, int httpPort, Topics topics, int partitions,
        String transactionalId, KafkaClientConfig kafka, ApiToken token) {

    public static final String DEFAULT_HOST = "127.0.0.1";
    public static final int DEFAULT_PORT = 8080;
    public static final int DEFAULT_PARTITIONS = 6;
    public static final String DEFAULT_TRANSACTIONAL_ID = "shears-scheduler";
    /** The consumer group that reads the reports. */
    public static final String GROUP = "shears-scheduler";

    /** @throws IllegalArgumentException when a value is out of range, naming it and the fix */
    public SchedulerConfig {
        Objects.requireNonNull(topics, "topics");
        Objects.requireNonNull(kafka, "kafka");
        if (bootstrapServers == null || bootstrapServers.isBlank()) {
            throw new IllegalArgumentException("bootstrap servers are missing (fix: --bootstrap 127.0.0.1:9092)");
        }
        if (httpHost == null || httpHost.isBlank()) {
            throw new IllegalArgumentException("HTTP host is blank (fix: --http-host 127.0.0.1, or 0.0.0.0 for all)");
        }
        if (httpPort < 0 || httpPort > 65535) {
            throw new IllegalArgumentException("HTTP port " + httpPort + " is out of range: must be in [0, 65535]"
                    + " (fix: e.g. --http-port 8080, or 0 for a free port)");
        }
        if (partitions < 1 || partitions > 10_000) {
            throw new IllegalArgumentException("partitions " + partitions + " is out of range: must be in [1, 10000]"
                    + " (fix: e.g. --partitions 6, at least the number of workers)");
        }
        if (transactionalId == null || transactionalId.isBlank()) {
            throw new IllegalArgumentException("transactional id is blank (fix: --transactional-id "
                    + DEFAULT_TRANSACTIONAL_ID + ")");
        }
    }

    /** The defaults on {@code bootstrapServers}: 127.0.0.1:8080, prefix {@code shears}, 6 partitions. */
    public static SchedulerConfig of(String bootstrapServers) {
        return new SchedulerConfig(bootstrapServers, DEFAULT_HOST, DEFAULT_PORT, Topics.defaults(), DEFAULT_PARTITIONS,
                DEFAULT_TRANSACTIONAL_ID, KafkaClientConfig.none(), null);
    }

    public SchedulerConfig withHttp(String host, int port) {
        return new SchedulerConfig(bootstrapServers, host, port, topics, partitions, transactionalId, kafka, token);
    }

    public SchedulerConfig withTopics(Topics topics) {
        return new SchedulerConfig(bootstrapServers, httpHost, httpPort, topics, partitions, transactionalId, kafka, token);
    }

    public SchedulerConfig withPartitions(int partitions) {
        return new SchedulerConfig(bootstrapServers, httpHost, httpPort, topics, partitions, transactionalId, kafka, token);
    }

    public SchedulerConfig withKafka(KafkaClientConfig kafka) {
        return new SchedulerConfig(bootstrapServers, httpHost, httpPort, topics, partitions, transactionalId, kafka, token);
    }

    /** With the HTTP API's bearer token; null for none. */
    public SchedulerConfig withToken(ApiToken token) {
        return new SchedulerConfig(bootstrapServers, httpHost, httpPort, topics, partitions, transactionalId, kafka, token);
    }

    /** Whether the HTTP API binds a loopback address only. */
    public boolean loopbackOnly() {
        try {
            return java.net.InetAddress.getByName(httpHost).isLoopbackAddress();
        } catch (java.net.UnknownHostException e) {
            return false;
        }
    }

    public SchedulerConfig withTransactionalId(String transactionalId) {
        return new SchedulerConfig(bootstrapServers, httpHost, httpPort, topics, partitions, transactionalId, kafka, token);
    }
}
