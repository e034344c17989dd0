package dev.shears.bench;

import dev.shears.common.events.Decoded;
import dev.shears.common.events.Event;
import dev.shears.common.events.EventCodec;
import dev.shears.common.events.Finalize;
import dev.shears.common.events.JobProgress;
import dev.shears.common.events.JobStarted;
import dev.shears.common.events.ModelPublished;
import dev.shears.common.events.PruneStep;
import dev.shears.common.events.StepCompleted;
import dev.shears.common.events.Topics;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.Properties;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
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
 * A worker that trains nothing, as many jobs at once as it is given: each {@code JobStarted} (the dense pre-training)
 * is held for {@code denseHold} and each {@code PruneStep} for {@code hold}, with a {@code JobProgress} every
 * {@code progressEvery} meanwhile, as a real worker reports a step in progress, and then answered with a
 * {@code StepCompleted} at the target sparsity (accuracy constant, so that no budget policy intervenes);
 * {@code Finalize} is answered with {@code ModelPublished} at once; other commands ({@code SchedulerDecision}s) are
 * read and left unanswered. It reads the commands read_committed, in the workers' consumer group of its topics, like
 * the real worker, so that the scheduler sees the load of many jobs in flight at once without the machine training
 * them. It counts the steps it holds and measures the scheduler's reaction as a worker sees it: from sending a job's
 * {@code StepCompleted} to reading the job's next command (committed, delivered).
 *
 * <p>{@link #instant} holds nothing and sends every answer without lingering, so that what is measured is the
 * scheduler and Kafka; {@link #slow} holds steps and batches its reports for 5 ms, as a real worker's producer does.
 */
final class FakeWorker implements Runnable, AutoCloseable {
    private static final double ACCURACY = 0.9;

    private final String id;
    private final KafkaConsumer<String, byte[]> consumer;
    private final KafkaProducer<String, byte[]> producer;
    private final Topics topics;
    private final Duration denseHold;
    private final Duration hold;
    private final Duration progressEvery;
    private final EventCodec codec = new EventCodec();
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final AtomicInteger held = new AtomicInteger();
    private final AtomicInteger published = new AtomicInteger();
    private final AtomicInteger progressSent = new AtomicInteger();
    /** Per job, the seq of its last StepCompleted and when it was sent ({@link System#nanoTime}). */
    private final Map<String, long[]> completed = new ConcurrentHashMap<>();
    private final List<Double> reactionsMs = new ArrayList<>();
    private final Thread thread;

    /** A worker that answers every command as soon as it reads it, in group {@code bench-instant-<topic prefix>}. */
    static FakeWorker instant(String bootstrap, Topics topics) {
        return new FakeWorker(bootstrap, topics, "bench-instant-" + topics.prefix(), "instant-worker", Duration.ZERO,
                Duration.ZERO, Duration.ofSeconds(1), 0);
    }

    /** A worker of group {@code group} that holds steps: see the class's description. */
    static FakeWorker slow(String bootstrap, Topics topics, String group, String id, Duration denseHold, Duration hold,
            Duration progressEvery) {
        return new FakeWorker(bootstrap, topics, group, id, denseHold, hold, progressEvery, 5);
    }

    private FakeWorker(String bootstrap, Topics topics, String group, String id, Duration denseHold, Duration hold,
            Duration progressEvery, int lingerMs) {
        this.id = id;
        this.topics = topics;
        this.denseHold = denseHold;
        this.hold = hold;
        this.progressEvery = progressEvery;
        Properties c = new Properties();
        c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        c.put(ConsumerConfig.GROUP_ID_CONFIG, group);
        c.put(ConsumerConfig.CLIENT_ID_CONFIG, id);
        c.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        c.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        c.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 2000);
        consumer = new KafkaConsumer<>(c, new StringDeserializer(), new ByteArrayDeserializer());
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.LINGER_MS_CONFIG, lingerMs);
        producer = new KafkaProducer<>(p, new StringSerializer(), new ByteArraySerializer());
        consumer.subscribe(List.of(topics.commands()));
        thread = new Thread(this, id);
        thread.start();
    }

    /** Steps held now. */
    int held() {
        return held.get();
    }

    /** Jobs answered with {@code ModelPublished}. */
    int published() {
        return published.get();
    }

    /** {@code JobProgress} reports sent. */
    int progressSent() {
        return progressSent.get();
    }

    /** Adds to {@code out} each reaction measured so far, in milliseconds. */
    void reactions(Samples out) {
        synchronized (reactionsMs) {
            reactionsMs.forEach(out::add);
        }
    }

    @Override
    public void run() {
        try {
            while (running.get()) {
                for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(100))) {
                    if (codec.decode(r.value() == null ? new byte[0] : r.value()) instanceof Decoded.Accepted a) {
                        accept(a.event());
                    }
                }
                consumer.commitAsync();
            }
        } catch (WakeupException e) {
            // close() ends the loop
        } finally {
            consumer.close(Duration.ofSeconds(10));
        }
    }

    private void accept(Event command) {
        String job = command.jobId();
        long[] last = completed.get(job);
        if (last != null && command.seq() == last[0] + 1) {
            synchronized (reactionsMs) {
                reactionsMs.add((System.nanoTime() - last[1]) / 1e6);
            }
        }
        if (command.payload() instanceof JobStarted) {
            holdStep(job, 0, 1, 0.0, denseHold);
        } else if (command.payload() instanceof PruneStep p) {
            holdStep(job, p.step(), p.attempt(), p.targetSparsity(), hold);
        } else if (command.payload() instanceof Finalize) {
            published.incrementAndGet();
            // Cost fields of the size a LeNet-5 publication carries, so that the records are as large as a real one's.
            send(Event.of(job, command.seq(), new ModelPublished(job, "v1", "/nonexistent/" + job + "/model.zip",
                    "0".repeat(64), ACCURACY, 0.9, 846_000, 85_000, 61_706, 6_171, 0.21, 0.09, 3.4, 1.2, 0.024, 0.01,
                    0.92,
                    0.4)));
        }
    }

    /** Holds a step: progress every {@code progressEvery}, then its {@code StepCompleted} once {@code time} is over. */
    private void holdStep(String job, long seq, int attempt, double target, Duration time) {
        held.incrementAndGet();
        long holdMs = time.toMillis();
        long everyMs = progressEvery.toMillis();
        for (long at = everyMs; at < holdMs; at += everyMs) {
            double fraction = (double) at / holdMs;
            timer.schedule(() -> {
                progressSent.incrementAndGet();
                send(Event.of(job, seq, new JobProgress(seq, fraction, 1000.0, id)));
            }, at, TimeUnit.MILLISECONDS);
        }
        timer.schedule(() -> {
            held.decrementAndGet();
            completed.put(job, new long[]{seq, System.nanoTime()});
            send(Event.of(job, seq, new StepCompleted(seq, attempt, target, target, Map.of("fc1.weight", target),
                    ACCURACY, ACCURACY, 0.3, "ckpt-" + seq, id, false)));
        }, holdMs, TimeUnit.MILLISECONDS);
    }

    private void send(Event e) {
        producer.send(new ProducerRecord<>(topics.reports(), e.jobId(), codec.encode(e)));
    }

    @Override
    public void close() throws InterruptedException {
        running.set(false);
        consumer.wakeup();
        thread.join(20_000);
        timer.shutdownNow();
        producer.close(Duration.ofSeconds(10));
    }
}
