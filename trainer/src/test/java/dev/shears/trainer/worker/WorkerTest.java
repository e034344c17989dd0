package dev.shears.trainer.worker;

import static org.assertj.core.api.Assertions.assertThat;

import dev.shears.common.events.CommandKey;
import dev.shears.common.events.Decoded;
import dev.shears.common.events.DeadLetter;
import dev.shears.common.events.Event;
import dev.shears.common.events.EventCodec;
import dev.shears.common.events.Finalize;
import dev.shears.common.events.JobFailed;
import dev.shears.common.events.JobProgress;
import dev.shears.common.events.JobResumed;
import dev.shears.common.events.JobStarted;
import dev.shears.common.events.ModelPublished;
import dev.shears.common.events.PruneStep;
import dev.shears.common.events.StepCompleted;
import dev.shears.common.events.Topics;
import dev.shears.broker.EmbeddedKafkaExtension;
import dev.shears.common.kafka.DeadLetters;
import dev.shears.common.kafka.KafkaClientConfig;
import dev.shears.common.kafka.KafkaCluster;
import dev.shears.common.kafka.KafkaTopics;
import dev.shears.trainer.checkpoint.Checkpoints;
import dev.shears.trainer.data.DataConfig;
import dev.shears.trainer.data.Subset;
import dev.shears.trainer.metrics.TrainerMetrics;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Trainer workers on a real KRaft broker, the test playing the scheduler: it writes commands and
 * reads the reports. The job is the quick recipe on the committed Fashion-MNIST subset.
 */
class WorkerTest {
    static final Path QUICK = Path.of("../trainer/src/test/resources/recipes/quick.yaml");
    static final Duration TIMEOUT = Duration.ofSeconds(60);
    static final AtomicInteger UNIQUE = new AtomicInteger();

    @RegisterExtension
    static final EmbeddedKafkaExtension kafka = new EmbeddedKafkaExtension();

    @TempDir
    Path work;

    final List<Worker> workers = new ArrayList<>();
    final EventCodec codec = new EventCodec();
    Topics topics;
    String group;
    KafkaProducer<String, byte[]> producer;
    KafkaConsumer<String, byte[]> reportsConsumer;
    final List<Event> reports = new ArrayList<>();

    /** Fresh topics and a fresh group for each test: {@code commands} with the given partitions. */
    void topics(int commandPartitions) {
        int n = UNIQUE.incrementAndGet();
        topics = new Topics("t" + n);
        group = "workers-" + n;
        KafkaTopics.create(kafka.bootstrapServers(),
                List.of(new NewTopic(topics.commands(), commandPartitions, (short) 1),
                        new NewTopic(topics.reports(), 1, (short) 1),
                        new NewTopic(Topics.dlt(topics.commands()), 1, (short) 1)),
                Duration.ofSeconds(30));
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        producer = new KafkaProducer<>(p, new StringSerializer(), new ByteArraySerializer());
        reportsConsumer = consumer();
        reportsConsumer.assign(List.of(new TopicPartition(topics.reports(), 0)));
        reportsConsumer.seekToBeginning(reportsConsumer.assignment());
    }

    KafkaConsumer<String, byte[]> consumer() {
        Properties c = new Properties();
        c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
        c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        return new KafkaConsumer<>(c, new StringDeserializer(), new ByteArrayDeserializer());
    }

    @AfterEach
    void stopWorkers() {
        workers.forEach(w -> w.close(Duration.ZERO));
        if (producer != null) {
            producer.close();
        }
        if (reportsConsumer != null) {
            reportsConsumer.close();
        }
    }

    Worker worker(String id, TrainerMetrics metrics, Map<String, String> consumerSettings) {
        return worker(id, metrics, consumerSettings, DataConfig.defaults().withDataRoots(List.of(Subset.root())));
    }

    Worker worker(String id, TrainerMetrics metrics, Map<String, String> consumerSettings, DataConfig data) {
        WorkerConfig config = new WorkerConfig(id, work,
                new KafkaCluster(kafka.bootstrapServers(), topics, KafkaClientConfig.of(consumerSettings)), group,
                WorkerConfig.Pacing.DEFAULT.withSessionTimeout(Duration.ofSeconds(6))
                        .withProgressInterval(Duration.ofMillis(300)),
                data);
        Worker w = new Worker(config, metrics, System.out).start();
        workers.add(w);
        return w;
    }

