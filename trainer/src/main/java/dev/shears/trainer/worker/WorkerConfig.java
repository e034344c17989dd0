package dev.shears.trainer.worker;

import dev.shears.common.events.Topics;
import dev.shears.common.kafka.KafkaClientConfig;
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
 * @param bootstrapServers Kafka's bootstrap servers, e.g. {@code 127.0.0.1:9092}
 * @param workerId the id in reports and metrics: {@code [A-Za-z0-9][A-Za-z0-9._:@+-]{0,127}}
 * @param workDir the directory shared by all workers; each job lives in {@code jobs/<jobId>/} under it
 * @param topics the topic names
 * @param group the consumer group the workers share
 * @param sessionTimeout how long the group waits for a silent worker before giving its partitions to others
 * @param grace how long {@link Worker#close()} lets a running step finish; zero or more
 * @param progressInterval how often a running step reports its progress
 * @param maxPollRecords records fetched per poll, and waiting per partition before it is paused; at least 1
 * @param kafka settings added to the consumer and the producer (SASL, TLS, timeouts); {@link KafkaClientConfig#none()}
 *     for none
 * @param data where recipes' data sets and saved models are found, and the memory budgets of data sets and job sessions
 */
public record WorkerConfig(String bootstrapServers, String workerId, Path workDir, Topics topics, String group,
        Duration sessionTimeout, Duration grace, Duration progressInterval, int maxPollRecords,
        KafkaClientConfig kafka, DataConfig data) {

    /** The consumer group workers share by default. */
    public static final String DEFAULT_GROUP = "shears-workers";

    /** @throws IllegalArgumentException when a value is out of range, naming it and the fix */
    public WorkerConfig {
        Objects.requireNonNull(workDir, "workDir");
        Objects.requireNonNull(topics, "topics");
        Objects.requireNonNull(kafka, "kafka");
        Objects.requireNonNull(data, "data");
        if (bootstrapServers == null || bootstrapServers.isBlank()) {
            throw new IllegalArgumentException("bootstrap servers '" + bootstrapServers + "' are empty (fix: give"
                    + " host:port of a broker, e.g. 127.0.0.1:9092)");
        }
        if (workerId == null || !workerId.matches("[A-Za-z0-9][A-Za-z0-9._:@+-]{0,127}")) {
            throw new IllegalArgumentException("worker id '" + workerId + "' is not valid: must match"
                    + " [A-Za-z0-9][A-Za-z0-9._:@+-]{0,127} (fix: e.g. trainer-0)");
        }
        if (group == null || group.isBlank()) {
            throw new IllegalArgumentException("group '" + group + "' is empty (fix: e.g. " + DEFAULT_GROUP + ")");
        }
        positive("session timeout", sessionTimeout);
        positive("progress interval", progressInterval);
        if (grace == null || grace.isNegative()) {
            throw new IllegalArgumentException("grace " + grace + " is negative (fix: 0 or more seconds)");
        }
        if (maxPollRecords < 1) {
            throw new IllegalArgumentException("max poll records " + maxPollRecords + " is below 1 (fix: e.g. 10)");
        }
    }

    /**
     * The defaults on {@code bootstrapServers}: id {@link #defaultWorkerId()}, work directory {@code runs/work}, topics
     * under {@code shears}, group {@value #DEFAULT_GROUP}, session timeout 10 s, grace 30 s, progress every 2 s, 10
     * records per poll, no Kafka settings beyond the worker's own, {@link DataConfig#defaults()}.
     */
    public static WorkerConfig of(String bootstrapServers) {
        return new WorkerConfig(bootstrapServers, defaultWorkerId(), Path.of("runs", "work"), Topics.defaults(),
                DEFAULT_GROUP, Duration.ofSeconds(10), Duration.ofSeconds(30), Duration.ofSeconds(2), 10,
                KafkaClientConfig.none(), DataConfig.defaults());
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

    /** With another id in reports and metrics; see {@link #workerId()}. */
    public WorkerConfig withWorkerId(String workerId) {
        return new WorkerConfig(bootstrapServers, workerId, workDir, topics, group, sessionTimeout, grace,
                progressInterval, maxPollRecords, kafka, data);
    }

    /** With another work directory, the one every worker of the group shares. */
    public WorkerConfig withWorkDir(Path workDir) {
        return new WorkerConfig(bootstrapServers, workerId, workDir, topics, group, sessionTimeout, grace,
                progressInterval, maxPollRecords, kafka, data);
    }

    /** With other topic names. */
    public WorkerConfig withTopics(Topics topics) {
        return new WorkerConfig(bootstrapServers, workerId, workDir, topics, group, sessionTimeout, grace,
                progressInterval, maxPollRecords, kafka, data);
    }

    /** With another consumer group: workers of one group share the partitions. */
    public WorkerConfig withGroup(String group) {
        return new WorkerConfig(bootstrapServers, workerId, workDir, topics, group, sessionTimeout, grace,
                progressInterval, maxPollRecords, kafka, data);
    }

    /** With another session timeout; positive. */
    public WorkerConfig withSessionTimeout(Duration sessionTimeout) {
        return new WorkerConfig(bootstrapServers, workerId, workDir, topics, group, sessionTimeout, grace,
                progressInterval, maxPollRecords, kafka, data);
    }

    /** With another grace period for {@link Worker#close()}; zero or more. */
    public WorkerConfig withGrace(Duration grace) {
        return new WorkerConfig(bootstrapServers, workerId, workDir, topics, group, sessionTimeout, grace,
                progressInterval, maxPollRecords, kafka, data);
    }

    /** With another interval between progress reports; positive. */
    public WorkerConfig withProgressInterval(Duration progressInterval) {
        return new WorkerConfig(bootstrapServers, workerId, workDir, topics, group, sessionTimeout, grace,
                progressInterval, maxPollRecords, kafka, data);
    }

    /**
     * With these settings for both the consumer and the producer, over the worker's own ({@code --kafka-config}: SASL,
     * TLS, timeouts); the settings the exactly-once contract rests on are refused when the config is made.
     */
    public WorkerConfig withKafka(KafkaClientConfig kafka) {
        return new WorkerConfig(bootstrapServers, workerId, workDir, topics, group, sessionTimeout, grace,
                progressInterval, maxPollRecords, kafka, data);
    }

    /** With other data and model roots and memory budgets. */
    public WorkerConfig withData(DataConfig data) {
        return new WorkerConfig(bootstrapServers, workerId, workDir, topics, group, sessionTimeout, grace,
                progressInterval, maxPollRecords, kafka, data);
    }

    private static void positive(String what, Duration d) {
        if (d == null || d.isNegative() || d.isZero()) {
            throw new IllegalArgumentException(what + " " + d + " is not positive (fix: e.g. 10 s)");
        }
    }

    /** The consumer's settings: the worker's own, then those of {@link #kafka()}. */
    Properties consumerProperties() {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        p.put(ConsumerConfig.GROUP_ID_CONFIG, group);
        p.put(ConsumerConfig.CLIENT_ID_CONFIG, "shears-worker-" + workerId);
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, maxPollRecords);
        // Only the partitions that move are revoked: a worker joining does not stop every running step.
        p.put(ConsumerConfig.PARTITION_ASSIGNMENT_STRATEGY_CONFIG, CooperativeStickyAssignor.class.getName());
        p.put(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, (int) sessionTimeout.toMillis());
        p.put(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, (int) Math.max(100, sessionTimeout.toMillis() / 3));
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        return kafka.applyTo(p);
    }

    /** The producer's settings: the worker's own, then those of {@link #kafka()}. */
    Properties producerProperties() {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        p.put(ProducerConfig.CLIENT_ID_CONFIG, "shears-worker-" + workerId + "-reports");
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        return kafka.applyTo(p);
    }
}
