package dev.shears.bench;

import dev.shears.common.events.Decoded;
import dev.shears.common.events.Event;
import dev.shears.common.events.EventCodec;
import dev.shears.common.events.Finalize;
import dev.shears.common.events.JobStarted;
import dev.shears.common.events.ModelPublished;
import dev.shears.common.events.PruneStep;
import dev.shears.common.events.StepCompleted;
import dev.shears.common.events.Topics;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * A worker that does no work: it answers {@code JobStarted} and {@code PruneStep} with a {@code StepCompleted} at the
 * target sparsity (accuracy constant, so no budget policy intervenes) and {@code Finalize} with a
 * {@code ModelPublished}, as soon as it reads them (read_committed, like the real worker), so that what is measured is
 * the scheduler and Kafka. Other commands ({@code SchedulerDecision}s) are read and left unanswered. One thread.
 */
final class InstantWorker implements Runnable, AutoCloseable {
    static final String ID = "instant-worker";
    private static final double ACCURACY = 0.9;

    private final KafkaConsumer<String, byte[]> consumer;
    private final KafkaProducer<String, byte[]> producer;
    private final Topics topics;
    private final EventCodec codec = new EventCodec();
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final AtomicInteger published = new AtomicInteger();
    private final Thread thread;

    InstantWorker(String bootstrap, Topics topics) {
        this.topics = topics;
        Properties c = new Properties();
        c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        c.put(ConsumerConfig.GROUP_ID_CONFIG, "bench-" + ID + "-" + topics.prefix());
        c.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        c.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        c.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 2000);
        consumer = new KafkaConsumer<>(c, new StringDeserializer(), new ByteArrayDeserializer());
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.LINGER_MS_CONFIG, 0);
        producer = new KafkaProducer<>(p, new StringSerializer(), new ByteArraySerializer());
        consumer.subscribe(List.of(topics.commands()));
        thread = new Thread(this, ID);
        thread.start();
    }

    /** Jobs answered with {@code ModelPublished}. */
    int published() {
        return published.get();
    }

    @Override
    public void run() {
        try {
            while (running.get()) {
                for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(100))) {
                    if (codec.decode(r.value() == null ? new byte[0] : r.value()) instanceof Decoded.Accepted a) {
                        Event answer = answer(a.event());
                        if (answer != null) {
                            producer.send(new ProducerRecord<>(topics.reports(), answer.jobId(), codec.encode(answer)));
                        }
                    }
                }
                consumer.commitAsync();
            }
        } catch (WakeupException e) {
            // close() ends the loop
        } finally {
            producer.close(Duration.ofSeconds(10));
            consumer.close(Duration.ofSeconds(10));
        }
    }

    private Event answer(Event command) {
        String job = command.jobId();
        if (command.payload() instanceof JobStarted) {
            return completed(job, 0, 1, 0.0);
        }
        if (command.payload() instanceof PruneStep p) {
            return completed(job, p.step(), p.attempt(), p.targetSparsity());
        }
        if (command.payload() instanceof Finalize) {
            published.incrementAndGet();
            return Event.of(job, command.seq(),
                    ModelPublished.withoutCost(job, "v1", "/nonexistent/" + job + "/model.zip",
                            "0".repeat(64), ACCURACY, 0.5));
        }
        return null;
    }

    private static Event completed(String job, long seq, int attempt, double target) {
        return Event.of(job, seq,
                new StepCompleted(seq, attempt, target, target, Map.of("fc1.weight", target), ACCURACY,
                        ACCURACY, 0.3, "ckpt-" + seq, ID, false));
    }

    @Override
    public void close() throws InterruptedException {
        running.set(false);
        consumer.wakeup();
        thread.join(20_000);
    }
}
