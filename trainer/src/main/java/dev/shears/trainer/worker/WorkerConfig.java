package dev.shears.trainer.worker;

import dev.shears.common.kafka.KafkaCluster;
import dev.shears.trainer.data.DataConfig;
import java.net.InetAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.CooperativeStickyAssignor;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * How a {@link Worker} runs.
 *
 * @param workerId the id in reports and metrics: {@code [A-Za-z0-9][A-Za-z0-9._:@+-]{0,127}}; see
 *     {@link #defaultWorkerId()}
 * @param workDir the directory shared by all workers; each job lives in {@code jobs/<jobId>/} under it
 * @param cluster the brokers, the topics, and the client settings (SASL, TLS, timeouts) of the consumer and the
 *     producer; the settings the exactly-once contract rests on are refused when those are made
 * @param group the consumer group the workers share ({@value #DEFAULT_GROUP} by default); workers of one group share
 *     the partitions
 * @param pacing how the worker's group membership, shutdown, progress reports and fetches are timed
 * @param data where recipes' data sets and saved models are found, and the memory budgets of data sets and job sessions
 */
public record WorkerConfig(String workerId, Path workDir, KafkaCluster cluster, String group, Pacing pacing,
        DataConfig data) {

    /** The consumer group workers share by default. */
    public static final String DEFAULT_GROUP = "shears-workers";

    /** @throws IllegalArgumentException when a value is out of range, naming it and the fix */
    public WorkerConfig {
        Objects.requireNonNull(workDir, "workDir");
        Objects.requireNonNull(cluster, "cluster");
        Objects.requireNonNull(pacing, "pacing");
        Objects.requireNonNull(data, "data");
        if (workerId == null || !workerId.matches("[A-Za-z0-9][A-Za-z0-9._:@+-]{0,127}")) {
            throw new IllegalArgumentException("worker id '" + workerId + "' is not valid: must match"
                    + " [A-Za-z0-9][A-Za-z0-9._:@+-]{0,127} (fix: e.g. trainer-0)");
        }
        if (group == null || group.isBlank()) {
            throw new IllegalArgumentException("group '" + group + "' is empty (fix: e.g. " + DEFAULT_GROUP + ")");
        }
    }

    /**
     * How a worker is timed.
     *
     * @param sessionTimeout how long the group waits for a silent worker before giving its partitions to others
     * @param grace how long {@link Worker#close()} lets a running step finish; zero or more
     * @param progressInterval how often a running step reports its progress
     * @param maxPollRecords records fetched per poll, and waiting per partition before it is paused; at least 1
     */
    public record Pacing(Duration sessionTimeout, Duration grace, Duration progressInterval, int maxPollRecords) {
        /** Session timeout 10 s, grace 30 s, progress every 2 s, 10 records per poll. */
        public static final Pacing DEFAULT = new Pacing(Duration.ofSeconds(10), Duration.ofSeconds(30),
                Duration.ofSeconds(2), 10);

        /** @throws IllegalArgumentException when a value is out of range, naming it and the fix */
        public Pacing {
            positive("session timeout", sessionTimeout);
            positive("progress interval", progressInterval);
            if (grace == null || grace.isNegative()) {
                throw new IllegalArgumentException("grace " + grace + " is negative (fix: 0 or more seconds)");
            }
            if (maxPollRecords < 1) {
                throw new IllegalArgumentException("max poll records " + maxPollRecords + " is below 1 (fix: e.g. 10)");
            }
        }

        /** With another session timeout; positive. */
        public Pacing withSessionTimeout(Duration timeout) {
            return new Pacing(timeout, grace, progressInterval, maxPollRecords);
        }

        /** With another grace period for {@link Worker#close()}; zero or more. */
        public Pacing withGrace(Duration period) {
            return new Pacing(sessionTimeout, period, progressInterval, maxPollRecords);
        }

        /** With another interval between progress reports; positive. */
        public Pacing withProgressInterval(Duration interval) {
            return new Pacing(sessionTimeout, grace, interval, maxPollRecords);
        }

        private static void positive(String what, Duration d) {
            if (d == null || d.isNegative() || d.isZero()) {
                throw new IllegalArgumentException(what + " " + d + " is not positive (fix: e.g. 10 s)");
            }
        }
    }

    /** {@code <host>-<pid>}: unique among the workers of one machine. */
    public static String defaultWorkerId() {
        String host;
        try {
            host = InetAddress.getLocalHost().getHostName();
        } catch (java.io.IOException e) {
            host = "worker";
        }
        String id = (host + "-" + ProcessHandle.current().pid()).replaceAll("[^A-Za-z0-9._:@+-]", "-");
        return id.length() > 128 ? id.substring(id.length() - 128) : id;
    }

    /** The consumer's settings: the worker's own, then those of {@link #cluster()}. */
    Properties consumerProperties() {
        Properties p = new Properties();
        p.put(ConsumerConfig.GROUP_ID_CONFIG, group);
        p.put(ConsumerConfig.CLIENT_ID_CONFIG, "shears-worker-" + workerId);
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, pacing.maxPollRecords());
        // Only the partitions that move are revoked: a worker joining does not stop every running step.
        p.put(ConsumerConfig.PARTITION_ASSIGNMENT_STRATEGY_CONFIG, CooperativeStickyAssignor.class.getName());
        p.put(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, (int) pacing.sessionTimeout().toMillis());
        p.put(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, (int) Math.max(100, pacing.sessionTimeout().toMillis() / 3));
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        return cluster.applyTo(p);
    }

    /** The producer's settings: the worker's own, then those of {@link #cluster()}. */
    Properties producerProperties() {
        Properties p = new Properties();
        p.put(ProducerConfig.CLIENT_ID_CONFIG, "shears-worker-" + workerId + "-reports");
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        return cluster.applyTo(p);
    }
}
