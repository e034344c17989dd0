package dev.shears.scheduler;

import dev.shears.common.events.Topics;
import dev.shears.common.kafka.KafkaCluster;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.Objects;

/**
 * How a {@link SchedulerService} runs.
 *
 * @param cluster the brokers, the topic names, and the settings added to every Kafka client (SASL, TLS)
 * @param partitions partitions of the commands and reports topics when the scheduler creates them, in [1, 10000]
 * @param transactionalId the producer's {@code transactional.id}: keep it stable, so a restarted scheduler
 *     fences the one it replaces
 * @param http how the HTTP API is served
 * @param stallTimeout how long a job's pending command may go without a report (JobProgress of its seq,
 *     StepCompleted, JobFailed, JobResumed) before the scheduler sends it again or fails the job; zero: never
 * @param stallResends how often a stalled command is sent again (same key) before the job fails, in [0, 100]
 * @param retainEnded how long an ended job (published, failed, cancelled) is kept before it is forgotten; zero:
 *     until deleted
 */
public record SchedulerConfig(KafkaCluster cluster, int partitions, String transactionalId, Http http,
        Duration stallTimeout, int stallResends, Duration retainEnded) {

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
        Objects.requireNonNull(cluster, "cluster");
        Objects.requireNonNull(http, "http");
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
    }

    /**
     * How the HTTP API is served.
     *
     * @param host the address the API binds, e.g. {@code 127.0.0.1}
     * @param port the port, 0 for a free one, at most 65535
     * @param token the bearer token, or null for an API without one (then bind it to loopback only)
     * @param timeout how long one exchange may take to read its request and write its answer (the wait for the engine
     *     aside), at least 1 s
     */
    public record Http(String host, int port, ApiToken token, Duration timeout) {
        /** @throws IllegalArgumentException when a value is out of range, naming it and the fix */
        public Http {
            if (host == null || host.isBlank()) {
                throw new IllegalArgumentException("HTTP host is blank (fix: --http-host 127.0.0.1, or 0.0.0.0 for"
                        + " all)");
            }
            if (port < 0 || port > 65535) {
                throw new IllegalArgumentException("HTTP port " + port + " is out of range: must be in [0, 65535]"
                        + " (fix: e.g. --http-port 8080, or 0 for a free port)");
            }
            if (timeout == null || timeout.compareTo(Duration.ofSeconds(1)) < 0) {
                throw new IllegalArgumentException("HTTP timeout " + timeout + " is under 1 s (fix: e.g."
                        + " --http-timeout 30s)");
            }
        }

        /** Whether the API binds a loopback address only. */
        public boolean loopbackOnly() {
            try {
                return InetAddress.getByName(host).isLoopbackAddress();
            } catch (UnknownHostException e) {
                return false;
            }
        }
    }

    /**
     * The defaults on {@code bootstrapServers}: 127.0.0.1:8080, prefix {@code shears}, 6 partitions, stalls acted on
     * after an hour (2 resends, so a job fails after 3 hours of silence), ended jobs kept 7 days, HTTP exchanges of at
     * most 30 s.
     */
    public static SchedulerConfig of(String bootstrapServers) {
        return of(KafkaCluster.of(bootstrapServers));
    }

    /** The defaults of {@link #of(String)} on this cluster. */
    public static SchedulerConfig of(KafkaCluster cluster) {
        return new SchedulerConfig(cluster, DEFAULT_PARTITIONS, DEFAULT_TRANSACTIONAL_ID,
                new Http(DEFAULT_HOST, DEFAULT_PORT, null, DEFAULT_HTTP_TIMEOUT), DEFAULT_STALL_TIMEOUT,
                DEFAULT_STALL_RESENDS, DEFAULT_RETAIN_ENDED);
    }

    /** With the HTTP API on another address and port. */
    public SchedulerConfig withHttp(String host, int port) {
        return new SchedulerConfig(cluster, partitions, transactionalId, new Http(host, port, http.token, http.timeout),
                stallTimeout, stallResends, retainEnded);
    }

    /** With the HTTP API's bearer token; null for none. */
    public SchedulerConfig withToken(ApiToken token) {
        return new SchedulerConfig(cluster, partitions, transactionalId, new Http(http.host, http.port, token,
                http.timeout), stallTimeout, stallResends, retainEnded);
    }

    /** With other topic names on the same brokers. */
    public SchedulerConfig withTopics(Topics topics) {
        return new SchedulerConfig(cluster.withTopics(topics), partitions, transactionalId, http, stallTimeout,
                stallResends, retainEnded);
    }

    /** With the partitions of the topics it creates. */
    public SchedulerConfig withPartitions(int count) {
        return new SchedulerConfig(cluster, count, transactionalId, http, stallTimeout, stallResends, retainEnded);
    }

    /** With another {@code transactional.id}. */
    public SchedulerConfig withTransactionalId(String id) {
        return new SchedulerConfig(cluster, partitions, id, http, stallTimeout, stallResends, retainEnded);
    }

    /** With the stall timeout (zero: never act on a stall) and the resends before a stalled job fails. */
    public SchedulerConfig withStall(Duration timeout, int resends) {
        return new SchedulerConfig(cluster, partitions, transactionalId, http, timeout, resends, retainEnded);
    }

    /** With the retention of ended jobs (zero: until deleted). */
    public SchedulerConfig withRetainEnded(Duration retention) {
        return new SchedulerConfig(cluster, partitions, transactionalId, http, stallTimeout, stallResends, retention);
    }
}
