package dev.shears.common.kafka;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.KafkaFuture;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.TopicExistsException;

/**
 * Creates topics on any broker and returns only once every partition is ready to take writes.
 *
 * <p>Why the wait: a topic is "created" as soon as the controller has recorded it, which can be before the partition
 * leaders have loaded it. An idempotent producer that writes in that window can lose records (KAFKA-15591). So after
 * creating, this waits until {@link Admin#listOffsets} answers for every partition of every topic: the leader then
 * serves the partition.
 *
 * <p>Topics that already exist are accepted as they are (their partition count is not checked against the request),
 * so creating the same topics again, for example after a restart on the same data, is harmless.
 */
public final class KafkaTopics {

    private KafkaTopics() {}

    /** {@link #create(Admin, Collection, Duration)} with a short-lived admin client on {@code bootstrapServers}. */
    public static void create(String bootstrapServers, Collection<NewTopic> topics, Duration timeout) {
        try (Admin admin = Admin.create(adminProperties(bootstrapServers))) {
            create(admin, topics, timeout);
        }
    }

    /**
     * Creates {@code topics} (those that exist already are left as they are) and waits until every partition of each
     * answers {@code listOffsets}.
     *
     * @throws IllegalStateException when the topics are not ready within {@code timeout}, with the last error
     */
    public static void create(Admin admin, Collection<NewTopic> topics, Duration timeout) {
        if (topics.isEmpty()) {
            return;
        }
        long deadline = System.nanoTime() + timeout.toNanos();
        List<String> names = topics.stream().map(NewTopic::name).toList();
        for (Map.Entry<String, KafkaFuture<Void>> created : admin.createTopics(topics).values().entrySet()) {
            String name = created.getKey();
            try {
                created.getValue().get(remainingMillis(deadline), TimeUnit.MILLISECONDS);
            } catch (ExecutionException e) {
                if (!(e.getCause() instanceof TopicExistsException)) {
                    throw new IllegalStateException("could not create topic " + name + ": " + e.getCause(),
                            e.getCause());
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while creating topic " + name, e);
            } catch (TimeoutException e) {
                throw new IllegalStateException("topic " + name + " not created within " + timeout, e);
            }
        }
        awaitReady(admin, names, deadline, timeout);
    }

    /** Waits until every partition of the existing {@code topics} answers {@code listOffsets}. */
    public static void awaitReady(Admin admin, Collection<String> topics, Duration timeout) {
        awaitReady(admin, topics, System.nanoTime() + timeout.toNanos(), timeout);
    }

    private static void awaitReady(Admin admin, Collection<String> topics, long deadline, Duration timeout) {
        Throwable last = null;
        while (true) {
            try {
                Map<String, TopicDescription> descriptions = admin.describeTopics(topics).allTopicNames()
                        .get(remainingMillis(deadline), TimeUnit.MILLISECONDS);
                Map<TopicPartition, OffsetSpec> request = new HashMap<>();
                List<TopicPartition> leaderless = new ArrayList<>();
                descriptions.forEach((name, description) -> description.partitions().forEach(p -> {
                    TopicPartition tp = new TopicPartition(name, p.partition());
                    request.put(tp, OffsetSpec.latest());
                    if (p.leader() == null || p.leader().isEmpty()) {
                        leaderless.add(tp);
                    }
                }));
                if (leaderless.isEmpty()) {
                    admin.listOffsets(request).all().get(remainingMillis(deadline), TimeUnit.MILLISECONDS);
                    return;
                }
                last = new IllegalStateException("no leader yet for " + leaderless);
            } catch (ExecutionException e) {
                last = e.getCause();
            } catch (TimeoutException e) {
                last = e;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for topics " + topics, e);
            }
            if (System.nanoTime() >= deadline) {
                throw new IllegalStateException(
                        "topics " + topics + " not ready (listOffsets on every partition) within "
                                + timeout + "; last error: " + last,
                        last);
            }
            sleep(50);
        }
    }

    public static Properties adminProperties(String bootstrapServers) {
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        p.put(AdminClientConfig.CLIENT_ID_CONFIG, "shears-admin");
        p.put(AdminClientConfig.RECONNECT_BACKOFF_MS_CONFIG, 50);
        p.put(AdminClientConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, 250);
        p.put(AdminClientConfig.RETRY_BACKOFF_MS_CONFIG, 50);
        p.put(AdminClientConfig.RETRY_BACKOFF_MAX_MS_CONFIG, 250);
        return p;
    }

    private static long remainingMillis(long deadlineNanos) {
        return Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadlineNanos - System.nanoTime()));
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }
}