    Worker worker(String id) {
        return worker(id, new TrainerMetrics(new SimpleMeterRegistry(), id), Map.of());
    }

    /** A recipe no worker can use: its answer is a JobFailed, at once. */
    static final String UNUSABLE = "job: job-x\nmodel: lenet5\nno-such-section: 1\n";

    static String recipe(String job) throws Exception {
        return Files.readString(QUICK).replace("job: quick-lenet5", "job: " + job) + "data: " + Subset.NAME + "\n";
    }

    void send(Event e) throws Exception {
        producer.send(new ProducerRecord<>(topics.commands(), e.jobId(), codec.encode(e))).get();
    }

    /** Waits for a report that matches, reading everything reported so far into {@link #reports}. */
    <T> T await(String job, Class<T> type, Predicate<T> which) {
        List<T> found = new ArrayList<>();
        Awaitility.await().atMost(TIMEOUT).pollInterval(Duration.ofMillis(50)).until(() -> {
            for (ConsumerRecord<String, byte[]> r : reportsConsumer.poll(Duration.ofMillis(100))) {
                if (codec.decode(r.value()) instanceof Decoded.Accepted a) {
                    reports.add(a.event());
                }
            }
            found.clear();
            found.addAll(of(job, type).stream().filter(which).toList());
            return !found.isEmpty();
        });
        return found.get(0);
    }

    <T> List<T> of(String job, Class<T> type) {
        return reports.stream().filter(e -> e.jobId().equals(job)).map(Event::payload).filter(type::isInstance)
                .map(type::cast).collect(Collectors.toList());
    }

    /** Reads the reports that arrive within {@code d}. */
    void drain(Duration d) {
        long end = System.nanoTime() + d.toNanos();
        while (System.nanoTime() < end) {
            for (ConsumerRecord<String, byte[]> r : reportsConsumer.poll(Duration.ofMillis(100))) {
                if (codec.decode(r.value()) instanceof Decoded.Accepted a) {
                    reports.add(a.event());
                }
            }
        }
    }

    StepCompleted start(String job) throws Exception {
        send(Event.of(job, 0, new JobStarted(recipe(job), 2)));
        return await(job, StepCompleted.class, s -> s.seq() == 0);
    }

    @Test
    void runsAJobToAPublishedModelAndAcknowledgesARedeliveredStepWithoutApplyingIt() throws Exception {
        topics(2);
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        worker("w1", new TrainerMetrics(registry, "w1"), Map.of());
        String job = "job-a";
        StepCompleted dense = start(job);
        assertThat(dense.worker()).isEqualTo("w1");
        assertThat(dense.accuracy()).isGreaterThan(0.5);

        send(Event.of(job, 1, new PruneStep(1, 0.5, 10, false, 1)));
        StepCompleted one = await(job, StepCompleted.class, s -> s.seq() == 1);
        assertThat(one.redelivered()).isFalse();
        assertThat(one.achievedSparsity()).isEqualTo(0.5, org.assertj.core.data.Offset.offset(1e-4));

        send(Event.of(job, 1, new PruneStep(1, 0.5, 10, false, 1)));
        StepCompleted again = await(job, StepCompleted.class, s -> s.seq() == 1 && s.redelivered());
        assertThat(again.checkpointId()).isEqualTo(one.checkpointId());
        assertThat(again.accuracy()).isEqualTo(one.accuracy());

        send(Event.of(job, 2, new PruneStep(2, 0.8, 10, false, 1)));
        await(job, StepCompleted.class, s -> s.seq() == 2);
        send(Event.of(job, 3, new Finalize(2, 1)));
        ModelPublished published = await(job, ModelPublished.class, m -> true);
        assertThat(Checkpoints.sha256(Path.of(published.path()))).isEqualTo(published.sha256());
        assertThat(published.sparsity()).isEqualTo(0.8, org.assertj.core.data.Offset.offset(1e-4));

        assertThat(of(job, StepCompleted.class)).extracting(StepCompleted::seq, StepCompleted::redelivered)
                .containsExactly(org.assertj.core.groups.Tuple.tuple(0L, false),
                        org.assertj.core.groups.Tuple.tuple(1L, false),
                        org.assertj.core.groups.Tuple.tuple(1L, true), org.assertj.core.groups.Tuple.tuple(2L, false));
        assertThat(of(job, JobResumed.class)).isEmpty();
        assertThat(registry.get("shears.events.consumed").tag("type", "PruneStep").counter().count()).isEqualTo(3);
        Awaitility.await().atMost(TIMEOUT).until(() -> committed(0) + committed(1) == 5);
    }

