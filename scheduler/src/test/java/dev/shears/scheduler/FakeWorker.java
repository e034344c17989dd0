package dev.shears.scheduler;

import dev.shears.common.events.CommandKey;
import dev.shears.common.events.Decoded;
import dev.shears.common.events.Event;
import dev.shears.common.events.EventCodec;
import dev.shears.common.events.Finalize;
import dev.shears.common.events.JobStarted;
import dev.shears.common.events.ModelPublished;
import dev.shears.common.events.Payload;
import dev.shears.common.events.PruneStep;
import dev.shears.common.events.RollBack;
import dev.shears.common.events.JobResumed;
import dev.shears.common.events.StepCompleted;
import dev.shears.common.events.Topics;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
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
 * A worker at the edge of the test: reads commands (read_committed) and answers each as a real
 * worker would, without training: StepCompleted with the command's key and {@link #accuracy}, a
 * JobResumed for a RollBack, ModelPublished for Finalize. It answers no seq above {@link #holdAbove}.
 */
final class FakeWorker implements AutoCloseable {

    private final EventCodec codec = new EventCodec();
    private final Topics topics;
    private final KafkaConsumer<String, byte[]> consumer;
    private final KafkaProducer<String, byte[]> producer;
    private final Thread thread;
    private final boolean duplicate;
    /** Every command and decision read, in order. */
    final List<Event> received = new CopyOnWriteArrayList<>();
    /** Answers nothing with a seq above this (commands stay in {@link #held}) until raised. */
    final AtomicLong holdAbove = new AtomicLong(Long.MAX_VALUE);
    final List<Event> held = new CopyOnWriteArrayList<>();
    /** Called with each command read, before it is answered or held: a test sends extra reports from here. */
    volatile java.util.function.Consumer<Event> beforeAnswer = command -> {};
    /** The report it sends in place of its answer to a command, or null for its own; see {@link #insteadOfTheFirst}. */
    private volatile java.util.function.Function<Event, Event> instead = command -> null;
    /** The accuracy it reports for a (seq, attempt); 0.9 unless a test says otherwise. */
    volatile java.util.function.BiFunction<Long, Integer, Double> accuracy = (seq, attempt) -> 0.9;
    private volatile boolean running = true;

    FakeWorker(String bootstrap, Topics topics, boolean duplicate) {
        this.topics = topics;
        this.duplicate = duplicate;
        Map<String, Object> c = new HashMap<>();
        c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        c.put(ConsumerConfig.GROUP_ID_CONFIG, "fake-worker-" + topics.prefix());
        c.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        c.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        consumer = new KafkaConsumer<>(c, new StringDeserializer(), new ByteArrayDeserializer());
        Map<String, Object> p = new HashMap<>();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        producer = new KafkaProducer<>(p, new StringSerializer(), new ByteArraySerializer());
        consumer.subscribe(List.of(topics.commands()));
        thread = new Thread(this::loop, "fake-worker");
        thread.setDaemon(true);
        thread.start();
    }

    private void loop() {
        try {
            while (running) {
                for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(100))) {
                    Decoded d = codec.decode(r.value());
                    if (d instanceof Decoded.Accepted a) {
                        received.add(a.event());
                        beforeAnswer.accept(a.event());
                        if (a.event().seq() > holdAbove.get()) {
                            held.add(a.event());
                        } else {
                            answer(a.event());
                        }
                    }
                }
                if (!held.isEmpty() && held.get(0).seq() <= holdAbove.get()) {
                    List<Event> now = List.copyOf(held);
                    held.clear();
                    now.forEach(this::answer);
                }
            }
        } catch (WakeupException e) {
            // closing
        } finally {
            consumer.close();
        }
    }

    private void answer(Event command) {
        Payload p = command.payload();
        String job = command.jobId();
        Event other = instead.apply(command);
        if (other != null) {
            report(job, other.seq(), other.payload());
        } else if (p instanceof JobStarted) {
            report(job, 0, completed(0, 1, 0, false));
            if (duplicate) {
                report(job, 0, completed(0, 1, 0, true));
            }
        } else if (p instanceof PruneStep s) {
            report(job, s.step(), completed(s.step(), s.attempt(), s.targetSparsity(), false));
            if (duplicate) {
                report(job, s.step(), completed(s.step(), s.attempt(), s.targetSparsity(), true));
            }
        } else if (p instanceof RollBack r) {
            report(job, r.toSeq(), JobResumed.of(new CommandKey(r.attempt(), r.toSeq()), command.seq() - r.toSeq(),
                    "fake-0"));
        } else if (p instanceof Finalize f) {
            report(job, command.seq(), ModelPublished.withoutCost(job, "20261123T120000Z", "/models/" + job + ".zip",
                    "0".repeat(64), 0.9, 0.5));
        }
    }

    /** Answers the first command of {@code type} with the report {@code report} makes of it, in place of its answer. */
    void insteadOfTheFirst(Class<? extends Payload> type, java.util.function.Function<Event, Event> report) {
        java.util.concurrent.atomic.AtomicBoolean done = new java.util.concurrent.atomic.AtomicBoolean();
        instead = command -> type.isInstance(command.payload()) && done.compareAndSet(false, true)
                ? report.apply(command) : null;
    }

    private StepCompleted completed(long seq, int attempt, double target, boolean redelivered) {
        return new StepCompleted(seq, attempt, target, target, Map.of("0_W", target), accuracy.apply(seq, attempt),
                accuracy.apply(seq, attempt), 0.25, "ckpt-" + seq + "-" + attempt, "fake-0", redelivered);
    }

    void report(String job, long seq, Payload payload) {
        producer.send(new ProducerRecord<>(topics.reports(), job, codec.encode(Event.of(job, seq, payload))));
        producer.flush();
    }

    void sendRaw(String key, byte[] value) {
        producer.send(new ProducerRecord<>(topics.reports(), key, value));
        producer.flush();
    }

    List<String> types(String job) {
        return received.stream().filter(e -> e.jobId().equals(job)).map(Event::type).toList();
    }

    @Override
    public void close() {
        running = false;
        consumer.wakeup();
        try {
            thread.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        producer.close(Duration.ofSeconds(5));
    }
}
