package dev.shears.trainer.worker;

import dev.shears.common.events.CancelJob;
import dev.shears.common.events.DeadLetter;
import dev.shears.common.events.Decoded;
import dev.shears.common.events.Event;
import dev.shears.common.events.EventCodec;
import dev.shears.common.events.JobProgress;
import dev.shears.common.events.Rejection;
import dev.shears.common.events.Report;
import dev.shears.common.events.Topics;
import dev.shears.trainer.metrics.TrainerMetrics;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A trainer worker: a member of a Kafka consumer group on the commands topic that applies each
 * job's commands (train, prune, fine-tune, roll back, publish) to the job's directory in a work
 * directory shared by all workers, and writes the reports.
 *
 * <p>Its promises, from {@code common/EVENTS.md}:
 *
 * <ul>
 *   <li><b>Exactly-once effect.</b> A record's offset is committed only after its effect is
 *       durable: the checkpoint renamed into place, then every report acknowledged by the broker
 *       ({@code acks=all}, idempotent producer). A record delivered again is acknowledged from the
 *       checkpoint, not applied again.
 *   <li><b>Long steps are safe.</b> Training runs on its own thread while this worker keeps polling,
 *       so a step of any length neither misses heartbeats nor exceeds {@code max.poll.interval.ms}.
 *       A partition's records are applied strictly in order, one at a time; records fetched while
 *       a step runs wait in memory (the partition is paused when {@code max.poll.records} wait), so
 *       that a {@code CancelJob} behind a running step stops it at the next batch.
 *   <li><b>Bad input never stops it.</b> A record that does not decode goes to
 *       {@code <commands>.DLT} with its key, value and {@link DeadLetter} headers; its offset is
 *       committed only once the dead letter is acknowledged.
 *   <li><b>Rebalances and shutdown.</b> A step whose partition is revoked stops at the next batch
 *       without committing; the new owner redoes it from the checkpoint. {@link #close()} lets a
 *       running step finish within the grace period, else stops it the same way, then leaves the
 *       group.
 * </ul>
 *
 * <p>While a step trains, the worker reports {@link JobProgress} every {@code progressInterval}.
 * Build one with {@link #builder(String)}; {@link #start()} runs it on its own threads.
 */
public final class Worker implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Worker.class);
    private static final Duration POLL = Duration.ofMillis(100);
    private static final Duration SEND_TIMEOUT = Duration.ofSeconds(60);
    private static final Duration RETRY_BACKOFF = Duration.ofSeconds(1);
    /** How long a revocation waits for a stopped step to reach its next batch (or finish its checkpoint). */
    private static final Duration STOP_WAIT = Duration.ofSeconds(20);

    private final Builder settings;
    private final String id;
    private final Topics topics;
    private final TrainerMetrics metrics;
    private final PrintStream out;
    private final JobRunner runner;
    private final EventCodec codec = new EventCodec();
    private final KafkaConsumer<String, byte[]> consumer;
    private final KafkaProducer<String, byte[]> producer;
    private final ExecutorService training;
    private final ScheduledExecutorService heartbeat;
    private final Map<TopicPartition, Lane> lanes = new HashMap<>();
    private final Set<TopicPartition> paused = new HashSet<>();
    private final int maxBacklog;
    private final CountDownLatch subscribed = new CountDownLatch(1);
    private final CountDownLatch stopped = new CountDownLatch(1);
    private final AtomicReference<Duration> closing = new AtomicReference<>();
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    private Thread loop;

    /** One partition's records: those waiting, in order, and the one being applied. */
    private static final class Lane {
        final ArrayDeque<ConsumerRecord<String, byte[]>> backlog = new ArrayDeque<>();
        /** When each waiting record was polled. */
        final Map<ConsumerRecord<String, byte[]>, java.time.Instant> polledAt = new java.util.IdentityHashMap<>();
        final Set<String> jobs = new HashSet<>();
        Task task;
        long retryAt;
    }

    /** A record being applied on the training thread, and how to stop it. */
    private static final class Task {
        final ConsumerRecord<String, byte[]> record;
        final String jobId;
        final java.time.Instant received;
        final AtomicReference<String> stop = new AtomicReference<>();
        final java.util.concurrent.atomic.AtomicBoolean started = new java.util.concurrent.atomic.AtomicBoolean();
        Future<Result> future;

        Task(ConsumerRecord<String, byte[]> record, String jobId, java.time.Instant received) {
            this.record = record;
            this.jobId = jobId;
            this.received = received;
        }
    }

    /** What became of a record: commit its offset, or leave it to be applied again. */
    private enum Result { COMMIT, RETRY, STOPPED }

    private Worker(Builder b) {
        this.settings = b;
        this.id = b.workerId;
        this.topics = b.topics;
        this.metrics = b.metrics != null ? b.metrics : new TrainerMetrics(new SimpleMeterRegistry(), b.workerId);
        metrics.deadLetterReasons(Arrays.stream(Rejection.Reason.values()).map(Rejection.Reason::code).toList());
        this.out = b.out;
        this.runner = new JobRunner(b.workDir, b.workerId, metrics);
        this.maxBacklog = b.maxPollRecords;
        this.consumer = new KafkaConsumer<>(consumerProperties(b));
        this.producer = new KafkaProducer<>(producerProperties(b));
        this.training = Executors.newSingleThreadExecutor(r -> daemon(r, "shears-worker-" + id + "-training"));
        this.heartbeat = Executors.newSingleThreadScheduledExecutor(r -> daemon(r, "shears-worker-" + id + "-progress"));
    }

    /** A worker for the brokers at {@code bootstrapServers} ({@code host:port,...}). */
    public static Builder builder(String bootstrapServers) {
        return new Builder(bootstrapServers);
    }

    /** This worker's id, as its reports and metrics name it. */
    public String id() {
        return id;
    }

    /**
     * Subscribes and starts polling on a thread of its own; returns once subscribed.
     *
     * @throws IllegalStateException when already started
     */
    public Worker start() {
        synchronized (this) {
            if (loop != null) {
                throw new IllegalStateException("worker " + id + " is already started");
            }
            loop = new Thread(this::run, "shears-worker-" + id + "-poll");
            loop.start();
        }
        try {
            while (!subscribed.await(100, TimeUnit.MILLISECONDS)) {
                if (stopped.getCount() == 0) {
                    throw new IllegalStateException("worker " + id + " stopped before subscribing: " + failure.get(),
                            failure.get());
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return this;
    }

    /** Waits until the worker has stopped (after {@link #close()}, or a fatal error). */
    public void awaitStopped() throws InterruptedException {
        stopped.await();
    }

    /** The fatal error that stopped the worker, if one did. */
    public Optional<Throwable> failure() {
        return Optional.ofNullable(failure.get());
    }

    /**
     * Stops the worker: a running step may finish within the grace period set by the builder
     * (its offset is committed); after it, the step stops at its next batch without committing.
     * Then it leaves the group and closes its clients. Returns once stopped.
     */
    @Override
    public void close() {
        close(settings.grace);
    }

    /** {@link #close()} with another grace period; {@link Duration#ZERO} stops a running step at once. */
    public void close(Duration grace) {
        if (stopped.getCount() == 0) {
            return;
        }
        closing.compareAndSet(null, grace);
        consumer.wakeup();
        Thread t;
        synchronized (this) {
            t = loop;
        }
        if (t == null) {
            shutdownClients();
            stopped.countDown();
            return;
        }
        try {
            stopped.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void run() {
        try {
            consumer.subscribe(List.of(topics.commands()), new Rebalance());
            subscribed.countDown();
            heartbeat.scheduleAtFixedRate(this::reportProgress, settings.progressInterval.toMillis(),
                    settings.progressInterval.toMillis(), TimeUnit.MILLISECONDS);
            long closeDeadline = Long.MAX_VALUE;
            while (true) {
                Duration grace = closing.get();
                if (grace != null && closeDeadline == Long.MAX_VALUE) {
                    closeDeadline = System.nanoTime() + grace.toNanos();
                    log.info("worker {} closing: running steps have {} to finish", id, grace);
                }
                if (grace != null) {
                    if (System.nanoTime() >= closeDeadline) {
                        stopAll("worker " + id + " is shutting down");
                    }
                    finishTasks(true).forEach(Runnable::run);
                    if (lanes.values().stream().allMatch(l -> l.task == null)) {
                        break;
                    }
                }
                ConsumerRecords<String, byte[]> records;
                try {
                    records = consumer.poll(POLL);
                } catch (WakeupException e) {
                    continue;
                }
                for (ConsumerRecord<String, byte[]> r : records) {
                    Lane lane = lanes.computeIfAbsent(new TopicPartition(r.topic(), r.partition()), tp -> new Lane());
                    lane.backlog.addLast(r);
                    lane.polledAt.put(r, java.time.Instant.now());
                    cancelIfAsked(lane, r);
                }
                List<Runnable> commits = finishTasks(false);
                if (grace == null) {
                    dispatch();
                }
                commits.forEach(Runnable::run); // after the next record has started: a commit is a round trip
                flowControl();
                lag();
            }
        } catch (Throwable e) {
            failure.set(e);
            log.error("worker {} stopped on an error", id, e);
        } finally {
            stopAll("worker " + id + " stopped");
            shutdownClients();
            stopped.countDown();
        }
    }

    /** A {@code CancelJob} behind a running step of its job stops that step at the next batch. */
    private void cancelIfAsked(Lane lane, ConsumerRecord<String, byte[]> r) {
        if (lane.task == null || r.value() == null || !Objects.equals(lane.task.jobId, r.key())) {
            return;
        }
        if (codec.decode(r.value()) instanceof Decoded.Accepted a && a.event().payload() instanceof CancelJob c
                && a.event().jobId().equals(lane.task.jobId)) {
            lane.task.stop.compareAndSet(null, "cancelled: " + c.reason());
        }
    }

    /** Starts the head record of each idle partition. */
    private void dispatch() {
        long now = System.nanoTime();
        for (Map.Entry<TopicPartition, Lane> e : lanes.entrySet()) {
            Lane lane = e.getValue();
            if (lane.task != null || lane.backlog.isEmpty() || now < lane.retryAt) {
                continue;
            }
            ConsumerRecord<String, byte[]> record = lane.backlog.peekFirst();
            Decoded decoded = decode(record);
            String jobId = decoded instanceof Decoded.Accepted a ? a.event().jobId() : record.key();
            Task task = new Task(record, jobId, lane.polledAt.getOrDefault(record, java.time.Instant.now()));
            if (jobId != null) {
                lane.jobs.add(jobId);
                for (ConsumerRecord<String, byte[]> later : lane.backlog) {
                    if (later != record && Objects.equals(later.key(), jobId)
                            && decode(later) instanceof Decoded.Accepted a && a.event().payload() instanceof CancelJob c
                            && a.event().jobId().equals(jobId)) {
                        task.stop.set("cancelled: " + c.reason());
                    }
                }
            }
            task.future = training.submit(() -> apply(task, decoded));
            lane.task = task;
        }
    }

    /**
     * Frees the lanes of finished records and returns the offset commits of the applied ones, for the caller to run
     * (after starting the next records); with {@code waitForIdle}, waits a little for running ones.
     */
    private List<Runnable> finishTasks(boolean waitForIdle) {
        List<Runnable> commits = new ArrayList<>();
        for (Map.Entry<TopicPartition, Lane> e : lanes.entrySet()) {
            Lane lane = e.getValue();
            Task task = lane.task;
            if (task == null) {
                continue;
            }
            Result result;
            try {
                result = waitForIdle ? task.future.get(POLL.toMillis(), TimeUnit.MILLISECONDS)
                        : task.future.isDone() ? task.future.get() : null;
            } catch (TimeoutException ex) {
                result = null;
            } catch (InterruptedException ex) {
                Thread.currentThread().interrupt();
                result = null;
            } catch (ExecutionException ex) {
                log.error("applying {} failed", coordinates(task.record), ex.getCause());
                result = Result.RETRY;
            }
            if (result == null) {
                continue;
            }
            lane.task = null;
            if (result == Result.COMMIT) {
                TopicPartition tp = e.getKey();
                commits.add(() -> commit(tp, task.record));
                lane.polledAt.remove(lane.backlog.pollFirst());
            } else if (result == Result.RETRY) {
                lane.retryAt = System.nanoTime() + RETRY_BACKOFF.toNanos();
            }
        }
        return commits;
    }

    private void commit(TopicPartition tp, ConsumerRecord<String, byte[]> record) {
        try {
            try {
                consumer.commitSync(Map.of(tp, new OffsetAndMetadata(record.offset() + 1)));
            } catch (WakeupException woken) {
                // close() woke the consumer up to stop polling, not to skip a commit
                consumer.commitSync(Map.of(tp, new OffsetAndMetadata(record.offset() + 1)));
            }
        } catch (KafkaException ex) {
            // The partition moved on: its new owner gets the record again and acknowledges it from the checkpoint.
            log.warn("could not commit {}: {}", coordinates(record), ex.toString());
        }
    }

    /** Pauses partitions with a full backlog, resumes the others. */
    private void flowControl() {
        Set<TopicPartition> full = new HashSet<>();
        lanes.forEach((tp, lane) -> {
            if (lane.backlog.size() >= maxBacklog) {
                full.add(tp);
            }
        });
        Set<TopicPartition> assigned = consumer.assignment();
        full.retainAll(assigned);
        Set<TopicPartition> toPause = new HashSet<>(full);
        toPause.removeAll(paused);
        Set<TopicPartition> toResume = new HashSet<>(paused);
        toResume.removeAll(full);
        toResume.retainAll(assigned);
        if (!toPause.isEmpty()) {
            consumer.pause(toPause);
        }
        if (!toResume.isEmpty()) {
            consumer.resume(toResume);
        }
        paused.clear();
        paused.addAll(full);
    }

    private void lag() {
        long total = 0;
        for (TopicPartition tp : consumer.assignment()) {
            OptionalLong lag = consumer.currentLag(tp);
            if (lag.isPresent()) {
                total += lag.getAsLong();
            }
        }
        metrics.consumerLag(total);
    }

    /** Runs on the training thread: dead-letters or applies one record and sends its reports. */
    private Result apply(Task task, Decoded decoded) {
        ConsumerRecord<String, byte[]> record = task.record;
        task.started.set(true);
        if (task.stop.get() != null && !task.stop.get().startsWith("cancelled")) {
            return Result.STOPPED;
        }
        if (decoded instanceof Rejection rejection) {
            return deadLetter(record, rejection);
        }
        Event event = ((Decoded.Accepted) decoded).event();
        metrics.eventConsumed(event.type());
        if (event.payload() instanceof Report) {
            log.warn("{} is a {} report on the commands topic; skipped (fix: reports go to {})", coordinates(record),
                    event.type(), topics.reports());
            return Result.COMMIT;
        }
        JobRunner.Outcome outcome;
        try {
            outcome = runner.apply(event, () -> task.stop.get() != null, task.received);
        } catch (CancellationException e) {
            String why = task.stop.get();
            boolean cancelled = why != null && why.startsWith("cancelled");
            print(event, (cancelled ? "abandoned, " : "stopped, will be redone: ") + why);
            return cancelled ? Result.COMMIT : Result.STOPPED;
        }
        List<Future<RecordMetadata>> sent = new ArrayList<>();
        try {
            for (Event report : outcome.reports()) {
                sent.add(producer.send(new ProducerRecord<>(topics.reports(), report.jobId(), codec.encode(report))));
            }
            for (Future<RecordMetadata> f : sent) {
                f.get(SEND_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Result.RETRY;
        } catch (ExecutionException | TimeoutException | KafkaException e) {
            log.warn("reports of {} not acknowledged ({}); it will be applied again, which acknowledges it from the"
                    + " checkpoint", coordinates(record), e.toString());
            return Result.RETRY;
        }
        outcome.reports().forEach(r -> metrics.eventProduced(r.type()));
        print(event, outcome.summary());
        return Result.COMMIT;
    }

    private Result deadLetter(ConsumerRecord<String, byte[]> record, Rejection rejection) {
        ProducerRecord<String, byte[]> letter = new ProducerRecord<>(Topics.dlt(record.topic()), record.key(),
                record.value());
        DeadLetter.headers(rejection, record.topic(), record.partition(), record.offset())
                .forEach((k, v) -> letter.headers().add(k, v.getBytes(StandardCharsets.UTF_8)));
        try {
            producer.send(letter).get(SEND_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Result.RETRY;
        } catch (ExecutionException | TimeoutException | KafkaException e) {
            log.warn("could not dead-letter {} ({}); not committed, tried again", coordinates(record), e.toString());
            return Result.RETRY;
        }
        metrics.deadLettered(rejection.reason().code());
        out.printf(Locale.ROOT, "worker %s: %s dead-lettered to %s: %s%n", id, coordinates(record),
                Topics.dlt(record.topic()), rejection);
        return Result.COMMIT;
    }

    private void print(Event event, String what) {
        String attempt = event.payload() instanceof dev.shears.common.events.PruneStep p ? " attempt " + p.attempt()
                : event.payload() instanceof dev.shears.common.events.RollBack r ? " attempt " + r.attempt() : "";
        out.printf(Locale.ROOT, "worker %s: job %s seq %d%s %s: %s%n", id, event.jobId(), event.seq(), attempt,
                event.type(), what);
        out.flush();
    }

    private void reportProgress() {
        try {
            Optional<JobRunner.Running> running = runner.running();
            if (running.isEmpty()) {
                return;
            }
            JobRunner.Running r = running.get();
            double sps = r.progress().samplesPerSecond();
            Event e = Event.of(r.jobId(), r.seq(), new JobProgress(r.seq(), r.progress().fraction(),
                    Double.isFinite(sps) ? Math.max(0, sps) : 0, id));
            producer.send(new ProducerRecord<>(topics.reports(), e.jobId(), codec.encode(e)), (m, ex) -> {
                if (ex == null) {
                    metrics.eventProduced(e.type());
                }
            });
        } catch (RuntimeException e) {
            log.debug("progress report failed", e);
        }
    }

    /** Stops every running step at its next batch. */
    private void stopAll(String why) {
        for (Lane lane : lanes.values()) {
            if (lane.task != null) {
                lane.task.stop.compareAndSet(null, why);
            }
        }
    }

    private void shutdownClients() {
        heartbeat.shutdownNow();
        training.shutdown();
        try {
            training.awaitTermination(STOP_WAIT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try {
            consumer.close(Duration.ofSeconds(10));
        } catch (RuntimeException e) {
            log.warn("closing the consumer: {}", e.toString());
        }
        producer.close(Duration.ofSeconds(10));
    }

    private Decoded decode(ConsumerRecord<String, byte[]> record) {
        return codec.decode(record.value() == null ? new byte[0] : record.value());
    }

    private static String coordinates(ConsumerRecord<?, ?> r) {
        return r.topic() + "-" + r.partition() + "@" + r.offset();
    }

    private static Thread daemon(Runnable r, String name) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
    }

    /** Partitions moving away: stop their steps without committing, forget their jobs' sessions. */
    private final class Rebalance implements ConsumerRebalanceListener {
        @Override
        public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
            release(partitions, true);
        }

        @Override
        public void onPartitionsLost(Collection<TopicPartition> partitions) {
            release(partitions, false);
        }

        @Override
        public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
            if (!partitions.isEmpty()) {
                log.info("worker {} assigned {}", id, partitions);
            }
        }

        private void release(Collection<TopicPartition> partitions, boolean commit) {
            if (partitions.isEmpty()) {
                return;
            }
            metrics.partitionsRevoked(partitions.size());
            log.info("worker {} gives up {}", id, partitions);
            for (TopicPartition tp : partitions) {
                Lane lane = lanes.remove(tp);
                paused.remove(tp);
                if (lane == null) {
                    continue;
                }
                Task task = lane.task;
                if (task != null) {
                    task.stop.compareAndSet(null, "partition " + tp + " revoked");
                    if (!task.started.get()) {
                        lane.jobs.forEach(runner::forget);
                        continue; // it will see the stop when it starts, and do nothing
                    }
                    try {
                        Result result = task.future.get(STOP_WAIT.toMillis(), TimeUnit.MILLISECONDS);
                        if (result == Result.COMMIT && commit) {
                            commit(tp, task.record);
                        }
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    } catch (ExecutionException | TimeoutException e) {
                        log.warn("the step of {} did not stop within {}: {}", coordinates(task.record), STOP_WAIT,
                                e.toString());
                    }
                }
                lane.jobs.forEach(runner::forget);
            }
        }
    }

    private static Properties consumerProperties(Builder b) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, b.bootstrapServers);
        p.put(ConsumerConfig.GROUP_ID_CONFIG, b.group);
        p.put(ConsumerConfig.CLIENT_ID_CONFIG, "shears-worker-" + b.workerId);
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, b.maxPollRecords);
        // Only the partitions that move are revoked: a worker joining does not stop every running step.
        p.put(ConsumerConfig.PARTITION_ASSIGNMENT_STRATEGY_CONFIG,
                org.apache.kafka.clients.consumer.CooperativeStickyAssignor.class.getName());
        p.put(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, (int) b.sessionTimeout.toMillis());
        p.put(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, (int) Math.max(100, b.sessionTimeout.toMillis() / 3));
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        p.putAll(b.consumerOverrides);
        return p;
    }

    private static Properties producerProperties(Builder b) {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, b.bootstrapServers);
        p.put(ProducerConfig.CLIENT_ID_CONFIG, "shears-worker-" + b.workerId + "-reports");
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        p.putAll(b.producerOverrides);
        return p;
    }

    /** The worker's settings; every one but the bootstrap servers has a default. */
    public static final class Builder {
        /** The consumer group workers share by default. */
        public static final String DEFAULT_GROUP = "shears-workers";

        private final String bootstrapServers;
        private String workerId = defaultWorkerId();
        private Path workDir = Path.of("runs", "work");
        private Topics topics = Topics.defaults();
        private String group = DEFAULT_GROUP;
        private Duration sessionTimeout = Duration.ofSeconds(10);
        private Duration grace = Duration.ofSeconds(30);
        private Duration progressInterval = Duration.ofSeconds(2);
        private int maxPollRecords = 10;
        private TrainerMetrics metrics;
        private PrintStream out = System.out;
        private final Map<String, Object> consumerOverrides = new LinkedHashMap<>();
        private final Map<String, Object> producerOverrides = new LinkedHashMap<>();

        private Builder(String bootstrapServers) {
            if (bootstrapServers == null || bootstrapServers.isBlank()) {
                throw new IllegalArgumentException("bootstrap servers '" + bootstrapServers + "' are empty (fix: give"
                        + " host:port of a broker, e.g. 127.0.0.1:9092)");
            }
            this.bootstrapServers = bootstrapServers;
        }

        /** {@code <host>-<pid>}: unique among the workers of one machine. */
        public static String defaultWorkerId() {
            String host;
            try {
                host = java.net.InetAddress.getLocalHost().getHostName();
            } catch (java.io.IOException e) {
                host = "worker";
            }
            String id = (host + "-" + ProcessHandle.current().pid()).replaceAll("[^A-Za-z0-9._:@+-]", "-");
            return id.length() > 128 ? id.substring(id.length() - 128) : id;
        }

        /** The id in reports and metrics: {@code [A-Za-z0-9][A-Za-z0-9._:@+-]{0,127}}; default host-pid. */
        public Builder workerId(String workerId) {
            if (workerId == null || !workerId.matches("[A-Za-z0-9][A-Za-z0-9._:@+-]{0,127}")) {
                throw new IllegalArgumentException("worker id '" + workerId + "' is not valid: must match"
                        + " [A-Za-z0-9][A-Za-z0-9._:@+-]{0,127} (fix: e.g. trainer-0)");
            }
            this.workerId = workerId;
            return this;
        }

        /** The directory shared by all workers; each job lives in {@code jobs/<jobId>/} under it. Default {@code runs/work}. */
        public Builder workDir(Path workDir) {
            this.workDir = Objects.requireNonNull(workDir, "workDir");
            return this;
        }

        /** The topics; default under the prefix {@code shears}. */
        public Builder topics(Topics topics) {
            this.topics = Objects.requireNonNull(topics, "topics");
            return this;
        }

        /** The consumer group; default {@value #DEFAULT_GROUP}. */
        public Builder group(String group) {
            if (group == null || group.isBlank()) {
                throw new IllegalArgumentException("group '" + group + "' is empty (fix: e.g. " + DEFAULT_GROUP + ")");
            }
            this.group = group;
            return this;
        }

        /** How long the group waits for a silent worker before giving its partitions to others; default 10 s. */
        public Builder sessionTimeout(Duration sessionTimeout) {
            this.sessionTimeout = positive("session timeout", sessionTimeout);
            return this;
        }

        /** How long {@link Worker#close()} lets a running step finish; default 30 s. */
        public Builder grace(Duration grace) {
            if (grace == null || grace.isNegative()) {
                throw new IllegalArgumentException("grace " + grace + " is negative (fix: 0 or more seconds)");
            }
            this.grace = grace;
            return this;
        }

        /** How often a running step reports {@link JobProgress}; default 2 s. */
        public Builder progressInterval(Duration progressInterval) {
            this.progressInterval = positive("progress interval", progressInterval);
            return this;
        }

        /** Records fetched per poll, and waiting per partition before it is paused; default 10. */
        public Builder maxPollRecords(int maxPollRecords) {
            if (maxPollRecords < 1) {
                throw new IllegalArgumentException("max poll records " + maxPollRecords + " is below 1 (fix: e.g. 10)");
            }
            this.maxPollRecords = maxPollRecords;
            return this;
        }

        /** Where metrics go; default a registry of its own. */
        public Builder metrics(TrainerMetrics metrics) {
            this.metrics = metrics;
            return this;
        }

        /** Where the one line per command applied is printed; default standard output. */
        public Builder out(PrintStream out) {
            this.out = Objects.requireNonNull(out, "out");
            return this;
        }

        /** A Kafka consumer setting, over the worker's own (e.g. {@code max.poll.interval.ms}). */
        public Builder consumerProperty(String name, Object value) {
            consumerOverrides.put(name, value);
            return this;
        }

        /**
         * Settings for both the consumer and the producer, over the worker's own ({@code --kafka-config}: SASL, TLS);
         * the settings the exactly-once contract rests on are refused when the config is loaded.
         */
        public Builder kafka(dev.shears.common.kafka.KafkaClientConfig config) {
            consumerOverrides.putAll(config.entries());
            producerOverrides.putAll(config.entries());
            return this;
        }

        /** A Kafka producer setting, over the worker's own. */
        public Builder producerProperty(String name, Object value) {
            producerOverrides.put(name, value);
            return this;
        }

        /** A worker with these settings, not started yet. */
        public Worker build() {
            return new Worker(this);
        }

        private static Duration positive(String what, Duration d) {
            if (d == null || d.isNegative() || d.isZero()) {
                throw new IllegalArgumentException(what + " " + d + " is not positive (fix: e.g. 10 s)");
            }
            return d;
        }
    }
}