    long committed(int partition) {
        try (var admin = org.apache.kafka.clients.admin.Admin
                .create(Map.of("bootstrap.servers", kafka.bootstrapServers()))) {
            var offsets = admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get();
            var o = offsets.get(new TopicPartition(topics.commands(), partition));
            return o == null ? 0 : o.offset();
        } catch (Exception e) {
            return -1;
        }
    }

    /**
     * A recipe put on the commands topic directly, past the scheduler's checks: a name that leads out of the worker's
     * roots by a link is refused for good with the reason a missing name gets, so that the reason tells nothing of
     * what the worker's disk holds; an absolute path or .. is refused when the recipe is read.
     */
    @Test
    void aRecipeNamingAPathOutsideTheRootsFailsForGoodWithoutTellingWhatTheWorkerHolds(@TempDir Path roots)
            throws Exception {
        topics(1);
        Path data = Files.createDirectories(roots.resolve("data"));
        Path models = Files.createDirectories(roots.resolve("models"));
        Files.createSymbolicLink(data.resolve("escape"), Path.of("/etc"));
        Files.createSymbolicLink(models.resolve("escape.zip"), Path.of("/etc/passwd"));
        worker("w1", new TrainerMetrics(new SimpleMeterRegistry(), "w1"), Map.of(), DataConfig.defaults()
                .withDataRoots(List.of(Subset.root(), data)).withModelRoots(List.of(models)));
        Map<String, String> recipes = new java.util.LinkedHashMap<>();
        recipes.put("data-link", recipe("data-link").replace("data: " + Subset.NAME, "data: escape"));
        recipes.put("data-missing", recipe("data-missing").replace("data: " + Subset.NAME, "data: absent"));
        recipes.put("model-link", recipe("model-link").replace("model: lenet5", "model: file:escape.zip"));
        recipes.put("model-missing", recipe("model-missing").replace("model: lenet5", "model: file:absent.zip"));
        recipes.put("data-absolute", recipe("data-absolute").replace("data: " + Subset.NAME, "data: /etc"));
        recipes.put("data-dotdot", recipe("data-dotdot").replace("data: " + Subset.NAME, "data: mine/../../etc"));
        for (Map.Entry<String, String> r : recipes.entrySet()) {
            send(Event.of(r.getKey(), 0, new JobStarted(r.getValue(), 2)));
        }
        Map<String, String> reasons = new java.util.LinkedHashMap<>();
        for (String job : recipes.keySet()) {
            JobFailed failed = await(job, JobFailed.class, f -> true);
            assertThat(failed.retryable()).as(job).isFalse();
            reasons.put(job, failed.reason());
        }

        assertThat(reasons.get("data-link").replace("escape", "NAME"))
                .isEqualTo(reasons.get("data-missing").replace("absent", "NAME"))
                .contains("is not available on this worker").contains("fix:");
        assertThat(reasons.get("model-link").replace("escape", "NAME"))
                .isEqualTo(reasons.get("model-missing").replace("absent", "NAME"));
        assertThat(reasons.get("data-absolute")).contains("data \"/etc\" is an absolute path");
        assertThat(reasons.get("data-dotdot")).contains("leaves the root with ..");
        for (String reason : reasons.values()) {
            assertThat(reason).doesNotContain(roots.toString()).doesNotContain(Subset.root().toString())
                    .doesNotContain("passwd").doesNotContain("/etc/");
        }
        assertThat(of("data-link", StepCompleted.class)).isEmpty();
        Awaitility.await().atMost(TIMEOUT).until(() -> committed(0) == recipes.size());
    }

