package dev.shears.scheduler;

import dev.shears.common.events.Topics;
import dev.shears.common.kafka.KafkaClientConfig;
import java.time.Duration;
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
 * @param stallTimeout how long a job's pending command may go without a report (JobProgress of its seq,
 *     StepCompleted, JobFailed, JobResumed) before the scheduler sends it again or fails the job; zero: never
 * @param stallResends how often a stalled command is sent again (same key) before the job fails, in [0, 100]
 * @param retainEnded how long an ended job (published, failed, cancelled) is kept before it is forgotten; zero:
 *     until deleted
 * @param httpTimeout how long one HTTP exchange may take to read its request and write its answer (the wait for
 *     the engine aside), at least 1 s
 */
public record SchedulerConfig(String bootstrapServers, String httpHost, int httpPort, Topics topics, int partitions,
        String transactionalId, KafkaClientConfig kafka, ApiToken token, Duration stallTimeout, int stallResends,
        Duration retainEnded, Duration httpTimeout) {

    public static final String DEFAULT_HOST = "127.0.0.1";
    public static final int DEFAULT_PORT = 8080;
    public static final int DEFAULT_PARTITIONS = 6;
    public static final String DEFAULT_TRANSACTIONAL_ID = "shears-scheduler";
    /** The consumer group that reads the reports. */
    public static final String GROUP = "shears-scheduler";
    /**
     * Above a step's usual length and the wait of a job queued behind others on a worker (a worker trains one step
     * at a time, and reports nothing for the jobs it has not reached).
     */
    public static final Duration DEFAULT_STALL_TIMEOUT = Duration.ofHours(1);
    public static final int DEFAULT_STALL_RESENDS = 2;
    public static final Duration DEFAULT_RETAIN_ENDED = Duration.ofDays(7);
    public static final Duration DEFAULT_HTTP_TIMEOUT = Duration.ofSeconds(30);

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
        if (stallTimeout == null || stallTimeout.isNegative()) {
            throw new IllegalArgumentException("stall timeout " + stallTimeout + " is negative (fix: e.g."
                    + " --stall-timeout 1h, or 0 to never act on a stall)");
        }
        if (stallResends < 0 || stallResends > 100) {
            throw new IllegalArgumentException("stall resends " + stallResends + " is out of range: must be in"
                    + " [0, 100] (fix: e.g. --stall-resends " + DEFAULT_STALL_RESENDS + ")");
        }
        if (retainEnded == null || retainEnded.isNegative()) {
            throw new IllegalArgumentException("retention of ended jobs " + retainEnded + " is negative (fix: e.g."
                    + " --retain-ended 7d, or 0 to keep them until deleted)");
        }
        if (httpTimeout == null || httpTimeout.compareTo(Duration.ofSeconds(1)) < 0) {
            throw new IllegalArgumentException("HTTP timeout " + httpTimeout + " is under 1 s (fix: e.g."
                    + " --http-timeout 30s)");
        }
    }

    /**
     * The defaults on {@code bootstrapServers}: 127.0.0.1:8080, prefix {@code shears}, 6 partitions, stalls acted on
     * after an hour (2 resends, so a job fails after 3 hours of silence), ended jobs kept 7 days, HTTP exchanges of at
     * most 30 s.
     */
    public static SchedulerConfig of(String bootstrapServers) {
        return new SchedulerConfig(bootstrapServers, DEFAULT_HOST, DEFAULT_PORT, Topics.defaults(), DEFAULT_PARTITIONS,
                DEFAULT_TRANSACTIONAL_ID, KafkaClientConfig.none(), null, DEFAULT_STALL_TIMEOUT, DEFAULT_STALL_RESENDS,
                DEFAULT_RETAIN_ENDED, DEFAULT_HTTP_TIMEOUT);
    }

    public SchedulerConfig withHttp(String host, int port) {
        return toBuilder().http(host, port).build();
    }

    public SchedulerConfig withTopics(Topics topics) {
        return toBuilder().topics(topics).build();
    }

    public SchedulerConfig withPartitions(int partitions) {
        return toBuilder().partitions(partitions).build();
    }

    public SchedulerConfig withKafka(KafkaClientConfig kafka) {
        return toBuilder().kafka(kafka).build();
    }

    /** With the HTTP API's bearer token; null for none. */
    public SchedulerConfig withToken(ApiToken token) {
        return toBuilder().token(token).build();
    }

    public SchedulerConfig withTransactionalId(String transactionalId) {
        return toBuilder().transactionalId(transactionalId).build();
    }

    /** With the stall timeout (zero: never act on a stall) and the resends before a stalled job fails. */
    public SchedulerConfig withStall(Duration timeout, int resends) {
        return toBuilder().stall(timeout, resends).build();
    }

    /** With the retention of ended jobs (zero: until deleted). */
    public SchedulerConfig withRetainEnded(Duration retainEnded) {
        return toBuilder().retainEnded(retainEnded).build();
    }

    private Builder toBuilder() {
        return new Builder(this);
    }

    /** This configuration's values, some changed; {@link #build()} checks them again. */
    private static final class Builder {
        private String bootstrapServers;
        private String httpHost;
        private int httpPort;
        private Topics topics;
        private int partitions;
        private String transactionalId;
        private KafkaClientConfig kafka;
        private ApiToken token;
        private Duration stallTimeout;
        private int stallResends;
        private Duration retainEnded;
        private Duration httpTimeout;

        private Builder(SchedulerConfig c) {
            bootstrapServers = c.bootstrapServers;
            httpHost = c.httpHost;
            httpPort = c.httpPort;
            topics = c.topics;
            partitions = c.partitions;
            transactionalId = c.transactionalId;
            kafka = c.kafka;
            token = c.token;
            stallTimeout = c.stallTimeout;
            stallResends = c.stallResends;
            retainEnded = c.retainEnded;
            httpTimeout = c.httpTimeout;
        }

        Builder http(String host, int port) {
            httpHost = host;
            httpPort = port;
            return this;
        }

        Builder topics(Topics value) {
            topics = value;
            return this;
        }

        Builder partitions(int value) {
            partitions = value;
            return this;
        }

        Builder transactionalId(String value) {
            transactionalId = value;
            return this;
        }

        Builder kafka(KafkaClientConfig value) {
            kafka = value;
            return this;
        }

        Builder token(ApiToken value) {
            token = value;
            return this;
        }

        Builder stall(Duration timeout, int resends) {
            stallTimeout = timeout;
            stallResends = resends;
            return this;
        }

        Builder retainEnded(Duration value) {
            retainEnded = value;
            return this;
        }

        SchedulerConfig build() {
            return new SchedulerConfig(bootstrapServers, httpHost, httpPort, topics, partitions, transactionalId, kafka,
                    token, stallTimeout, stallResends, retainEnded, httpTimeout);
        }
    }

    /** Whether the HTTP API binds a loopback address only. */
    public boolean loopbackOnly() {
        try {
            return java.net.InetAddress.getByName(httpHost).isLoopbackAddress();
        } catch (java.net.UnknownHostException e) {
            return false;
        }
    }
}
