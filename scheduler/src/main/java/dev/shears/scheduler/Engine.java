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
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
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
import java.util.function.Consumer;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.OutOfOrderSequenceException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.errors.UnsupportedVersionException;
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
 * letters, the consumed offsets); work from the HTTP API, stalled jobs and jobs past their retention
 * are handled here too, each in its own transaction between batches. Readers on other threads see
 * {@link #views()}, updated after each commit, and {@link #health()}.
 *
 * <p>Every record of a transaction is encoded and size-checked before the transaction begins, so a
 * request or report whose answer cannot be written is refused (a request) or dead-lettered (a report)
 * and leaves no transaction open. A transaction that fails is aborted whatever the exception; a
 * producer that cannot go on (fenced, or an abort that fails) stops the engine, which reports
 * itself down and hands the cause to its {@code onFatal}, so that the process exits and is restarted.
 */
final class Engine implements Runnable {
    /** The transactional producer's retry.backoff.ms (see {@link #producerProperties}). */
    static final int TRANSACTION_RETRY_BACKOFF_MS = 10;
    /**
     * The most bytes of key and value one record of the scheduler holds: Kafka's default {@code max.request.size}
     * (1 MiB, also about the broker's {@code message.max.bytes}) less 1 KiB for the record's framing.
     */
    static final int MAX_RECORD_BYTES = (1 << 20) - 1024;
    /** Expired jobs forgotten per transaction. */
    static final int FORGET_BATCH = 500;

    private static final Logger log = LoggerFactory.getLogger(Engine.class);
    private static final Duration POLL = Duration.ofMillis(100);
    /** How often stalled jobs are looked for. */
    private static final Duration STALL_CHECK = Duration.ofSeconds(1);
    private static final Duration REBUILD_LOG_EVERY = Duration.ofSeconds(5);
    static final ObjectMapper JSON = new ObjectMapper()
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

    /** Refused work: the job exists already, or has ended, or still runs. */
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

    /** A record the work needs is over {@link #MAX_RECORD_BYTES} or the event limit; the message names both sizes. */
    static final class TooLarge extends RuntimeException {
        TooLarge(String message) {
            super(message);
        }
    }

    /** Kafka did not take the work's transaction (it was aborted), or the engine is not running. */
    static final class Unavailable extends RuntimeException {
        Unavailable(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /**
     * Whether the engine serves.
     *
     * @param up true while it runs and can write to Kafka
     * @param reason why it does not, e.g. {@code the producer was fenced}; empty when up
     */
    record Health(boolean up, String reason) {
    }

    private final SchedulerConfig config;
    private final Topics topics;
    private final Clock clock;
    private final SchedulerMetrics metrics;
    private final Consumer<Throwable> onFatal;
    private final EventCodec codec = new EventCodec();
    private final DeadLetters deadLetters;
    private final Map<String, Job> jobs = new HashMap<>();
    private final ConcurrentMap<String, JobSnapshot> views;
    private final ConcurrentMap<String, JobProgress> progress = new ConcurrentHashMap<>();
    private final ConcurrentMap<String, Instant> heard;
    private final BlockingQueue<Runnable> tasks = new LinkedBlockingQueue<>();
    private KafkaProducer<String, byte[]> producer;
    private KafkaConsumer<String, byte[]> consumer;
    private volatile boolean running = true;
    private volatile Health health = new Health(false, "starting");
    private Throwable fatal;
    private Instant nextStallCheck = Instant.MIN;
    private Instant nextRetentionCheck = Instant.MIN;

    /**
     * @param views the jobs as other threads see them, updated after each commit
     * @param heard when each waiting job's pending command was last heard of, updated after each commit
     * @param onFatal called once, on the engine thread after it closed its clients, when the producer cannot go on
     */
    Engine(SchedulerConfig config, Clock clock, SchedulerMetrics metrics, ConcurrentMap<String, JobSnapshot> views,
            ConcurrentMap<String, Instant> heard, Consumer<Throwable> onFatal) {
        this.config = config;
        this.topics = config.cluster().topics();
        this.clock = clock;
        this.metrics = metrics;
        this.views = views;
        this.heard = heard;
        this.onFatal = onFatal;
        this.deadLetters = DeadLetters.forProducer(producerProperties(config));
    }

    Map<String, JobSnapshot> views() {
        return views;
    }

    /** The last heartbeat of each job's step in progress; gone once the step completes. For display only. */
    Map<String, JobProgress> progress() {
        return progress;
    }

    /** Up once {@link #open} has returned and until the engine stops; down with the reason after. */
    Health health() {
        return health;
    }

    /**
     * Creates the topics, fences any earlier scheduler with the same transactional id, rebuilds
     * every job from the state topic and subscribes to the reports. Runs on the caller's thread,
     * before {@link #run()}.
     *
     * @param timeout how long each step may wait for Kafka; the rebuild may take longer as long as it reads records
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
            rebuild(timeout);
            consumer = new KafkaConsumer<>(consumerProperties(config, SchedulerConfig.GROUP), new StringDeserializer(),
                    new ByteArrayDeserializer());
            consumer.subscribe(List.of(topics.reports()));
            health = new Health(true, "");
        } catch (RuntimeException e) {
            running = false;
            health = new Health(false, "did not start: " + e.getMessage());
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

    /**
     * Reads the state topic to its committed end, keeping the last record per job (a tombstone removes it), then
     * reads each job from its last record only. There is no wall on the whole: it fails only when no record came for
     * {@code idle} while the end was not reached, and logs its progress every few seconds.
     */
    private void rebuild(Duration idle) {
        long started = System.nanoTime();
        Map<String, byte[]> latest = new HashMap<>();
        long read = 0;
        Properties p = consumerProperties(config, null);
        try (KafkaConsumer<String, byte[]> reader = new KafkaConsumer<>(p, new StringDeserializer(),
                new ByteArrayDeserializer())) {
            List<TopicPartition> parts = new ArrayList<>();
            for (PartitionInfo info : reader.partitionsFor(topics.state(), idle)) {
                parts.add(new TopicPartition(info.topic(), info.partition()));
            }
            reader.assign(parts);
            reader.seekToBeginning(parts);
            Map<TopicPartition, Long> begin = reader.beginningOffsets(parts, idle);
            Map<TopicPartition, Long> end = reader.endOffsets(parts, idle);
            long span = parts.stream().mapToLong(tp -> end.get(tp) - begin.get(tp)).sum();
            long lastRecord = System.nanoTime();
            long lastLog = lastRecord;
            while (parts.stream().anyMatch(tp -> reader.position(tp) < end.get(tp))) {
                ConsumerRecords<String, byte[]> records = reader.poll(POLL);
                long now = System.nanoTime();
                if (!records.isEmpty()) {
                    lastRecord = now;
                } else if (now - lastRecord > idle.toNanos()) {
                    throw new IllegalStateException("state topic " + topics.state() + ": no record came for " + idle
                            + " with " + read + " of about " + span + " read, before its end " + end
                            + " (fix: check the broker and the scheduler's access to the topic)");
                }
                for (ConsumerRecord<String, byte[]> r : records) {
                    read++;
                    if (r.key() == null) {
                        continue;
                    }
                    if (r.value() == null) {
                        latest.remove(r.key());
                    } else {
                        latest.put(r.key(), r.value());
                    }
                }
                if (now - lastLog > REBUILD_LOG_EVERY.toNanos()) {
                    lastLog = now;
                    log.info("rebuilding from {}: {} of about {} record(s) read, {} job(s) so far", topics.state(),
                            read, span, latest.size());
                }
            }
        }
        for (var it = latest.entrySet().iterator(); it.hasNext();) {
            var e = it.next();
            it.remove();
            try {
                Job job = Job.restore(JobSnapshot.fromJson(e.getValue()), clock);
                jobs.put(e.getKey(), job);
                publishView(job);
            } catch (IOException | RuntimeException failure) {
                log.error("state record of job {} in {} does not read, job left out: {}", e.getKey(), topics.state(),
                        failure.toString());
            }
        }
        log.info("rebuilt {} job(s) from {} record(s) of {} in {} ms", jobs.size(), read, topics.state(),
                Duration.ofNanos(System.nanoTime() - started).toMillis());
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
                for (int queued = tasks.size(); queued > 0 && running; queued--) {
                    Runnable task = tasks.poll();
                    if (task == null) {
                        break;
                    }
                    task.run();
                }
                Instant now = clock.instant();
                if (running && !now.isBefore(nextStallCheck)) {
                    nextStallCheck = now.plus(STALL_CHECK);
                    resendOrFailStalled();
                }
                if (running && !now.isBefore(nextRetentionCheck)) {
                    // A quarter of the retention, between 1 s and a minute: ended jobs are not all looked at each round.
                    long every = Math.max(1_000, Math.min(60_000, config.retainEnded().toMillis() / 4));
                    nextRetentionCheck = now.plusMillis(every);
                    forgetExpired();
                }
                updateLag();
            }
        } catch (WakeupException e) {
            if (running) {
                fail("the reports consumer was woken up unexpectedly (see the log)", e);
            }
        } catch (RuntimeException | Error e) {
            if (running) {
                fail("the engine failed (" + e.getClass().getSimpleName() + "; see the log)", e);
            } else {
                log.warn("engine stopped with {}", e.toString());
            }
        } finally {
            running = false;
            if (health.up()) {
                health = new Health(false, "stopped");
            }
            Runnable task;
            while ((task = tasks.poll()) != null) {
                task.run();
            }
            close();
        }
    }

    private void close() {
        try {
            consumer.close(Duration.ofSeconds(10));
            producer.close(Duration.ofSeconds(10));
        } finally {
            if (fatal != null) {
                onFatal.accept(fatal);
            }
        }
    }

    /** Stops after the current batch or task; {@link #run()} then closes the clients. */
    void stop() {
        running = false;
        if (health.up()) {
            health = new Health(false, "stopping");
        }
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
            result.completeExceptionally(notRunning());
            return result;
        }
        tasks.add(() -> {
            if (!running) {
                result.completeExceptionally(notRunning());
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

    private Unavailable notRunning() {
        return new Unavailable("the scheduler is not running: " + health.reason(), null);
    }

    /**
     * Engine thread: starts a job, its JobStarted and first state record in one transaction.
     *
     * @throws Conflict when the job exists
     * @throws TooLarge when its JobStarted or its state record would be over the limits
     * @throws Unavailable when Kafka did not take the transaction
     */
    JobSnapshot submit(Recipe recipe) {
        String id = recipe.job();
        if (jobs.containsKey(id)) {
            throw new Conflict("job " + id + " exists already (" + jobs.get(id).state().label()
                    + ") (fix: rename `job:` in the recipe, e.g. " + id + "-2)");
        }
        Job job = Job.submit(recipe, clock);
        Job.Outcome outcome;
        try {
            outcome = job.start();
        } catch (IllegalArgumentException e) {
            // Recipe.parse checked every field; what JobStarted adds is its bound on the recipe's bytes.
            throw new TooLarge("the recipe does not fit in a JobStarted event: " + e.getMessage());
        }
        Batch batch = new Batch();
        batch.add(job, outcome);
        int state = batch.stateBytes(id);
        if (state > Job.NEW_STATE_BYTES) {
            throw new TooLarge(String.format(Locale.ROOT, "the recipe takes %d bytes in the state of job %s, over the"
                    + " %d bytes a new job's state may hold, so that its history fits beside it (fix: shorten the"
                    + " recipe's text fields; a recipe is a few dozen lines)", state, id, Job.NEW_STATE_BYTES));
        }
        commit(List.of(), batch, null);
        jobs.put(id, job);
        publishView(job);
        heard.put(id, job.lastHeard());
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
        try {
            Batch batch = new Batch();
            batch.add(job, job.cancel(reason));
            commit(List.of(), batch, null);
        } catch (RuntimeException e) {
            jobs.put(id, Job.restore(before, clock));
            throw e;
        }
        publishView(job);
        heard.remove(id);
        log.info("job {} cancelled: {}", id, reason);
        return views.get(id);
    }

    /**
     * Engine thread: forgets an ended job: a tombstone on the state topic, its view and its meters gone. Its events
     * stay on the commands and reports topics, its checkpoints and model where the workers wrote them.
     *
     * @throws NotFound when there is no such job
     * @throws Conflict when the job still runs
     */
    void delete(String id) {
        Job job = jobs.get(id);
        if (job == null) {
            throw new NotFound("no job " + id);
        }
        if (!job.state().ended()) {
            throw new Conflict("job " + id + " is " + job.state().label() + ": only an ended job can be deleted (fix:"
                    + " cancel it first, POST /jobs/" + id + "/cancel, then delete it)");
        }
        forget(List.of(id));
        log.info("job {} deleted", id);
    }

    /** Forgets the ended jobs whose end is older than the retention, a bounded number per transaction. */
    private void forgetExpired() {
        if (config.retainEnded().isZero()) {
            return;
        }
        Instant cutoff = clock.instant().minus(config.retainEnded());
        List<String> expired = new ArrayList<>();
        for (Job job : jobs.values()) {
            JobSnapshot s = job.snapshot();
            String ended = s.ended() != null ? s.ended() : s.updated();
            if (s.state().ended() && Instant.parse(ended).isBefore(cutoff)) {
                expired.add(job.id());
                if (expired.size() == FORGET_BATCH) {
                    break;
                }
            }
        }
        if (!expired.isEmpty()) {
            try {
                forget(expired);
                log.info("forgot {} job(s) ended over {} ago: {}", expired.size(), config.retainEnded(), expired);
            } catch (Unavailable e) {
                log.warn("could not forget {} expired job(s), will try again: {}", expired.size(), e.toString());
            }
        }
    }

    private void forget(List<String> ids) {
        Batch batch = new Batch();
        ids.forEach(batch::tombstone);
        commit(List.of(), batch, null);
        for (String id : ids) {
            jobs.remove(id);
            views.remove(id);
            progress.remove(id);
            heard.remove(id);
            metrics.forget(id);
        }
    }

    /** Sends again, or fails, the pending command of every job nothing was heard of for the stall timeout. */
    private void resendOrFailStalled() {
        if (config.stallTimeout().isZero()) {
            return;
        }
        Batch batch = new Batch();
        Map<String, JobSnapshot> before = new HashMap<>();
        List<Job> stalled = new ArrayList<>();
        for (Job job : jobs.values()) {
            JobSnapshot prior = job.snapshot();
            try {
                Job.Outcome outcome = job.stalled(config.stallTimeout(), config.stallResends());
                if (outcome == null) {
                    continue;
                }
                batch.add(job, outcome);
            } catch (RuntimeException e) {
                jobs.put(job.id(), Job.restore(prior, clock));
                log.error("job {}: acting on its stall failed, left as it was", job.id(), e);
                continue;
            }
            before.put(job.id(), prior);
            stalled.add(job);
        }
        if (stalled.isEmpty()) {
            return;
        }
        try {
            commit(List.of(), batch, null);
        } catch (Unavailable e) {
            before.forEach((id, snapshot) -> jobs.put(id, Job.restore(snapshot, clock)));
            log.warn("transaction for {} stalled job(s) aborted, will try again: {}", stalled.size(), e.toString());
            return;
        }
        for (Job job : stalled) {
            publishView(job);
            heard.put(job.id(), job.lastHeard());
            if (job.state().ended()) {
                heard.remove(job.id());
            }
            log.warn("job {} stalled: {}", job.id(), job.snapshot().history().get(job.snapshot().history().size() - 1)
                    .detail());
        }
    }

    private void process(ConsumerRecords<String, byte[]> batch) {
        Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
        Map<TopicPartition, Long> first = new HashMap<>();
        Map<String, JobSnapshot> before = new HashMap<>();
        Map<String, Job> touched = new LinkedHashMap<>();
        Batch answers = new Batch();
        List<ProducerRecord<String, byte[]>> letters = new ArrayList<>();
        List<Runnable> afterCommit = new ArrayList<>();
        for (ConsumerRecord<String, byte[]> r : batch) {
            TopicPartition tp = new TopicPartition(r.topic(), r.partition());
            first.putIfAbsent(tp, r.offset());
            offsets.put(tp, new OffsetAndMetadata(r.offset() + 1));
            Decoded decoded = codec.decode(r.value() == null ? new byte[0] : r.value());
            if (decoded instanceof Rejection rejection) {
                letters.add(deadLetters.of(r, rejection));
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
                answers.add(job, outcome);
            } catch (RuntimeException e) {
                // A defect, or an answer that cannot be written: keep the job as it was, park the report for replay
                // once fixed, go on.
                Job restored = Job.restore(prior, clock);
                jobs.put(job.id(), restored);
                touched.computeIfPresent(job.id(), (id, stale) -> restored);
                Rejection rejection = new Rejection(Rejection.Reason.UNEXPECTED, "",
                        "the scheduler failed on " + event.type() + " seq " + event.seq() + " of job " + event.jobId()
                                + ": " + e
                                + " (fix: a defect; fix it and replay the record from the dead-letter topic)");
                letters.add(deadLetters.of(r, rejection));
                afterCommit.add(() -> metrics.deadLettered(rejection.reason().code()));
                log.error("report {}-{}@{} dead-lettered after a scheduler failure", r.topic(), r.partition(),
                        r.offset(),
                        e);
                continue;
            }
            touched.put(job.id(), job);
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
            commit(letters, answers, offsets);
        } catch (Unavailable e) {
            before.forEach((id, snapshot) -> jobs.put(id, Job.restore(snapshot, clock)));
            if (running) {
                first.forEach(consumer::seek);
                log.warn("transaction for {} report(s) aborted, will read them again: {}", batch.count(), e.toString());
            }
            return;
        }
        afterCommit.forEach(Runnable::run);
        for (Job job : touched.values()) {
            if (answers.hasState(job.id())) {
                publishView(job);
            }
            if (job.state().ended()) {
                heard.remove(job.id());
            } else {
                heard.put(job.id(), job.lastHeard());
            }
        }
    }

    /**
     * The records of one transaction, in order: commands, then the state records (the last per job) and tombstones.
     * Each is encoded and size-checked as it is added, before the transaction begins; an outcome that does not fit
     * adds nothing.
     */
    private final class Batch {
        private final List<ProducerRecord<String, byte[]>> commands = new ArrayList<>();
        private final Map<String, ProducerRecord<String, byte[]>> states = new LinkedHashMap<>();
        private final List<String> produced = new ArrayList<>();

        /**
         * The commands of {@code outcome} and, when it changed the job, the job's state.
         *
         * @throws TooLarge when a record is over the limits; nothing is added then
         */
        void add(Job job, Job.Outcome outcome) {
            List<ProducerRecord<String, byte[]>> out = new ArrayList<>();
            List<String> types = new ArrayList<>();
            for (Event e : outcome.commands()) {
                byte[] value;
                try {
                    value = codec.encode(e);
                } catch (IllegalArgumentException tooLarge) {
                    throw new TooLarge(tooLarge.getMessage());
                }
                out.add(checked(new ProducerRecord<>(topics.commands(), e.jobId(), value), e.type() + " event of job "
                        + e.jobId(), "shorten the recipe's text fields; a recipe is a few dozen lines"));
                types.add(e.type());
                if (e.payload() instanceof SchedulerDecision d) {
                    types.add("decision:" + d.decision());
                }
            }
            ProducerRecord<String, byte[]> state = null;
            if (outcome.persist()) {
                state = checked(new ProducerRecord<>(topics.state(), job.id(), job.stateRecord()), "state record of"
                        + " job " + job.id(), "a defect: the state is trimmed to " + Job.STATE_BYTES + " bytes");
            }
            commands.addAll(out);
            produced.addAll(types);
            if (state != null) {
                states.put(job.id(), state);
            }
        }

        void tombstone(String id) {
            states.put(id, new ProducerRecord<>(topics.state(), id, null));
        }

        boolean hasState(String id) {
            return states.containsKey(id);
        }

        int stateBytes(String id) {
            ProducerRecord<String, byte[]> r = states.get(id);
            return r == null || r.value() == null ? 0 : r.value().length;
        }

        List<ProducerRecord<String, byte[]>> records() {
            List<ProducerRecord<String, byte[]>> all = new ArrayList<>(commands);
            all.addAll(states.values());
            return all;
        }
    }

    private static ProducerRecord<String, byte[]> checked(ProducerRecord<String, byte[]> r, String what, String fix) {
        long bytes = r.key().getBytes(StandardCharsets.UTF_8).length + (long) r.value().length;
        if (bytes > MAX_RECORD_BYTES) {
            throw new TooLarge(String.format(Locale.ROOT, "the %s is %d bytes with its key, over the %d bytes a"
                    + " record of the scheduler holds (Kafka's default max.request.size, less room for the record's"
                    + " framing) (fix: %s)", what, bytes, MAX_RECORD_BYTES, fix));
        }
        return r;
    }

    /**
     * One transaction: dead letters, the batch's records, the offsets. Any failure aborts it and is rethrown as
     * {@link Unavailable}; a producer that cannot go on (fenced, out of sequence, unauthorised, unsupported, or an
     * abort that fails) also stops the engine.
     */
    private void commit(List<ProducerRecord<String, byte[]>> letters, Batch batch,
            Map<TopicPartition, OffsetAndMetadata> offsets) {
        try {
            producer.beginTransaction();
            for (ProducerRecord<String, byte[]> dl : letters) {
                producer.send(dl);
            }
            for (ProducerRecord<String, byte[]> r : batch.records()) {
                producer.send(r);
            }
            if (offsets != null && !offsets.isEmpty()) {
                producer.sendOffsetsToTransaction(offsets, consumer.groupMetadata());
            }
            producer.commitTransaction();
        } catch (RuntimeException e) {
            Throwable fatalError = cannotGoOn(e);
            if (fatalError == null) {
                try {
                    producer.abortTransaction();
                } catch (RuntimeException abort) {
                    e.addSuppressed(abort);
                    fatalError = cannotGoOn(abort) != null ? cannotGoOn(abort) : abort;
                }
            }
            if (fatalError != null) {
                fail(fatalError instanceof ProducerFencedException ? "the producer was fenced: another scheduler with"
                        + " transactional id " + config.transactionalId() + " started (fix: run one scheduler per"
                        + " --transactional-id; this one exits to be restarted)"
                        : "the producer cannot go on (" + fatalError.getClass().getSimpleName() + "; see the log); the"
                                + " scheduler exits to be restarted",
                        e);
                throw new Unavailable("the scheduler stops: " + fatalError, e);
            }
            throw new Unavailable("the transaction was aborted: " + e, e);
        }
        for (String type : batch.produced) {
            if (type.startsWith("decision:")) {
                metrics.decision(type.substring("decision:".length()));
            } else {
                metrics.produced(type);
            }
        }
    }

    /** The error in {@code e} or its causes after which a transactional producer cannot go on, or null. */
    private static Throwable cannotGoOn(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof ProducerFencedException || t instanceof OutOfOrderSequenceException
                    || t instanceof AuthorizationException || t instanceof UnsupportedVersionException) {
                return t;
            }
        }
        return null;
    }

    /** The engine cannot go on: it reports itself down and stops; {@code onFatal} gets {@code cause} once closed. */
    private void fail(String reason, Throwable cause) {
        log.error("scheduler engine stops: {}", reason, cause);
        health = new Health(false, reason);
        running = false;
        if (fatal == null) {
            fatal = cause;
        }
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
        return config.cluster().client().applyTo(KafkaTopics.adminProperties(config.cluster().bootstrapServers()));
    }

    /** The transactional producer's settings: the scheduler's own, then those of {@code --kafka-config}. */
    static Properties producerProperties(SchedulerConfig config) {
        Properties p = new Properties();
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
        return config.cluster().applyTo(p);
    }

    /** A consumer's settings (of the group, or of the state reader when null), then those of {@code --kafka-config}. */
    static Properties consumerProperties(SchedulerConfig config, String group) {
        Properties p = new Properties();
        p.put(ConsumerConfig.CLIENT_ID_CONFIG, group == null ? "shears-scheduler-state" : "shears-scheduler-reports");
        if (group != null) {
            p.put(ConsumerConfig.GROUP_ID_CONFIG, group);
        }
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 200);
        return config.cluster().applyTo(p);
    }
}