    @Test
    void deadLettersAnUndecodableRecordWithItsReasonAndGoesOn() throws Exception {
        topics(1);
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        worker("w1", new TrainerMetrics(registry, "w1"), Map.of());
        byte[] garbage = "{\"type\":\"PruneStep\",".getBytes(StandardCharsets.UTF_8);
        var sent = producer.send(new ProducerRecord<>(topics.commands(), "job-b", garbage)).get();
        String job = "job-b";
        send(Event.of(job, 0, new JobStarted(UNUSABLE, 2)));
        assertThat(await(job, JobFailed.class, f -> true).retryable()).isFalse();

        ConsumerRecord<String, byte[]> letter = firstDeadLetter();
        assertThat(letter.key()).isEqualTo("job-b");
        assertThat(letter.value()).isEqualTo(garbage);
        assertThat(header(letter, DeadLetter.REASON)).isEqualTo("malformed");
        assertThat(header(letter, DeadLetter.SOURCE_TOPIC)).isEqualTo(topics.commands());
        assertThat(header(letter, DeadLetter.SOURCE_PARTITION)).isEqualTo("0");
        assertThat(header(letter, DeadLetter.SOURCE_OFFSET)).isEqualTo(Long.toString(sent.offset()));
        assertThat(header(letter, DeadLetter.DETAIL)).isNotBlank();
        assertThat(registry.get("shears.events.deadlettered").tag("reason", "malformed").counter().count())
                .isEqualTo(1);
    }

