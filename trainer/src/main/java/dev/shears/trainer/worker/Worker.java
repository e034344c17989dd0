package dev.shears.trainer.worker;

import dev.shears.common.events.CancelJob;
import dev.shears.common.events.DeadLetter;
import dev.shears.common.events.Decoded;
import dev.shears.common.events.Event;
import dev.shears.common.events.EventCodec;
import dev.shears.common.events.JobProgress;
import dev.shears.common.events.PruneStep;
import dev.shears.common.events.Rejection;
import dev.shears.common.events.Report;
import dev.shears.common.events.RollBack;
import dev.shears.common.events.Topics;
import dev.shears.common.kafka.ConsumerLag;
import dev.shears.common.kafka.DeadLetters;
import dev.shears.trainer.metrics.TrainerMetrics;
import dev.shears.trainer.worker.PartitionQueue.Disposition;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
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
 *       A partition's records are applied strictly in order, one at a time ({@link PartitionQueue}); records fetched
 *       while a step runs wait in memory (the partition is paused when {@code max.poll.records} wait), so
 *       that a {@code CancelJob} behind a running step stops it at the next batch.
 *   <li><b>Bad input never stops it.</b> A record that does not decode goes to
 *       {@code <commands>.DLT} with its key, value and {@link DeadLetter} headers (cut to fit, see {@link DeadLetters});
 *       its offset is committed only once the dead letter is acknowledged.
 *   <li><b>Rebalances and shutdown.</b> A step whose partition is revoked stops at the next batch
 *       without committing; the new owner redoes it from the checkpoint. {@link #close()} lets a
 *       running step finish within the grace period, else stops it the same way, then leaves the
 *       group.
 *   <li><b>Out of memory, out.</b> A command that runs out of memory is not committed and its half-trained session is
 *       dropped; the worker stops with that error as its {@link #failure()} (its process exits non-zero, to be
 *       restarted), and the command goes to whichever worker takes its partition, from the job's checkpoint.
 * </ul>
 *
 * <p>While a step trains, the worker reports {@link JobProgress} every {@link WorkerConfig.Pacing#progressInterval()}.
 * {@link #start()} runs it on its own threads.
 */
public final class Worker implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Worker.class);
    private static final Duration POLL = Duration.ofMillis(100);
    private static final Duration RETRY_BACKOFF = Duration.ofSeconds(1);
    /** How long a revocation waits for a stopped step to reach its next batch (or finish its checkpoint). */
    private static final Duration STOP_WAIT = Duration.ofSeconds(20);

    private final WorkerConfig config;
    private final String id;
    private final TrainerMetrics metrics;
    private final PrintStream out;
    private final JobRunner runner;
    private final EventCodec codec = new EventCodec();
    private final KafkaConsumer<String, byte[]> consumer;
    private final ReportSender sender;
    private final ExecutorService training;
    private final ScheduledExecutorService heartbeat;
    /** The partitions assigned and read from, by the poll thread only. */
    private final Map<TopicPartition, PartitionQueue<Polled>> queues = new HashMap<>();
    private final CountDownLatch subscribed = new CountDownLatch(1);
    private final CountDownLatch stopped = new CountDownLatch(1);
    private final AtomicReference<Duration> closing = new AtomicReference<>();
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    private Thread loop;

    /** A record read from the commands topic, decoded once. */
    private record Polled(ConsumerRecord<String, byte[]> record, Decoded decoded) {
    }

    /**
     * A worker with these settings, not started yet.
     *
     * @param metrics where metrics go
     * @param out where the one line per command applied is printed
     */
    public Worker(WorkerConfig config, TrainerMetrics metrics, PrintStream out) {
        this.config = Objects.requireNonNull(config, "config");
        this.id = config.workerId();
        this.metrics = Objects.requireNonNull(metrics, "metrics");
        this.out = Objects.requireNonNull(out, "out");
        metrics.deadLetterReasons(Arrays.stream(Rejection.Reason.values()).map(Rejection.Reason::code).toList());
        this.runner = new JobRunner(config.workDir(), id, metrics,
                config.data().inputs(Path.of(System.getProperty("java.io.tmpdir"), "shears-data-" + id)),
                config.data().sessionBudgetBytes());
        this.consumer = new KafkaConsumer<>(config.consumerProperties());
        Properties producer = config.producerProperties();
        this.sender = new ReportSender(new KafkaProducer<>(producer), config.cluster().topics().reports(),
                DeadLetters.forProducer(producer), metrics);
        this.training = Executors.newSingleThreadExecutor(r -> daemon(r, "shears-worker-" + id + "-training"));
        this.heartbeat = Executors
                .newSingleThreadScheduledExecutor(r -> daemon(r, "shears-worker-" + id + "-progress"));
    }

    /** This worker's id, as its reports and metrics name it. */
    public String id() {
        return id;
    }

    /**
     * Subscribes and starts polling on a thread of its own; returns once subscribed.
     *
     * @throws IllegalStateException when already started, or when it stopped before subscribing
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
     * Stops the worker: a running step may finish within {@link WorkerConfig.Pacing#grace()} (its offset is committed);
     * after it, the step stops at its next batch without committing. Then it leaves the group and closes its clients.
     * Returns once stopped.
     */
    @Override
    public void close() {
        close(config.pacing().grace());
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
            consumer.subscribe(List.of(config.cluster().topics().commands()), new Rebalance());
            subscribed.countDown();
            long every = config.pacing().progressInterval().toMillis();
            heartbeat.scheduleAtFixedRate(this::reportProgress, every, every, TimeUnit.MILLISECONDS);
            long closeDeadline = Long.MAX_VALUE;
            while (true) {
                Duration grace = closing.get();
                if (grace != null) {
                    if (closeDeadline == Long.MAX_VALUE) {
                        closeDeadline = System.nanoTime() + grace.toNanos();
                        log.info("worker {} closing: running steps have {} to finish", id, grace);
                    }
                    if (System.nanoTime() >= closeDeadline) {
                        stopAll(StopReason.SHUTDOWN, "worker " + id + " is shutting down");
                    }
                    finish(POLL).forEach(Runnable::run);
                    if (queues.values().stream().allMatch(q -> q.running().isEmpty())) {
                        break;
                    }
                }
                if (failure.get() != null) {
                    break; // out of memory on the training thread: stop without committing what it applied
                }
                ConsumerRecords<String, byte[]> records;
                try {
                    records = consumer.poll(POLL);
                } catch (WakeupException e) {
                    continue;
                }
                for (ConsumerRecord<String, byte[]> r : records) {
                    queues.computeIfAbsent(new TopicPartition(r.topic(), r.partition()),
                            tp -> new PartitionQueue<>(config.pacing().maxPollRecords(), RETRY_BACKOFF,
                                    System::nanoTime))
                            .add(item(r));
                }
                List<Runnable> commits = finish(Duration.ZERO);
                if (grace == null) {
                    queues.values().forEach(q -> q.startNext(running -> training.submit(() -> apply(running))));
                }
                commits.forEach(Runnable::run); // after the next record has started: a commit is a round trip
                flowControl();
                metrics.consumerLag(ConsumerLag.total(consumer));
            }
        } catch (Throwable e) {
            failure.set(e);
            log.error("worker {} stopped on an error", id, e);
        } finally {
            stopAll(StopReason.SHUTDOWN, "worker " + id + " stopped");
            shutdownClients();
            stopped.countDown();
        }
    }

    /** A polled record as its partition's queue holds it: decoded once, with its job and whether it cancels it. */
    private PartitionQueue.Item<Polled> item(ConsumerRecord<String, byte[]> r) {
        Decoded decoded = codec.decode(r.value() == null ? new byte[0] : r.value());
        String jobId = decoded instanceof Decoded.Accepted a ? a.event().jobId() : r.key();
        Optional<String> cancels = decoded instanceof Decoded.Accepted a && a.event().payload() instanceof CancelJob c
                && Objects.equals(r.key(), jobId) ? Optional.of(c.reason()) : Optional.empty();
        return new PartitionQueue.Item<>(new Polled(r, decoded), jobId, cancels, Instant.now());
    }

    /**
     * Collects the finished records (waiting up to {@code wait} for running ones) and returns the offset commits of
     * those done with, for the caller to run (after starting the next records).
     */
    private List<Runnable> finish(Duration wait) throws InterruptedException {
        List<Runnable> commits = new ArrayList<>();
        for (Map.Entry<TopicPartition, PartitionQueue<Polled>> e : queues.entrySet()) {
            Optional<PartitionQueue.Finished<Polled>> done = e.getValue().finished(wait);
            if (done.isPresent() && done.get().disposition() == Disposition.COMMIT) {
                ConsumerRecord<String, byte[]> record = done.get().item().value().record();
                commits.add(() -> commit(e.getKey(), record));
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

    /** Pauses the assigned partitions whose queue is full, resumes the others. */
    private void flowControl() {
        Set<TopicPartition> assigned = consumer.assignment();
        Set<TopicPartition> full = new HashSet<>();
        queues.forEach((tp, q) -> {
            if (q.full() && assigned.contains(tp)) {
                full.add(tp);
            }
        });
        Set<TopicPartition> paused = consumer.paused();
        Set<TopicPartition> toPause = new HashSet<>(full);
        toPause.removeAll(paused);
        Set<TopicPartition> toResume = new HashSet<>(paused);
        toResume.removeAll(full);
        if (!toPause.isEmpty()) {
            consumer.pause(toPause);
        }
        if (!toResume.isEmpty()) {
            consumer.resume(toResume);
        }
    }

    /** Runs on the training thread: dead-letters or applies one record and sends its reports. */
    private Disposition apply(PartitionQueue.Running<Polled> running) {
        running.markStarted();
        ConsumerRecord<String, byte[]> record = running.item().value().record();
        Optional<PartitionQueue.Stop> stop = running.stopped();
        if (stop.isPresent() && !stop.get().reason().abandonsCommand()) {
            return Disposition.STOPPED;
        }
        try {
            if (running.item().value().decoded() instanceof Rejection rejection) {
                if (!sender.deadLetter(record, rejection)) {
                    return Disposition.RETRY;
                }
                out.printf(Locale.ROOT, "worker %s: %s dead-lettered to %s: %s%n", id, coordinates(record),
                        Topics.dlt(record.topic()), rejection);
                return Disposition.COMMIT;
            }
            Event event = ((Decoded.Accepted) running.item().value().decoded()).event();
            metrics.eventConsumed(event.type());
            if (event.payload() instanceof Report) {
                log.warn("{} is a {} report on the commands topic; skipped (fix: reports go to {})",
                        coordinates(record), event.type(), config.cluster().topics().reports());
                return Disposition.COMMIT;
            }
            JobRunner.Outcome outcome;
            try {
                outcome = runner.apply(event, running::stopRequested, running.item().received());
            } catch (OutOfMemoryError e) {
                failure.compareAndSet(null, e);
                log.error("worker {}: {} ran out of memory; its session is dropped and the worker stops without"
                        + " committing it (fix: a larger heap, -Xmx, or a smaller --session-budget-mb or model)", id,
                        coordinates(record), e);
                print(event, "out of memory: the worker stops; the command is applied again from the checkpoint");
                consumer.wakeup();
                return Disposition.STOPPED;
            } catch (CancellationException e) {
                PartitionQueue.Stop why = running.stopped().orElse(new PartitionQueue.Stop(StopReason.SHUTDOWN,
                        "interrupted"));
                boolean abandoned = why.reason().abandonsCommand();
                print(event, (abandoned ? "abandoned, " : "stopped, will be redone: ") + why.detail());
                return abandoned ? Disposition.COMMIT : Disposition.STOPPED;
            }
            if (!sender.sendAll(outcome.reports())) {
                log.warn("the reports of {} were not acknowledged; it will be applied again, which acknowledges it"
                        + " from the checkpoint", coordinates(record));
                return Disposition.RETRY;
            }
            print(event, outcome.summary());
            return Disposition.COMMIT;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Disposition.RETRY;
        }
    }

    private void print(Event event, String what) {
        String attempt = event.payload() instanceof PruneStep p ? " attempt " + p.attempt()
                : event.payload() instanceof RollBack r ? " attempt " + r.attempt() : "";
        out.printf(Locale.ROOT, "worker %s: job %s seq %d%s %s: %s%n", id, event.jobId(), event.seq(), attempt,
                event.type(), what);
        out.flush();
    }

    private void reportProgress() {
        try {
            runner.running().ifPresent(r -> {
                double sps = r.progress().samplesPerSecond();
                sender.progress(Event.of(r.jobId(), r.seq(), new JobProgress(r.seq(), r.progress().fraction(),
                        Double.isFinite(sps) ? Math.max(0, sps) : 0, id)));
            });
        } catch (RuntimeException e) {
            log.debug("progress report failed", e);
        }
    }

    /** Stops every running step at its next batch. */
    private void stopAll(StopReason reason, String why) {
        queues.values().forEach(q -> q.running().ifPresent(r -> r.stop(reason, why)));
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
        sender.close();
    }

    private static String coordinates(ConsumerRecord<?, ?> r) {
        return r.topic() + "-" + r.partition() + "@" + r.offset();
    }

    private static Thread daemon(Runnable r, String name) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
    }

    /** Partitions moving away: stop their steps without committing, let their jobs go. */
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
                PartitionQueue<Polled> queue = queues.remove(tp);
                if (queue == null) {
                    continue;
                }
                Optional<PartitionQueue.Running<Polled>> running = queue.running();
                running.ifPresent(r -> r.stop(StopReason.REVOKED, "partition " + tp + " revoked"));
                // not started: it will see the stop when it starts, and do nothing
                if (running.isPresent() && running.get().started()) {
                    try {
                        Optional<Disposition> done = running.get().await(STOP_WAIT);
                        if (done.isEmpty()) {
                            log.warn("the step of {} did not stop within {}", coordinates(running.get().item().value()
                                    .record()), STOP_WAIT);
                        } else if (done.get() == Disposition.COMMIT && commit) {
                            commit(tp, running.get().item().value().record());
                        }
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
                queue.jobs().forEach(runner::release);
            }
        }
    }
}
