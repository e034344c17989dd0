package dev.shears.deploy.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.shears.common.events.Decoded;
import dev.shears.common.events.Event;
import dev.shears.common.events.EventCodec;
import dev.shears.common.events.Finalize;
import dev.shears.common.events.JobProgress;
import dev.shears.common.events.JobResumed;
import dev.shears.common.events.JobStarted;
import dev.shears.common.events.ModelPublished;
import dev.shears.common.events.PruneStep;
import dev.shears.common.events.RollBack;
import dev.shears.common.events.StepCompleted;
import dev.shears.common.events.Topics;
import dev.shears.deploy.launch.ChildProcess;
import dev.shears.deploy.launch.LocalPipeline;
import dev.shears.prune.PrunableParameter;
import dev.shears.prune.Pruning;
import dev.shears.trainer.checkpoint.Checkpoints;
import dev.shears.trainer.model.Models;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.learning.config.Sgd;

/**
 * The whole pipeline as it runs for real: a KRaft broker, the scheduler and two workers, each its own JVM. Three jobs
 * run at once to publication on the committed data subset; one worker is killed with SIGKILL in the middle of a
 * pruning step; the test then reads the complete event history from Kafka and checks the contract of
 * {@code common/EVENTS.md}: every step of every job applied exactly once and in order, keys that only grow, the final
 * sparsity exact, every model published with a digest that matches its file.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class PipelineTest {
    static final Path SUBSET = Path.of("../trainer/src/test/resources/fashion-mnist-subset").toAbsolutePath().normalize();
    static final List<String> JOBS = List.of("pipe-a", "pipe-b", "pipe-c");
    static final int STEPS = 3;
    static final double FINAL_SPARSITY = 0.8;
    static final Duration JOB_TIMEOUT = Duration.ofMinutes(8);

    @TempDir
    static Path dir;
    LocalPipeline pipeline;
    final EventCodec codec = new EventCodec();
    final Topics topics = Topics.defaults();
    final HttpClient http = HttpClient.newHttpClient();
    final ObjectMapper json = new ObjectMapper();

    @BeforeAll
    void start() {
        pipeline = LocalPipeline.start(dir, LocalPipeline.Options.defaults().withWorkers(2).withSessionTimeoutMs(6000));
    }

    @AfterAll
    void stop() {
        if (pipeline != null) {
            pipeline.close();
        }
    }

    /** A recipe small enough for CI; each pruning step fine-tunes long enough to be caught in its middle. */
    static String recipe(String job) {
        return """
                job: %s
                model: lenet5
                data: %s
                training:
                  updater: nesterovs
                  learningRate: 0.01
                  momentum: 0.9
                  batchSize: 64
                  seed: 7
                  denseEpochs: 1
                pruning:
                  parameters: ["conv*.weight", "fc*.weight"]
                  method: l1_unstructured
                  scope: global
                schedule:
                  kind: polynomial
                  initialSparsity: 0.0
                  finalSparsity: %s
                  steps: %d
                  power: 3
                fineTune:
                  iterationsPerStep: 300
                accuracyBudget:
                  minAccuracy: 0
                  policy: stop
                checkpoints:
                  keepLast: 2
                publish:
                  name: %s
                """.formatted(job, SUBSET, FINAL_SPARSITY, STEPS, job);
    }

    @Test
    void threeJobsSurviveAWorkerKilledMidStepAndEachStepIsAppliedExactlyOnce() throws Exception {
        for (String job : JOBS) {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(pipeline.schedulerUrl().resolve("/jobs"))
                    .header("Content-Type", "application/yaml")
                    .POST(HttpRequest.BodyPublishers.ofString(recipe(job))).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(r.statusCode()).as("submit %s: %s", job, r.body()).isEqualTo(201);
        }

        List<Event> reports = new ArrayList<>();
        String killed = null;
        String killedJob = null;
        long deadline = System.nanoTime() + JOB_TIMEOUT.toNanos();
        try (KafkaConsumer<String, byte[]> consumer = consumer("pipeline-test-live")) {
            consumer.subscribe(List.of(topics.reports()));
            while (published(reports) < JOBS.size()) {
                assertThat(System.nanoTime()).as("all jobs published within %s; reports so far: %s; logs in %s",
                        JOB_TIMEOUT, summary(reports), pipeline.logDir()).isLessThan(deadline);
                for (ConsumerRecord<String, byte[]> record : consumer.poll(Duration.ofMillis(500))) {
                    Event e = accepted(record);
                    reports.add(e);
                    // The kill: a worker in the middle of a pruning step (seq >= 1), a fifth to four fifths through it.
                    if (killed == null && e.payload() instanceof JobProgress p && p.seq() >= 1
                            && p.fraction() > 0.2 && p.fraction() < 0.8) {
                        ChildProcess victim = pipeline.worker(p.worker());
                        victim.kill();
                        System.out.printf("killed %s (SIGKILL) during %s seq %d at %.0f %%%n", p.worker(), e.jobId(),
                                p.seq(), 100 * p.fraction());
                        killed = p.worker();
                        killedJob = e.jobId();
                    }
                }
            }
        }
        assertThat(killed).as("a worker was caught mid-step and killed").isNotNull();

        List<Event> commands = readAll(topics.commands());
        List<Event> allReports = readAll(topics.reports());
        long expectedPruned = Math.round(FINAL_SPARSITY * prunableEntries());
        for (String job : JOBS) {
            System.out.println(job + ": " + byJob(allReports, job).stream().filter(e -> !(e.payload() instanceof JobProgress))
                    .map(PipelineTest::brief).collect(Collectors.joining(", ")));
            checkJob(job, byJob(commands, job), byJob(allReports, job), expectedPruned);
        }

        // The killed worker's job was resumed by the survivor, from a checkpoint, and the resume was reported.
        String survivor = pipeline.workers().stream().filter(ChildProcess::isAlive).map(ChildProcess::name)
                .findFirst().orElseThrow();
        String job = killedJob;
        assertThat(byJob(allReports, job)).as("JobResumed for %s after %s was killed", job, killed)
                .anySatisfy(e -> {
                    assertThat(e.payload()).isInstanceOf(JobResumed.class);
                    assertThat(((JobResumed) e.payload()).worker()).isEqualTo(survivor);
                });
    }

    private void checkJob(String job, List<Event> commands, List<Event> reports, long expectedPruned) throws Exception {
        // Keys (attempt, seq) of the commands never go down (a RollBack and the PruneStep after it share one).
        long lastKey = -1;
        for (Event c : commands) {
            long key = attempt(c) * 1_000_000L + c.seq();
            if (c.payload() instanceof JobStarted || c.payload() instanceof PruneStep || c.payload() instanceof RollBack
                    || c.payload() instanceof Finalize) {
                assertThat(key).as("%s: command keys never go down: %s", job, c).isGreaterThanOrEqualTo(lastKey);
                lastKey = key;
            }
        }

        // Every step 0..STEPS completed; per (attempt, seq) at most one StepCompleted that applied it, and every answer
        // for one key is the same checkpoint with the same figures (a redelivery re-reads it, never re-applies).
        Map<String, List<StepCompleted>> byKey = new LinkedHashMap<>();
        for (Event r : reports) {
            if (r.payload() instanceof StepCompleted s) {
                byKey.computeIfAbsent(s.attempt() + ":" + s.seq(), k -> new ArrayList<>()).add(s);
            }
        }
        List<Long> seqs = new ArrayList<>();
        for (Map.Entry<String, List<StepCompleted>> e : byKey.entrySet()) {
            List<StepCompleted> answers = e.getValue();
            assertThat(answers.stream().filter(s -> !s.redelivered()).count())
                    .as("%s key %s applied at most once: %s", job, e.getKey(), answers).isLessThanOrEqualTo(1);
            assertThat(answers.stream().map(s -> List.of(s.checkpointId(), s.accuracy(), s.loss(), s.achievedSparsity()))
                    .distinct().count()).as("%s key %s: all answers describe one checkpoint: %s", job, e.getKey(), answers)
                    .isEqualTo(1);
            seqs.add(answers.get(0).seq());
        }
        assertThat(seqs).as("%s: steps completed in order, each once", job)
                .containsExactly(java.util.stream.LongStream.rangeClosed(0, STEPS).boxed().toArray(Long[]::new));

        // Published exactly at the final sparsity (PyTorch rounding of 0.8 N), with a digest that matches the file.
        List<ModelPublished> published = reports.stream().filter(r -> r.payload() instanceof ModelPublished)
                .map(r -> (ModelPublished) r.payload()).toList();
        assertThat(published).as("%s published", job).isNotEmpty();
        assertThat(published.stream().distinct().count()).as("%s: one publication", job).isEqualTo(1);
        ModelPublished model = published.get(0);
        long n = prunableEntries();
        assertThat(Math.round(model.sparsity() * n)).as("%s: pruned entries", job).isEqualTo(expectedPruned);
        Path file = Path.of(model.path());
        assertThat(file).exists();
        assertThat(Checkpoints.sha256(file)).as("%s: digest of %s", job, file).isEqualTo(model.sha256());

        JsonNode status = json.readTree(http.send(HttpRequest.newBuilder(
                pipeline.schedulerUrl().resolve("/jobs/" + job)).build(), HttpResponse.BodyHandlers.ofString()).body());
        assertThat(status.path("state").asText()).as("%s: scheduler state %s", job, status).isEqualTo("published");
        assertThat(status.path("publication").path("sha256").asText()).isEqualTo(model.sha256());
    }

    /** Entries of LeNet-5's conv and dense weights: what the recipe prunes. */
    static long prunableEntries() {
        MultiLayerNetwork net = Models.lenet5(7, new Sgd(0.1), 0);
        return Pruning.of(net).prunableWeights().stream().filter(PrunableParameter::isWeight)
                .mapToLong(p -> Arrays.stream(p.shape()).reduce(1, (a, b) -> a * b)).sum();
    }

    private static int attempt(Event c) {
        if (c.payload() instanceof PruneStep p) {
            return p.attempt();
        }
        return c.payload() instanceof RollBack r ? r.attempt() : 1;
    }

    private List<Event> readAll(String topic) {
        List<Event> events = new ArrayList<>();
        try (KafkaConsumer<String, byte[]> consumer = consumer("pipeline-test-" + topic + "-" + System.nanoTime())) {
            consumer.subscribe(List.of(topic));
            int empty = 0;
            while (empty < 6) {
                var records = consumer.poll(Duration.ofMillis(500));
                empty = records.isEmpty() ? empty + 1 : 0;
                records.forEach(r -> events.add(accepted(r)));
            }
        }
        return events;
    }

    private Event accepted(ConsumerRecord<String, byte[]> record) {
        Decoded d = codec.decode(record.value());
        assertThat(d).as("record %s-%d@%d decodes", record.topic(), record.partition(), record.offset())
                .isInstanceOf(Decoded.Accepted.class);
        return ((Decoded.Accepted) d).event();
    }

    private KafkaConsumer<String, byte[]> consumer(String group) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, pipeline.bootstrapServers());
        p.put(ConsumerConfig.GROUP_ID_CONFIG, group);
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        return new KafkaConsumer<>(p, new StringDeserializer(), new ByteArrayDeserializer());
    }

    private static List<Event> byJob(List<Event> events, String job) {
        return events.stream().filter(e -> e.jobId().equals(job)).toList();
    }

    private static long published(List<Event> reports) {
        return reports.stream().filter(e -> e.payload() instanceof ModelPublished).map(Event::jobId).distinct().count();
    }

    private static String brief(Event e) {
        if (e.payload() instanceof StepCompleted s) {
            return "StepCompleted " + s.attempt() + ":" + s.seq() + " " + s.worker() + (s.redelivered() ? " (redelivered)" : "");
        }
        if (e.payload() instanceof JobResumed r) {
            return "JobResumed " + r.restoredSeq() + " by " + r.worker() + ", " + r.stepsRedone() + " redone";
        }
        return e.type() + " " + e.seq();
    }

    private static String summary(List<Event> reports) {
        Map<String, String> last = new HashMap<>();
        for (Event e : reports) {
            if (!(e.payload() instanceof JobProgress)) {
                last.put(e.jobId(), e.type() + " seq " + e.seq());
            }
        }
        return last.entrySet().stream().map(e -> e.getKey() + ": " + e.getValue()).collect(Collectors.joining(", "));
    }
}
