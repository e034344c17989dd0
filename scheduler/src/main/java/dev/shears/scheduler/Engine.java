package dev.shears.scheduler;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.shears.common.events.Decoded;
import dev.shears.common.events.Event;
import dev.shears.common.events.EventCodec;
import dev.shears.common.events.JobProgress;
import dev.shears.common.events.ModelPublished;
import dev.shears.common.events.Rejection;
import dev.shears.common.events.SchedulerDecision;
import dev.shears.common.events.StepCompleted;
import dev.shears.common.events.Topics;
import dev.shears.common.kafka.ConsumerLag;
import dev.shears.common.kafka.DeadLetters;
import dev.shears.common.kafka.KafkaTopics;
import dev.shears.common.recipe.Recipe;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.LinkedBlockingQueue;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.OutOfOrderSequenceException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one thread that owns the jobs, the transactional producer and the reports consumer. Reports
 * are read a batch at a time and answered in one transaction (commands, new state records, dead
 * letters, the consumed offsets); work from the HTTP API is queued here and runs in its own
 * transaction between batches. Readers on other threads see {@link #views()}, updated after each
 * commit.
 */
final class Engine implements Runnable {
    /** The transactional producer's retry.backoff.ms (see {@link #producerProperties}). */
    static final int TRANSACTION_RETRY_BACKOFF_MS = 10;

    private static final Logger log = LoggerFactory.getLogger(Engine.class);
    private static final Duration POLL = Duration.ofMillis(100);
    static final ObjectMapper JSON = new ObjectMapper()
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

    /** Refused work: the job exists already, or has ended. */
    static final class Conflict extends RuntimeException {
        Conflict(String message) {
            super(message);
        }
    }

    /** No such job. */
    static final class NotFound extends RuntimeException {
        NotFound(String message) {
            super(message);
        }
    }

    private final SchedulerConfig config;
    private final Topics topics;
    private final Clock clock;
    private final SchedulerMetrics metrics;
    private final EventCodec codec = new EventCodec();
    private final DeadLetters deadLetters;
    private final Map<String, Job> jobs = new HashMap<>();
    private final ConcurrentMap<String, JobSnapshot> views;
    private final ConcurrentMap<String, JobProgress> progress = new ConcurrentHashMap<>();
    private final BlockingQueue<Runnable> tasks = new LinkedBlockingQueue<>();
    private KafkaProducer<String, byte[]> producer;
    private KafkaConsumer<String, byte[]> consumer;
    private volatile boolean running = true;

    Engine(SchedulerConfig config, Clock clock, SchedulerMetrics metrics, ConcurrentMap<String, JobSnapshot> views) {
        this.config = config;
        this.topics = config.topics();
        this.clock = clock;
        this.metrics = metrics;
        this.views = views;
        this.deadLetters = DeadLetters.forProducer(producerProperties(config));
    }

    Map<String, JobSnapshot> views() {
        return views;
    }

    /** The last heartbeat of each job's step in progress; gone once the step completes. For display only. */
    Map<String, JobProgress> progress() {
        return progress;
    }

    /**
     * Creates the topics, fences any earlier scheduler with the same transactional id, rebuilds
     * every job from the state topic and subscribes to the reports. Runs on the caller's thread,
     * before {@link #run()}.
     */
    void open(Duration timeout) {
        try (org.apache.kafka.clients.admin.Admin admin = org.apache.kafka.clients.admin.Admin.create(
                adminProperties(config))) {
            KafkaTopics.create(admin, topicsToCreate(), timeout);
        }
        try {
            Properties p = producerProperties(config);
            p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, (int) Math.min(Integer.MAX_VALUE, timeout.toMillis()));
            producer = new KafkaProducer<>(p, new StringSerializer(), new ByteArraySerializer());
            producer.initTransactions();
            int rebuilt = rebuild(timeout);
            log.info("rebuilt {} job(s) from {}", rebuilt, topics.state());
            consumer = new KafkaConsumer<>(consumerProperties(config, SchedulerConfig.GROUP), new StringDeserializer(),
                    new ByteArrayDeserializer());
            consumer.subscribe(List.of(topics.reports()));
        } catch (RuntimeException e) {
            running = false;
            if (consumer != null) {
                consumer.close(Duration.ZERO);
            }
            if (producer != null) {
                producer.close(Duration.ZERO);
            }
            throw e;
        }
    }

    private List<NewTopic> topicsToCreate() {
        short one = 1;
        return List.of(
                new NewTopic(topics.commands(), config.partitions(), one),
                new NewTopic(topics.reports(), config.partitions(), one),
                new NewTopic(topics.state(), 1, one).configs(Map.of("cleanup.policy", "compact")),
                new NewTopic(Topics.dlt(topics.commands()), 1, one),
                new NewTopic(Topics.dlt(topics.reports()), 1, one));
    }

    /** Reads the state topic to its committed end; the last record per job wins, a tombstone removes it. */
    private int rebuild(Duration timeout) {
        Properties p = consumerProperties(config, null);
        try (KafkaConsumer<String, byte[]> reader = new KafkaConsumer<>(p, new StringDeserializer(),
                new ByteArrayDeserializer())) {
            List<TopicPartition> parts = new ArrayList<>();
            for (PartitionInfo info : reader.partitionsFor(topics.state(), timeout)) {
                parts.add(new TopicPartition(info.topic(), info.partition()));
            }
            reader.assign(parts);
            reader.seekToBeginning(parts);
            Map<TopicPartition, Long> end = reader.endOffsets(parts, timeout);
            long deadline = System.nanoTime() + timeout.toNanos();
            while (parts.stream().anyMatch(tp -> reader.position(tp) < end.get(tp))) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("state topic " + topics.state() + " not read to its end " + end
                            + " within " + timeout + " (fix: check the broker, or raise the timeout)");
                }
                for (ConsumerRecord<String, byte[]> r : reader.poll(POLL)) {
                    if (r.key() == null) {
                        continue;
                    }
                    if (r.value() == null) {
                        jobs.remove(r.key());
                        continue;
                    }
                    try {
                        JobSnapshot s = JSON.readValue(r.value(), JobSnapshot.class);
                        jobs.put(r.key(), Job.restore(s, clock));
                    } catch (IOException | RuntimeException e) {
                        log.error("state record of job {} at {}-{}@{} does not read, job left out: {}", r.key(),
                                r.topic(), r.partition(), r.offset(), e.toString());
                    }
                }
            }
        }
        jobs.values().forEach(this::publishView);
        return jobs.size();
    }

    @Override
    public void run() {
        try {
            while (running) {
                ConsumerRecords<String, byte[]> batch = consumer.poll(POLL);
                if (!batch.isEmpty()) {
                    process(batch);
                }
                // Only the tasks queued by now: submissions arriving meanwhile wait for the next round, so a stream
                // of them cannot hold the reports back (measured: 1,000 jobs submitted at once used to delay every
                // report until the last submission).
                for (int queued = tasks.size(); queued > 0; queued--) {
                    Runnable task = tasks.poll();
                    if (task == null) {
                        break;
                    }
                    task.run();
                }
                updateLag();
            }
        } catch (WakeupException e) {
            if (running) {
                throw e;
            }
        } finally {
            Runnable task;
            while ((task = tasks.poll()) != null) {
                task.run();
            }
            consumer.close(Duration.ofSeconds(10));
            producer.close(Duration.ofSeconds(10));
        }
    }

    /** Stops after the current batch or task; {@link #run()} then closes the clients. */
    void stop() {
        running = false;
        if (consumer != null) {
            consumer.wakeup();
        }
    }

    boolean running() {
        return running;
    }

    /** Runs {@code work} on the engine thread, between batches. */
    <T> CompletableFuture<T> call(Callable<T> work) {
        CompletableFuture<T> result = new CompletableFuture<>();
        if (!running) {
            result.completeExceptionally(new IllegalStateException("the scheduler is shutting down"));
            return result;
        }
        tasks.add(() -> {
            if (!running) {
                result.completeExceptionally(new IllegalStateException("the scheduler is shutting down"));
                return;
            }
            try {
                result.complete(work.call());
            } catch (Throwable t) {
                result.completeExceptionally(t);
            }
        });
        return result;
    }

    /** Engine thread: starts a job, its JobStarted and first state record in one transaction. */
    JobSnapshot submit(Recipe recipe) {
        String id = recipe.job();
        if (jobs.containsKey(id)) {
            throw new Conflict("job " + id + " exists already (" + jobs.get(id).state().label()
                    + ") (fix: rename `job:` in the recipe, e.g. " + id + "-2)");
        }
        Job job = Job.submit(recipe, clock);
        Job.Outcome outcome = job.start();
        commit(List.of(), List.of(outcome), Map.of(id, job), null);
        jobs.put(id, job);
        metrics.job(id);
        publishView(job);
        log.info("job {} submitted: {} steps", id, job.snapshot().steps());
        return views.get(id);
    }

    /** Engine thread: cancels a running job in its own transaction. */
    JobSnapshot cancel(String id, String reason) {
        Job job = jobs.get(id);
        if (job == null) {
            throw new NotFound("no job " + id);
        }
        if (job.state().ended()) {
            throw new Conflict("job " + id + " is already " + job.state().label()
                    + ": only a running job can be cancelled (fix: nothing to do; submit again under a new name to rerun)");
        }
        JobSnapshot before = job.snapshot();
        Job.Outcome outcome = job.cancel(reason);
        try {
            commit(List.of(), List.of(outcome), Map.of(id, job), null);
        } catch (KafkaException e) {
            jobs.put(id, Job.restore(before, clock));
            throw e;
        }
        publishView(jobs.get(id));
        log.info("job {} cancelled: {}", id, reason);
        return views.get(id);
    }

    private void process(ConsumerRecords<String, byte[]> batch) {
        Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
        Map<TopicPartition, Long> first = new HashMap<>();
        Map<String, JobSnapshot> before = new HashMap<>();
        Map<String, Job> dirty = new LinkedHashMap<>();
        List<ProducerRecord<String, byte[]>> deadLetters = new ArrayList<>();
        List<Job.Outcome> outcomes = new ArrayList<>();
        List<Runnable> afterCommit = new ArrayList<>();
        for (ConsumerRecord<String, byte[]> r : batch) {
            TopicPartition tp = new TopicPartition(r.topic(), r.partition());
            first.putIfAbsent(tp, r.offset());
            offsets.put(tp, new OffsetAndMetadata(r.offset() + 1));
            Decoded decoded = codec.decode(r.value() == null ? new byte[0] : r.value());
            if (decoded instanceof Rejection rejection) {
                deadLetters.add(deadLetter(r, rejection));
                afterCommit.add(() -> metrics.deadLettered(rejection.reason().code()));
                log.warn("report {}-{}@{} dead-lettered: {}", r.topic(), r.partition(), r.offset(), rejection);
                continue;
            }
            Event event = ((Decoded.Accepted) decoded).event();
            afterCommit.add(() -> metrics.consumed(event.type()));
            if (event.payload() instanceof JobProgress p) {
                afterCommit.add(() -> progress.put(event.jobId(), p));
            } else if (event.payload() instanceof StepCompleted || event.payload() instanceof ModelPublished) {
                afterCommit.add(() -> progress.remove(event.jobId()));
            }
            Job job = jobs.get(event.jobId());
            if (job == null) {
                afterCommit.add(() -> metrics.ignored("unknown_job"));
                log.warn("{} seq {} for unknown job {} ignored", event.type(), event.seq(), event.jobId());
                continue;
            }
            JobSnapshot prior = job.snapshot();
            before.putIfAbsent(job.id(), prior);
            Job.Outcome outcome;
            try {
                outcome = job.onReport(event);
            } catch (RuntimeException e) {
                // A defect: keep the job as it was, park the report for replay once fixed, go on.
                Job restored = Job.restore(prior, clock);
                jobs.put(job.id(), restored);
                dirty.computeIfPresent(job.id(), (id, stale) -> restored);
                Rejection rejection = new Rejection(Rejection.Reason.UNEXPECTED, "",
                        "the scheduler failed on " + event.type() + " seq " + event.seq() + " of job " + event.jobId()
                                + ": " + e + " (fix: a defect; fix it and replay the record from the dead-letter topic)");
                deadLetters.add(deadLetter(r, rejection));
                afterCommit.add(() -> metrics.deadLettered(rejection.reason().code()));
                log.error("report {}-{}@{} dead-lettered after a scheduler failure", r.topic(), r.partition(), r.offset(),
                        e);
                continue;
            }
            outcomes.add(outcome);
            if (outcome.persist()) {
                dirty.put(job.id(), job);
            }
            afterCommit.add(() -> {
                if (outcome.disposition() != Job.Disposition.ACCEPTED) {
                    metrics.ignored(outcome.disposition().name().toLowerCase(Locale.ROOT));
                }
                if (outcome.stepDuration() != null) {
                    metrics.stepDuration(job.id(), outcome.stepDuration());
                }
            });
        }
        try {
            commit(deadLetters, outcomes, dirty, offsets);
            afterCommit.forEach(Runnable::run);
            dirty.values().forEach(this::publishView);
        } catch (KafkaException e) {
            before.forEach((id, snapshot) -> jobs.put(id, Job.restore(snapshot, clock)));
            first.forEach(consumer::seek);
            log.warn("transaction for {} report(s) aborted, will read them again: {}", batch.count(), e.toString());
        }
    }

    /**
     * One transaction: dead letters, the outcomes' commands, the dirty jobs' state, the offsets.
     * Aborts on a recoverable error and rethrows; a fenced or broken producer stops the engine.
     */
    private void commit(List<ProducerRecord<String, byte[]>> deadLetters, List<Job.Outcome> outcomes,
            Map<String, Job> dirty, Map<TopicPartition, OffsetAndMetadata> offsets) {
        List<String> produced = new ArrayList<>();
        try {
            producer.beginTransaction();
            for (ProducerRecord<String, byte[]> dl : deadLetters) {
                producer.send(dl);
            }
            for (Job.Outcome o : outcomes) {
                for (Event e : o.commands()) {
                    producer.send(new ProducerRecord<>(topics.commands(), e.jobId(), codec.encode(e)));
                    produced.add(e.type());
                    if (e.payload() instanceof SchedulerDecision d) {
                        produced.add("decision:" + d.decision());
                    }
                }
            }
            for (Job job : dirty.values()) {
                producer.send(new ProducerRecord<>(topics.state(), job.id(), JSON.writeValueAsBytes(job.snapshot())));
            }
            if (offsets != null && !offsets.isEmpty()) {
                producer.sendOffsetsToTransaction(offsets, consumer.groupMetadata());
            }
            producer.commitTransaction();
        } catch (ProducerFencedException | OutOfOrderSequenceException | AuthorizationException e) {
            log.error("producer {} cannot go on ({}); stopping: another scheduler with the same transactional id runs"
                    + " (fix: run one scheduler per --transactional-id)", config.transactionalId(), e.toString());
            running = false;
            throw e;
        } catch (KafkaException e) {
            try {
                producer.abortTransaction();
            } catch (KafkaException abort) {
                e.addSuppressed(abort);
                running = false;
            }
            throw e;
        } catch (IOException e) {
            producer.abortTransaction();
            throw new KafkaException("state record does not serialize: " + e, e);
        }
        for (String type : produced) {
            if (type.startsWith("decision:")) {
                metrics.decision(type.substring("decision:".length()));
            } else {
                metrics.produced(type);
            }
        }
    }

    private ProducerRecord<String, byte[]> deadLetter(ConsumerRecord<String, byte[]> r, Rejection rejection) {
        return deadLetters.of(r, rejection);
    }

    private void publishView(Job job) {
        views.put(job.id(), job.snapshot());
        metrics.job(job.id());
    }

    private void updateLag() {
        metrics.lag(ConsumerLag.total(consumer));
    }

    /** The admin client's settings: the scheduler's own, then those of {@code --kafka-config}. */
    static Properties adminProperties(SchedulerConfig config) {
        return config.kafka().applyTo(KafkaTopics.adminProperties(config.bootstrapServers()));
    }

    /** The transactional producer's settings: the scheduler's own, then those of {@code --kafka-config}. */
    static Properties producerProperties(SchedulerConfig config) {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, config.bootstrapServers());
        p.put(ProducerConfig.CLIENT_ID_CONFIG, "shears-scheduler-producer");
        p.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, config.transactionalId());
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.LINGER_MS_CONFIG, 0);
        // A transaction begun while the broker still writes the previous one's markers is answered
        // CONCURRENT_TRANSACTIONS and retried after retry.backoff.ms, 100 ms by default: with transactions back to
        // back (a busy scheduler) Kafka's own p99 from begin to delivery went from 146-166 ms to 50-79 ms at
        // 10 ms in three runs (TransactionProbe, bench/pipeline-overhead.sh).
        p.put(ProducerConfig.RETRY_BACKOFF_MS_CONFIG, TRANSACTION_RETRY_BACKOFF_MS);
        p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 30_000);
        return config.kafka().applyTo(p);
    }

    /** A consumer's settings (of the group, or of the state reader when null), then those of {@code --kafka-config}. */
    static Properties consumerProperties(SchedulerConfig config, String group) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, config.bootstrapServers());
        p.put(ConsumerConfig.CLIENT_ID_CONFIG, group == null ? "shears-scheduler-state" : "shears-scheduler-reports");
        if (group != null) {
            p.put(ConsumerConfig.GROUP_ID_CONFIG, group);
        }
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 200);
        return config.kafka().applyTo(p);
    }
}