    /**
     * Its dead-letter copy with the headers used to exceed the producer's max.request.size: refused forever
     * (RecordTooLargeException), not committed, and the partition's later commands never applied.
     */
    @Test
    void deadLettersARecordJustUnderTheSizeLimitCutToFitAndGoesOn() throws Exception {
        topics(1);
        worker("w1");
        byte[] huge = new byte[EventCodec.MAX_BYTES - 200];
        java.util.Arrays.fill(huge, (byte) 'x');
        producer.send(new ProducerRecord<>(topics.commands(), "job-j", huge)).get();
        String job = "job-j";
        send(Event.of(job, 0, new JobStarted(UNUSABLE, 2)));
        assertThat(await(job, JobFailed.class, f -> true).retryable()).isFalse();

        ConsumerRecord<String, byte[]> letter = firstDeadLetter();
        String sha256 = java.util.HexFormat.of()
                .formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(huge));
        assertThat(letter.key()).isEqualTo(job);
        assertThat(letter.value()).hasSizeLessThan(huge.length)
                .isEqualTo(java.util.Arrays.copyOf(huge, letter.value().length));
        assertThat(header(letter, DeadLetters.VALUE_BYTES)).isEqualTo(Integer.toString(huge.length));
        assertThat(header(letter, DeadLetters.VALUE_SHA256)).isEqualTo(sha256);
        assertThat(header(letter, DeadLetter.REASON)).isEqualTo("malformed");
    }

    /** The first record of the commands' dead-letter topic, waiting for it. */
    ConsumerRecord<String, byte[]> firstDeadLetter() {
        try (KafkaConsumer<String, byte[]> dlt = consumer()) {
            dlt.assign(List.of(new TopicPartition(Topics.dlt(topics.commands()), 0)));
            dlt.seekToBeginning(dlt.assignment());
            List<ConsumerRecord<String, byte[]>> letters = new ArrayList<>();
            Awaitility.await().atMost(TIMEOUT).until(() -> {
                dlt.poll(Duration.ofMillis(100)).forEach(letters::add);
                return !letters.isEmpty();
            });
            return letters.get(0);
        }
    }

    static String header(ConsumerRecord<?, ?> r, String name) {
        Header h = r.headers().lastHeader(name);
        return h == null ? null : new String(h.value(), StandardCharsets.UTF_8);
    }

    @Test
    void aStepLongerThanTheMaxPollIntervalDoesNotCauseARebalance() throws Exception {
        topics(1);
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        worker("w1", new TrainerMetrics(registry, "w1"), Map.of(ConsumerConfig.MAX_POLL_INTERVAL_MS_CONFIG, "1500"));
        String job = "job-c";
        start(job);
        // aimed at 6 max.poll.interval.ms: the estimate comes from a short, cold dense run, and a warm step has
        // trained 1.5x faster than it (CI: 3.9 s for an aim of 6 s), so the margin over the 2x checked below is 3x
        long iterations = iterationsFor(job, Duration.ofSeconds(9));

        long t0 = System.nanoTime();
        send(Event.of(job, 1, new PruneStep(1, 0.3, iterations, false, 1)));
        StepCompleted one = await(job, StepCompleted.class, s -> s.seq() == 1);
        Duration took = Duration.ofNanos(System.nanoTime() - t0);

        assertThat(took).isGreaterThan(Duration.ofMillis(3000)); // twice max.poll.interval.ms
        assertThat(one.redelivered()).isFalse();
        assertThat(of(job, JobProgress.class).stream().filter(p -> p.seq() == 1)).hasSizeGreaterThanOrEqualTo(3);
        assertThat(registry.find("shears.worker.partitions.revoked").counter()).isNull();
        drain(Duration.ofSeconds(1));
        assertThat(of(job, StepCompleted.class).stream().filter(s -> s.seq() == 1)).hasSize(1);
        assertThat(of(job, JobResumed.class)).isEmpty();
    }

    /** Iterations that train for about {@code d}, from the throughput the dense training reported. */
    long iterationsFor(String job, Duration d) {
        double samplesPerSecond = of(job, JobProgress.class).stream()
                .filter(p -> p.seq() == 0 && p.samplesPerSecond() > 0)
                .mapToDouble(JobProgress::samplesPerSecond).max().orElse(2000);
        return Math.max(50, Math.round(samplesPerSecond / 64 * d.toMillis() / 1000.0));
    }

    @Test
    void anotherWorkerTakesOverAStepWhoseWorkerWasClosedAndRedoesItOnce() throws Exception {
        topics(1);
        Worker first = worker("w1");
        String job = "job-d";
        start(job);
        Worker second = worker("w2");
        long iterations = iterationsFor(job, Duration.ofSeconds(5));

        send(Event.of(job, 1, new PruneStep(1, 0.5, iterations, false, 1)));
        JobProgress running = await(job, JobProgress.class, p -> p.seq() == 1 && p.fraction() > 0);
        Worker owner = running.worker().equals("w1") ? first : second;
        String other = owner == first ? "w2" : "w1";
        owner.close(Duration.ZERO);

        StepCompleted one = await(job, StepCompleted.class, s -> s.seq() == 1);
        assertThat(one.worker()).isEqualTo(other);
        assertThat(one.redelivered()).isFalse();
        assertThat(of(job, JobResumed.class)).contains(JobResumed.of(new CommandKey(1, 0), 0, other));
        drain(Duration.ofSeconds(1));
        assertThat(of(job, StepCompleted.class).stream().filter(s -> s.seq() == 1)).hasSize(1);
        assertThat(Files.list(work.resolve("jobs").resolve(job).resolve("checkpoints"))
                .map(p -> p.getFileName().toString())
                .filter(n -> n.startsWith("ckpt-000001"))).hasSize(1);
    }

    @Test
    void closingWithGraceLetsTheRunningStepFinishAndCommitsIt() throws Exception {
        topics(1);
        Worker first = worker("w1");
        String job = "job-e";
        start(job);
        send(Event.of(job, 1, new PruneStep(1, 0.5, iterationsFor(job, Duration.ofSeconds(3)), false, 1)));
        await(job, JobProgress.class, p -> p.seq() == 1 && p.fraction() > 0);
        first.close(Duration.ofSeconds(60));
        assertThat(new Checkpoints(work.resolve("jobs").resolve(job).resolve("checkpoints")).list())
                .extracting(Checkpoints.Checkpoint::seq).containsExactly(0L, 1L);
        StepCompleted one = await(job, StepCompleted.class, s -> s.seq() == 1);
        assertThat(one.worker()).isEqualTo("w1");

        worker("w2");
        send(Event.of(job, 2, new PruneStep(2, 0.7, 5, false, 1)));
        StepCompleted two = await(job, StepCompleted.class, s -> s.seq() == 2);
        assertThat(two.worker()).isEqualTo("w2");
        // w2 started from the committed offset: step 1 was not delivered again
        assertThat(of(job, StepCompleted.class)).extracting(StepCompleted::seq).containsExactly(0L, 1L, 2L);
        assertThat(of(job, JobResumed.class)).containsExactly(JobResumed.of(new CommandKey(1, 1), 0, "w2"));
    }

    @Test
    void aCancelJobBehindARunningStepStopsItAndNothingIsReported() throws Exception {
        topics(1);
        worker("w1");
        String job = "job-f";
        start(job);
        send(Event.of(job, 1, new PruneStep(1, 0.5, iterationsFor(job, Duration.ofSeconds(60)), false, 1)));
        await(job, JobProgress.class, p -> p.seq() == 1 && p.fraction() > 0);
        long t0 = System.nanoTime();
        send(Event.of(job, 1, new dev.shears.common.events.CancelJob("cancelled by the test")));

        Awaitility.await().atMost(Duration.ofSeconds(20)).until(() -> committed(0) == 3);
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(20));
        assertThat(work.resolve("jobs").resolve(job).resolve("cancelled.txt")).content()
                .contains("cancelled by the test");
        drain(Duration.ofMillis(500));
        assertThat(of(job, StepCompleted.class)).extracting(StepCompleted::seq).containsExactly(0L);
        assertThat(new Checkpoints(work.resolve("jobs").resolve(job).resolve("checkpoints")).list())
                .extracting(Checkpoints.Checkpoint::seq).containsExactly(0L);
    }

    @Test
    void theWorkerCommandSaysReadyWorksAndStopsOnSigterm() throws Exception {
        topics(1);
        String javaBin = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        ProcessBuilder pb = new ProcessBuilder(javaBin, "-cp", System.getProperty("java.class.path"),
                "dev.shears.trainer.cli.WorkerCommand", "--bootstrap", kafka.bootstrapServers(), "--worker-id", "cli-1",
                "--work-dir", work.toString(), "--topic-prefix", topics.prefix(), "--group", group,
                "--metrics-port", "-1", "--session-timeout-ms", "6000", "--grace-seconds", "5");
        pb.environment().put("OMP_NUM_THREADS", "1");
        pb.redirectErrorStream(true);
        Process process = pb.start();
        List<String> lines = new java.util.concurrent.CopyOnWriteArrayList<>(); // read while the reader thread appends
        Thread reader = new Thread(() -> {
            try (var in = new java.io.BufferedReader(new java.io.InputStreamReader(process.getInputStream(),
                    StandardCharsets.UTF_8))) {
                for (String line; (line = in.readLine()) != null;) {
                    lines.add(line);
                    System.out.println("[cli-1] " + line);
                }
            } catch (java.io.IOException e) {
                // the process ended
            }
        });
        reader.start();
        try {
            Awaitility.await().atMost(TIMEOUT)
                    .until(() -> lines.stream().anyMatch(l -> l.startsWith("worker cli-1 ready")));
            String job = "job-g";
            send(Event.of(job, 0, new JobStarted(UNUSABLE, 2)));
            assertThat(await(job, JobFailed.class, f -> true).worker()).isEqualTo("cli-1");
            Awaitility.await().atMost(TIMEOUT)
                    .until(() -> lines.stream().anyMatch(l -> l.contains("job job-g seq 0 JobStarted")));
            process.toHandle().destroy(); // SIGTERM; Process.destroy() would also close our end of its output
            assertThat(process.waitFor(30, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
            reader.join(5000);
            assertThat(committed(0)).isEqualTo(1);
            try (var admin = org.apache.kafka.clients.admin.Admin
                    .create(Map.of("bootstrap.servers", kafka.bootstrapServers()))) {
                // it left the group: no member waits out its session timeout
                assertThat(admin.describeConsumerGroups(List.of(group)).all().get().get(group).members()).isEmpty();
            }
            assertThat(lines.stream().filter(l -> l.startsWith("worker cli-1 ready"))).hasSize(1);
            assertThat(lines).contains("worker cli-1 stopped");
        } finally {
            process.destroyForcibly();
        }
    }

    @Test
    void appliesTheRecordsOfOnePartitionInOrderAcrossJobs() throws Exception {
        topics(1);
        worker("w1");
        send(Event.of("job-h", 0, new JobStarted(recipe("job-h"), 2)));
        send(Event.of("job-i", 0, new JobStarted(recipe("job-i"), 2)));
        send(Event.of("job-i", 1, new PruneStep(1, 0.5, 5, false, 1)));
        send(Event.of("job-h", 1, new PruneStep(1, 0.5, 5, false, 1)));
        await("job-h", StepCompleted.class, s -> s.seq() == 1);
        await("job-i", StepCompleted.class, s -> s.seq() == 1);

        assertThat(
                reports.stream().filter(e -> e.payload() instanceof StepCompleted).map(e -> e.jobId() + "/" + e.seq()))
                .containsExactly("job-h/0", "job-i/0", "job-i/1", "job-h/1");
    }
}
